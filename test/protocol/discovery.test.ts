import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { MetadataError } from '../../src/errors/metadata-error.js';
import {
	decodeMetadataBody,
	discoveryRequest,
	issuerUrl,
	metadataCacheTtl,
	parseAuthorizationServerMetadata,
	type WellKnown,
	wellKnownUrl,
} from '../../src/protocol/discovery.js';

const issuer = 'https://as.example/tenant';
const metadata = {
	issuer,
	authorization_endpoint: 'https://as.example/tenant/authorize',
	token_endpoint: 'https://as.example/tenant/token',
	revocation_endpoint: 'https://as.example/tenant/revoke?v=2',
	scopes_supported: ['openid', 'email'],
	response_types_supported: ['code'],
	authorization_response_iss_parameter_supported: true,
	mtls_endpoint_aliases: { token_endpoint: 'https://mtls.as.example/tenant/token' },
	x_vendor: { nested: [1, 2] },
};
const parse = (body: unknown, options: { allowInsecure?: boolean; status?: number } = {}) =>
	parseAuthorizationServerMetadata(body, { issuer, url: 'https://as.example/meta', ...options });
const thrown = (run: () => unknown) => {
	try {
		run();
	} catch (error) {
		return error;
	}
	return expect.unreachable('expected a throw');
};

describe('wellKnownUrl', () => {
	it.each<[string, WellKnown, string]>([
		[
			'https://as.example',
			'openid-configuration',
			'https://as.example/.well-known/openid-configuration',
		],
		[
			'https://as.example/',
			'openid-configuration',
			'https://as.example/.well-known/openid-configuration',
		],
		[
			'https://as.example/tenant/1',
			'openid-configuration',
			'https://as.example/tenant/1/.well-known/openid-configuration',
		],
		[
			'https://as.example/tenant/',
			'openid-configuration',
			'https://as.example/tenant/.well-known/openid-configuration',
		],
		[
			'https://as.example',
			'oauth-authorization-server',
			'https://as.example/.well-known/oauth-authorization-server',
		],
		[
			'https://as.example/',
			'oauth-authorization-server',
			'https://as.example/.well-known/oauth-authorization-server',
		],
		[
			'https://as.example:8443/tenant/1',
			'oauth-authorization-server',
			'https://as.example:8443/.well-known/oauth-authorization-server/tenant/1',
		],
		[
			'https://as.example/tenant/',
			'oauth-authorization-server',
			'https://as.example/.well-known/oauth-authorization-server/tenant',
		],
	])('%s, %s: %s', (from, wellKnown, expected) => {
		expect(wellKnownUrl(from, wellKnown).href).toBe(expected);
	});

	it.each([
		'not a url',
		'/relative',
		'https://as.example?tenant=1',
		'https://as.example/#',
		'https://as.example/#top',
	])('refuses the issuer %s', (bad) => {
		expect(() => issuerUrl(bad)).toThrow(InvalidOptionsError);
		expect(() => discoveryRequest(bad, 'openid-configuration')).toThrow(InvalidOptionsError);
	});

	it('builds a GET that asks for JSON and carries nothing else', () => {
		const request = discoveryRequest(issuer, 'oauth-authorization-server');
		expect(request.method).toBe('GET');
		expect(request.url.href).toBe(
			'https://as.example/.well-known/oauth-authorization-server/tenant',
		);
		expect([...request.headers]).toEqual([['accept', 'application/json']]);
		expect([...request.params]).toEqual([]);
	});
});

