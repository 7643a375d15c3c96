/**
 * Sides of a comparison made from the recorded reference runs (test/fixtures), each a fresh copy a
 * test may mutate before it is judged: the defect is in the evidence, the verdicts follow from it.
 */
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate } from '../../src/evaluate.js';
import type { SideRun } from '../../src/compare/compare.js';
import { sideOf } from '../../src/compare/since.js';
import { publicProvider } from '../../src/run-record.js';
import { conformant, type FixtureName } from '../checks/fixture.js';

export function side(
  mutate?: (e: Evidence, p: Provider) => void,
  options: { name?: string; fixture?: FixtureName } = {},
): SideRun {
  const { provider, evidence } = conformant(options.fixture);
  mutate?.(evidence, provider);
  const p = options.name ? { ...provider, name: options.name } : provider;
  const run = {
    provider: publicProvider(p),
    evidence,
    findings: evaluate(p, evidence, { strict: false }),
  };
  return { side: sideOf(run, 'observed', { startedAt: evidence.startedAt }), run };
}

/** Every successful token response of a recording (the requests lifetime, scope and format apply to). */
export function tokenResponses(e: Evidence): string[] {
  return Object.values(e.exchanges)
    .filter((x) => x.response?.accessToken && x.response.status === 200)
    .map((x) => x.probe);
}
