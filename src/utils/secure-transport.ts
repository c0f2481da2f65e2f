import { InsecureTransportError } from '../errors/insecure-transport-error.js';

/**
 * Whether a host name is loopback: `localhost` (and `*.localhost`, RFC 6761), `127.0.0.0/8`, `::1`.
 * Traffic to these never leaves the machine, so plain `http:` is allowed there (RFC 8252 §7.3).
 */
export function isLoopbackHost(hostname: string): boolean {
	const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
	return (
		host === 'localhost' ||
		host.endsWith('.localhost') ||
		host === '::1' ||
		/^127(\.\d{1,3}){3}$/.test(host)
	);
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
