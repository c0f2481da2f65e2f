// What a request sent may come back in an error answer (servers echo the form, or the headers),
// and out of it again: every encoding it was sent in, or that a server would quote it in.

import { mayEchoSecrets } from './token-request.js';

// Parameters whose values a server may echo in an error description (some quote the refresh
// token or even the password).
const SECRET_PARAMS = [
	'client_secret',
	'client_assertion',
	'password',
	'code',
	'code_verifier',
	'refresh_token',
	'assertion',
	'subject_token',
	'actor_token',
	'fb_exchange_token',
	'device_code',
	// Revocation and introspection.
	'token',
];
// Shorter values are left alone, lest common words go.
const MIN_LENGTH = 4;
const REDACTED = '[redacted]';

/**
 * Every secret a request carried, in each form a server may echo it in: as sent, percent-encoded,
 * form-encoded and JSON-escaped; for an `Authorization` header, its credentials as sent (Basic's
 * base64 of `id:secret`) and decoded. Longest first, so no shorter form is left half-replaced.
 */
export function sentSecrets(params: URLSearchParams, headers?: Headers): string[] {
	const values = SECRET_PARAMS.flatMap((name) => params.getAll(name));
	const authorization = headers?.get('authorization');
	const credentials = authorization?.slice(authorization.indexOf(' ') + 1).trim();
	if (credentials) values.push(credentials, ...basicSecrets(authorization ?? '', credentials));
	const forms = values.flatMap((value) => [
		value,
		encodeURIComponent(value),
		new URLSearchParams({ v: value }).toString().slice(2),
		JSON.stringify(value).slice(1, -1),
	]);
	return [...new Set(forms)]
		.filter((value) => value.length >= MIN_LENGTH)
		.sort((a, b) => b.length - a.length);
}

/** `text` with every one of `secrets` replaced by `[redacted]`. */
export function redactText(text: string, secrets: readonly string[]): string {
	return secrets.reduce((result, secret) => result.split(secret).join(REDACTED), text);
}

/**
 * A copy of a decoded answer with `secrets` redacted from every string in it, at any depth, and
 * the fields whose names `drop` matches left out.
 */
export function redactDeep(
	value: unknown,
	secrets: readonly string[],
	drop?: RegExp,
	depth = 0,
): unknown {
	if (typeof value === 'string') return redactText(value, secrets);
	if (typeof value !== 'object' || value === null || depth > 8) return value;
	const copy = (item: unknown) => redactDeep(item, secrets, drop, depth + 1);
	if (Array.isArray(value)) return value.map(copy);
	return Object.fromEntries(
		Object.entries(value)
			.filter(([key]) => !drop?.test(key))
			// Keys too: a form decoded from a body that is not one has the whole text as a key.
			.map(([key, item]) => [redactText(key, secrets), copy(item)]),
	);
}

/** The pieces of `client_secret_basic` credentials (RFC 6749 §2.3.1): `id:secret`, the secret as
 * sent (form-encoded) and decoded. */
function basicSecrets(authorization: string, credentials: string): string[] {
	if (!/^basic /i.test(authorization)) return [];
	try {
		const decoded = atob(credentials);
		const secret = decoded.slice(decoded.indexOf(':') + 1);
		return [decoded, secret, decodeURIComponent(secret.replace(/\+/g, ' '))];
	} catch {
		return [];
	}
}

/**
 * Replaces, everywhere in a decoded error answer (one with an `error` field, or `status` outside
 * 2xx), every secret the request carried (client secret, Basic credentials, password, code,
 * refresh token, assertion...) in every encoding it may be echoed in, so an error built from it
 * can be logged. Other answers are returned as they are.
 */
export function redactEchoedSecrets(
	body: unknown,
	params: URLSearchParams,
	headers?: Headers,
	status?: number,
): unknown {
	return mayEchoSecrets(body, status) ? redactDeep(body, sentSecrets(params, headers)) : body;
}
