import type { Token, TokenRecord } from 'oauth2-session';

declare const savedToken: TokenRecord; // what `save` wrote last time
declare function save(token: Token): Promise<void>;

// #region readme
import { OAuth2Session } from 'oauth2-session';

const session = new OAuth2Session({
	clientId: 'app',
	clientSecret: process.env.CLIENT_SECRET,
	tokenEndpoint: 'https://auth.example.com/token',
	token: savedToken, // a Token, or a requests-oauthlib style token dict
	allowedOrigins: ['https://api.example.com'],
	refresh: 'auto', // 'auto' | 'raise-updated' | 'manual'
	onTokenUpdated: (token) => save(token), // requests-oauthlib's token_updater
});

const res = await session.fetch('https://api.example.com/me');
// #endregion readme
