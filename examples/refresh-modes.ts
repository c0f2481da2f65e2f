import { OAuth2Session, type Token, TokenExpiredError, TokenUpdated } from 'oauth2-session';

declare const saved: Token; // the token you stored last time
declare function save(token: Token): Promise<void>; // your storage
const options = {
	clientId: 'app',
	tokenEndpoint: 'https://auth.example.com/token',
	allowedOrigins: ['https://api.example.com'],
	token: saved,
};
const url = 'https://api.example.com/me';

// #region readme
// 'auto' (the default): refreshed, saved, and the request goes out with the new token.
const auto = new OAuth2Session({ ...options, refresh: 'auto', onTokenUpdated: save });
await auto.fetch(url);

// 'raise-updated': refreshed, then TokenUpdated is thrown; the request was not sent.
const raising = new OAuth2Session({ ...options, refresh: 'raise-updated' });
try {
	await raising.fetch(url);
} catch (error) {
	if (!(error instanceof TokenUpdated)) throw error;
	await save(error.token);
	await raising.fetch(url); // the session already holds the new token
}

// 'manual': TokenExpiredError is thrown; you refresh.
const manual = new OAuth2Session({ ...options, refresh: 'manual' });
try {
	await manual.fetch(url);
} catch (error) {
	if (!(error instanceof TokenExpiredError)) throw error;
	await save(await manual.refreshToken());
	await manual.fetch(url);
}
// #endregion readme
