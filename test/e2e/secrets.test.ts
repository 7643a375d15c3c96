/**
 * Secret hygiene, end to end: a full run (report included) against an endpoint that accepts anything,
 * hands out known tokens and echoes everything it receives (request headers, body and query, nested
 * in JSON members, arrays and error_description, and in response headers). No client secret (in any
 * encoding it travels in), no client or grant assertion and no full token may appear in stdout, stderr
 * or any file the run writes; a token's first 8 characters may.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoEverything, startHttpsServer, type TestServer } from './https-fixture.js';
import {
  describeRun,
  freshDir,
  listFiles,
  readRun,
  REPO_ROOT,
  removeTempDirs,
  runCli,
  type CliResult,
} from './run-cli.js';
import { generateKeyPairSync } from 'node:crypto';

const BASIC_ID = 'e2e-basic-client';
const BASIC_SECRET = 's3cr3t-Value+/=%';
const POST_ID = 'e2e-post-client';
const POST_SECRET = 'p0st&Secret=?#/+x';
const DPOP_ID = 'e2e-dpop-client';
const DPOP_SECRET = 'dp0p+Secret/=%&x';
const ACCESS_TOKEN =
  'AT-e2e.Zq9xW3vB7nK2mP5rT8yL4cF6hJ1dS0gA-known-long-access-token_value~0123456789';
const REFRESH_TOKEN = 'RT-e2e.Yh3kL8pQ2wE6rT9uI4oP7aS1dF5gH0jK-known-long-refresh-token_value';
const ID_TOKEN = 'ID-e2e.Qw8eR4tY2uI6oP0aS3dF7gH1jK5lZ9xC-known-long-id-token-nested-deep';

/** application/x-www-form-urlencoded, as the harness sends secrets in bodies and query strings. */
const formEncode = (v: string): string => new URLSearchParams({ v }).toString().slice(2);
const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');

/** The forms a client secret travels in: as is, encoded, and inside Basic credentials. */
function secretForms(id: string, secret: string): Record<string, string> {
  return {
    raw: secret,
    'form-urlencoded': formEncode(secret),
    'percent-encoded': encodeURIComponent(secret),
    'Basic credentials (RFC 6749 §2.3.1)': b64(`${formEncode(id)}:${formEncode(secret)}`),
    'Basic credentials (unencoded)': b64(`${id}:${secret}`),
  };
}

/** A token in full, and everything past its 8-character preview. */
function tokenForms(token: string): Record<string, string> {
  return { full: token, 'past the preview': token.slice(8) };
}

/** A private key the harness signs client assertions with: its PEM body must never surface. */
const PRIVATE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const KEY_LINES = PRIVATE_KEY.split('\n').filter((l) => l && !l.startsWith('-----'));
/** The key the jwt-bearer grant assertions are signed with. */
const GRANT_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const GRANT_KEY_LINES = GRANT_KEY.split('\n').filter((l) => l && !l.startsWith('-----'));
const HS_SECRET = 'hs-Secret+/= with spaces & 0123456789abcdef';

const NEEDLES: Record<string, string> = Object.fromEntries([
  ['private key, PEM body', KEY_LINES.join('')],
  ...KEY_LINES.map((l, i) => [`private key, line ${i + 1}`, l]),
  ['grant key, PEM body', GRANT_KEY_LINES.join('')],
  ...GRANT_KEY_LINES.map((l, i) => [`grant key, line ${i + 1}`, l]),
  ...Object.entries(secretForms('hs-client', HS_SECRET)).map(([k, v]) => [
    `client_secret_jwt secret, ${k}`,
    v,
  ]),
  ...Object.entries(secretForms(BASIC_ID, BASIC_SECRET)).map(([k, v]) => [`basic secret, ${k}`, v]),
  ...Object.entries(secretForms(POST_ID, POST_SECRET)).map(([k, v]) => [`post secret, ${k}`, v]),
  ...Object.entries(secretForms(DPOP_ID, DPOP_SECRET)).map(([k, v]) => [`dpop secret, ${k}`, v]),
  ...Object.entries(tokenForms(ACCESS_TOKEN)).map(([k, v]) => [`access token, ${k}`, v]),
  ...Object.entries(tokenForms(REFRESH_TOKEN)).map(([k, v]) => [`refresh token, ${k}`, v]),
  ...Object.entries(tokenForms(ID_TOKEN)).map(([k, v]) => [`id token (nested), ${k}`, v]),
]);

/**
 * The base64 fragments that any base64 text containing `needle` must contain, whatever the needle's
 * offset modulo 3: so a secret inside a larger base64 blob is found without knowing the blob.
 */
function base64Fragments(needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return [0, 1, 2].map((k) => {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    return enc.slice(k === 0 ? 0 : 4, Math.floor((k + bytes.length) / 3) * 4);
  });
}

