import * as z from 'zod/mini';
import { TokenResponseError } from '../errors/token-response-error.js';
import type { EndpointName } from './endpoint-request.js';
import { isRecord } from './fields.js';

/**
 * Checks a successful answer against `schema` and returns what it parsed to.
 *
 * @throws {TokenResponseError} `not-an-object`, or `invalid-field` naming the first wrong field.
 */
export function parseEndpointObject<T extends z.ZodMiniType>(
	schema: T,
	body: unknown,
	status: number,
	endpoint: EndpointName,
): z.infer<T> {
	const parsed = z.safeParse(schema, endpointObject(body, status, endpoint));
	if (!parsed.success) {
		throw invalidField(endpoint, String(parsed.error.issues[0]?.path[0] ?? 'body'), status);
	}
	return parsed.data;
}

/**
 * A successful answer as the object it must be, for answers checked without a schema.
 *
 * @throws {TokenResponseError} `not-an-object`.
 */
export function endpointObject(
	body: unknown,
	status: number,
	endpoint: EndpointName,
): Record<string, unknown> {
	if (!isRecord(body)) {
		throw new TokenResponseError(`The ${endpoint} answered (HTTP ${status}) with no JSON object`, {
			problem: 'not-an-object',
			status,
		});
	}
	return body;
}

/** The `TokenResponseError` of a missing or wrongly typed field of an answer. */
export function invalidField(
	endpoint: EndpointName,
	field: string,
	status: number,
): TokenResponseError {
	return new TokenResponseError(`The ${endpoint} answered with a missing or invalid ${field}`, {
		problem: 'invalid-field',
		status,
	});
}
