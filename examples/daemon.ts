// Sign in once on the machine (a browser opens; add --device on a headless box):
//   npx oauth2-session login --issuer https://auth.example.com --client-id my-daemon --scope "api offline_access"
// The CLI writes the token into a FileStore, which every process of the daemon then shares.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Session } from 'oauth2-session';
import { FileStore } from 'oauth2-session/storage/file';

const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
const store = new FileStore({ dir: join(configHome, 'oauth2-session', 'tokens') }); // the CLI's --dir

const session = new OAuth2Session({
	clientId: 'my-daemon', // the client that signed in: its refresh token is bound to it
	tokenEndpoint: 'https://auth.example.com/token',
	baseUrl: 'https://api.example.com/v1/', // relative URLs resolve here; only this origin gets the token
	store, // under storeKey 'default', the CLI's --key
});

session.on('sessionEnded', () => {
	process.stderr.write('Signed out: run `npx oauth2-session login` again\n');
	process.exitCode = 1;
});

async function poll(): Promise<void> {
	try {
		const response = await session.fetch('reports/latest'); // the token is renewed before it expires
		if (!response.ok) process.stderr.write(`reports: HTTP ${response.status}\n`);
		await response.body?.cancel();
	} catch (error) {
		// A network error, or ReauthenticationRequiredError once the session has ended.
		process.stderr.write(`reports: ${error instanceof Error ? error.message : String(error)}\n`);
	}
}

const timer = setInterval(poll, 60_000);
process.once('SIGTERM', async () => {
	clearInterval(timer);
	session.close();
	await store.close();
});
