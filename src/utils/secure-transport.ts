import { InsecureTransportError } from '../errors/insecure-transport-error.js';

/**
 * Whether a host name is loopback: `localhost`, `127.0.0.0/8` or `::1`, names traffic to which
 * never leaves the machine, so plain `http:` is allowed there (RFC 8252 §7.3). Not `*.localhost`:
 * RFC 6761 asks resolvers to keep it local, but Node hands it to the system resolver, which may
 * ask DNS; use `https:` or `allowInsecure` for such names.
 */
export function isLoopbackHost(hostname: string): boolean {
	return /^(localhost|\[::1\]|::1|127(\.\d{1,3}){3})$/i.test(hostname);
}

/**
 * Throws `InsecureTransportError` when credentials would go over `http:` to a non-loopback host.
 * Other schemes are the caller's business (fetch refuses what it cannot speak).
 */
export function assertSecureTransport(url: URL, allowInsecure: boolean): void {
	if (url.protocol === 'http:' && !allowInsecure && !isLoopbackHost(url.hostname)) {
		throw new InsecureTransportError(url.origin);
	}
}
