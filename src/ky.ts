// The ky entry (`oauth2-session/ky`): a ky instance bound to a session, or hooks for your own.
export { type CreateKyOptions, createKy } from './ky/create-ky.js';
export { oauth2Fetch } from './ky/oauth2-fetch.js';
export { DPOP_NONCE_RETRY_CODE, oauth2Hooks, TOKEN_RETRY_CODE } from './ky/oauth2-hooks.js';
