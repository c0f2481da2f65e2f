import { dpopNonceOf } from '../protocol/dpop.js';
import { whileNotAborted } from '../utils/while-not-aborted.js';

/**
 * How long, in ms, the other requests to a place not heard from yet wait for the first one's
 * answer at most. A server that wants a nonce refuses at once; a first request still unanswered
 * then is being served (a slow report, a long poll), and the others go on without a nonce.
 */
const FIRST_ANSWER_WAIT = 1_000;

/** Nonces a place replaced that are remembered, to know a late answer carrying one for old. */
const REPLACED_NONCES = 8;

/**
 * Where a nonce holds: a resource server's origin, or `token <origin>` for an authorization
 * server's endpoints (token, PAR), whose nonces are not an API's on the same origin (RFC 9449 §8, §9).
 */
export function tokenEndpointPlace(url: URL): string {
	return `token ${url.origin}`;
}

/** Ends a request's turn (see `DPoPNonces.turn`): with the answer's headers, or none if it failed. */
export type EndTurn = (answer: Headers | undefined) => void;

/**
 * The DPoP nonces servers gave (RFC 9449 §8, §9), by place, and the first requests to places not
 * heard from yet. A session has its own; an `OAuth2Client` shares one among its users' sessions, so
 * a nonce one user's request learnt serves them all: nonces belong to the server, not to a key.
 */
export class DPoPNonces {
	/** The nonce of each place that requests carry now. */
	readonly #nonces = new Map<string, string>();
	/** The last nonces each place gave that were replaced since, newest last. */
	readonly #replaced = new Map<string, string[]>();
	/** Places that answered a request: a burst to one goes at once, with its nonce or none. */
	readonly #heard = new Set<string>();
	/** By place not heard from yet: the end of its first request, which the others wait for. */
	readonly #firsts = new Map<string, Promise<void>>();

	/** The nonce to sign a request to `place` with. */
	get(place: string): string | undefined {
		return this.#nonces.get(place);
	}

	/**
	 * Takes the nonce of an answer to a request that carried `sent`, and returns it. It replaces the
	 * nonce held only when it is newer, which an answer's arrival order does not say (a slow answer
	 * may bring back a nonce the server replaced since): when the request carried the nonce held
	 * (it was signed after that nonce came), or when it is a `use_dpop_nonce` refusal's and not one
	 * the place already replaced. The answers of requests signed earlier change nothing.
	 */
	learn(
		place: string,
		headers: Headers,
		sent: string | undefined,
		refused: boolean,
	): string | undefined {
		const nonce = dpopNonceOf(headers);
		if (nonce === undefined) return undefined;
		const held = this.#nonces.get(place);
		if (nonce === held) return nonce;
		const replaced = this.#replaced.get(place) ?? [];
		if (sent !== held && !(refused && !replaced.includes(nonce))) return nonce;
		this.#nonces.set(place, nonce);
		const kept = replaced.filter((old) => old !== nonce);
		if (held !== undefined) kept.push(held);
		this.#replaced.set(place, kept.slice(-REPLACED_NONCES));
		return nonce;
	}

	/**
	 * Waits for a request's turn to `place`: the first request to a place not heard from yet, with
	 * no nonce known for it, goes alone; the others wait until it ends, whatever its outcome, or for
	 * FIRST_ANSWER_WAIT at most, and then sign with the nonce it brought. An abort of `signal` ends
	 * a wait at once with its reason. Call what it returns when the request ends.
	 */
	async turn(place: string, signal: AbortSignal | null | undefined): Promise<EndTurn> {
		const first = this.#firstTo(place);
		if (first instanceof Promise) await whileNotAborted(first, signal);
		// Taken once the wait is over: what the request signs with, and so what its answer follows.
		const sent = this.#nonces.get(place);
		return (answer) => {
			// A waiter's answer counts too: after a first that failed, the place is heard from.
			if (first !== undefined && answer !== undefined) {
				// Before the waiting requests sign: they carry the nonce it brought.
				this.learn(place, answer, sent, false);
				this.#heard.add(place);
			}
			if (typeof first === 'function') first();
		};
	}

	/** Forgets every nonce and answer. */
	forget(): void {
		this.#nonces.clear();
		this.#replaced.clear();
		this.#heard.clear();
	}

	/**
	 * The first request to a place not heard from yet: for the first, the function that ends it;
	 * for the others, the promise of its end; `undefined` once the place answered or gave a nonce.
	 */
	#firstTo(place: string): (() => void) | Promise<void> | undefined {
		if (this.#heard.has(place) || this.#nonces.has(place)) return undefined;
		const pending = this.#firsts.get(place);
		if (pending !== undefined) return pending;
		let end = (): void => {};
		const ended = new Promise<void>((resolve) => {
			end = resolve;
		});
		const timer = setTimeout(end, FIRST_ANSWER_WAIT);
		// A wait for an answer must not keep a Node process alive.
		(timer as { unref?: () => void }).unref?.();
		this.#firsts.set(place, ended);
		return () => {
			clearTimeout(timer);
			if (this.#firsts.get(place) === ended) this.#firsts.delete(place);
			end();
		};
	}
}
