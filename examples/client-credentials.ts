import { clientCredentialsGrant, OAuth2Session } from 'oauth2-session';

const session = new OAuth2Session({
	clientId: 'reporting-daemon',
	clientSecret: process.env.CLIENT_SECRET,
	tokenEndpoint: 'https://auth.example.com/token',
	grant: clientCredentialsGrant({ scope: ['reports:read'] }),
	baseUrl: 'https://api.example.com/v1/',
});

await session.fetch('reports'); // gets its first token, renews it before it expires
