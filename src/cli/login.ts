import { spawn } from 'node:child_process';
import {
	type AuthorizationServerMetadata,
	authorizationCodeGrant,
	authorizationUrl,
	type ClientAuthentication,
	discover,
	encodeStoredRecord,
	generateState,
	parseAuthorizationCallback,
	requestToken,
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
	const token = options.device
		? await deviceLogin(options, metadata, clientAuthentication)
		: await browserLogin(options, metadata, clientAuthentication);
	const store = new FileStore({ dir: options.dir });
	try {
		await store.set(options.key, encodeStoredRecord(token));
	} finally {
		await store.close();
	}
	say(`Signed in. Token saved in ${store.dir} under "${options.key}".`);
	for (const line of describeToken(token)) say(`  ${line}`);
}

/** Authorization code + PKCE, the browser sent back to a one-shot server on 127.0.0.1. */
async function browserLogin(
	options: CliOptions & { clientId: string },
	metadata: AuthorizationServerMetadata,
	clientAuthentication: ClientAuthentication,
): Promise<Token> {
	const authorizationEndpoint = required(metadata, 'authorization_endpoint');
	const tokenEndpoint = required(metadata, 'token_endpoint');
	const state = generateState();
	const receiver = await startLoopbackReceiver(options.port, (url) =>
		parseAuthorizationCallback(url, {
			expectedState: state,
			issuer: metadata.issuer,
			requireIssuer: metadata.authorization_response_iss_parameter_supported === true,
		}),
	);
	try {
		const request = await authorizationUrl({
			authorizationEndpoint,
			clientId: options.clientId,
			redirectUri: receiver.redirectUri,
			scope: options.scope,
			state,
		});
		say(`Open this URL in a browser to sign in:\n\n  ${request.url}\n`);
		if (options.open) openBrowser(request.url);
		const callback = await untilDeadline(
			receiver.result,
			options.timeout,
			'Waiting for the browser to come back',
		);
		return await requestToken({
			tokenEndpoint,
			grant: authorizationCodeGrant({
				code: callback.code,
				redirectUri: receiver.redirectUri,
				...(request.codeVerifier === undefined ? {} : { codeVerifier: request.codeVerifier }),
			}),
			clientAuthentication,
		});
	} finally {
		await receiver.close();
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
