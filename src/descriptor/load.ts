import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseDocument } from 'yaml';
import {
  DESCRIPTOR_LIMITS,
  descriptorFileProblem,
  nestsDeeperThan,
  PEM_FILE_BYTES,
  unsafeFileProblem,
} from './limits.js';
import { inert } from '../text/inert.js';
import { didYouMean } from '../text/suggest.js';
import { checkCertificatePair, KeyProblem, parsePrivateKey, readPemFile, toPkcs8 } from './keys.js';
import { HTTP_REFUSED, isLoopbackHost } from './insecure.js';
import {
  ExtendsProblem,
  isBaseFileName,
  originOf,
  withBases,
  type Layered,
  type ParsedFile,
} from './extends.js';
import { direct, environmentProxies, hasCredentials, parseProxyUrl } from './proxy.js';
import type { RawClient, RawProvider } from './raw.gen.js';
import type {
  AuthorizationSetting,
  ClientDescriptor,
  LoginStep,
  DpopPolicy,
  Provider,
  ProxySetting,
  SecretRef,
} from './types.js';

export const ROOT = PACKAGE_ROOT;
export const PROVIDERS_DIR = path.join(ROOT, 'providers');
const SCHEMA_FILE = path.join(ROOT, 'schemas/provider.schema.json');

/** A problem with the user's input: one line naming the file and the field. The CLI exits 2. */
export class DescriptorError extends Error {
  override name = 'DescriptorError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    // One line, whatever the file name, field or value quoted holds (a newline, an escape sequence).
    super(inert(`${file}: ${field}: ${problem}`, { max: 1000 }));
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

// ajv-formats ships CJS with a default export; under NodeNext it arrives as the module namespace.
type AddFormats = (a: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats);
// verbose: errors carry the offending value (e.data) and schema (e.parentSchema), so messages can say
// what was found and which fields exist instead of repeating ajv's internals.
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, verbose: true });
addFormats(ajv);
const validateSchema = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

/** `clients[0].auth.method` from `/clients/0/auth/method`. */
function fieldName(pointer: string): string {
  const parts = pointer.split('/').filter(Boolean);
  if (parts.length === 0) return '(top level)';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** "a string", "an array", "null": the JSON type of a value, never the value (it may be a secret). */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function describeAjvError(e: ErrorObject): { field: string; problem: string } {
  const base = e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      // A slip (timeoutMS for timeoutMs, tokenEnpoint for tokenEndpoint) is the usual cause: name
      // the field that was meant, among those allowed at that place.
      const known = Object.keys(
        (e.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      return {
        field: fieldName(`${base}/${extra}`),
        problem: `unknown field${didYouMean(extra, known)}`,
      };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      // The schema requires auth.secret through if/then: say which method requires it.
      const method = /\/auth$/.test(base)
        ? (e.data as { method?: unknown } | undefined)?.method
        : undefined;
      if (missing === 'key' || missing === 'keyValue') {
        return {
          field: fieldName(`${base}/key`),
          problem: `required with auth method ${String(method)}: key (a key file) or keyValue (an \${env:…} holding the key)`,
        };
      }
      return {
        field: fieldName(`${base}/${missing}`),
        problem:
          typeof method === 'string'
            ? `required with auth method ${method}`
            : 'required field is missing',
      };
    }
    case 'enum': {
      const values = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const meant = typeof e.data === 'string' ? didYouMean(e.data, values) : '';
      return { field: fieldName(base), problem: `must be one of: ${values.join(', ')}${meant}` };
    }
    case 'type': {
      const want = (e.params as { type: string }).type;
      return {
        field: fieldName(base),
        problem: `must be ${TYPE_NAMES[want] ?? want}, not ${jsonTypeOf(e.data)}`,
      };
    }
    case 'minItems': {
      const limit = (e.params as { limit: number }).limit;
      return {
        field: fieldName(base),
        problem: `must list at least ${limit} ${limit === 1 ? 'entry' : 'entries'}`,
      };
    }
    case 'pattern': {
      // The regular expression itself helps nobody: say in words what the format is.
      if (/proxyUrl/.test(e.schemaPath)) {
        return {
          field: fieldName(base),
          problem: 'must be an http:// or https:// proxy URL (or an ${env:…} reference)',
        };
      }
      if (/httpsUrl/.test(e.schemaPath) || /tokenEndpoint|url$/i.test(base)) {
        return {
          field: fieldName(base),
          problem: 'must be an absolute https:// URL without a fragment (or an ${env:…} reference)',
        };
      }
      if (/scopeString/.test(e.schemaPath)) {
        return {
          field: fieldName(base),
          problem:
            'must be space-separated scope-tokens (RFC 6749 §3.3): printable ASCII without " or \\, one space between tokens',
        };
      }
      if (base === '/name') {
        return {
          field: 'name',
          problem:
            'must be lower-case letters, digits and hyphens, not starting with a hyphen (it names files and history keys)',
        };
      }
      return {
        field: fieldName(base),
        problem: `does not match the expected format (${e.message ?? 'pattern'})`,
      };
    }
    default:
      return { field: fieldName(base), problem: e.message ?? e.keyword };
  }
}

function valueAt(data: unknown, pointer: string): unknown {
  let cur: unknown = data;
  for (const part of pointer.split('/').filter(Boolean))
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return cur;
}

/** First schema error as a DescriptorError; `origin` may add where a value came from (an env variable). */
function firstSchemaError(
  file: string,
  data: unknown,
  origin: (pointer: string) => string = () => '',
): DescriptorError | undefined {
  if (validateSchema(data)) return undefined;
  // if/then/else errors are noise next to the concrete "required"/"not" error they wrap.
  let errors = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'if');
  // proxy is `none` or a mapping: say so for any other type; for a mapping, the `none` branch's
  // complaint ("must be equal to constant") is noise next to what is wrong inside it.
  if (errors.some((e) => e.instancePath === '/proxy' || e.instancePath.startsWith('/proxy/'))) {
    const proxy = valueAt(data, '/proxy');
    if (typeof proxy !== 'object' || proxy === null || Array.isArray(proxy)) {
      return new DescriptorError(
        file,
        'proxy',
        `must be none, or a mapping { url: \${env:NAME} }, not ${typeof proxy === 'string' ? 'another string' : jsonTypeOf(proxy)}${origin('/proxy')}`,
      );
    }
    errors = errors.filter(
      (e) =>
        e.schemaPath !== '#/properties/proxy/anyOf' &&
        !e.schemaPath.startsWith('#/properties/proxy/anyOf/0/'),
    );
  }
  // A concrete error (wrong enum value, unknown field) explains more than the "not" it triggers.
  const rank = (k: string) => (k === 'not' || k === 'false schema' || k === 'oneOf' ? 1 : 0);
  const e = [...errors].sort((a, b) => rank(a.keyword) - rank(b.keyword))[0];
  if (!e) return new DescriptorError(file, '(top level)', 'invalid descriptor');
  // Fields that belong to another auth method: name the method that rules them out.
  const authPath = /^(\/clients\/\d+\/auth|\/(?:introspection|dpop)\/client\/auth)/.exec(
    e.instancePath,
  )?.[1];
  const method = authPath ? String(valueAt(data, `${authPath}/method`)) : undefined;
  if (e.keyword === 'not' && e.instancePath.endsWith('/auth')) {
    return new DescriptorError(
      file,
      fieldName(`${e.instancePath}/secret`),
      `a secret is not allowed with auth method ${method}`,
    );
  }
  // sendClientId and tls beside auth: ruled out by the client's auth method.
  const clientField = /^(\/clients\/\d+|\/introspection\/client)\/(sendClientId|tls)$/.exec(
    e.instancePath,
  );
  if (e.keyword === 'false schema' && clientField) {
    const m = String(valueAt(data, `${clientField[1]}/auth/method`));
    return new DescriptorError(
      file,
      fieldName(e.instancePath),
      clientField[2] === 'tls'
        ? `not allowed with auth method ${m}: its certificate is auth.certFile and auth.keyFile`
        : `not allowed with auth method ${m}: only a public client (method none) may leave out client_id`,
    );
  }
  if (e.keyword === 'false schema' && method) {
    return new DescriptorError(
      file,
      fieldName(e.instancePath),
      `not allowed with auth method ${method}`,
    );
  }
  if (e.keyword === 'oneOf' && method) {
    return new DescriptorError(
      file,
      fieldName(`${e.instancePath}/key`),
      'give either key (a file) or keyValue, not both',
    );
  }
  const { field, problem } = describeAjvError(e);
  return new DescriptorError(file, field, `${problem}${origin(e.instancePath)}`);
}

