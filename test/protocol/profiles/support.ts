import { expect } from 'vitest';
import type { Grant } from '../../../src/protocol/grants.js';
import {
	type ProviderProfile,
	runTokenResponseHooks,
	type TokenPhase,
} from '../../../src/protocol/profile.js';
import type { Token } from '../../../src/protocol/token.js';
import { parseTokenResponse } from '../../../src/protocol/token-response.js';
import { requestToken } from '../../../src/session/request-token.js';
import type { Handler } from '../../helpers/http-server.js';
import type { Hit, ScriptedServer } from '../../helpers/scripted-server.js';

export const requestedAt = Date.UTC(2026, 0, 1);

/** What the session does with a decoded answer: the profile's response hooks, then the parser. */
export function readAnswer(
	profile: ProviderProfile,
	body: unknown,
	{ status = 200, phase = 'accessToken' }: { status?: number; phase?: TokenPhase } = {},
): Token {
	const response = runTokenResponseHooks(profile, phase, { status, headers: new Headers(), body });
	return parseTokenResponse(response.body, {
		requestedAt,
		status: response.status,
		scopeSeparator: profile.scopeSeparator,
	});
}

/** What a call threw; fails the test if it returned. */
export function thrownBy(call: () => unknown): unknown {
	try {
		call();
	} catch (error) {
		return error;
	}
	return expect.unreachable('the call should have thrown');
}

/**
 * Sends one token request through `requestToken` with the profile to the scripted server, which
 * answers with `handler`; returns the request the server saw and the outcome.
 */
export async function exchange(
	server: ScriptedServer,
	profile: ProviderProfile,
	handler: Handler,
	options: Omit<Parameters<typeof requestToken>[0], 'tokenEndpoint' | 'profile'> & { grant: Grant },
): Promise<{ hit: Hit; result: Token | undefined; error: unknown }> {
	server.answer('/token', handler);
	let result: Token | undefined;
	let error: unknown;
	try {
		result = await requestToken({
			tokenEndpoint: server.url('/token'),
			profile,
			retry: false,
			...options,
		});
	} catch (caught) {
		error = caught;
	}
	const [hit, ...more] = server.hitsOn('/token');
	expect(more).toHaveLength(0);
	if (hit === undefined) return expect.unreachable('the token request was not sent');
	return { hit, result, error };
}

/** The form parameters of a request body, as a plain object. */
export function formOf(body: string): Record<string, string> {
	return Object.fromEntries(new URLSearchParams(body));
}
