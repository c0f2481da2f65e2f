import ky, { type KyInstance, type Options } from 'ky';
import { type CreateKyOptions, createKy, oauth2Hooks } from '../../src/ky.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuthTestServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

/** The two ways to use the ky entry; every behaviour test runs against both. */
export const kinds = ['createKy', 'oauth2Hooks'] as const;
export type KyKind = (typeof kinds)[number];

/** A ky instance for the session: `createKy`, or a user's own instance extended with the hooks. */
export function kyFor(
	kind: KyKind,
	session: OAuth2Session,
	options: CreateKyOptions = {},
): KyInstance {
	if (kind === 'createKy') return createKy(session, options);
	return ky.create(options as Options).extend({ hooks: oauth2Hooks(session) });
}

type SessionOptions = ConstructorParameters<typeof OAuth2Session>[0];

export { sessionOn };

/** A session whose token the server has just revoked: its next request is answered 401. */
export async function revokedSession(
	server: OAuthTestServer,
	options: Partial<SessionOptions> = {},
): Promise<OAuth2Session> {
	const session = sessionOn(server, server.issue({ expiresIn: 3600 }), options);
	await session.ready;
	server.revokeAccessTokens();
	return session;
}

/** What a promise rejected with (fails the test if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(error: unknown) => error,
	);
}
