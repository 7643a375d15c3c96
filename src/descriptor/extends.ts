/**
 * `extends: <path>`: a descriptor built on another one, so the sandboxes of one vendor share a base.
 *
 * - The path is relative to the file that says `extends`, and literal (it is followed before any
 *   ${env:…} is resolved). A base may extend another base; a cycle is refused, naming the chain.
 * - Deep merge, base first: mappings are merged key by key, lists and every other value are
 *   replaced whole, the extending file wins.
 * - A base is never validated alone: only the merged descriptor is (a base may be partial). A base
 *   that is not a whole descriptor is named *.base.yaml (or .yml, .json) or says `abstract: true`;
 *   such a file is not listed as a provider and is refused when run directly. `abstract` is not
 *   inherited.
 * - Relative file paths in a base (keys, certificates, tls.caFile) stay relative to the base.
 * - Every field remembers the file it came from, so an error names that file.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A descriptor file as parsed (syntax only), with the path users see. */
export interface ParsedFile {
  data: JsonObject;
  shownFile: string;
}

/** The merged descriptor and, by field name (`clients[0].auth.key`), the file each field came from. */
export interface Layered {
  data: JsonObject;
  origins: Map<string, string>;
}

/** How deep a chain of bases may go. */
export const MAX_EXTENDS_DEPTH = 8;

/** *.base.yaml, *.base.yml, *.base.json: a partial descriptor, only ever a base. */
export const isBaseFileName = (file: string): boolean => /\.base\.(ya?ml|json)$/i.test(file);

/** Fields holding a file path relative to their descriptor. */
const PATH_FIELD =
  /^(\/clients\/\d+|\/introspection\/client)\/(auth\/(key|certFile|keyFile)|tls\/(certFile|keyFile))$|^\/grant\/assertion\/key$|^\/tls\/caFile$/;

export class ExtendsProblem extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(problem);
  }
}

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `clients[0].auth.method` from `/clients/0/auth/method` (as load.ts names fields). */
function fieldOf(pointer: string): string {
  const parts = pointer.split('/').filter(Boolean);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Every pointer in `value` (objects, lists and leaves), with `file` as its origin. */
function record(value: Json, pointer: string, file: string, out: Map<string, string>): void {
  if (pointer !== '') out.set(fieldOf(pointer), file);
  if (Array.isArray(value)) value.forEach((v, i) => record(v, `${pointer}/${i}`, file, out));
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) record(v, `${pointer}/${k}`, file, out);
}

/** A base's relative paths made absolute against the base's own directory. */
function rebase(value: Json, pointer: string, dir: string): Json {
  if (typeof value === 'string')
    return PATH_FIELD.test(pointer) && !value.startsWith('${env:') && !path.isAbsolute(value)
      ? path.resolve(dir, value)
      : value;
  if (Array.isArray(value)) return value.map((v, i) => rebase(v, `${pointer}/${i}`, dir));
  if (isObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, rebase(v, `${pointer}/${k}`, dir)]),
    );
  return value;
}

/** Deep merge: mappings key by key, anything else (lists included) replaced by `over`. */
function merge(
  base: JsonObject,
  over: JsonObject,
  pointer: string,
  file: string,
  origins: Map<string, string>,
): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const at = `${pointer}/${k}`;
    const b = out[k];
    if (isObject(b) && isObject(v)) {
      origins.set(fieldOf(at), file);
      out[k] = merge(b, v, at, file, origins);
    } else {
      // Replaced whole: what the base said inside it is gone.
      const field = fieldOf(at);
      for (const key of [...origins.keys()])
        if (key.startsWith(`${field}.`) || key.startsWith(`${field}[`)) origins.delete(key);
      record(v, at, file, origins);
      out[k] = v;
    }
  }
  return out;
}

/**
 * The descriptor `file` (already parsed) with its chain of bases merged in. `read` parses another
 * descriptor file (syntax only; its errors name that file).
 */
export function withBases(
  file: string,
  parsed: ParsedFile,
  read: (file: string) => ParsedFile,
  chain: string[] = [],
): Layered {
  const { data, shownFile } = parsed;
  const own: JsonObject = { ...data };
  const ext = own['extends'];
  delete own['extends'];
  const real = existsSync(file) ? realpathSync(file) : file;
  if (ext === undefined) {
    const origins = new Map<string, string>();
    record(own, '', shownFile, origins);
    return { data: own, origins };
  }
  if (typeof ext !== 'string' || ext === '')
    throw new ExtendsProblem(
      shownFile,
      'must be the path of another descriptor, relative to this file',
    );
  if (ext.includes('${env:'))
    throw new ExtendsProblem(
      shownFile,
      'must be a literal path: bases are read before ${env:…} references are resolved',
    );
  const baseFile = path.resolve(path.dirname(file), ext);
  if (!existsSync(baseFile))
    throw new ExtendsProblem(shownFile, `no such file: ${ext} (${baseFile})`);
  const baseReal = realpathSync(baseFile);
  const seen = [...chain, real];
  if (seen.includes(baseReal)) {
    const names = [...seen, baseReal].map((f) => path.basename(f));
    throw new ExtendsProblem(shownFile, `a cycle of bases: ${names.join(' → ')}`);
  }
  if (seen.length > MAX_EXTENDS_DEPTH)
    throw new ExtendsProblem(
      shownFile,
      `more than ${MAX_EXTENDS_DEPTH} bases in a chain: is it a mistake?`,
    );
  const baseParsed = read(baseFile);
  const base = withBases(
    baseFile,
    {
      shownFile: baseParsed.shownFile,
      data: rebase(baseParsed.data, '', path.dirname(baseFile)) as JsonObject,
    },
    read,
    seen,
  );
  // abstract says what the base itself is; an extending file is whatever it says.
  const baseData = { ...base.data };
  delete baseData['abstract'];
  base.origins.delete('abstract');
  return { data: merge(baseData, own, '', shownFile, base.origins), origins: base.origins };
}

/**
 * The file a field came from: the file that set it or, for a field nobody set (a missing required
 * one), the file that set the nearest mapping around it; `fallback` when none did.
 */
export function originOf(origins: Map<string, string>, field: string, fallback: string): string {
  let f = field;
  for (;;) {
    const found = origins.get(f);
    if (found !== undefined) return found;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    if (cut <= 0) return fallback;
    f = f.slice(0, cut);
  }
}
