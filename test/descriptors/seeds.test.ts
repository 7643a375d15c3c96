/**
 * The five seed services' descriptors (providers/<name>.yaml, one per document in
 * /work/shared/seeds/): each is schema-valid; without its environment it stops with one
 * DescriptorError line naming every variable its header comment lists; with a fake environment
 * (throw-away keys and certificates, https URLs that go nowhere) it resolves to what its document
 * promises. No request is sent.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescriptorError,
  PROVIDERS_DIR,
  readDescriptor,
  resolveProvider,
} from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { CHECKS } from '../../src/checks/index.js';
import { createCa, issueCert } from '../../src/reference/certs.js';

const SEEDS = [
  'federated-directory',
  'akamai-identity-cloud',
  'raidiam-connect',
  'signaturgruppen-broker',
  'ist-educloud',
] as const;
type Seed = (typeof SEEDS)[number];

const fileOf = (name: Seed) => path.join(PROVIDERS_DIR, `${name}.yaml`);
const shownOf = (name: Seed) => path.relative(process.cwd(), fileOf(name));

/** The variables a descriptor's header comment lists: `#   NAME   what it is` lines before the first field. */
function headerVariables(text: string): string[] {
  const header = text
    .split('\n')
    .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('#') || x.trim() === ''));
  return header
    .map((l) => /^#\s+([A-Z][A-Z0-9_]+)\s{2,}\S/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Every ${env:NAME} the descriptor uses, comments left out. */
function usedVariables(text: string): string[] {
  const code = text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''))
    .join('\n');
  return [
    ...new Set(
      [...code.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g)].map((m) => m[1] ?? ''),
    ),
  ];
}

function failureOf(fn: () => unknown): DescriptorError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DescriptorError) return e;
    throw e;
  }
  throw new Error('expected a DescriptorError');
}

