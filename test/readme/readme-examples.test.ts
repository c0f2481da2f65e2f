/**
 * README's examples are files under examples/, so they cannot drift from the API or from each
 * other. In a document, `<!-- example: examples/x.ts -->` (or `examples/x.ts#name`) right before a
 * ```ts block says the block is that file (or its lines between `// #region name` and
 * `// #endregion name`), with each leading tab shown as two spaces. The files compile under
 * examples/tsconfig.json as a user's code does: imports by package name, resolved to src/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const documents = ['README.md', 'docs/migrating.md'];
/** The examples README must show: the quickstarts and the refresh modes. */
const required = [
	'examples/daemon.ts',
	'examples/web-app.ts',
	'examples/spa.ts',
	'examples/refresh-modes.ts#readme',
];

interface Shown {
	document: string;
	line: number;
	file: string;
	region: string | undefined;
	block: string | undefined;
}

const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

function shownExamples(document: string): Shown[] {
	const text = read(document);
	const marker = /<!-- example: ([^#\s]+)(?:#(\S+))? -->\n(?:```ts\n([\s\S]*?)\n```)?/g;
	return [...text.matchAll(marker)].map((match) => ({
		document,
		line: text.slice(0, match.index).split('\n').length,
		file: match[1]!,
		region: match[2],
		block: match[3],
	}));
}

/** The file, or its region, as README shows it. */
function expectedBlock(file: string, region: string | undefined): string {
	let lines = read(file).trimEnd().split('\n');
	if (region !== undefined) {
		const start = lines.indexOf(`// #region ${region}`);
		const end = lines.indexOf(`// #endregion ${region}`);
		if (start === -1 || end < start) throw new Error(`${file} has no region '${region}'`);
		lines = lines.slice(start + 1, end);
		// The formatter may keep a blank line next to a marker; README's block starts and ends with code.
		while (lines[0] === '') lines.shift();
		while (lines.at(-1) === '') lines.pop();
	}
	return lines.map((line) => line.replace(/^\t+/, (tabs) => '  '.repeat(tabs.length))).join('\n');
}

function exampleFiles(dir = 'examples'): string[] {
	return readdirSync(`${root}${dir}`, { withFileTypes: true }).flatMap((entry) => {
		const path = `${dir}/${entry.name}`;
		if (entry.isDirectory()) return exampleFiles(path);
		return path.endsWith('.ts') ? [path] : [];
	});
}

const shown = documents.flatMap(shownExamples);

describe('README examples', () => {
	it.each(shown.map((example) => [`${example.document}:${example.line}`, example] as const))(
		'%s shows its example file as it is',
		(_where, example) => {
			expect(example.block, 'the marker must be followed by a ```ts block').toBeDefined();
			expect(example.block).toBe(expectedBlock(example.file, example.region));
		},
	);

	it('shows the quickstarts and the refresh modes, and every file under examples/', () => {
		const names = shown.map(({ file, region }) =>
			region === undefined ? file : `${file}#${region}`,
		);
		expect(names).toEqual(expect.arrayContaining(required));
		const files = new Set(shown.map(({ file }) => file));
		expect(exampleFiles().filter((file) => !files.has(file))).toEqual([]);
	});

	it("imports only entry points of package.json's exports, in every ts block", () => {
		const exported = Object.keys(JSON.parse(read('package.json')).exports).map((entry: string) =>
			entry.replace(/^\./, 'oauth2-session'),
		);
		const specifiers = documents.flatMap((document) =>
			[...read(document).matchAll(/```ts\n([\s\S]*?)\n```/g)].flatMap((block) =>
				[...block[1]!.matchAll(/from '(oauth2-session[^']*)'/g)].map((match) => match[1]!),
			),
		);
		expect(specifiers.length).toBeGreaterThan(0);
		expect(specifiers.filter((specifier) => !exported.includes(specifier))).toEqual([]);
	});

	// A whole program over src/: a few seconds, more on a loaded machine.
	it('compile under examples/tsconfig.json', { timeout: 60_000 }, () => {
		const configPath = `${root}examples/tsconfig.json`;
		const config = ts.getParsedCommandLineOfConfigFile(
			configPath,
			{},
			{
				...ts.sys,
				onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
					throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
				},
			},
		);
		if (config === undefined) throw new Error(`${configPath} could not be read`);
		const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
		const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
		const report = ts.formatDiagnostics(diagnostics, {
			getCanonicalFileName: (name) => name,
			getCurrentDirectory: () => root,
			getNewLine: () => '\n',
		});
		expect(report).toBe('');
		expect(config.fileNames.length).toBe(exampleFiles().length);
	});
});
