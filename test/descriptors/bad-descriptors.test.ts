/**
 * The bad-descriptor corpus: every file in bad/ is wrong in exactly one way (relative to
 * good/minimal.yaml) and says how in its `# expect: <field> — <substring>` line. Loading it the way
 * the CLI does must fail with one DescriptorError line: "<file>: <field>: <problem>".
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescriptorError,
  PROVIDERS_DIR,
  readDescriptor,
  resolveProvider,
} from '../../src/descriptor/load.js';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BAD_DIR = path.join(HERE, 'bad');

/** Variables the good parts of the corpus read; the corpus's own missing variable is not among them. */
const ENV: NodeJS.ProcessEnv = {
  TC_BAD_SECRET: 's3cret-value',
  TC_BAD_HTTP_URL: 'http://auth.example.test/oauth/token',
  TC_BAD_HOST: 'auth.example.test',
};

const EXPECT_LINE = /^# expect: (.+?) — (.+)$/m;

const files = (await readdir(BAD_DIR)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

function load(file: string, env: NodeJS.ProcessEnv = ENV): unknown {
  try {
    resolveProvider(readDescriptor(file), env);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('bad descriptors', () => {
  it('the corpus covers at least 15 distinct problems, YAML and JSON', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files.some((f) => f.endsWith('.json'))).toBe(true);
  });

  it.each(files)(
    '%s: one DescriptorError line naming the file, the field and the problem',
    async (name) => {
      const file = path.join(BAD_DIR, name);
      const m = EXPECT_LINE.exec(await readFile(file, 'utf8'));
      if (!m?.[1] || !m[2])
        throw new Error(`${name} has no "# expect: <field> — <substring>" line`);
      const [, field, substring] = m;

      const err = load(file);
      expect(err).toBeInstanceOf(DescriptorError);
      const e = err as DescriptorError;
      const shown = path.relative(process.cwd(), file);
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message.startsWith(`${shown}: `)).toBe(true);
      expect(e.file).toBe(shown);
      expect(e.field).toBe(field);
      expect(e.message.startsWith(`${shown}: ${field}: `)).toBe(true);
      expect(e.problem).toContain(substring);
      // Secret values never appear in an error message.
      expect(e.message).not.toContain(ENV['TC_BAD_SECRET']);
    },
  );

  it('the template the corpus departs from is valid, so each bad file fails only for its own defect', () => {
    const p = resolveProvider(readDescriptor(path.join(HERE, 'good', 'minimal.yaml')), ENV);
    expect(p.name).toBe('bad-example');
    expect(p.clients[0]?.auth).toEqual({ method: 'client_secret_basic', secret: 's3cret-value' });
    expect(p.secrets).toEqual([{ value: 's3cret-value', envName: 'TC_BAD_SECRET' }]);
  });

  it('a missing variable is reported even when others are set, and every missing one is listed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tc-bad-env-'));
    try {
      const file = path.join(dir, 'two-missing.yaml');
      await writeFile(
        file,
        [
          'name: two-missing',
          'title: Two variables missing',
          'tokenEndpoint: ${env:TC_BAD_URL_UNSET}',
          'clients:',
          '  - id: client-1',
          '    auth: { method: client_secret_basic, secret: "${env:TC_BAD_SECRET_UNSET}" }',
          'grant: { type: client_credentials }',
          'expect: { tokenType: Bearer }',
        ].join('\n'),
      );
      const e = load(file);
      expect(e).toBeInstanceOf(DescriptorError);
      expect((e as DescriptorError).field).toBe('tokenEndpoint');
      expect((e as DescriptorError).problem).toBe(
        'environment variables not set: TC_BAD_URL_UNSET, TC_BAD_SECRET_UNSET',
      );
      // An empty value counts as unset: "${env:X}" with X="" would send an empty secret.
      const e2 = load(file, {
        TC_BAD_URL_UNSET: 'https://auth.example.test/token',
        TC_BAD_SECRET_UNSET: '',
      });
      expect((e2 as DescriptorError).message).toMatch(
        /: clients\[0\]\.auth\.secret: environment variable not set: TC_BAD_SECRET_UNSET$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('positive control: providers/reference.yaml', () => {
  // The real variables of a running reference: key and certificate files are read and checked.
  let ref: ReferenceServer;
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref.close();
  });

  it('reads and resolves with the TC_REF_* variables', () => {
    const p = resolveProvider(readDescriptor(path.join(PROVIDERS_DIR, 'reference.yaml')), ref.env);
    expect(p.name).toBe('reference');
    expect(p.embedded).toBe('reference');
    expect(p.tokenEndpoint).toBe(ref.env['TC_REF_TOKEN_URL']);
    expect(p.resource).toEqual({
      url: ref.env['TC_REF_RESOURCE_URL'],
      method: 'GET',
      requiredScope: 'api:read',
      insufficientScope: { scope: 'api:write' },
    });
    // introspection.client defaults to the primary client.
    expect(p.introspection).toEqual({
      url: ref.env['TC_REF_INTROSPECTION_URL'],
      client: p.clients[0],
    });
    expect(p.clients.map((c) => c.auth.method)).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'private_key_jwt',
      'private_key_jwt',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ]);
    // Every secret and private key is known to the redactor, under the variable it came from.
    const names = p.secrets.map((s) => s.envName);
    expect(names).toEqual(
      expect.arrayContaining([
        'TC_REF_BASIC_CLIENT_SECRET',
        'TC_REF_POST_CLIENT_SECRET',
        'TC_REF_JWT_HS_CLIENT_SECRET',
      ]),
    );
    expect(p.secrets.some((s) => s.value.includes('PRIVATE KEY'))).toBe(true);
    expect(p.tls).toEqual({ caFile: ref.env['TC_REF_CA_FILE'], insecureSkipVerify: false });
    expect(p.expect.expiresIn).toBe(5);
  });

  it('gives the jwt-bearer descriptor a confidential introspection client of its own, its secret redacted', () => {
    const p = resolveProvider(
      readDescriptor(path.join(PROVIDERS_DIR, 'reference-jwt-bearer.yaml')),
      ref.env,
    );
    expect(p.clients.map((c) => c.auth.method)).toEqual(['none']);
    expect(p.introspection?.client).toMatchObject({
      id: ref.env['TC_REF_BASIC_CLIENT_ID'],
      label: 'client_secret_basic',
      auth: { method: 'client_secret_basic', secret: ref.env['TC_REF_BASIC_CLIENT_SECRET'] },
    });
    expect(p.secrets).toContainEqual({
      value: ref.env['TC_REF_BASIC_CLIENT_SECRET'],
      envName: 'TC_REF_BASIC_CLIENT_SECRET',
    });
  });

  it('without TC_REF_CA_FILE it fails on tls.caFile, naming the variable', () => {
    const env = { ...ref.env };
    delete env['TC_REF_CA_FILE'];
    const e = load(path.join(PROVIDERS_DIR, 'reference.yaml'), env);
    expect(e).toBeInstanceOf(DescriptorError);
    expect((e as DescriptorError).field).toBe('tls.caFile');
    expect((e as DescriptorError).problem).toBe('environment variable not set: TC_REF_CA_FILE');
  });
});
