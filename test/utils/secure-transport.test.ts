import { describe, expect, it } from 'vitest';
import { InsecureTransportError } from '../../src/errors/index.js';
import { assertSecureTransport, isLoopbackHost } from '../../src/utils/secure-transport.js';

const hostOf = (url: string) => new URL(url).hostname;

describe('isLoopbackHost: only names that cannot leave the machine', () => {
	it.each([
		'http://localhost:8080/',
		'http://LOCALHOST/',
		'http://127.0.0.1/',
		'http://127.1.2.3/',
		'http://127.1/', // URL spells it 127.0.0.1
		'http://[::1]:3000/',
		'http://[0:0:0:0:0:0:0:1]/',
	])('%s is loopback', (url) => {
		expect(isLoopbackHost(hostOf(url))).toBe(true);
	});

	it.each([
		// Node resolves these through the system resolver, which may ask DNS (RFC 6761 asks it not
		// to; nothing makes it so).
		'http://app.localhost/',
		'http://a.b.localhost:8080/',
		// An FQDN that /etc/hosts need not match.
		'http://localhost./',
		'http://localhost.example.com/',
		'http://127.0.0.1.example.com/',
		'http://128.0.0.1/',
		'http://[::2]/',
		'http://[::ffff:127.0.0.1]/',
		'http://0.0.0.0/',
	])('%s is not', (url) => {
		expect(isLoopbackHost(hostOf(url))).toBe(false);
	});
});

describe('assertSecureTransport', () => {
	it('refuses plain http: to *.localhost unless allowInsecure', () => {
		const url = new URL('http://app.localhost:8080/token');
		expect(() => assertSecureTransport(url, false)).toThrow(InsecureTransportError);
		expect(() => assertSecureTransport(url, true)).not.toThrow();
		expect(() => assertSecureTransport(new URL('http://localhost:8080/'), false)).not.toThrow();
		expect(() => assertSecureTransport(new URL('https://app.localhost/'), false)).not.toThrow();
	});
});
