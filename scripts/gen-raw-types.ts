/**
 * Generates src/descriptor/raw.gen.ts, the TypeScript type of a descriptor as read (before ${env:…}
 * resolution and defaults), from schemas/provider.schema.json: the schema is the one source of the
 * descriptor's shape. `npm run types` writes it; test/descriptors/raw-types.test.ts fails when it
 * is stale (the schema changed and nobody regenerated).
 *
 * Only the shape is generated. Validation-only keywords (if/then/else, oneOf, not, dependencies)
 * add no fields and are enforced by ajv at load time, so they are left out of the input to the
 * generator; an `if/then/else` standing alone for a value (introspection.client: an index or a
 * client) becomes the union of its branches.
 *
 * Why code generation (json-schema-to-typescript) rather than json-schema-to-ts's FromSchema: the
 * JSON file stays the one file people edit (editors read it through the yaml-language-server line,
 * and parallel changes merge as JSON edits followed by `npm run types`); FromSchema would need the
 * schema moved into a TypeScript `as const` object with the JSON generated from it, and its
 * type-level evaluation of this schema's if/then/else and oneOf makes slow, unreadable types. The
 * generated file is plain interfaces that show up in a diff when the schema changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = path.join(ROOT, 'schemas/provider.schema.json');
export const RAW_TYPES_FILE = path.join(ROOT, 'src/descriptor/raw.gen.ts');

type Node = { [key: string]: unknown };

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema with validation-only keywords dropped, so the generator sees the shape alone. */
function shapeOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shapeOf);
  if (!isNode(node)) return node;
  const out: Node = {};
  const hasShape = 'type' in node || 'properties' in node || '$ref' in node || 'enum' in node;
  for (const [k, v] of Object.entries(node)) {
    if (['if', 'then', 'else', 'oneOf', 'allOf', 'not', 'dependencies', 'default'].includes(k))
      continue;
    // A `false` subschema under properties only forbids a field another branch allows.
    if (k === 'properties' && isNode(v)) {
      out[k] = Object.fromEntries(
        Object.entries(v)
          .filter(([, s]) => s !== false)
          .map(([p, s]) => [p, shapeOf(s)]),
      );
      continue;
    }
    out[k] = shapeOf(v);
  }
  if (!hasShape && 'then' in node && 'else' in node)
    out['anyOf'] = [shapeOf(node['then']), shapeOf(node['else'])];
  return out;
}

/** Names the generated types: the top level RawProvider, the client definition RawClient. */
function named(schema: Node): Node {
  const defs = schema['definitions'] as Node;
  return {
    ...schema,
    title: 'RawProvider',
    definitions: { ...defs, client: { ...(defs['client'] as Node), title: 'RawClient' } },
  };
}

const BANNER = `/**
 * GENERATED from schemas/provider.schema.json by scripts/gen-raw-types.ts: do not edit.
 * Regenerate with \`npm run types\` after changing the schema (test/descriptors/raw-types.test.ts
 * fails while this file is stale). The shape of a descriptor as read, before \${env:…} references
 * are resolved and defaults applied; the resolved Provider (types.ts) is built from these types.
 */`;

export async function generateRawTypes(): Promise<string> {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Node;
  const ts = await compile(named(shapeOf(schema) as Node) as JSONSchema, 'RawProvider', {
    bannerComment: BANNER,
    ignoreMinAndMaxItems: true,
    unreachableDefinitions: false,
    format: false,
    strictIndexSignatures: true,
  });
  const options = (await resolveConfig(RAW_TYPES_FILE)) ?? {};
  return format(ts, { ...options, filepath: RAW_TYPES_FILE });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(RAW_TYPES_FILE, await generateRawTypes());
  console.log(`wrote ${path.relative(process.cwd(), RAW_TYPES_FILE)}`);
}