/** Known descriptor files in providers/, by provider name (file stem). */
export function knownProviders(dir = PROVIDERS_DIR): Map<string, string> {
  const found: [string, string][] = [];
  if (!existsSync(dir)) return new Map();
  for (const f of readdirSync(dir)) {
    const m = /^(.*)\.(ya?ml|json)$/.exec(f);
    // Bases (extends) are not providers: *.base.yaml, or a file that says abstract: true.
    if (m?.[1] && !isBaseFileName(f) && !isAbstract(path.join(dir, f)))
      found.push([m[1], path.join(dir, f)]);
  }
  // By name, so "reference" comes before "reference-jwt-bearer" (file names sort the other way).
  return new Map(found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `abstract: true` at the top level of a descriptor file (YAML or JSON), read without parsing. */
function isAbstract(file: string): boolean {
  try {
    if (descriptorFileProblem(file)) return false;
    return /^(abstract:\s*true|\s*"abstract"\s*:\s*true)\b/m.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** Finds a descriptor by name (providers/<name>.yaml) or by path. */
export function locateDescriptor(nameOrPath: string, dir = PROVIDERS_DIR): string {
  if (/[/\\]|\.(ya?ml|json)$/.test(nameOrPath)) {
    const file = path.resolve(nameOrPath);
    if (!existsSync(file)) throw new DescriptorError(nameOrPath, '--provider', 'file not found');
    return file;
  }
  const known = knownProviders(dir);
  const file = known.get(nameOrPath);
  if (!file) {
    throw new DescriptorError(
      '--provider',
      nameOrPath,
      `unknown provider${didYouMean(nameOrPath, known.keys())} (known: ${[...known.keys()].join(', ') || 'none'}; or give a path to a descriptor file)`,
    );
  }
  return file;
}

/** A descriptor read from disk and validated, with ${env:…} references still unresolved. */
export interface RawDescriptor {
  file: string;
  /** The path shown to users: relative to the working directory when shorter. */
  shownFile: string;
  data: { [key: string]: Json };
  /** With extends: the file each field came from, by field name (`clients[0].auth.key`). */
  origins?: Map<string, string>;
}

/**
 * Reads a descriptor: its file, the bases it extends (src/descriptor/extends.ts) merged in, and
 * validates the result. A base (abstract: true, *.base.yaml) is refused: it is not a provider.
 */
export function readDescriptor(file: string): RawDescriptor {
  const parsed = parseDescriptorFile(file);
  const { shownFile } = parsed;
  if (parsed.data['abstract'] === true || isBaseFileName(file))
    throw new DescriptorError(
      shownFile,
      parsed.data['abstract'] === true ? 'abstract' : '(file)',
      `a base for other descriptors (${parsed.data['abstract'] === true ? 'abstract: true' : 'named *.base.*'}), not a provider to run: run a descriptor that extends it`,
    );
  let layered: Layered;
  try {
    layered = withBases(file, parsed, parseDescriptorFile);
  } catch (e) {
    if (e instanceof ExtendsProblem) throw new DescriptorError(e.file, 'extends', e.problem);
    throw e;
  }
  const { data, origins } = layered;
  const raw: RawDescriptor = { file, shownFile, data, origins };
  const schemaError = firstSchemaError(shownFile, data);
  if (schemaError) throw relocate(raw, schemaError);
  // "https://${env:HOST}/token" passes the URL pattern but is never resolved (only whole values are):
  // it would reach the runner as a literal host name.
  const partial = findPartialEnvRef(data, '');
  if (partial)
    throw relocate(
      raw,
      new DescriptorError(
        shownFile,
        fieldName(partial),
        'an ${env:NAME} reference must be the whole value; it is not resolved inside a longer string',
      ),
    );
  return raw;
}

/**
 * An error about a field a base (extends) set names that base: the field came from there. The
 * extending file is named in the problem, since that is the descriptor being run.
 */
function relocate(raw: RawDescriptor, e: DescriptorError): DescriptorError {
  if (!raw.origins) return e;
  const from = originOf(raw.origins, e.field, raw.shownFile);
  if (from === raw.shownFile || e.file !== raw.shownFile) return e;
  return new DescriptorError(
    from,
    e.field,
    `${e.problem} (in a base of ${raw.shownFile}, through extends)`,
  );
}

/** The path shown to users: relative to the working directory when shorter. */
function shownPathOf(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** One descriptor file, parsed: syntax, size and nesting checked, not yet the schema. */
function parseDescriptorFile(file: string): ParsedFile {
  const shownFile = shownPathOf(file);
  const fileProblem = descriptorFileProblem(file);
  if (fileProblem) throw new DescriptorError(shownFile, '(file)', `cannot read: ${fileProblem}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DescriptorError(
      shownFile,
      '(file)',
      `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  let data: unknown;
  if (file.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      // Point at the line and column, as for YAML: "position 125" makes the reader count characters.
      const message = (e as Error).message;
      const pos = /at position (\d+)/.exec(message);
      const where = pos?.[1] !== undefined ? lineColumn(text, Number(pos[1])) : '(syntax)';
      throw new DescriptorError(
        shownFile,
        where,
        `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').split('\n')[0]}`,
      );
    }
  } else {
    // logLevel error: yaml's warnings (a collection as a mapping key) would reach stderr raw, past the one-line rule.
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}` : '(syntax)';
      // yaml reports its own stack overflow on deep nesting as an error at a position: say what it means.
      const deep = /call stack/i.test(err.message)
        ? `nests too deeply (more than ${DESCRIPTOR_LIMITS.depth} levels are not allowed)`
        : undefined;
      throw new DescriptorError(
        shownFile,
        where,
        deep
          ? `YAML: ${deep}`
          : `YAML syntax error: ${err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
      );
    }
    try {
      data = doc.toJS({ maxAliasCount: DESCRIPTOR_LIMITS.aliases });
    } catch (e) {
      // yaml refuses an alias bomb with a ReferenceError; anything else it throws is a bad file too.
      const why = /alias/i.test((e as Error).message)
        ? `YAML: too many aliases (more than ${DESCRIPTOR_LIMITS.aliases} resolved): an alias bomb?`
        : `YAML: ${(e as Error).message.split('\n')[0]}`;
      throw new DescriptorError(shownFile, '(file)', why);
    }
  }
  if (nestsDeeperThan(data))
    throw new DescriptorError(
      shownFile,
      '(file)',
      `nests deeper than ${DESCRIPTOR_LIMITS.depth} levels`,
    );
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DescriptorError(shownFile, '(top level)', 'must be a mapping of fields');
  }
  return { shownFile, data: data as { [key: string]: Json } };
}

/** `line 5, column 3` of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}`;
}

/** Pointer of the first string that contains "${env:" without being one whole reference. */
function findPartialEnvRef(value: Json, pointer: string): string | undefined {
  if (typeof value === 'string')
    return value.includes('${env:') && !ENV_REF.test(value) ? pointer : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findPartialEnvRef(v, `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = findPartialEnvRef(v, `${pointer}/${k}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

interface EnvUse {
  pointer: string;
  name: string;
}

function collectEnvRefs(value: Json, pointer: string, out: EnvUse[]): void {
  if (typeof value === 'string') {
    const m = ENV_REF.exec(value);
    if (m?.[1] && m[2] === undefined) out.push({ pointer, name: m[1] });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => collectEnvRefs(v, `${pointer}/${i}`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectEnvRefs(v, `${pointer}/${k}`, out);
  }
}

function resolveRefs(
  value: Json,
  env: NodeJS.ProcessEnv,
  onSecret: (pointer: string, envName: string) => void,
  pointer = '',
): Json {
  if (typeof value === 'string') {
    const m = ENV_REF.exec(value);
    if (!m?.[1]) return value;
    const v = env[m[1]];
    const resolved = v !== undefined && v !== '' ? v : (m[2] ?? '');
    onSecret(pointer, m[1]);
    return resolved;
  }
  if (Array.isArray(value))
    return value.map((v, i) => resolveRefs(v, env, onSecret, `${pointer}/${i}`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveRefs(v, env, onSecret, `${pointer}/${k}`)]),
    );
  }
  return value;
}

const SECRET_FIELD =
  /^((\/clients\/\d+|\/(?:introspection|dpop)\/client)\/auth\/secret|\/authorization\/user\/password|\/refresh\/token)$/;

/** Resolves ${env:…}, validates again (now with real URLs), applies defaults. */
export function resolveProvider(
  raw: RawDescriptor,
  env: NodeJS.ProcessEnv = process.env,
): Provider {
  try {
    return resolveOne(raw, env);
  } catch (e) {
    throw e instanceof DescriptorError ? relocate(raw, e) : e;
  }
}

function resolveOne(raw: RawDescriptor, env: NodeJS.ProcessEnv): Provider {
  const { shownFile } = raw;
  const uses: EnvUse[] = [];
  collectEnvRefs(raw.data, '', uses);
  const missing = uses.filter((u) => env[u.name] === undefined || env[u.name] === '');
  if (missing.length > 0) {
    const first = missing[0]!;
    const names = [...new Set(missing.map((m) => m.name))];
    throw new DescriptorError(
      shownFile,
      fieldName(first.pointer),
      `environment variable${names.length > 1 ? 's' : ''} not set: ${names.join(', ')}`,
    );
  }
  // RFC-wise nothing forbids literal secrets, but committing one is how they leak.
  const clients = (raw.data['clients'] as Json[] | undefined) ?? [];
  const introspectionClient = (raw.data['introspection'] as { client?: Json } | undefined)?.client;
  const declaredClients: [string, Json][] = [
    ...clients.map((c, i): [string, Json] => [`clients[${i}]`, c]),
    ...(introspectionClient && typeof introspectionClient === 'object'
      ? [['introspection.client', introspectionClient] as [string, Json]]
      : []),
    ...ownDpopClient(raw.data),
  ];
  for (const [where, c] of declaredClients) {
    const auth = (c as { auth?: { secret?: Json; keyValue?: Json } }).auth;
    for (const field of ['secret', 'keyValue'] as const) {
      const value = auth?.[field];
      const what = field === 'secret' ? 'secret' : 'key';
      if (typeof value === 'string' && !ENV_REF.test(value)) {
        throw new DescriptorError(
          shownFile,
          `${where}.auth.${field}`,
          `must be an \${env:NAME} reference, not a literal ${what}`,
        );
      }
      // ${env:NAME:-value} puts `value` in the file just like a literal would.
      if (typeof value === 'string' && ENV_REF.exec(value)?.[2] !== undefined) {
        throw new DescriptorError(
          shownFile,
          `${where}.auth.${field}`,
          `must be an \${env:NAME} reference without a default: the default would be a literal ${what}`,
        );
      }
    }
  }

  const grantKey = (raw.data['grant'] as { assertion?: { keyValue?: Json } } | undefined)?.assertion
    ?.keyValue;
  if (
    typeof grantKey === 'string' &&
    (!ENV_REF.test(grantKey) || ENV_REF.exec(grantKey)?.[2] !== undefined)
  ) {
    throw new DescriptorError(
      shownFile,
      'grant.assertion.keyValue',
      'must be an ${env:NAME} reference without a default, not a literal key',
    );
  }

  // The test user's password and a supplied refresh token are secrets like client secrets.
  const literalSecrets: [string, Json | undefined][] = [
    [
      'authorization.user.password',
      (raw.data['authorization'] as { user?: { password?: Json } } | undefined)?.user?.password,
    ],
    ['refresh.token', (raw.data['refresh'] as { token?: Json } | undefined)?.token],
  ];
  for (const [field, value] of literalSecrets) {
    if (
      typeof value === 'string' &&
      (!ENV_REF.test(value) || ENV_REF.exec(value)?.[2] !== undefined)
    )
      throw new DescriptorError(
        shownFile,
        field,
        'must be an ${env:NAME} reference without a default, not a literal secret',
      );
  }

  // A proxy password is a secret like any other: only through the environment (issue 15).
  const rawProxy = raw.data['proxy'];
  const rawProxyUrl =
    rawProxy && typeof rawProxy === 'object' && !Array.isArray(rawProxy)
      ? rawProxy['url']
      : undefined;
  if (typeof rawProxyUrl === 'string') {
    const m = ENV_REF.exec(rawProxyUrl);
    const literal = m ? m[2] : rawProxyUrl;
    if (literal !== undefined && hasCredentials(literal)) {
      throw new DescriptorError(
        shownFile,
        'proxy.url',
        m
          ? 'the ${env:NAME:-default} default holds credentials (user:password@): it would be a literal password; drop the default'
          : 'must not hold credentials (user:password@): put the whole proxy URL in an ${env:NAME} reference',
      );
    }
  }
  if (rawProxy !== undefined && raw.data['embedded'] === 'reference') {
    throw new DescriptorError(
      shownFile,
      'proxy',
      'not allowed with embedded: reference: the harness starts the reference on 127.0.0.1 itself, and never through a proxy',
    );
  }

  const envOfPointer = new Map<string, string>();
  const resolved = resolveRefs(raw.data, env, (pointer, name) =>
    envOfPointer.set(pointer, name),
  ) as { [key: string]: Json };
  // After resolution a bad value usually comes from the environment: say from which variable.
  const origin = (pointer: string): string => {
    const name = envOfPointer.get(pointer);
    return name ? ` (value of \${env:${name}})` : '';
  };
  const schemaError = firstSchemaError(shownFile, resolved, origin);
  if (schemaError) throw schemaError;

  const d = resolved as unknown as RawProviderShape;
  // The schema's URL pattern admits strings no URL parser accepts ("https://:8443/x"); the runner
  // must not meet them (it parses the token endpoint while classifying errors).
  const urls: [string, string | undefined][] = [
    ['/tokenEndpoint', d.tokenEndpoint],
    ['/issuer', d.issuer],
    ['/jwksUri', d.jwksUri],
    ['/resource/url', d.resource?.url],
    ['/introspection/url', d.introspection?.url],
    ['/authorization/endpoint', d.authorization?.endpoint],
    ['/resourceIndicators/resource', d.resourceIndicators?.resource],
    ['/resourceIndicators/unknown', d.resourceIndicators?.unknown],
  ];
  const insecureHttp: string[] = [];
  for (const [pointer, value] of urls) {
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.hash !== '' ||
      url.hostname === ''
    ) {
      throw new DescriptorError(
        shownFile,
        fieldName(pointer),
        `not a valid URL: must parse as an absolute https:// URL with a host and without a fragment${origin(pointer)}`,
      );
    }
    if (url.protocol === 'http:') {
      // allowInsecureHttp: loopback lets a server under development on this machine be tested;
      // anything else in plain HTTP would send secrets readable on the way.
      if (d.allowInsecureHttp !== 'loopback' || !isLoopbackHost(url.hostname))
        throw new DescriptorError(
          shownFile,
          fieldName(pointer),
          `must be an absolute https:// URL: ${HTTP_REFUSED}${origin(pointer)}`,
        );
      insecureHttp.push(fieldName(pointer));
    }
  }
  // RFC 6749 §3.3 gives a request without scope one of two answers: a default, or invalid_scope.
  // Declaring both is a contradiction; declaring a refusal without a scope to ask for leaves every
  // ordinary token request to be refused.
  if (d.scopes?.required === true) {
    if (d.scopes.default !== undefined)
      throw new DescriptorError(
        shownFile,
        'scopes.default',
        'not allowed with scopes.required: true (a request without scope is then refused, so no default is ever granted)',
      );
    if (!d.scopes.request)
      throw new DescriptorError(
        shownFile,
        'scopes.request',
        'required with scopes.required: true (the ordinary token request must ask for a scope)',
      );
  }
  const secrets: SecretRef[] = [];
  for (const [pointer, envName] of envOfPointer) {
    if (!SECRET_FIELD.test(pointer)) continue;
    const own = pointer.startsWith('/dpop/') ? d.dpop?.client : d.introspection?.client;
    const value =
      pointer === '/authorization/user/password'
        ? d.authorization?.user.password
        : pointer === '/refresh/token'
          ? d.refresh?.token
          : pointer.startsWith('/introspection/') || pointer.startsWith('/dpop/')
            ? typeof own === 'object'
              ? own.auth.secret
              : undefined
            : d.clients[Number(pointer.split('/')[2])]?.auth.secret;
    if (value) secrets.push({ value, envName });
  }
  const caFile = d.tls?.caFile;
  if (caFile !== undefined) {
    const abs = path.resolve(path.dirname(raw.file), caFile);
    const unsafe = unsafeFileProblem(abs, PEM_FILE_BYTES);
    if (unsafe)
      throw new DescriptorError(
        shownFile,
        'tls.caFile',
        `cannot read ${caFile}: ${unsafe}${origin('/tls/caFile')}`,
      );
    try {
      readFileSync(abs);
    } catch (e) {
      // A relative path is resolved against the descriptor's directory, not the working directory: show where.
      const code = (e as NodeJS.ErrnoException).code;
      const reason =
        { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' }[
          code ?? ''
        ] ?? String(e);
      throw new DescriptorError(
        shownFile,
        'tls.caFile',
        `cannot read ${caFile}${abs !== caFile ? ` (${abs})` : ''}: ${reason}${code ? ` (${code})` : ''}${origin('/tls/caFile')}`,
      );
    }
  }
  const clientContext: ClientContext = {
    file: raw.file,
    shownFile,
    origin,
    envOfPointer,
    secrets,
    plainHttpTokenEndpoint: insecureHttp.includes('tokenEndpoint'),
  };
  const clientsOut: ClientDescriptor[] = d.clients.map((c, i) =>
    loadClient(c, { field: `clients[${i}]`, pointer: `/clients/${i}` }, clientContext),
  );
  const introspection = d.introspection
    ? {
        url: d.introspection.url,
        client: introspectionClientOf(d.introspection.client, clientsOut, clientContext),
      }
    : undefined;
  const resource = d.resource ? loadResource(d, shownFile) : undefined;
  const authorization = loadAuthorization(d, shownFile, clientsOut.length);
  const dpop = d.dpop ? loadDpop(d, clientsOut, clientContext) : undefined;
  const resourceIndicators = d.resourceIndicators
    ? loadResourceIndicators(d, shownFile)
    : undefined;
  return {
    name: d.name,
    title: d.title,
    file: raw.file,
    ...(d.embedded ? { embedded: d.embedded } : {}),
    tokenEndpoint: d.tokenEndpoint,
    ...(insecureHttp.length > 0 ? { insecureHttp } : {}),
    ...(d.issuer ? { issuer: d.issuer } : {}),
    ...(d.discovery ? { discovery: d.discovery } : {}),
    ...(d.jwksUri ? { jwksUri: d.jwksUri } : {}),
    clients: clientsOut,
    grant: loadGrant(d.grant, clientContext),
    scopes: d.scopes ?? {},
    expect: {
      tokenType: d.expect.tokenType,
      ...(d.expect.expiresIn !== undefined ? { expiresIn: d.expect.expiresIn } : {}),
      expiresInTolerance: d.expect.expiresInTolerance ?? 0,
      refreshToken: d.expect.refreshToken ?? 'absent',
      scopeEcho: d.expect.scopeEcho ?? 'when-different',
      broaderScopeAllowed: d.expect.broaderScopeAllowed ?? false,
      // No promise unless declared: RFC 6749 §3.3 lets the server narrow, §5.2 lets it refuse.
      forbiddenScope: d.expect.forbiddenScope ?? 'either',
      ungrantableScope: d.expect.ungrantableScope ?? 'either',
      clientAssertion: {
        jtiRequired: d.expect.clientAssertion?.jtiRequired ?? false,
        singleUse: d.expect.clientAssertion?.singleUse ?? false,
        ...(d.expect.clientAssertion?.maxLifetimeSeconds !== undefined
          ? { maxLifetimeSeconds: d.expect.clientAssertion.maxLifetimeSeconds }
          : {}),
      },
      tokenFormat: d.expect.tokenFormat ?? 'opaque',
      jwtAlgs: d.expect.jwtAlgs ?? [
        'RS256',
        'RS384',
        'RS512',
        'PS256',
        'PS384',
        'PS512',
        'ES256',
        'ES384',
        'ES512',
        'EdDSA',
      ],
      ...((d.expect.audience ?? d.resource?.url)
        ? { audience: d.expect.audience ?? d.resource?.url }
        : {}),
    },
    ...(resource ? { resource } : {}),
    ...(introspection ? { introspection } : {}),
    ...(authorization ? { authorization } : {}),
    ...(d.refresh ? { refresh: d.refresh } : {}),
    ...(dpop ? { dpop } : {}),
    ...(resourceIndicators ? { resourceIndicators } : {}),
    limits: {
      timeoutMs: d.limits?.timeoutMs ?? 10_000,
      maxRequests: d.limits?.maxRequests ?? 60,
      maxBodyBytes: d.limits?.maxBodyBytes ?? 1024 * 1024,
      maxExpiryWaitSeconds: d.limits?.maxExpiryWaitSeconds ?? 30,
      clockSkewSeconds: d.limits?.clockSkewSeconds ?? 60,
      requestsPerSecond: d.limits?.requestsPerSecond ?? 10,
      maxRetryAfterSeconds: d.limits?.maxRetryAfterSeconds ?? 30,
    },
    tls: {
      ...(caFile !== undefined ? { caFile: path.resolve(path.dirname(raw.file), caFile) } : {}),
      insecureSkipVerify: d.tls?.insecureSkipVerify ?? false,
    },
    proxy: resolveProxy(d, env, shownFile, envOfPointer, origin),
    deviations: (d.deviations ?? []).map((x) => ({
      checks: x.checks ?? (x.check ? [x.check] : []),
      reason: x.reason,
      link: x.link,
    })),
    secrets,
  };
}

/**
 * The descriptor's `proxy` wins over the environment: `none` sends everything direct, `{ url }` sends
 * everything through that proxy (NO_PROXY is for environment proxies). Without it, HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY apply, read from `env` as undici's EnvHttpProxyAgent reads process.env.
 */
function resolveProxy(
  d: RawProviderShape,
  env: NodeJS.ProcessEnv,
  shownFile: string,
  envOfPointer: Map<string, string>,
  origin: (pointer: string) => string,
): ProxySetting {
  const fromEnv = environmentProxies(env);
  const environment: ProxySetting | undefined =
    fromEnv && !('problem' in fromEnv) ? { mode: 'proxy', ...fromEnv } : undefined;
  // The embedded reference listens on 127.0.0.1: a corporate proxy could not reach it, and must not.
  if (d.embedded)
    return direct('the embedded reference runs on 127.0.0.1 and is never proxied', environment);
  if (d.proxy === 'none') return direct('proxy: none in the descriptor', environment);
  if (d.proxy) {
    const parsed = parseProxyUrl(d.proxy.url);
    if ('problem' in parsed)
      throw new DescriptorError(
        shownFile,
        'proxy.url',
        `not a usable proxy URL: ${parsed.problem}${origin('/proxy/url')}`,
      );
    // A literal URL cannot hold credentials (refused above): only an ${env:…} one needs redacting.
    const envName = envOfPointer.get('/proxy/url');
    const endpoint = {
      url: parsed.url,
      hostPort: parsed.hostPort,
      from: envName ? `proxy.url (\${env:${envName}})` : 'proxy.url',
      envName: envName ?? 'PROXY_URL',
    };
    return { mode: 'proxy', https: endpoint, http: endpoint, noProxy: '' };
  }
  if (fromEnv && 'problem' in fromEnv) {
    throw new DescriptorError(
      shownFile,
      'proxy',
      `environment variable ${fromEnv.variable} is not a usable proxy URL: ${fromEnv.problem} (or set proxy: none in the descriptor)`,
    );
  }
  return environment ?? { mode: 'none', reason: 'no HTTPS_PROXY or HTTP_PROXY set' };
}

/** The validated shape, as the schema guarantees it (defaults not yet applied): generated from the schema. */
type RawProviderShape = RawProvider;

/** authorization: required with (and only with) grant.type authorization_code; otherClient must exist. */
function loadAuthorization(
  d: RawProviderShape,
  shownFile: string,
  clients: number,
): AuthorizationSetting | undefined {
  const a = d.authorization;
  if (d.grant.type !== 'authorization_code') {
    if (a)
      throw new DescriptorError(
        shownFile,
        'authorization',
        'only with grant.type authorization_code (it says how codes are obtained)',
      );
    return undefined;
  }
  if (!a)
    throw new DescriptorError(
      shownFile,
      'authorization',
      'required with grant.type authorization_code: the redirect URI, the test user and the login steps',
    );
  if (!a.endpoint && !(d.issuer && d.discovery))
    throw new DescriptorError(
      shownFile,
      'authorization.endpoint',
      'required unless issuer and discovery are declared (then the discovered authorization_endpoint is used)',
    );
  const other = a.otherClient ?? (clients > 1 ? 1 : undefined);
  if (other !== undefined && (other === 0 || other >= clients))
    throw new DescriptorError(
      shownFile,
      'authorization.otherClient',
      `must name another client than clients[0]: there is no clients[${other}] besides it (${clients} declared)`,
    );
  return {
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
    redirectUri: a.redirectUri,
    ...(a.scope !== undefined ? { scope: a.scope } : {}),
    user: a.user,
    // The schema (ajv, oneOf) guarantees each step's shape; the generated type leaves oneOf out.
    login: a.login as LoginStep[],
    pkce: { plainAllowed: a.pkce?.plainAllowed ?? false },
    ...(other !== undefined ? { otherClient: other } : {}),
  };
}

interface ClientContext {
  file: string;
  shownFile: string;
  origin: (pointer: string) => string;
  envOfPointer: Map<string, string>;
  secrets: SecretRef[];
  /** The token endpoint is http:// (allowInsecureHttp): no TLS to present a certificate on. */
  plainHttpTokenEndpoint: boolean;
}

/** The scope checks of a resource: only a declaration that can be tested is accepted. */
function loadResource(d: RawProviderShape, shownFile: string): NonNullable<Provider['resource']> {
  const r = d.resource!;
  const out: NonNullable<Provider['resource']> = { url: r.url, method: r.method ?? 'GET' };
  if (r.requiredScope !== undefined) {
    const required = r.requiredScope.split(' ').filter(Boolean);
    if (required.length === 0)
      throw new DescriptorError(
        shownFile,
        'resource.requiredScope',
        'must name at least one scope-token (leave it out when the resource needs none)',
      );
    // The ordinary token is the one the resource must accept: it has to carry the required scope
    // (it asks for scopes.request, or without one gets scopes.default, when either is declared).
    const basis =
      d.scopes?.request !== undefined
        ? 'scopes.request'
        : d.scopes?.default !== undefined
          ? 'scopes.default'
          : undefined;
    const granted = new Set(
      (d.scopes?.request ?? d.scopes?.default ?? '').split(' ').filter(Boolean),
    );
    const missing = required.filter((s) => !granted.has(s));
    if (basis && missing.length > 0)
      throw new DescriptorError(
        shownFile,
        'resource.requiredScope',
        `${missing.join(' ')} is not in ${basis}: the ordinary token would lack the scope the resource needs`,
      );
    out.requiredScope = r.requiredScope;
  }
  if (r.insufficientScope) {
    // A request for the required scope itself would not give a token that lacks it.
    const asked = new Set(r.insufficientScope.scope.split(' ').filter(Boolean));
    const all = (r.requiredScope ?? '').split(' ').filter(Boolean);
    if (all.every((s) => asked.has(s)))
      throw new DescriptorError(
        shownFile,
        'resource.insufficientScope.scope',
        `must lack some of resource.requiredScope (${r.requiredScope ?? ''})`,
      );
    out.insufficientScope = { scope: r.insufficientScope.scope };
  }
  return out;
}

/** The dpop client when it is a client of its own, for the literal-secret check. */
function ownDpopClient(data: { [key: string]: Json }): [string, Json][] {
  const c = (data['dpop'] as { client?: Json } | undefined)?.client;
  return c && typeof c === 'object' ? [['dpop.client', c]] : [];
}

/** dpop: the promises with their defaults, and the client its probes authenticate as. */
function loadDpop(
  d: RawProviderShape,
  clients: ClientDescriptor[],
  ctx: ClientContext,
): DpopPolicy {
  const x = d.dpop!;
  if (x.resourceEnforces === true && !d.resource)
    throw new DescriptorError(
      ctx.shownFile,
      'dpop.resourceEnforces',
      'needs resource.url (the protected resource that refuses the DPoP-bound token as Bearer)',
    );
  let client: ClientDescriptor;
  if (x.client === undefined || typeof x.client === 'number') {
    const index = x.client ?? 0;
    const found = clients[index];
    if (!found)
      throw new DescriptorError(
        ctx.shownFile,
        'dpop.client',
        `there is no clients[${index}] (${clients.length} declared)`,
      );
    client = found;
  } else {
    client = loadClient(x.client, { field: 'dpop.client', pointer: '/dpop/client' }, ctx);
  }
  return {
    required: x.required ?? false,
    nonce: x.nonce ?? 'optional',
    alg: x.alg ?? 'ES256',
    resourceEnforces: x.resourceEnforces ?? false,
    replayDetection: x.replayDetection ?? false,
    client,
  };
}

/** resourceIndicators: the resource (default resource.url), an unknown one, and the audience expected. */
function loadResourceIndicators(
  d: RawProviderShape,
  shownFile: string,
): NonNullable<Provider['resourceIndicators']> {
  const r = d.resourceIndicators!;
  const resource = r.resource ?? d.resource?.url;
  if (resource === undefined)
    throw new DescriptorError(
      shownFile,
      'resourceIndicators.resource',
      'required when no resource.url is declared (the resource to ask a token for)',
    );
  return {
    resource,
    unknown: r.unknown ?? `https://${randomBytes(6).toString('hex')}.resource.invalid/`,
    audience: r.audience ?? resource,
  };
}

/** introspection.client: an index into clients (default 0, the primary client) or a client of its own. */
function introspectionClientOf(
  declared: number | RawClient | undefined,
  clients: ClientDescriptor[],
  ctx: ClientContext,
): ClientDescriptor {
  if (declared === undefined || typeof declared === 'number') {
    const index = declared ?? 0;
    const client = clients[index];
    if (!client)
      throw new DescriptorError(
        ctx.shownFile,
        'introspection.client',
        `there is no clients[${index}] (${clients.length} declared)`,
      );
    return client;
  }
  return loadClient(
    declared,
    { field: 'introspection.client', pointer: '/introspection/client' },
    ctx,
  );
}

/** A client with its key material read and checked: a bad key stops the run before any request. */
function loadClient(
  c: RawClient,
  where: { field: string; pointer: string },
  ctx: ClientContext,
): ClientDescriptor {
  const at = (field: string) => `${where.field}.auth.${field}`;
  const rel = (p: string) => path.resolve(path.dirname(ctx.file), p);
  const fail = (field: string, problem: string): never => {
    throw new DescriptorError(
      ctx.shownFile,
      at(field),
      `${problem}${ctx.origin(`${where.pointer}/auth/${field}`)}`,
    );
  };
  const auth: ClientDescriptor['auth'] = {
    method: c.auth.method,
    ...(c.auth.secret !== undefined ? { secret: c.auth.secret } : {}),
  };
  const { method } = c.auth;
  if (method === 'client_secret_jwt' || method === 'private_key_jwt') {
    const alg = c.auth.alg ?? (method === 'client_secret_jwt' ? 'HS256' : 'RS256');
    if ((method === 'client_secret_jwt') !== alg.startsWith('HS')) {
      fail(
        'alg',
        method === 'client_secret_jwt'
          ? 'client_secret_jwt signs with HS256, HS384 or HS512'
          : 'private_key_jwt signs with RS256, PS256, ES256 or EdDSA',
      );
    }
    let key: { material: string; kind: 'pem' | 'jwk' } | undefined;
    if (method === 'private_key_jwt') {
      const field = c.auth.key !== undefined ? 'key' : 'keyValue';
      try {
        const material =
          c.auth.key !== undefined
            ? readPemFile(rel(c.auth.key), 'key file')
            : (c.auth.keyValue ?? '');
        const parsed = parsePrivateKey(material, alg);
        key = {
          material: parsed.kind === 'pem' ? toPkcs8(parsed.key) : material,
          kind: parsed.kind,
        };
        // The key is a secret wherever it might surface: by its variable, or by its file.
        const envName = ctx.envOfPointer.get(`${where.pointer}/auth/keyValue`);
        ctx.secrets.push({
          value: material.trim(),
          envName: envName ?? `PRIVATE_KEY_OF_${c.id.replace(/\W/g, '_').toUpperCase()}`,
        });
        if (key.material !== material)
          ctx.secrets.push({ value: key.material.trim(), envName: envName ?? 'PRIVATE_KEY' });
      } catch (e) {
        if (e instanceof KeyProblem) fail(field, e.message);
        throw e;
      }
    }
    auth.assertion = {
      alg,
      ...(key ? { key } : {}),
      ...(c.auth.kid ? { kid: c.auth.kid } : {}),
      audience: c.auth.audience ?? 'token-endpoint',
    };
  }
  // The certificate: auth.certFile/keyFile of the TLS methods, or the client's own tls (any method).
  const viaAuth = method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
  const certSource = viaAuth
    ? {
        certFile: c.auth.certFile ?? '',
        keyFile: c.auth.keyFile ?? '',
        bound: c.auth.certificateBoundTokens,
      }
    : c.tls
      ? { certFile: c.tls.certFile, keyFile: c.tls.keyFile, bound: c.tls.certificateBoundTokens }
      : undefined;
  if (certSource && ctx.plainHttpTokenEndpoint)
    throw new DescriptorError(
      ctx.shownFile,
      viaAuth ? at('certFile') : `${where.field}.tls`,
      'a client certificate needs TLS, and the token endpoint is plain http:// (allowInsecureHttp): serve it over https:// to test mutual TLS',
    );
  if (certSource) {
    // Problems are reported at auth.certFile/keyFile, or at the client's tls.certFile/keyFile.
    const certField = viaAuth ? 'certFile' : 'tls.certFile';
    const keyField = viaAuth ? 'keyFile' : 'tls.keyFile';
    const failCert = (field: string, problem: string): never => {
      if (viaAuth) return fail(field, problem);
      throw new DescriptorError(
        ctx.shownFile,
        `${where.field}.${field}`,
        `${problem}${ctx.origin(`${where.pointer}/${field.replace('.', '/')}`)}`,
      );
    };
    const certFile = rel(certSource.certFile);
    const keyFile = rel(certSource.keyFile);
    let cert = '';
    let key = '';
    try {
      cert = readPemFile(certFile, 'certificate file');
    } catch (e) {
      if (e instanceof KeyProblem) failCert(certField, e.message);
      throw e;
    }
    try {
      key = readPemFile(keyFile, 'key file');
      checkCertificatePair(cert, key);
    } catch (e) {
      if (e instanceof KeyProblem)
        failCert(/certFile is not/.test(e.message) ? certField : keyField, e.message);
      throw e;
    }
    ctx.secrets.push({
      value: key.trim(),
      envName: `TLS_KEY_OF_${c.id.replace(/\W/g, '_').toUpperCase()}`,
    });
    // RFC 8705 §3.1: x5t#S256 is the base64url SHA-256 of the DER certificate.
    const thumbprint = Buffer.from(
      new X509Certificate(cert).fingerprint256.replace(/:/g, ''),
      'hex',
    ).toString('base64url');
    auth.tls = {
      cert,
      key,
      certFile,
      keyFile,
      boundTokens: certSource.bound ?? false,
      thumbprint,
    };
  }
  return {
    id: c.id,
    label: c.label ?? (auth.assertion ? `${method} ${auth.assertion.alg}` : method),
    auth,
    ...(c.sendClientId === false ? { sendClientId: false } : {}),
  };
}

type RawGrant = RawProvider['grant'];

function loadGrant(g: RawGrant, ctx: ClientContext): Provider['grant'] {
  const out: Provider['grant'] = { type: g.type, bodyEncoding: g.bodyEncoding ?? 'form' };
  const a = g.assertion;
  if (!a) return out;
  const field = a.key !== undefined ? 'key' : 'keyValue';
  try {
    const material =
      a.key !== undefined
        ? readPemFile(path.resolve(path.dirname(ctx.file), a.key), 'key file')
        : (a.keyValue ?? '');
    const parsed = parsePrivateKey(material, a.alg);
    const key = {
      material: parsed.kind === 'pem' ? toPkcs8(parsed.key) : material,
      kind: parsed.kind,
    };
    const envName = ctx.envOfPointer.get('/grant/assertion/keyValue') ?? 'GRANT_ASSERTION_KEY';
    ctx.secrets.push({ value: material.trim(), envName });
    if (key.material !== material) ctx.secrets.push({ value: key.material.trim(), envName });
    out.assertion = {
      issuer: a.issuer,
      subject: a.subject ?? a.issuer,
      ...(a.audience ? { audience: a.audience } : {}),
      alg: a.alg,
      key,
      ...(a.kid ? { kid: a.kid } : {}),
      claims: a.claims ?? {},
    };
  } catch (e) {
    if (e instanceof KeyProblem)
      throw new DescriptorError(
        ctx.shownFile,
        `grant.assertion.${field}`,
        `${e.message}${ctx.origin(`/grant/assertion/${field}`)}`,
      );
    throw e;
  }
  return out;
}
