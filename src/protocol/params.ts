import { InvalidOptionsError } from '../errors/invalid-options-error.js';

/**
 * A request parameter's value. A list is sent as the parameter repeated (RFC 8707 §2: several
 * `resource` values, Auth0's `audience`), never joined with commas; `undefined` is left out.
 */
export type ParamValue = string | readonly string[] | undefined;

/** Extra request parameters, by name. */
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * Sets each parameter on `target`, replacing what it had under that name: a list as repeated
 * parameters, in order, at the end.
 * @throws {InvalidOptionsError} A value is neither a string nor a list of strings.
 */
export function setParams(target: URLSearchParams, params: Params | undefined): void {
	for (const [name, value] of Object.entries(params ?? {})) {
		if (value === undefined) continue;
		// A single value keeps the place of the one it replaces.
		if (typeof value === 'string') {
			target.set(name, value);
			continue;
		}
		if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
			throw new InvalidOptionsError(`The ${name} parameter must be a string or a list of strings`);
		}
		target.delete(name);
		for (const item of value) target.append(name, item);
	}
}
