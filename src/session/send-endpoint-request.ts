import { redactSentSecrets } from '../protocol/endpoint-request.js';
import type { TokenRequestParts } from '../protocol/token-request.js';
import {
	type SendTokenRequestOptions,
	sendTokenRequest,
	type TokenEndpointAnswer,
} from './request-token.js';

/**
 * Sends a request to a token-style endpoint with `sendTokenRequest` (retries, timeout, no
 * redirects, `http:` refused), building it afresh for each attempt so a client assertion gets a new
 * `jti`. The answer's error fields come back with every secret the request carried redacted.
 */
export async function sendEndpointRequest(
	build: () => Promise<TokenRequestParts>,
	options: SendTokenRequestOptions,
): Promise<TokenEndpointAnswer> {
	let sent: TokenRequestParts | undefined;
	const answer = await sendTokenRequest(async () => {
		sent = await build();
		return sent;
	}, options);
	return {
		...answer,
		body:
			sent === undefined
				? answer.body
				: redactSentSecrets(answer.body, sent.params, sent.headers, answer.status),
	};
}
