import { createHash } from 'node:crypto';

export interface Shard {
  index: number;
  total: number;
}

/** `--shard k/n`: 1 ≤ k ≤ n; a usage error otherwise. */
export function parseShard(value: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return `--shard: ${JSON.stringify(value)} is not k/n (e.g. 1/4)`;
  const index = Number(m[1]);
  const total = Number(m[2]);
  if (total < 1 || index < 1 || index > total)
    return `--shard: ${value}: k must be between 1 and n`;
  return { index, total };
}

/**
 * Whether a provider belongs to a shard: by a hash of its name, so a provider stays in its shard when
 * others are added or removed (a matrix job keeps its providers and their history from night to night).
 */
export function inShard(name: string, shard: Shard): boolean {
  const h = createHash('sha256').update(name).digest().readUInt32BE(0);
  return (h % shard.total) + 1 === shard.index;
}

/** Runs `jobs` with at most `n` at once, results in order. */
export async function pooled<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}