describe('parseAuthorizationServerMetadata', () => {
	it('keeps every field, unknown ones included, in a frozen copy', () => {
		const body = structuredClone(metadata);
		const parsed = parse(body);
		expect(parsed).toEqual(metadata);
		expect(parsed).not.toBe(body);
		expect(Object.isFrozen(parsed)).toBe(true);
		expect(Object.isFrozen(parsed.scopes_supported)).toBe(true);
		expect(Object.isFrozen((parsed.x_vendor as { nested: number[] }).nested)).toBe(true);
		expect(parsed.token_endpoint).toBe('https://as.example/tenant/token');
	});

	it('drops a known field sent as null', () => {
		const { scopes_supported: _, ...rest } = metadata;
		expect(parse({ ...metadata, jwks_uri: null, scopes_supported: null })).toEqual(rest);
	});

	it('refuses metadata without an issuer', () => {
		const { issuer: _, ...rest } = metadata;
		expect(thrown(() => parse(rest))).toMatchObject({
			problem: 'issuer-mismatch',
			field: 'issuer',
		});
	});

	it('quotes a long issuer cut short', () => {
		const message = (thrown(() => parse({ ...metadata, issuer: 'x'.repeat(1000) })) as Error)
			.message;
		expect(message.length).toBeLessThan(300);
	});

	it.each([
		['a trailing slash more', `${issuer}/`],
		['a trailing slash less', 'https://as.example'],
		['another host', 'https://evil.example/tenant'],
		['another case', 'https://AS.example/tenant'],
		['another scheme', 'http://as.example/tenant'],
		['a number', 42],
	])('refuses an issuer with %s', (_, other) => {
		const error = thrown(() => parse({ ...metadata, issuer: other }));
		expect(error).toBeInstanceOf(MetadataError);
		expect(error).toMatchObject({
			problem: 'issuer-mismatch',
			field: 'issuer',
			issuer,
			url: 'https://as.example/meta',
			status: 200,
		});
		expect((error as Error).message).toContain(`${JSON.stringify(other)}, not ${issuer}`);
	});

	it.each<[string, Record<string, unknown>, string]>([
		['http: on another host', { token_endpoint: 'http://as.example/token' }, 'token_endpoint'],
		['a relative URL', { token_endpoint: '/token' }, 'token_endpoint'],
		['a fragment', { authorization_endpoint: 'https://as.example/a#f' }, 'authorization_endpoint'],
		['an empty fragment', { jwks_uri: 'https://as.example/jwks#' }, 'jwks_uri'],
		['javascript:', { end_session_endpoint: 'javascript:alert(1)' }, 'end_session_endpoint'],
		['a number', { introspection_endpoint: 5 }, 'introspection_endpoint'],
		[
			'an mTLS alias on http:',
			{ mtls_endpoint_aliases: { token_endpoint: 'http://x.example/t' } },
			'mtls_endpoint_aliases.token_endpoint',
		],
		['a list as a string', { scopes_supported: 'openid email' }, 'scopes_supported'],
		[
			'a flag as a string',
			{ authorization_response_iss_parameter_supported: 'true' },
			'authorization_response_iss_parameter_supported',
		],
	])('refuses %s', (_, fields, field) => {
		const error = thrown(() => parse({ ...metadata, ...fields }));
		expect(error).toBeInstanceOf(MetadataError);
		expect(error).toMatchObject({ problem: 'invalid-field', field, issuer });
		expect((error as Error).message).toContain(field);
	});

	it('accepts http: endpoints on loopback, and anywhere with allowInsecure', () => {
		expect(
			parse({ ...metadata, token_endpoint: 'http://127.0.0.1:8080/token' }).token_endpoint,
		).toBe('http://127.0.0.1:8080/token');
		expect(parse({ ...metadata, token_endpoint: 'http://localhost/token' }).token_endpoint).toBe(
			'http://localhost/token',
		);
		const insecure = { ...metadata, token_endpoint: 'http://as.example/token' };
		expect(parse(insecure, { allowInsecure: true }).token_endpoint).toBe('http://as.example/token');
	});

	it.each<[string, unknown, number, string]>([
		['a 404', undefined, 404, 'not-found'],
		['an array', [metadata], 200, 'not-an-object'],
		['a string', 'metadata', 200, 'not-an-object'],
		['null', null, 200, 'not-an-object'],
	])('refuses %s', (_, body, status, problem) => {
		expect(thrown(() => parse(body, { status }))).toMatchObject({
			name: 'MetadataError',
			problem,
			status,
		});
	});
});

describe('decodeMetadataBody', () => {
	const options = { issuer, url: 'https://as.example/meta' };
	it('reads JSON of a 2xx answer, whatever its content type says', () => {
		expect(decodeMetadataBody('{"issuer":"x"}', { ...options, status: 200 })).toEqual({
			issuer: 'x',
		});
	});
	it('leaves the body of any other answer unread', () => {
		expect(decodeMetadataBody('<h1>Not found</h1>', { ...options, status: 404 })).toBeUndefined();
	});
	it.each(['<html>app shell</html>', '', '{"issuer":'])('refuses the 2xx body %j', (body) => {
		expect(thrown(() => decodeMetadataBody(body, { ...options, status: 200 }))).toMatchObject({
			name: 'MetadataError',
			problem: 'unparseable',
			issuer,
			url: options.url,
		});
	});
});

describe('metadataCacheTtl', () => {
	it.each<[Record<string, string>, number | undefined]>([
		[{}, undefined],
		[{ 'cache-control': 'max-age=600' }, 600_000],
		[{ 'cache-control': 'public, MAX-AGE=60, must-revalidate' }, 60_000],
		[{ 'cache-control': 'max-age="30"' }, 30_000],
		[{ 'cache-control': 'max-age=600', age: '100' }, 500_000],
		[{ 'cache-control': 'max-age=600', age: '900' }, 0],
		[{ 'cache-control': 'max-age=600', age: 'soon' }, 600_000],
		[{ 'cache-control': 'max-age=0' }, 0],
		[{ 'cache-control': 'no-store' }, 0],
		[{ 'cache-control': 'no-cache, max-age=600' }, 0],
		[{ 'cache-control': 'max-age=-5' }, undefined],
		[{ 'cache-control': 'private' }, undefined],
	])('%j: %s ms', (headers, expected) => {
		expect(metadataCacheTtl(new Headers(headers))).toBe(expected);
	});
});

describe('MetadataError', () => {
	it('carries what went wrong as data, with a stable code', () => {
		const error = thrown(() =>
			parse({ ...metadata, issuer: 'https://evil.example' }),
		) as MetadataError;
		expect(error.toJSON()).toEqual({
			name: 'MetadataError',
			code: 'METADATA_ERROR',
			message: error.message,
			problem: 'issuer-mismatch',
			issuer,
			url: 'https://as.example/meta',
			field: 'issuer',
			status: 200,
		});
		expect(error).toBeInstanceOf(Error);
	});
});
