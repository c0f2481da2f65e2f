import diagnostics from 'node:diagnostics_channel';
import { OAuth2Session, type RefreshTrace } from 'oauth2-session';

// The shape of @opentelemetry/api's tracer, declared so this file compiles without it.
interface Span {
	setAttribute(key: string, value: string | number): void;
	setStatus(status: { code: number; message?: string }): void;
	end(): void;
}
declare const trace: { getTracer(name: string): { startSpan(name: string): Span } };
declare const SpanStatusCode: { ERROR: number };
declare const log: (message: string, fields: object) => void; // your logger

const session = new OAuth2Session({
	clientId: 'app',
	tokenEndpoint: 'https://auth.example.com/token',
	allowedOrigins: ['https://api.example.com'],
});

// #region events
session.on('refreshFinished', ({ reason, outcome, durationMs }) =>
	log('oauth2 refresh', { reason, outcome, durationMs }),
);
session.on('lockWaited', ({ outcome, durationMs }) => log('oauth2 lock', { outcome, durationMs }));
// #endregion events

// #region otel
// import { SpanStatusCode, trace } from '@opentelemetry/api';
const tracer = trace.getTracer('oauth2-session');
const spans = new WeakMap<RefreshTrace, Span>();
diagnostics.tracingChannel<unknown, RefreshTrace>('oauth2-session:refresh').subscribe({
	start: (refresh) => spans.set(refresh, tracer.startSpan(`oauth2 refresh (${refresh.reason})`)),
	end: () => {},
	asyncStart: () => {},
	error: (refresh) => spans.get(refresh)?.setStatus({ code: SpanStatusCode.ERROR }),
	asyncEnd: (refresh) => {
		const span = spans.get(refresh);
		span?.setAttribute('oauth2.refresh.outcome', refresh.outcome ?? 'failed');
		span?.end();
	},
});
// #endregion otel
