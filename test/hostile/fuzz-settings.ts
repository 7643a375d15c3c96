/**
 * Run counts and seed of the fuzz tests: small and fixed for CI (a failure reproduces), larger and
 * random for a longer run — TC_FUZZ_RUNS, TC_FUZZ_SEED; TC_FUZZ_SHRINK=1 shrinks a counterexample
 * (slow: many more runs) instead of stopping at the first.
 */
export function fuzzSettings(ciRuns: number): { runs: number; seed: number; shrink: boolean } {
  const runs = Number(process.env['TC_FUZZ_RUNS'] ?? ciRuns);
  const seed = Number(process.env['TC_FUZZ_SEED'] ?? 14);
  return { runs: Number.isFinite(runs) && runs > 0 ? runs : ciRuns, seed: Number.isFinite(seed) ? seed : 14, shrink: process.env['TC_FUZZ_SHRINK'] === '1' };
}