/** The text itself, plus every base64 run in it decoded (the HTML report inlines its data that way). */
function views(text: string): string[] {
  const out = [text];
  for (const m of text.matchAll(/(?<=["'(,]|base64,)([A-Za-z0-9+/]{16,}={0,2})(?=["'),])/g)) {
    out.push(Buffer.from(m[1] ?? '', 'base64').toString('utf8'));
  }
  return out;
}

/** Where `needles` occur in `text` (as is, inside decoded base64, or as base64 at any alignment). */
function findLeaks(where: string, text: string): string[] {
  const leaks: string[] = [];
  const decoded = views(text);
  for (const [name, needle] of Object.entries(NEEDLES)) {
    if (decoded.some((v) => v.includes(needle))) leaks.push(`${where}: ${name}`);
    else if (base64Fragments(needle).some((f) => text.includes(f)))
      leaks.push(`${where}: ${name} (base64)`);
  }
  return leaks;
}

describe('secret hygiene of a full run', () => {
  let server: TestServer;
  let r: CliResult;

  beforeAll(async () => {
    server = await startHttpsServer(
      echoEverything({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN, idToken: ID_TOKEN }),
    );
    const dir = freshDir();
    writeFileSync(path.join(dir, 'ca.pem'), server.caPem);
    const file = path.join(dir, 'leaky.yaml');
    writeFileSync(
      file,
      [
        'name: leaky',
        'title: E2E accepts anything',
        `tokenEndpoint: ${server.origin}/token`,
        'clients:',
        `  - id: ${BASIC_ID}`,
        '    auth: { method: client_secret_basic, secret: "${env:E2E_SECRET}" }',
        `  - id: ${POST_ID}`,
        '    auth: { method: client_secret_post, secret: "${env:E2E_POST_SECRET}" }',
        '  - id: pk-client',
        '    auth: { method: private_key_jwt, alg: ES256, keyValue: "${env:E2E_PRIVATE_KEY}" }',
        '  - id: hs-client',
        '    auth: { method: client_secret_jwt, alg: HS256, secret: "${env:E2E_HS_SECRET}" }',
        'grant: { type: client_credentials }',
        'scopes: { request: "api:read", forbidden: "admin" }',
        'expect: { tokenType: Bearer }',
        `resource: { url: "${server.origin}/resource" }`,
        'tls: { caFile: ca.pem }',
        // DPoP with a client of its own: its secret, and the proof key's private half (one spoilt
        // proof carries it in its header), must stay out of every output.
        'dpop:',
        '  replayDetection: true',
        `  client: { id: ${DPOP_ID}, auth: { method: client_secret_basic, secret: "\${env:E2E_DPOP_SECRET}" } }`,
        'resourceIndicators: {}',
        '',
      ].join('\n'),
    );
    // The jwt-bearer grant: its assertion travels in the body, and in the URL of the GET probe.
    const grantFile = path.join(dir, 'leaky-grant.yaml');
    writeFileSync(
      grantFile,
      [
        'name: leaky-grant',
        'title: E2E accepts anything (jwt-bearer)',
        `tokenEndpoint: ${server.origin}/token`,
        'clients:',
        `  - id: ${BASIC_ID}`,
        '    auth: { method: client_secret_basic, secret: "${env:E2E_SECRET}" }',
        'grant:',
        '  type: urn:ietf:params:oauth:grant-type:jwt-bearer',
        '  assertion: { issuer: e2e-issuer, alg: ES256, keyValue: "${env:E2E_GRANT_KEY}" }',
        'expect: { tokenType: Bearer }',
        'tls: { caFile: ca.pem }',
        '',
      ].join('\n'),
    );
    r = await runCli(['--provider', file, '--provider', grantFile], {
      env: {
        E2E_SECRET: BASIC_SECRET,
        E2E_POST_SECRET: POST_SECRET,
        E2E_PRIVATE_KEY: PRIVATE_KEY,
        E2E_HS_SECRET: HS_SECRET,
        E2E_GRANT_KEY: GRANT_KEY,
        E2E_DPOP_SECRET: DPOP_SECRET,
      },
    });
    // The DPoP proofs: previews only, and the private key one of them disclosed never shown.
    let disclosed = 0;
    for (const q of server.requests) {
      const proof = q.headers['dpop'];
      if (typeof proof !== 'string') continue;
      NEEDLES[`DPoP proof …${proof.slice(-12)}, past the preview`] = proof.slice(8);
      const jwk = (
        JSON.parse(Buffer.from(proof.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
          jwk?: { d?: string };
        }
      ).jwk;
      if (jwk?.d) {
        NEEDLES['DPoP proof private key (d)'] = jwk.d;
        disclosed += 1;
      }
    }
    expect(disclosed).toBe(1);
    // The client and grant assertions the harness signed are credentials too: past their preview, never shown.
    for (const q of server.requests) {
      const query = new URL(q.url, server.origin).searchParams;
      const form = new URLSearchParams(q.body);
      for (const name of ['client_assertion', 'assertion']) {
        for (const assertion of [...form.getAll(name), ...query.getAll(name)])
          NEEDLES[`${name} …${assertion.slice(-12)}, past the preview`] = assertion.slice(8); // the signature tells them apart
      }
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    removeTempDirs();
  });

  it('ran fully: probes sent with the real secrets, token presented, report written', () => {
    expect(r.code, describeRun(r)).toBe(1); // the endpoint is not conformant
    const auth = server.requests.map((q) => q.headers.authorization ?? '');
    expect(auth).toContain(`Basic ${b64(`${formEncode(BASIC_ID)}:${formEncode(BASIC_SECRET)}`)}`);
    expect(auth).toContain(`Bearer ${ACCESS_TOKEN}`);
    expect(
      server.requests.some((q) => q.body.includes(`client_secret=${formEncode(POST_SECRET)}`)),
    ).toBe(true);
    // The query-credentials probe uses the client_secret_post client (src/probes/clients.ts bodySecretClient).
    expect(
      server.requests.some((q) => q.url.includes(`client_secret=${formEncode(POST_SECRET)}`)),
    ).toBe(true);
    expect(existsSync(path.join(r.outDir, 'html/index.html'))).toBe(true);
    // The previews are there: the tokens went through the recorder.
    const runJson = readFileSync(path.join(r.outDir, '.run/run.json'), 'utf8');
    expect(runJson).toContain(
      `${ACCESS_TOKEN.slice(0, 8)}...(redacted, ${ACCESS_TOKEN.length} chars)`,
    );
    // …and the secrets are named by their variables, so the curl lines still reproduce the requests.
    expect(runJson).toContain('$E2E_SECRET');
    expect(runJson).toContain('$E2E_POST_SECRET');
    expect(readRun(r).providers.reduce((n, p) => n + p.evidence.requestsSent, 0)).toBe(
      server.requests.length,
    );
  });

  it('the server echoed every credential back, and the grant assertion travelled in a URL', () => {
    expect(readRun(r).providers.map((p) => p.provider.name)).toEqual(['leaky', 'leaky-grant']);
    const get = server.requests.find(
      (q) => q.method === 'GET' && new URL(q.url, server.origin).searchParams.has('assertion'),
    );
    expect(get).toBeDefined();
    expect(Object.keys(NEEDLES).filter((k) => k.startsWith('assertion ')).length).toBeGreaterThan(
      5,
    );
    expect(
      Object.keys(NEEDLES).filter((k) => k.startsWith('client_assertion ')).length,
    ).toBeGreaterThan(5);
    // The echo is in the evidence, redacted: its shape is there, and the previews in place of the values.
    const runJson = readFileSync(path.join(r.outDir, '.run/run.json'), 'utf8');
    expect(runJson).toContain('x-echo-authorization');
    expect(runJson).toContain('error_description');
    expect(runJson).toContain(`${ID_TOKEN.slice(0, 8)}...(redacted, ${ID_TOKEN.length} chars)`);
  });

  it('the scanner finds what it looks for (raw, decoded base64, base64 at any alignment)', () => {
    expect(findLeaks('t', `x ${BASIC_SECRET} y`)).toContain('t: basic secret, raw');
    expect(
      findLeaks('t', `d("a.txt","${b64(`header\nAuthorization: ${ACCESS_TOKEN}\n`)}")`),
    ).toContain('t: access token, full');
    for (const prefix of ['', 'a', 'ab']) {
      expect(findLeaks('t', `<${b64(`${prefix}${POST_SECRET}tail`)}>`), prefix).toContain(
        't: post secret, raw (base64)',
      );
    }
    expect(findLeaks('t', `${ACCESS_TOKEN.slice(0, 8)}...(redacted, 80 chars)`)).toEqual([]);
  });

  it('leaks no secret and no token into stdout or stderr', () => {
    expect([...findLeaks('stdout', r.stdout), ...findLeaks('stderr', r.stderr)]).toEqual([]);
  });

  it('leaks no secret and no token into any file the run wrote', () => {
    const files = listFiles(r.outDir);
    const names = files.map((f) => path.relative(r.outDir, f));
    expect(names).toContain('.run/run.json');
    expect(names).toContain('html/index.html');
    expect(
      names.filter((n) => n.startsWith('allure-results/') && n.endsWith('-attachment.txt')).length,
    ).toBeGreaterThan(0);
    // The HTML report inlines its data as base64: the scan must reach into it (the preview is in an attachment).
    const html = readFileSync(path.join(r.outDir, 'html/index.html'), 'utf8');
    expect(html).not.toContain(ACCESS_TOKEN.slice(0, 8));
    expect(views(html).some((v) => v.includes(`${ACCESS_TOKEN.slice(0, 8)}...(redacted`))).toBe(
      true,
    );
    const leaks = files.flatMap((f) =>
      findLeaks(path.relative(r.outDir, f), readFileSync(f, 'utf8')),
    );
    // The report history is kept outside --out (reports/history, see reports/allurerc.mjs); the run appends to it.
    const history = path.join(REPO_ROOT, 'reports/history/history.jsonl');
    if (existsSync(history))
      leaks.push(...findLeaks('reports/history/history.jsonl', readFileSync(history, 'utf8')));
    expect(leaks).toEqual([]);
  });
});
