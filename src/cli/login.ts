import { spawn } from 'node:child_process';
import {
	type AuthorizationServerMetadata,
	type ClientAuthentication,
	decodeStoredRecord,
	discover,
	encodeStoredRecord,
	generateState,
	OAuth2Session,
	parseAuthorizationCallback,
	type StoredRecord,
	startDeviceAuthorization,
	type Token,
	waitForDeviceToken,
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
	if (!options.device) {
		await browserLogin(options, metadata, clientAuthentication);
		return;
	}
	const token = await deviceLogin(options, metadata, clientAuthentication);
	const store = new FileStore({ dir: options.dir });
	try {
		const record = encodeStoredRecord(token);
		await store.set(options.key, record);
		reportSaved(options, store, token, record);
	} finally {
		await store.close();
	}
}

function reportSaved(
	options: CliOptions,
	store: FileStore,
	token: Token,
	record: StoredRecord,
): void {
	say(`Signed in. Token saved in ${store.dir} under "${options.key}".`);
	for (const line of describeToken(token, record.dpop?.jkt)) say(`  ${line}`);
}

/**
 * Authorization code + PKCE, the browser sent back to a one-shot server on 127.0.0.1, through an
 * `OAuth2Session` on the FileStore: it pushes the request (PAR) when the issuer requires it or,
 * with `--dpop`, offers it, binds the code and the token to its DPoP key, and saves the key with
 * the token.
 */
async function browserLogin(
	options: CliOptions & { clientId: string },
	metadata: AuthorizationServerMetadata,
	clientAuthentication: ClientAuthentication,
): Promise<void> {
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
	const store = new FileStore({ dir: options.dir });
	const session = new OAuth2Session({
		clientId: options.clientId,
		clientAuthentication,
		metadata,
		redirectUri: receiver.redirectUri,
		scope: options.scope,
		store,
		storeKey: options.key,
		proactiveRefresh: false,
		...(options.dpop ? { dpop: true } : {}),
	});
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
		const token = await session.fetchToken({
			code: callback.code,
			...(request.codeVerifier === undefined ? {} : { codeVerifier: request.codeVerifier }),
		});
		// The session keeps a token the store refused, to save it later: a CLI has no later.
		const saved = await store.get(options.key);
		if (
			saved === undefined ||
			decodeStoredRecord(saved, options.key).token.accessToken !== token.accessToken
		) {
			throw new CliError(`Signed in, but the token could not be saved in ${store.dir}`);
		}
		reportSaved(options, store, token, saved);
	} finally {
		session.close();
		await receiver.close();
		await store.close();
	}
}

/** The device authorization grant: the user approves on another device. */
async function deviceLogin(
	options: CliOptions,
	metadata: AuthorizationServerMetadata,
	clientAuthentication: ClientAuthentication,
): Promise<Token> {
	const device = await startDeviceAuthorization({
		deviceAuthorizationEndpoint: required(metadata, 'device_authorization_endpoint'),
		clientAuthentication,
		scope: options.scope,
	});
	say(`Open ${device.verificationUri} and enter the code: ${device.userCode}`);
	if (device.verificationUriComplete !== undefined) {
		say(`(or open ${device.verificationUriComplete})`);
	}
	if (options.open) openBrowser(device.verificationUriComplete ?? device.verificationUri);
	const deadline = Math.min(device.expiresAt, Date.now() + options.timeout);
	const stop = showProgress('Waiting for approval', deadline);
	try {
		return await waitForDeviceToken({
			tokenEndpoint: required(metadata, 'token_endpoint'),
			deviceAuthorization: device,
			clientAuthentication,
			signal: AbortSignal.timeout(deadline - Date.now()),
		});
	} catch (error) {
		if (error instanceof DOMException && error.name === 'TimeoutError') {
			throw new CliError('No approval in time; run login again');
		}
		throw error;
	} finally {
		stop();
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