let dir: string;
let env: NodeJS.ProcessEnv;
/** PEM/JWK values given directly in the environment (keyValue), to check they are known as secrets. */
let fdKey: string;
let sgKey: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tc-seeds-'));
  const ca = await createCa({ commonName: 'seed test CA' });
  const mtls = await issueCert(ca, { commonName: 'raidiam-mtls-client', usage: 'client' });
  const write = async (name: string, content: string) => {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  };
  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  // Federated Directory hands out an RSA private key: here in PKCS1 PEM, the form OpenSSL tools print.
  fdKey = rsa().export({ type: 'pkcs1', format: 'pem' }).toString();
  // Signaturgruppen: an RSA key pair whose public half is uploaded; here the private key as a JWK.
  sgKey = JSON.stringify(rsa().export({ format: 'jwk' }));
  env = {
    FD_TOKEN_URL: 'https://api.federated.directory.test/v2/Login/Oauth2/Token',
    FD_KEY_ISSUER: '51f1e656elkv31ypuyf1eeziawusl39k@fd',
    FD_PRIVATE_KEY: fdKey,

    AKAMAI_TOKEN_URL:
      'https://v1.api.us.janrain.test/01000000-0000-3000-9000-000000000000/login/token',
    AKAMAI_CLIENT_ID: 'sgnyvus6pc4jm7khr2neq5gs89gbr2eq',
    AKAMAI_CLIENT_SECRET: 'wt4c3un9wkkcfvyknqx44ync476afs68',
    AKAMAI_API_URL:
      'https://v1.api.us.janrain.test/01000000-0000-3000-9000-000000000000/webhooks/subscriptions',

    RAIDIAM_ISSUER: 'https://auth.sandbox.raidiam.test',
    RAIDIAM_TOKEN_URL: 'https://auth.sandbox.raidiam.test/token',
    RAIDIAM_CA_FILE: await write('raidiam-ca.pem', ca.certPem),
    RAIDIAM_MTLS_CLIENT_ID: 'raidiam-mtls-client',
    RAIDIAM_MTLS_CERT_FILE: await write('raidiam-transport.crt', mtls.certPem),
    RAIDIAM_MTLS_KEY_FILE: await write('raidiam-transport.key', mtls.keyPem),
    RAIDIAM_PKJWT_CLIENT_ID: 'raidiam-pkjwt-client',
    RAIDIAM_PKJWT_KEY_FILE: await write(
      'raidiam-signing.pem',
      rsa().export({ type: 'pkcs8', format: 'pem' }).toString(),
    ),
    RAIDIAM_PKJWT_KID: 'raidiam-signing-1',

    SG_TOKEN_URL: 'https://pp.netseidbroker.test/op/connect/token',
    SG_CLIENT_ID: 'sg-api-client',
    SG_CLIENT_SECRET: 'sg-secret-value-1234',
    SG_PKJWT_CLIENT_ID: 'sg-api-client-rsa',
    SG_PKJWT_KEY: sgKey,

    IST_TOKEN_URL: 'https://skolid.test/connect/token',
    IST_CLIENT_ID: 'ist-client',
    IST_CLIENT_SECRET: 'ist-secret-value-5678',
    IST_ALL_SCOPES: 'skolid.profile skolid.groups',
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resolved = (name: Seed, e: NodeJS.ProcessEnv = env): Provider =>
  resolveProvider(readDescriptor(fileOf(name)), e);

describe.each(SEEDS)('providers/%s.yaml', (name) => {
  const text = readFileSync(fileOf(name), 'utf8');

  it('names its schema, its document, and every variable it uses (and no other)', () => {
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../schemas/provider.schema.json',
    );
    expect(text).toMatch(/Follows \/work\/shared\/seeds\/00[0-4]_[0-9a-f]{16}\.txt/);
    const listed = headerVariables(text);
    expect(listed.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual([...usedVariables(text)].sort());
  });

  it('is schema-valid, with every URL, id, secret, key and certificate from ${env:…} (secrets without default)', () => {
    const raw = readDescriptor(fileOf(name));
    const d = raw.data as unknown as {
      tokenEndpoint: string;
      issuer?: string;
      resource?: { url: string };
      clients: { id: string; auth: Record<string, unknown> }[];
      grant: { assertion?: { issuer: string; key?: string; keyValue?: string } };
    };
    const whole = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;
    for (const v of [d.tokenEndpoint, d.issuer, d.resource?.url].filter((x) => x !== undefined))
      expect(v).toMatch(whole);
    for (const c of d.clients) {
      expect(c.id).toMatch(whole);
      for (const f of ['secret', 'key', 'keyValue', 'kid', 'certFile', 'keyFile'])
        if (c.auth[f] !== undefined) expect(c.auth[f]).toMatch(whole);
    }
    const a = d.grant.assertion;
    if (a)
      for (const v of [a.issuer, a.key, a.keyValue].filter((x) => x !== undefined))
        expect(v).toMatch(whole);
    // No literal endpoint anywhere; the only https literal allowed is a deviation's documentation link.
    const code = text.split('\n').map((l) => l.replace(/(^|\s)#.*$/, ''));
    expect(code.filter((l) => /https?:\/\//.test(l) && !/^\s*link: /.test(l))).toEqual([]);
  });

  it('without its environment: one DescriptorError line naming the file and all missing variables', () => {
    const e = failureOf(() => resolved(name, {}));
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.file).toBe(shownOf(name));
    expect(e.message.startsWith(`${shownOf(name)}: ${e.field}: `)).toBe(true);
    const m = /^environment variables not set: (.+)$/.exec(e.problem);
    expect(m?.[1]).toBeDefined();
    const named = (m?.[1] ?? '').split(', ');
    const listed = headerVariables(text);
    for (const v of listed) expect(named).toContain(v);
    expect([...named].sort()).toEqual([...listed].sort());
  });

  it('with a fake environment: resolves, with the seed limits and the secrets known for redaction', () => {
    const p = resolved(name);
    expect(p.name).toBe(name);
    expect(p.limits).toMatchObject({
      timeoutMs: 10_000,
      requestsPerSecond: 2,
      maxExpiryWaitSeconds: 30,
    });
    expect(p.limits.maxRequests).toBeLessThanOrEqual(60);
    expect(p.tokenEndpoint).toMatch(/^https:\/\//);
    expect(p.tls.insecureSkipVerify).toBe(false);
    // Only Federated Directory's document describes a departure from the RFCs (its JSON body).
    expect(p.deviations.flatMap((d) => d.checks)).toEqual(
      name === 'federated-directory' ? ['grant.form-encoded-body'] : [],
    );
    for (const c of p.clients) {
      if (c.auth.secret !== undefined)
        expect(p.secrets.map((s) => s.value)).toContain(c.auth.secret);
      if (c.auth.assertion?.key)
        expect(p.secrets.map((s) => s.value)).toContain(c.auth.assertion.key.material.trim());
    }
  });

  it('every missing variable is named even when only one is missing', () => {
    const listed = headerVariables(text);
    for (const v of listed) {
      const e = failureOf(() => resolved(name, { ...env, [v]: undefined }));
      expect(e.problem).toBe(`environment variable not set: ${v}`);
    }
  });
});

describe('what each document promises', () => {
  it('000 Federated Directory: jwt-bearer, RS256 assertion {iss: key issuer, scope: [directoryKey], aud: key}, JSON body, 28800 s JWT, deviation declared', () => {
    const p = resolved('federated-directory');
    expect(p.grant).toMatchObject({
      type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      bodyEncoding: 'json',
      assertion: {
        issuer: env['FD_KEY_ISSUER'],
        subject: env['FD_KEY_ISSUER'],
        audience: 'key',
        alg: 'RS256',
        claims: { scope: ['directoryKey'] },
        key: { kind: 'pem' },
      },
    });
    expect(p.grant.assertion?.kid).toBeUndefined();
    // The document's request has no client authentication and no client_id: one public client
    // that sends none.
    expect(p.clients).toHaveLength(1);
    expect(p.clients[0]).toMatchObject({
      id: env['FD_KEY_ISSUER'],
      auth: { method: 'none' },
      sendClientId: false,
    });
    expect(p.expect).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 28800,
      expiresInTolerance: 0,
      // The example token is a JWT (typ JWT, HS256, no iat/sub/client_id), not an RFC 9068 one.
      tokenFormat: 'jwt-plain',
      refreshToken: 'absent',
    });
    // 8 hours is not waited for: the expiry-at-resource checks are skipped with that reason.
    expect(p.expect.expiresIn ?? 0).toBeGreaterThan(p.limits.maxExpiryWaitSeconds);
    expect(p.secrets).toContainEqual({ value: fdKey.trim(), envName: 'FD_PRIVATE_KEY' });
    expect(p.scopes).toEqual({});
    expect(p.resource).toBeUndefined();
    expect(p.issuer).toBeUndefined();
    expect(p.deviations).toEqual([
      {
        checks: ['grant.form-encoded-body'],
        reason:
          'Federated Directory takes the jwt-bearer token request as a JSON body; RFC 6749 §4.1.3/§4.4.2 and RFC 7521 §4.1 use application/x-www-form-urlencoded',
        link: 'https://www.federated.directory',
      },
    ]);
    // The deviation names a check that exists and that applies to this descriptor (JSON body).
    const check = CHECKS.find((c) => c.id === 'grant.form-encoded-body');
    expect(check).toBeDefined();
    expect(check?.applies?.(p) ?? true).toBe(true);
  });

  it('001 Akamai Identity Cloud: client_credentials, Basic, scope *:webhooks/**, 3600 s, scope echoed, no refresh token, an API that refuses expired tokens', () => {
    const p = resolved('akamai-identity-cloud');
    expect(p.tokenEndpoint).toBe(env['AKAMAI_TOKEN_URL']);
    expect(new URL(p.tokenEndpoint).pathname).toMatch(/^\/[^/]+\/login\/token$/);
    expect(p.grant).toEqual({ type: 'client_credentials', bodyEncoding: 'form' });
    expect(p.clients).toEqual([
      {
        id: env['AKAMAI_CLIENT_ID'],
        label: 'client_secret_basic (configuration client)',
        auth: { method: 'client_secret_basic', secret: env['AKAMAI_CLIENT_SECRET'] },
      },
    ]);
    expect(p.scopes).toEqual({ request: '*:webhooks/**' });
    expect(p.expect).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 3600,
      refreshToken: 'absent',
      scopeEcho: 'always',
      tokenFormat: 'any',
    });
    expect(p.resource).toEqual({ url: env['AKAMAI_API_URL'], method: 'GET' });
    expect(p.secrets).toContainEqual({
      value: env['AKAMAI_CLIENT_SECRET'],
      envName: 'AKAMAI_CLIENT_SECRET',
    });
  });

  it("002 Raidiam Connect: discovery, tls_client_auth with bound tokens and private_key_jwt, scope directory:software, JWT signed with the client's algorithm", () => {
    const p = resolved('raidiam-connect');
    expect(p).toMatchObject({
      issuer: env['RAIDIAM_ISSUER'],
      discovery: 'openid-configuration',
      tokenEndpoint: env['RAIDIAM_TOKEN_URL'],
    });
    expect(p.grant).toEqual({ type: 'client_credentials', bodyEncoding: 'form' });
    expect(p.clients.map((c) => c.auth.method)).toEqual(['tls_client_auth', 'private_key_jwt']);
    const [mtls, pkjwt] = p.clients;
    expect(mtls?.id).toBe(env['RAIDIAM_MTLS_CLIENT_ID']);
    expect(mtls?.auth.tls).toMatchObject({
      certFile: env['RAIDIAM_MTLS_CERT_FILE'],
      keyFile: env['RAIDIAM_MTLS_KEY_FILE'],
      boundTokens: true,
    });
    expect(mtls?.auth.tls?.thumbprint).toMatch(/^[\w-]{43}$/);
    expect(pkjwt?.id).toBe(env['RAIDIAM_PKJWT_CLIENT_ID']);
    expect(pkjwt?.auth.assertion).toMatchObject({
      alg: 'PS256',
      kid: env['RAIDIAM_PKJWT_KID'],
      audience: 'token-endpoint',
      key: { kind: 'pem' },
    });
    expect(p.scopes).toEqual({ request: 'directory:software' });
    expect(p.expect).toMatchObject({
      tokenType: 'Bearer',
      tokenFormat: 'jwt',
      refreshToken: 'allowed',
    });
    expect(p.expect.expiresIn).toBeUndefined();
    // "signed using the algorithm configured for your client": every (asymmetric) algorithm the schema knows.
    const schema = JSON.parse(
      readFileSync(path.join(PROVIDERS_DIR, '../schemas/provider.schema.json'), 'utf8'),
    ) as {
      properties: { expect: { properties: { jwtAlgs: { items: { enum: string[] } } } } };
    };
    expect([...p.expect.jwtAlgs].sort()).toEqual(
      [...schema.properties.expect.properties.jwtAlgs.items.enum].sort(),
    );
    expect(p.expect.jwtAlgs.some((a) => a.startsWith('HS'))).toBe(false);
    expect(p.tls.caFile).toBe(env['RAIDIAM_CA_FILE']);
  });

  it('003 Signaturgruppen Broker: client_credentials with client_secret_post and private_key_jwt (RSA), Bearer, 3600 s', () => {
    const p = resolved('signaturgruppen-broker');
    expect(p.grant).toEqual({ type: 'client_credentials', bodyEncoding: 'form' });
    expect(p.clients.map((c) => [c.id, c.auth.method])).toEqual([
      [env['SG_CLIENT_ID'], 'client_secret_post'],
      [env['SG_PKJWT_CLIENT_ID'], 'private_key_jwt'],
    ]);
    expect(p.clients[0]?.auth.secret).toBe(env['SG_CLIENT_SECRET']);
    expect(p.clients[1]?.auth.assertion).toMatchObject({
      alg: 'RS256',
      key: { kind: 'jwk', material: sgKey },
    });
    expect(p.expect).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 3600,
      refreshToken: 'allowed',
    });
    expect(p.scopes).toEqual({});
    expect(p.secrets).toContainEqual({ value: sgKey, envName: 'SG_PKJWT_KEY' });
    expect(p.secrets).toContainEqual({
      value: env['SG_CLIENT_SECRET'],
      envName: 'SG_CLIENT_SECRET',
    });
  });

  it('004 IST EduCloud: client_credentials with form values and Basic, skolid.profile, no scope = every scope of the client, 3600 s, scope echoed', () => {
    const p = resolved('ist-educloud');
    expect(p.grant).toEqual({ type: 'client_credentials', bodyEncoding: 'form' });
    expect(p.clients.map((c) => [c.id, c.auth.method, c.auth.secret])).toEqual([
      [env['IST_CLIENT_ID'], 'client_secret_post', env['IST_CLIENT_SECRET']],
      [env['IST_CLIENT_ID'], 'client_secret_basic', env['IST_CLIENT_SECRET']],
    ]);
    expect(p.scopes).toEqual({ request: 'skolid.profile', default: env['IST_ALL_SCOPES'] });
    expect(p.expect).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, scopeEcho: 'always' });
  });

  it("004 IST EduCloud: the client's scope list from the environment is validated as scope-tokens, naming the variable", () => {
    // The raw ${env:IST_ALL_SCOPES} passes the scope pattern ($, {, :, } are scope-token characters);
    // the resolved value is validated again.
    const e = failureOf(() =>
      resolved('ist-educloud', { ...env, IST_ALL_SCOPES: 'skolid.profile  "quoted"' }),
    );
    expect(e.field).toBe('scopes.default');
    expect(e.problem).toContain('(value of ${env:IST_ALL_SCOPES})');
    expect(e.message.split('\n')).toHaveLength(1);
  });
});
