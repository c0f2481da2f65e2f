// Sign in once on the machine; the request is pushed (PAR) when the issuer offers it, and the code
// and the token are bound to a new key, saved with the token:
//   npx oauth2-session login --dpop --issuer https://auth.example.com --client-id my-daemon --scope "api offline_access"
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Session } from 'oauth2-session';
import { FileStore } from 'oauth2-session/storage/file';

const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');

// Every process of the daemon reads the record the CLI wrote (file mode 0600): the token, its
// refresh token and the private key they are bound to. Refreshes are signed with that key.
const session = new OAuth2Session({
	clientId: 'my-daemon',
	tokenEndpoint: 'https://auth.example.com/token',
	allowedOrigins: ['https://api.example.com'],
	store: new FileStore({ dir: join(configHome, 'oauth2-session', 'tokens') }),
	dpop: true,
});

const reports = await session.fetch('https://api.example.com/reports/latest');
console.log(reports.status, await session.dpopThumbprint()); // the thumbprint `status` shows
