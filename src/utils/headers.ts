import { InvalidOptionsError } from '../errors/invalid-options-error.js';

/**
 * `new Headers(init)`, refusing a value no header can carry with an `InvalidOptionsError` that does
 * not quote it: the runtime's own TypeError quotes the value, which is often a key or a secret.
 */
export function headersFrom(init: HeadersInit | undefined, option: string): Headers {
	try {
		return new Headers(init);
	} catch {
		throw new InvalidOptionsError(`${option} has a name or value no header can carry`);
	}
}
