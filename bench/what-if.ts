/**
 * In-process instruments and what-ifs for bench/run.ts. Nothing in src/ is edited: these wrap, for the
 * duration of one measurement, a Node function the runner reaches through its module object
 * (tls.createSecureContext, called by tls.connect) and a method the runner reaches through a prototype
 * (Redactor.prototype.scrub).
 *
 * - `instrument`: times every tls.createSecureContext and Redactor#scrub call (behaviour unchanged;
 *   a performance.now() pair per call), to attribute the harness's own CPU time.
 * - `withProposedFixes`: emulates the two fixes proposed in docs/benchmarks.md — one SecureContext per CA
 *   list (and client certificate) instead of one per connection, and the encoded forms of each secret and
 *   token computed once instead of on every scrub — to measure what they would change.
 */
import tls, { type SecureContext, type SecureContextOptions } from 'node:tls';
import { formEncode, Redactor } from '../src/http/redact.js';

type CreateSecureContext = (options?: SecureContextOptions) => SecureContext;
type Scrub = (this: Redactor, text: string) => string;

const mutableTls = tls as unknown as { createSecureContext: CreateSecureContext };
const redactorPrototype = Redactor.prototype as unknown as { scrub: Scrub };

export interface Counters {
  secureContexts: number;
  secureContextMs: number;
  scrubCalls: number;
  scrubMs: number;
}

/** Runs `fn` with `createSecureContext` and `scrub` replaced by what `wrap` makes of the originals. */
async function patched<T>(
  wrap: {
    context?: (original: CreateSecureContext) => CreateSecureContext;
    scrub?: (original: Scrub) => Scrub;
  },
  fn: () => Promise<T>,
): Promise<T> {
  const originalContext = mutableTls.createSecureContext;
  const originalScrub = redactorPrototype.scrub;
  if (wrap.context) mutableTls.createSecureContext = wrap.context(originalContext);
  if (wrap.scrub) redactorPrototype.scrub = wrap.scrub(originalScrub);
  try {
    return await fn();
  } finally {
    mutableTls.createSecureContext = originalContext;
    redactorPrototype.scrub = originalScrub;
  }
}

/** `fn`'s result, and the time spent in tls.createSecureContext and Redactor#scrub while it ran. */
export async function instrument<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; counters: Counters }> {
  const counters: Counters = { secureContexts: 0, secureContextMs: 0, scrubCalls: 0, scrubMs: 0 };
  const result = await patched(
    {
      context: (original) => (options) => {
        const t = performance.now();
        try {
          return original(options);
        } finally {
          counters.secureContexts += 1;
          counters.secureContextMs += performance.now() - t;
        }
      },
      scrub: (original) =>
        function (this: Redactor, text: string): string {
          const t = performance.now();
          try {
            return original.call(this, text);
          } finally {
            counters.scrubCalls += 1;
            counters.scrubMs += performance.now() - t;
          }
        },
    },
    fn,
  );
  return { result, counters };
}

/** `fn` run as if src/http/runner.ts and src/http/redact.ts had the two proposed fixes. */
export async function withProposedFixes<T>(fn: () => Promise<T>): Promise<T> {
  const contexts = new Map<string, SecureContext>();
  const encodings = new Map<string, string[]>();
  return patched(
    {
      // Fix 1: one context per CA list (and, for mTLS agents, client certificate and key).
      context: (original) => (options) => {
        const ca = options?.ca;
        if (!Array.isArray(ca)) return original(options);
        const key = JSON.stringify([
          ca.length,
          String(ca[ca.length - 1]),
          String(options?.cert ?? ''),
          String(options?.key ?? ''),
        ]);
        let context = contexts.get(key);
        if (!context) contexts.set(key, (context = original(options)));
        return context;
      },
      // Fix 2: Redactor#scrub as in src/http/redact.ts, with each value's encoded forms computed once.
      scrub: () =>
        function (this: Redactor, text: string): string {
          let out = text;
          for (const [value, shown] of this.entries()) {
            let forms = encodings.get(value);
            if (!forms)
              encodings.set(
                value,
                (forms = [formEncode(value), encodeURIComponent(value)].filter((e) => e !== value)),
              );
            if (out.includes(value)) out = out.split(value).join(shown);
            for (const encoded of forms)
              if (out.includes(encoded)) out = out.split(encoded).join(shown);
          }
          return out;
        },
    },
    fn,
  );
}
