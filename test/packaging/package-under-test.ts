/**
 * The built package as a consumer sees it: its `exports` map, the files it points to, and a
 * throwaway project whose `node_modules/oauth2-session` links to this repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

interface PackageJson {
	name: string;
	files: string[];
	exports: Record<string, string | Record<string, string | null>>;
}

export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;

export interface ExportsEntry {
	/** The subpath as written in `exports`: `.`, `./ky`, ... */
	readonly subpath: string;
	/** What a consumer writes: `oauth2-session`, `oauth2-session/ky`, ... */
	readonly specifier: string;
	/** `./dist/....d.ts` */
	readonly types: string;
	/** `./dist/....js` */
	readonly js: string;
	/** Whether the entry maps `browser` to null (Node-only). */
	readonly nodeOnly: boolean;
}

/** Every code entry of `exports` (`./package.json` aside). */
export const entries: readonly ExportsEntry[] = Object.entries(pkg.exports).flatMap(
	([subpath, target]) => {
		if (typeof target === 'string') return [];
		const { types, default: js } = target;
		if (typeof types !== 'string' || typeof js !== 'string') {
			throw new Error(`exports["${subpath}"] needs "types" and "default" paths`);
		}
		return [
			{
				subpath,
				specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
				types,
				js,
				nodeOnly: 'browser' in target && target.browser === null,
			},
		];
	},
);

/**
 * Builds `dist/` unless every entry's files are already there (CI builds before testing). The check
 * and the build run under one lock so that two test files never build over each other.
 */
export function ensureBuilt(): void {
	const missing = entries
		.flatMap((entry) => [entry.js, entry.types])
		.filter((file) => !existsSync(join(root, file)));
	if (missing.length === 0) return;
	const checks = missing.map((file) => `test -f '${file}'`).join(' && ');
	const result = spawnSync(
		'flock',
		[join(tmpdir(), 'oauth2-session-build.lock'), 'sh', '-c', `(${checks}) || npm run build`],
		{ cwd: root, encoding: 'utf8' },
	);
	if (result.status !== 0) {
		throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
	}
}

/** A temporary project that depends on this package by name, through a symlink. */
export interface Consumer {
	readonly dir: string;
	remove(): Promise<void>;
}

export async function createConsumer(): Promise<Consumer> {
	const dir = await mkdtemp(join(tmpdir(), 'oauth2-session-consumer-'));
	await mkdir(join(dir, 'node_modules'));
	await symlink(root, join(dir, 'node_modules', pkg.name), 'dir');
	return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
