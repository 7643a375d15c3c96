import { locateDescriptor, readDescriptor, resolveProvider } from '../src/descriptor/load.js';
import type { Provider } from '../src/descriptor/types.js';

/**
 * n providers from providers/reference.yaml, resolved with the reference host's env (its URLs lead
 * through the latency proxy), renamed reference-1 … reference-n: one server, n sessions. Titles are
 * numbered too: the report groups by title, and n providers of one title would be one group.
 */
export function referenceProviders(env: Record<string, string>, n: number): Provider[] {
  const raw = readDescriptor(locateDescriptor('reference'));
  const base = resolveProvider(raw, { ...process.env, ...env });
  return Array.from({ length: n }, (_, i) => ({
    ...base,
    name: `reference-${i + 1}`,
    title: n > 1 ? `${base.title} #${i + 1}` : base.title,
  }));
}
