/**
 * Limits on a descriptor file, so that a hostile or broken one is refused with one line (exit 2)
 * instead of hanging the run (`--provider /dev/zero`, a FIFO), exhausting memory (a YAML alias bomb:
 * ten nested anchors expand to a billion nodes) or overflowing the stack of the recursive code that
 * resolves ${env:…} references. A real descriptor is a few kilobytes, a handful of levels deep.
 */
import { statSync } from 'node:fs';

export const DESCRIPTOR_LIMITS = {
  /** Bytes of a descriptor file. */
  bytes: 64 * 1024,
  /** Resolved YAML aliases (yaml's maxAliasCount): a descriptor needs none; a few are harmless. */
  aliases: 100,
  /** Nesting of mappings and lists. */
  depth: 32,
} as const;

/** Why a descriptor file cannot be read safely (not a regular file, too large), or undefined. */
export function descriptorFileProblem(file: string): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    return `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  // A FIFO or a device (/dev/zero, /dev/stdin) would block or never end: never opened.
  if (!st.isFile()) return st.isDirectory() ? 'is a directory, not a descriptor file' : 'is not a regular file';
  if (st.size > DESCRIPTOR_LIMITS.bytes) return `is ${st.size} bytes, more than the ${DESCRIPTOR_LIMITS.bytes} bytes a descriptor may have`;
  return undefined;
}

/** True when the parsed value nests deeper than `limit` mappings and lists (measured without recursion). */
export function nestsDeeperThan(value: unknown, limit: number = DESCRIPTOR_LIMITS.depth): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}
