import { clientCredentialsGrant, OAuth2Session } from 'oauth2-session';
import { RedisStore } from 'oauth2-session/storage/redis';

// Every process of the daemon shares the record under 'billing-api': the token, its refresh and
// the DPoP key it is bound to. The first process to need a token makes the ES256 key under the
// store's lock; the others read it, so every proof any process signs names the same key.
const session = new OAuth2Session({
	clientId: 'billing-daemon',
	clientSecret: process.env.CLIENT_SECRET,
	tokenEndpoint: 'https://auth.example.com/token',
	grant: clientCredentialsGrant({ scope: 'invoices:read' }),
	allowedOrigins: ['https://api.example.com'],
	store: new RedisStore({ url: process.env.REDIS_URL }),
	storeKey: 'billing-api',
	dpop: true,
});

// Authorization: DPoP <token> and a fresh proof (htm, htu, ath, the API's nonce) on each request.
const invoices = await session.fetch('https://api.example.com/invoices');
console.log(invoices.status, await session.dpopThumbprint());
