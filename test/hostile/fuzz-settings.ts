/**
 * Run counts and seed of the fuzz tests: small and fixed for CI (a failure reproduces from the
 * seed), larger and random for a longer run (bench/fuzz.ts): TC_FUZZ_SCALE multiplies every
 * property's CI count, TC_FUZZ_SEED picks the seed, TC_FUZZ_SHRINK=1 shrinks a counterexample
 * (many more runs) instead of stopping at the first.
 */
export function fuzzSettings(ciRuns: number): { runs: number; seed: number; shrink: boolean } {
  const scale = Number(process.env['TC_FUZZ_SCALE'] ?? 1);
  const seed = Number(process.env['TC_FUZZ_SEED'] ?? 14);
  return {
    runs: Math.max(1, Math.round(ciRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    seed: Number.isFinite(seed) ? seed : 14,
    shrink: process.env['TC_FUZZ_SHRINK'] === '1',
  };
}
