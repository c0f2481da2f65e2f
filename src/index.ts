export * from './errors/index.js';
export { describeErrorCode } from './protocol/error-codes.js';
export { Token, type TokenInit } from './protocol/token.js';
export {
	type TokenInput,
	type TokenRecord,
	tokenFromRecord,
	tokenToRecord,
	toToken,
} from './protocol/token-record.js';
export { type ParseTokenResponseOptions, parseTokenResponse } from './protocol/token-response.js';
export { isLoopbackHost } from './utils/secure-transport.js';
