import { OAuth2Session } from 'oauth2-session';
import { FileStore } from 'oauth2-session/storage/file';

const session = new OAuth2Session({
	clientId: 'my-app',
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	redirectUri: 'http://127.0.0.1:8080/callback',
	scope: ['openid', 'offline_access'],
	// Each API gets a token of its own, asked for with resource=<its origin> (RFC 8707)...
	resources: {
		'https://orders.example.com': {},
		// ...or with what you name: Auth0 takes an audience, and a narrower scope is allowed.
		'https://billing.example.com': { audience: 'https://billing/', scope: 'invoices:read' },
	},
	store: new FileStore({ dir: '/var/lib/my-app/tokens' }), // one record, one lock, for all
});

// One sign-in: the authorization request names every API (resource=... repeated).
const { url } = await session.authorizationUrl();
console.log(`Open ${url}`);

// Later: each request carries the token of the API it goes to, never the other one's.
const orders = await session.fetch('https://orders.example.com/v1/orders');
const invoices = await session.fetch('https://billing.example.com/v1/invoices');
console.log(orders.status, invoices.status);

// A WebSocket or gRPC channel takes the token of one API by hand.
const { authorization } = await session.getToken({ resource: 'https://orders.example.com' });
console.log(authorization.length > 0);
