/**
 * "did you mean …" for a misspelt name (a descriptor field, a provider, a check id). A small
 * hand-written Levenshtein distance: the candidate lists are short (tens of names), so the
 * O(len²) table per pair costs nothing and no dependency is needed.
 */

/** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word`, when close enough to be a slip: a case slip always, otherwise
 * at most 2 edits and at most a third of the word (so "id" does not suggest "kid"… unless 1 edit).
 * Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    if (name === word) continue;
    const d = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
  return best.d <= limit ? best.name : undefined;
}

/** " (did you mean X?)", or "" when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const meant = closest(word, candidates);
  return meant === undefined ? '' : ` (did you mean ${meant}?)`;
}
