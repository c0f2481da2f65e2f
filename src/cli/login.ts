import { spawn } from 'node:child_process';
import {
	type AuthorizationServerMetadata,
	type ClientAuthentication,
	decodeStoredRecord,
	discover,
	generateState,
	OAuth2Session,
	parseAuthorizationCallback,
	startDeviceAuthorization,
	type Token,
} from '../index.js';
import { FileStore } from '../storage/file.js';
import { CliError } from './cli-error.js';
import { startLoopbackReceiver } from './loopback.js';
import { type CliOptions, clientAuthenticationFor } from './options.js';
import { describeToken } from './status.js';
import { say, showProgress } from './terminal.js';

/** `oauth2-session login`: signs in, then saves the token in the FileStore. */
export async function login(
	options: CliOptions & { issuer: string; clientId: string },
): Promise<void> {
	const metadata = await discover(options.issuer);
	const clientAuthentication = clientAuthenticationFor(options);
	const store = new FileStore({ dir: options.dir });
	try {
		const signIn = options.device ? deviceLogin : browserLogin;
		const token = await signIn({
			options,
			metadata,
			clientAuthentication,
			makeSession: (redirectUri) =>
				sessionOn(store, options, metadata, clientAuthentication, redirectUri),
		});
		// The session keeps a token the store refused, to save it later: a CLI has no later.
		const saved = await store.get(options.key);
		if (
			saved === undefined ||
			decodeStoredRecord(saved, options.key).token?.accessToken !== token.accessToken
		) {
			throw new CliError(`Signed in, but the token could not be saved in ${store.dir}`);
		}
		say(`Signed in. Token saved in ${store.dir} under "${options.key}".`);
		for (const line of describeToken(token, saved.dpop?.jkt)) say(`  ${line}`);
	} finally {
		await store.close();
	}
}

/**
 * The session a sign-in runs through, on the FileStore: with `--dpop` it binds the token to its key
 * and saves the key with the token, for daemons sharing the store with `dpop: true`.
 */
function sessionOn(
	store: FileStore,
	options: CliOptions & { clientId: string },
	metadata: AuthorizationServerMetadata,
	clientAuthentication: ClientAuthentication,
	redirectUri: string | undefined,
): OAuth2Session {
	return new OAuth2Session({
		clientId: options.clientId,
		clientAuthentication,
		metadata,
		...(redirectUri === undefined ? {} : { redirectUri }),
		scope: options.scope,
		store,
		storeKey: options.key,
		proactiveRefresh: false,
		...(options.dpop ? { dpop: true } : {}),
	});
}

/** What a sign-in works with. */
interface SignIn {
	options: CliOptions;
	metadata: AuthorizationServerMetadata;
	clientAuthentication: ClientAuthentication;
	/** Makes the sign-in's session on the FileStore; `redirectUri` for the browser flow. */
	makeSession(redirectUri?: string): OAuth2Session;
}

/**
 * Authorization code + PKCE, the browser sent back to a one-shot server on 127.0.0.1: the session
 * pushes the request (PAR) when the issuer requires it or, with `--dpop`, offers it, and binds the
 * code and the token to its DPoP key.
 */
async function browserLogin({ options, metadata, makeSession }: SignIn): Promise<Token> {
	required(metadata, 'authorization_endpoint');
	required(metadata, 'token_endpoint');
	const state = generateState();
	const receiver = await startLoopbackReceiver(options.port, (url) =>
		parseAuthorizationCallback(url, {
			expectedState: state,
			issuer: metadata.issuer,
			requireIssuer: metadata.authorization_response_iss_parameter_supported === true,
		}),
	);
	const session = makeSession(receiver.redirectUri);
	// Pushing is the issuer's demand, or what binds the code to the DPoP key before the browser
	// sees it (RFC 9449 §10); otherwise the URL carries the request, as it always has here.
	const push =
		metadata.require_pushed_authorization_requests === true ||
		(options.dpop && metadata.pushed_authorization_request_endpoint !== undefined);
	try {
		const request = await session.authorizationUrl({
			state,
			...(push ? {} : { pushedAuthorizationRequestEndpoint: false }),
		});
		say(`Open this URL in a browser to sign in:\n\n  ${request.url}\n`);
		if (options.open) openBrowser(request.url);
		const callback = await untilDeadline(
			receiver.result,
			options.timeout,
			'Waiting for the browser to come back',
		);
		return await session.fetchToken({
			code: callback.code,
			...(request.codeVerifier === undefined ? {} : { codeVerifier: request.codeVerifier }),
		});
	} finally {
		session.close();
		await receiver.close();
	}
}

/**
 * The device authorization grant: the user approves on another device while the session polls,
 * each poll with a DPoP proof under `--dpop`.
 */
async function deviceLogin(signIn: SignIn): Promise<Token> {
	const { options, metadata } = signIn;
	required(metadata, 'token_endpoint');
	const device = await startDeviceAuthorization({
		deviceAuthorizationEndpoint: required(metadata, 'device_authorization_endpoint'),
		clientAuthentication: signIn.clientAuthentication,
		scope: options.scope,
	});
	say(`Open ${device.verificationUri} and enter the code: ${device.userCode}`);
	if (device.verificationUriComplete !== undefined) {
		say(`(or open ${device.verificationUriComplete})`);
	}
	if (options.open) openBrowser(device.verificationUriComplete ?? device.verificationUri);
	const deadline = Math.min(device.expiresAt, Date.now() + options.timeout);
	const stop = showProgress('Waiting for approval', deadline);
	const session = signIn.makeSession();
	try {
		return await session.fetchToken({
			deviceAuthorization: device,
			signal: AbortSignal.timeout(deadline - Date.now()),
		});
	} catch (error) {
		if (error instanceof DOMException && error.name === 'TimeoutError') {
			throw new CliError('No approval in time; run login again');
		}
		throw error;
	} finally {
		stop();
		session.close();
	}
}

function required(
	metadata: AuthorizationServerMetadata,
	field: 'authorization_endpoint' | 'token_endpoint' | 'device_authorization_endpoint',
): string {
	const value = metadata[field];
	if (value === undefined) throw new CliError(`${metadata.issuer} publishes no ${field}`);
	return value;
}

/** Waits for `promise` with progress on stderr; fails after `timeout` milliseconds. */
async function untilDeadline<T>(promise: Promise<T>, timeout: number, label: string): Promise<T> {
	const stop = showProgress(label, Date.now() + timeout);
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(new CliError('No answer in time; run login again')),
					timeout,
				);
			}),
		]);
	} finally {
		clearTimeout(timer);
		stop();
	}
}

/** Best effort: the URL was printed anyway. */
function openBrowser(url: string): void {
	// No shell: the URL's & and ? reach the opener as they are.
	const [command, ...args] =
		process.platform === 'darwin'
			? ['open', url]
			: process.platform === 'win32'
				? ['rundll32', 'url.dll,FileProtocolHandler', url]
				: ['xdg-open', url];
	const child = spawn(command as string, args, { stdio: 'ignore', detached: true });
	child.on('error', () => say('Could not open a browser; open the URL above yourself.'));
	child.unref();
}
