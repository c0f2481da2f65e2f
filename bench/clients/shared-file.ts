// The "natural sharing" of the clients without a store of their own: a JSON file every process
// reads when it starts and writes after a refresh, as their READMEs suggest for persisting a token.
import { readFile, writeFile } from 'node:fs/promises';

export async function loadJson<T>(path: string): Promise<T> {
	return JSON.parse(await readFile(path, 'utf8')) as T;
}

export async function saveJson(path: string, value: unknown): Promise<void> {
	await writeFile(path, JSON.stringify(value), { mode: 0o600 });
}
