/**
 * The protected API's side of DPoP (RFC 9449 §7): checks the proof a request carries against the
 * access token it presents, as a resource server must. Used by demo/auth-server.ts with `dpop`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/** What the resource server saw of DPoP. */
export interface DPoPResourceStats {
	/** The key thumbprints of every proof accepted. */
	thumbprints: Set<string>;
	/** 401 answers asking for a nonce (`use_dpop_nonce`). */
	nonceChallenges: number;
	/** Proofs refused for any other reason (signature, htm, htu, ath, replay, key binding). */
	refused: string[];
}

/** Why a request was refused, and the challenge to answer with. */
export interface DPoPRefusal {
	error: 'use_dpop_nonce' | 'invalid_dpop_proof' | 'invalid_token';
	description: string;
}

/** A resource server's DPoP check with its own nonce (rotated by `rotateNonce`) and replay cache. */
export class DPoPResource {
	readonly stats: DPoPResourceStats = { thumbprints: new Set(), nonceChallenges: 0, refused: [] };
	#nonce = randomBytes(16).toString('base64url');
	/** The nonce before the last `rotateNonce({ keepPrevious: true })`, still accepted. */
	#previous: string | undefined;
	readonly #seen = new Set<string>();
	readonly #requiresNonce: boolean;

	/** `requiresNonce: false`: a server that checks proofs and never asks for a nonce. */
	constructor(options: { requiresNonce?: boolean } = {}) {
		this.#requiresNonce = options.requiresNonce ?? true;
	}

	/** The nonce proofs must carry now; sent in `DPoP-Nonce` on every answer. */
	get nonce(): string {
		return this.#nonce;
	}

	/**
	 * Issues a new nonce: proofs with the old one are refused with `use_dpop_nonce`, unless
	 * `keepPrevious`, as a server that announces its next nonce before the old one expires does
	 * (RFC 9449 §8.2): the old one is then accepted until the next rotation.
	 */
	rotateNonce(options: { keepPrevious?: boolean } = {}): void {
		this.#previous = options.keepPrevious === true ? this.#nonce : undefined;
		this.#nonce = randomBytes(16).toString('base64url');
	}

	/**
	 * Checks a request's proof for `accessToken`, bound to `jkt`; `undefined` when it passes.
	 * `origin` is the server's own, which `htu` must name.
	 */
	async check(
		request: IncomingMessage,
		origin: string,
		accessToken: string,
		jkt: string | undefined,
	): Promise<DPoPRefusal | undefined> {
		const proof = request.headers.dpop;
		const refuse = (description: string): DPoPRefusal => {
			this.stats.refused.push(description);
			return { error: 'invalid_dpop_proof', description };
		};
		if (typeof proof !== 'string') return refuse('no DPoP proof');
		let payload: Record<string, unknown>;
		let thumbprint: string;
		try {
			const verified = await jwtVerify(proof, EmbeddedJWK, {
				typ: 'dpop+jwt',
				algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256'],
			});
			payload = verified.payload;
			thumbprint = await calculateJwkThumbprint(
				verified.protectedHeader.jwk as Parameters<typeof calculateJwkThumbprint>[0],
			);
		} catch {
			return refuse('bad signature');
		}
		const url = new URL(request.url ?? '/', origin);
		const htu = `${url.origin}${url.pathname}`;
		const ath = createHash('sha256').update(accessToken).digest('base64url');
		if (payload.htm !== request.method) return refuse('htm mismatch');
		if (payload.htu !== htu) return refuse('htu mismatch');
		if (payload.ath !== ath) return refuse('ath mismatch');
		if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > 300) {
			return refuse('iat out of window');
		}
		if (jkt === undefined || thumbprint !== jkt) return refuse('key is not the token binding');
		if (
			this.#requiresNonce &&
			payload.nonce !== this.#nonce &&
			(this.#previous === undefined || payload.nonce !== this.#previous)
		) {
			this.stats.nonceChallenges++;
			return {
				error: 'use_dpop_nonce',
				description: 'Resource server requires nonce in DPoP proof',
			};
		}
		if (typeof payload.jti !== 'string' || this.#seen.has(payload.jti))
			return refuse('jti replayed');
		this.#seen.add(payload.jti);
		this.stats.thumbprints.add(thumbprint);
		return undefined;
	}
}
