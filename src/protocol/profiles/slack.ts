import { defineProfile, type TokenHttpResponse } from '../profile.js';
import { bearerTokenType, bodyObject, renameErrorCodes } from './answer-fixes.js';

// Slack answers every failure with HTTP 200, `ok: false` and its own code. These mean what
// RFC 6749 §5.2 calls invalid_grant, invalid_client and unsupported_grant_type; a refresh
// answered invalid_refresh_token is also invalid_grant, through deadGrant.
const standardErrorCode = renameErrorCodes({
	invalid_code: 'invalid_grant',
	code_already_used: 'invalid_grant',
	bad_redirect_uri: 'invalid_grant',
	oauth_authorization_url_mismatch: 'invalid_grant',
	invalid_client_id: 'invalid_client',
	bad_client_secret: 'invalid_client',
	invalid_grant_type: 'unsupported_grant_type',
});

/**
 * Reads the user token nested under `authed_user` as the answer's token. The bot token and its
 * refresh token are dropped (they belong to another token); the rest (`team`, `app_id`,
 * `authed_user.id`...) stays. An answer without a nested user token, such as a refresh of a
 * user token, is left as it is.
 */
function liftAuthedUser(response: TokenHttpResponse): TokenHttpResponse | undefined {
	const body = bodyObject(response);
	const user = body?.authed_user;
	if (typeof user !== 'object' || user === null || !('access_token' in user)) return undefined;
	const {
		access_token: _bot,
		refresh_token: _botRefresh,
		expires_in: _botExpiry,
		token_type: _botType,
		scope: botScope,
		...rest
	} = body as Record<string, unknown>;
	return {
		...response,
		body: { ...rest, ...(botScope === undefined ? {} : { bot_scope: botScope }), ...user },
	};
}

const botHooks = [standardErrorCode, bearerTokenType];

/**
 * Slack OAuth v2 (`https://slack.com/api/oauth.v2.access`), for the bot token at the top of the
 * answer: scopes are comma-separated, failures (`ok: false` with HTTP 200) become
 * `OAuth2ResponseError` with Slack's codes mapped to RFC 6749's, and the token type (`bot`) is
 * sent as `Bearer`, Slack's name kept in `token.extra.original_token_type`.
 */
export const slack = defineProfile({
	name: 'slack',
	scopeSeparator: ',',
	deadGrant: ['invalid_refresh_token'],
	hooks: { accessTokenResponse: botHooks, refreshTokenResponse: botHooks },
});

const userHooks = [standardErrorCode, liftAuthedUser, bearerTokenType];

/**
 * Slack OAuth v2 for the user token (asked for with the `user_scope` authorization parameter):
 * as `slack`, but the token is the one nested under `authed_user`. The bot token of the same
 * answer is not kept; use `slack` in a second session for it.
 */
export const slackUser = defineProfile({
	name: 'slack-user',
	scopeSeparator: ',',
	deadGrant: ['invalid_refresh_token'],
	hooks: { accessTokenResponse: userHooks, refreshTokenResponse: userHooks },
});
