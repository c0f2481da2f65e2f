import { InsufficientScopeError, OAuth2Session, StepUpRequiredError } from 'oauth2-session';

declare function redirect(url: string): never; // your framework's redirect
declare const payment: object;

const session = new OAuth2Session({
	clientId: 'app',
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	redirectUri: 'https://app.example.com/callback',
	allowedOrigins: ['https://api.example.com'],
	// Throw InsufficientScopeError rather than hand back the 401 or 403.
	insufficientScope: 'throw',
});

// #region readme
try {
	await session.fetch('https://api.example.com/transfers', {
		method: 'POST',
		body: JSON.stringify(payment),
	});
} catch (error) {
	if (error instanceof StepUpRequiredError) {
		// The API wants a stronger or fresher sign-in: error.acrValues (['phr']), error.maxAge (300).
		// No refresh was made: a new token from the same sign-in would be refused the same way.
		const { url } = await session.authorizationUrl({ stepUp: error });
		redirect(url); // the callback's fetchToken({ authorizationResponse }) gets the new token
	}
	if (error instanceof InsufficientScopeError) {
		// error.scope: what the API asked for. Ask the user to consent to it.
		const { url } = await session.authorizationUrl({ scope: ['openid', ...error.scope] });
		redirect(url);
	}
	throw error;
}
// #endregion readme
