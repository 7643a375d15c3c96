/**
 * extends: a descriptor built on a base (src/descriptor/extends.ts): deep merge (mappings merged,
 * lists replaced, the extending file wins), relative paths of a base kept relative to the base,
 * cycles refused, errors naming the file a field came from, bases never run as providers.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DescriptorError,
  knownProviders,
  readDescriptor,
  resolveProvider,
} from '../../src/descriptor/load.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'extends');
const ENV = { TC_BAD_SECRET: 's3cret-value' };
const shown = (f: string) => path.relative(process.cwd(), path.join(DIR, f));

function errorOf(file: string): DescriptorError {
  try {
    resolveProvider(readDescriptor(path.join(DIR, file)), ENV);
  } catch (e) {
    if (e instanceof DescriptorError) return e;
    throw e;
  }
  throw new Error(`${file} loaded without an error`);
}

describe('extends', () => {
  it('deep-merges the base: mappings key by key, the extending file winning', () => {
    const p = resolveProvider(readDescriptor(path.join(DIR, 'sandbox-eu.yaml')), ENV);
    expect(p.name).toBe('vendor-sandbox-eu');
    expect(p.tokenEndpoint).toBe('https://eu.sandbox.example.test/oauth/token');
    expect(p.clients.map((c) => c.id)).toEqual(['shared-client']);
    expect(p.expect).toMatchObject({ tokenType: 'Bearer', tokenFormat: 'jwt', expiresIn: 7200 });
    expect(p.limits).toMatchObject({ timeoutMs: 5000, maxRequests: 50 });
    expect(p.scopes.request).toBe('api:read');
  });

  it("keeps a base's relative paths relative to the base", () => {
    const p = resolveProvider(readDescriptor(path.join(DIR, 'nested/sandbox-us.yaml')), ENV);
    expect(p.tls.caFile).toBe(path.join(DIR, 'ca.pem'));
  });

  it('follows a chain of bases and replaces lists whole', () => {
    const p = resolveProvider(readDescriptor(path.join(DIR, 'nested/sandbox-us.yaml')), ENV);
    expect(p.name).toBe('vendor-sandbox-us');
    expect(p.clients.map((c) => [c.id, c.auth.method])).toEqual([
      ['us-client', 'client_secret_post'],
    ]);
    expect(p.expect.expiresIn).toBe(7200); // from sandbox-eu, over the base's 3600
    expect(p.limits.timeoutMs).toBe(5000); // from the base
  });

  it('does not inherit abstract: a file extending an abstract base is a provider', () => {
    const p = resolveProvider(readDescriptor(path.join(DIR, 'from-abstract.yaml')), ENV);
    expect(p.name).toBe('from-abstract');
    expect(p.grant.type).toBe('client_credentials');
  });

  it('refuses a cycle, naming the chain', () => {
    const e = errorOf('cycle-a.yaml');
    expect(e.field).toBe('extends');
    expect(e.problem).toBe('a cycle of bases: cycle-a.yaml → cycle-b.yaml → cycle-a.yaml');
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('names a missing base', () => {
    const e = errorOf('missing-base.yaml');
    expect(e.file).toBe(shown('missing-base.yaml'));
    expect(e.field).toBe('extends');
    expect(e.problem).toMatch(/^no such file: no-such\.base\.yaml/);
  });

  it('names the base a bad field came from, and the file being run', () => {
    const e = errorOf('uses-bad-base.yaml');
    expect(e.file).toBe(shown('bad-in-base.base.yaml'));
    expect(e.field).toBe('expect.refreshToken');
    expect(e.problem).toBe(
      `must be one of: absent, allowed (in a base of ${shown('uses-bad-base.yaml')}, through extends)`,
    );
  });

  it('refuses to run a base, and does not list one as a provider', () => {
    for (const [file, field] of [
      ['abstract-base.yaml', 'abstract'],
      ['vendor.base.yaml', '(file)'],
    ] as const) {
      const e = errorOf(file);
      expect(e.field).toBe(field);
      expect(e.problem).toMatch(/a base for other descriptors .*not a provider to run/);
    }
    const listed = [...knownProviders(DIR).keys()];
    expect(listed).toContain('sandbox-eu');
    expect(listed).not.toContain('abstract-base');
    expect(listed).not.toContain('vendor.base');
    expect(listed).not.toContain('bad-in-base.base');
  });
});
