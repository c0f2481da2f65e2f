// Checks the fields of a server's answer or a stored record by hand. zod/mini costs about 5 kB
// gzipped before the first schema, close to half the browser budget, for the eight fields of a
// token: the answers every refresh parses are checked here, and zod keeps the metadata endpoints.

/**
 * What a field may hold. Every kind but `token` may also be absent or `null`.
 * - `token`: a non-empty string, required;
 * - `string`: a string;
 * - `seconds`: a finite number, or a string (read later as a number of seconds);
 * - `scope`: a string, or a list of strings;
 * - `number`: a finite number.
 */
export type FieldKind = 'token' | 'string' | 'seconds' | 'scope' | 'number';

/** Whether a decoded JSON value is an object (not `null`, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first field of `fields`, in their order, whose value in `body` is not of its kind. */
export function firstInvalidField<F extends Readonly<Record<string, FieldKind>>>(
	body: Readonly<Record<string, unknown>>,
	fields: F,
): (keyof F & string) | undefined {
	for (const [field, kind] of Object.entries(fields)) {
		if (!isOfKind(body[field], kind)) return field;
	}
	return undefined;
}

/** The fields of `body` that `fields` does not name, as they were. */
export function otherFields(
	body: Readonly<Record<string, unknown>>,
	fields: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
	const extra: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(body)) {
		if (!Object.hasOwn(fields, key)) extra[key] = value;
	}
	return extra;
}

function isOfKind(value: unknown, kind: FieldKind): boolean {
	if (kind === 'token') return typeof value === 'string' && value !== '';
	if (value === undefined || value === null) return true;
	switch (kind) {
		case 'string':
			return typeof value === 'string';
		case 'number':
			return Number.isFinite(value);
		case 'seconds':
			return typeof value === 'string' || Number.isFinite(value);
		case 'scope':
			return (
				typeof value === 'string' ||
				(Array.isArray(value) && value.every((scope) => typeof scope === 'string'))
			);
	}
}
