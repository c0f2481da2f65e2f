// `npm run bench`: every benchmark in turn, each writing its own section of BENCHMARKS.md. One that
// misses its goal (exit 1) does not stop the ones after it, so the file always ends up complete;
// the exit code says whether every goal was met.
import { spawnSync } from 'node:child_process';

const scripts = [
	'bench:amplification',
	'bench:overhead',
	'bench:bundle',
	'bench:soak',
	'bench:many-users',
	'bench:faults',
];

const outcomes: string[] = [];
for (const script of scripts) {
	console.log(`\n> npm run ${script}`);
	const started = performance.now();
	const { status, error } = spawnSync('npm', ['run', script], { stdio: 'inherit' });
	const seconds = ((performance.now() - started) / 1000).toFixed(0);
	const outcome = error === undefined ? `exit ${status}` : error.message;
	outcomes.push(`${script.padEnd(20)} ${outcome}, ${seconds} s`);
	if (status !== 0) process.exitCode = 1;
}
console.log(`\n${outcomes.join('\n')}`);
