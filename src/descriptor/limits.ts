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

/**
 * Why a file a descriptor names cannot be read safely: not a regular file (a FIFO or a device such as
 * /dev/zero or /dev/stdin would block or never end, so it is never opened) or larger than `maxBytes`.
 * Undefined when it may be read, or when it cannot be stat'ed (reading it then says why).
 */
export function unsafeFileProblem(file: string, maxBytes: number): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return undefined;
  if (!st.isFile()) return 'it is not a regular file';
  if (st.size > maxBytes) return `it is ${st.size} bytes, more than the ${maxBytes} allowed`;
  return undefined;
}

/** Why a descriptor file cannot be read safely, or undefined. */
export function descriptorFileProblem(file: string): string | undefined {
  return unsafeFileProblem(file, DESCRIPTOR_LIMITS.bytes);
}

/** Key, certificate and CA files: a PEM bundle of public roots is about 200 KB. */
export const PEM_FILE_BYTES = 1024 * 1024;

/** True when the parsed value nests deeper than `limit` mappings and lists (measured without recursion). */
export function nestsDeeperThan(value: unknown, limit: number = DESCRIPTOR_LIMITS.depth): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>))
      stack.push([child, depth + 1]);
  }
  return false;
}
