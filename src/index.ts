// The runtime-neutral entry: works in browsers, workers, Node, Deno and Bun.
export * from './errors/index.js';
export {
	type AuthorizationCallback,
	type CallbackOptions,
	type ImplicitCallback,
	type ImplicitCallbackOptions,
	parseAuthorizationCallback,
	parseImplicitCallback,
} from './protocol/authorization-callback.js';
export {
	type AuthorizationRequest,
	type AuthorizationUrlOptions,
	authorizationUrl,
} from './protocol/authorization-url.js';
export {
	type ClientAssertionOptions,
	type ClientAuthentication,
	type ClientSecretBasicOptions,
	type ClientSecretJwtOptions,
	clientSecretBasic,
	clientSecretJwt,
	clientSecretPost,
	noneClientAuthentication,
	type PrivateKeyJwtOptions,
	privateKeyJwt,
} from './protocol/client-authentication.js';
export {
	DeviceAuthorization,
	type DeviceAuthorizationInit,
	type DeviceAuthorizationRequestOptions,
	deviceAuthorizationRequest,
	parseDeviceAuthorizationResponse,
} from './protocol/device-authorization.js';
export {
	type AuthorizationServerMetadata,
	discoveryRequest,
	type ParseMetadataOptions,
	parseAuthorizationServerMetadata,
	type WellKnown,
	wellKnownUrl,
} from './protocol/discovery.js';
// DPoP (RFC 9449): the session option's type, what a token request adds, the pure wire formats.
export {
	accessTokenHash,
	type DPoPAlgorithm,
	type DPoPProofClaims,
	type DPoPProofHeader,
	type DPoPPublicJwk,
	dpopHtu,
	dpopNonceOf,
	dpopProofClaims,
	isUseDPoPNonceChallenge,
	isUseDPoPNonceError,
	jwkThumbprint,
} from './protocol/dpop.js';
export type { EndpointRequestOptions, TokenTypeHint } from './protocol/endpoint-request.js';
export {
	authorizationCodeGrant,
	clientCredentialsGrant,
	deviceCodeGrant,
	extensionGrant,
	fbExchangeTokenGrant,
	type Grant,
	type GrantContext,
	jwtBearerGrant,
	passwordGrant,
	refreshTokenGrant,
	type Scope,
	tokenExchangeGrant,
	type Value as ExtensionGrantValue,
} from './protocol/grants.js';
export {
	type IntrospectionRequestOptions,
	introspectionRequest,
	parseIntrospectionResponse,
	type TokenIntrospection,
} from './protocol/introspection.js';
export {
	type PushedAuthorization,
	type PushedAuthorizationRequestOptions,
	type PushedAuthorizationRequestParts,
	parsePushedAuthorizationResponse,
	pushedAuthorizationRequest,
	pushedAuthorizationUrl,
} from './protocol/par.js';
export type { Params, ParamValue } from './protocol/params.js';
export {
	type CodeChallengeMethod,
	computeCodeChallenge,
	generateCodeVerifier,
	generateState,
} from './protocol/pkce.js';
export {
	type DeadGrantTest,
	defineProfile,
	type ProfileHooks,
	type ProtectedRequestHook,
	type ProviderProfile,
	type TokenHttpResponse,
	type TokenPhase,
	type TokenRequestHook,
	type TokenResponseHook,
} from './protocol/profile.js';
export {
	bearerTokenType,
	bodyObject,
	renameErrorCodes,
	type StandardErrorFields,
	standardError,
} from './protocol/profiles/answer-fixes.js';
export {
	type Auth0ProfileOptions,
	auth0,
	cognito,
	ebay,
	facebook,
	fitbit,
	github,
	google,
	keycloak,
	mailchimp,
	microsoft,
	salesforce,
	slack,
	slackUser,
} from './protocol/profiles/index.js';
export {
	decodeRevocationResponseBody,
	parseRevocationResponse,
	type RevocationRequestOptions,
	revocationRequest,
} from './protocol/revocation.js';
export { Token, type TokenInit } from './protocol/token.js';
export {
	type TokenInput,
	type TokenRecord,
	tokenFromRecord,
	tokenToRecord,
	toToken,
} from './protocol/token-record.js';
export {
	type BuildTokenRequestOptions,
	buildTokenRequest,
	decodeTokenResponseBody,
	type TokenRequestParts,
} from './protocol/token-request.js';
export { type ParseTokenResponseOptions, parseTokenResponse } from './protocol/token-response.js';
export {
	type AuthenticationChallenge,
	type OtherProblem,
	parseWwwAuthenticate,
	type ScopeProblem,
	type StepUpProblem,
	type TokenProblem,
	type UnauthorizedCause,
	unauthorizedCause,
} from './protocol/www-authenticate.js';
export {
	type DevicePoll,
	type DevicePollProgress,
	type DeviceWaitOptions,
	type PollDeviceTokenOptions,
	pollDeviceToken,
	type StartDeviceAuthorizationOptions,
	startDeviceAuthorization,
	type WaitForDeviceTokenOptions,
	waitForDeviceToken,
} from './session/device-flow.js';
export {
	type DiscoverOptions,
	discover,
	MetadataCache,
	type MetadataCacheOptions,
} from './session/discover.js';
export type {
	LockWaitOutcome,
	OAuth2SessionEvents,
	OAuth2SessionListener,
	RefreshOutcome,
	RefreshReason,
	TokenSource,
} from './session/events.js';
export { type IntrospectTokenOptions, introspectToken } from './session/introspect.js';
export {
	OAuth2Client,
	type OAuth2ClientEvents,
	type OAuth2ClientListener,
	type OAuth2ClientOptions,
} from './session/oauth2-client.js';
export {
	type AuthorizationResponseOptions,
	type FetchTokenOptions,
	type ImplicitResponseOptions,
	OAuth2Session,
	type SessionAuthorizationUrlOptions,
} from './session/oauth2-session.js';
// 401s by cause: what session.fetch does with insufficient_scope.
// Several tokens per resource (RFC 8707): one API of the `resources` option.
export type {
	ClientAuthenticationMethod,
	DPoPOptions,
	InsufficientScopeMode,
	OAuth2SessionOptions,
	RefreshMode,
	ResourceOptions,
} from './session/options.js';
export {
	type PushAuthorizationRequestOptions,
	pushAuthorizationRequest,
} from './session/pushed-authorization.js';
export type { TokenRequestProofs } from './session/request-token.js';
export {
	type RequestTokenOptions,
	type RetryOptions,
	requestToken,
	type SendTokenRequestOptions,
	sendTokenRequest,
	type TokenEndpointAnswer,
} from './session/request-token.js';
export { type RevokeTokenOptions, revokeToken } from './session/revoke.js';
export type { LockWaitMessage, RefreshTrace } from './session/telemetry.js';
export { MemoryStore } from './storage/memory.js';
export {
	type DecodedStoredRecord,
	decodeStoredRecord,
	encodeStoredRecord,
	type LockOptions,
	type StoreChangeListener,
	type StoredDPoPKey,
	type StoredRecord,
	type StoreListener,
	type TokenStore,
} from './storage/token-store.js';
export { isLoopbackHost } from './utils/secure-transport.js';
