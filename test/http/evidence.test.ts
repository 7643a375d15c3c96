/**
 * Evidence is the wire, live: a token endpoint on 127.0.0.1 whose JSON text says what its parsed value
 * does not (`"expires_in": 3600.0`, a repeated member), and a jwt-bearer GET probe whose URL carries
 * the grant assertion, echoed back by the server. Descriptor → observe() → evaluate(), as a user's run.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type Finding } from '../../src/evaluate.js';
import { previewOf } from '../../src/http/redact.js';
import { observe } from '../../src/observe.js';
import { startHttpsServer, type TestServer } from '../e2e/https-fixture.js';
import { loadProvider } from '../robustness/servers.js';

const TOKEN = 'AT-evidence.Zq9xW3vB7nK2mP5rT8yL4cF6hJ1dS0gA_0123456789';
const SECRET = 'evidence secret/+&=';
const LIMITS = { timeoutMs: 2000, maxExpiryWaitSeconds: 0, requestsPerSecond: 100 };

let server: TestServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tc-evidence-'));
  server = await startHttpsServer((req, res) => {
    // Every answer is a 200 token response, written by hand: JSON.stringify could not write these.
    const mode = req.url.split('/')[1];
    const extra = mode === 'duplicate' ? ',"expires_in":60' : '';
    const literal = mode === 'raw-literal' ? '3600.0' : '3600';
    // The whole request echoed back, in a header and in the body (the GET probe's URL included).
    const echo = JSON.stringify({
      method: req.method,
      url: req.url,
      body: req.body,
      authorization: req.headers.authorization ?? null,
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'x-echo-url': req.url,
    });
    res.end(
      `{"access_token":"${TOKEN}",  "token_type":"Bearer","expires_in":${literal}${extra},"echo":${echo}}`,
    );
  });
  await writeFile(path.join(dir, 'ca.pem'), server.caPem);
  await writeFile(
    path.join(dir, 'grant-key.pem'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function secretDescriptor(name: string, mode: string): Record<string, unknown> {
  return {
    name,
    title: `evidence: ${name}`,
    tokenEndpoint: `${server.origin}/${mode}/token`,
    clients: [
      {
        id: 'evidence-client',
        auth: { method: 'client_secret_basic', secret: '${env:TC_EVIDENCE_SECRET}' },
      },
    ],
    grant: { type: 'client_credentials' },
    scopes: { request: 'api:read' },
    expect: { tokenType: 'Bearer' },
    limits: LIMITS,
    tls: { caFile: path.join(dir, 'ca.pem') },
  };
}

const finding = (findings: Finding[], id: string): Finding => {
  const f = findings.find((x) => x.checkId === id);
  if (!f) throw new Error(`no finding ${id}`);
  return f;
};

describe('the recorded body is the redacted wire text', () => {
  it('"expires_in": 3600.0 fails response.expires-in-integer, with the literal in the message and in the body', async () => {
    const p = await loadProvider(dir, secretDescriptor('raw-literal', 'raw-literal'), {
      TC_EVIDENCE_SECRET: SECRET,
    });
    const evidence = await observe(p);
    const res = evidence.exchanges['token.0']?.response;
    expect(res?.json).toMatchObject({ expires_in: 3600 });
    expect(res?.numberLiterals).toEqual({ expires_in: '3600.0' });
    expect(res?.duplicateMembers).toEqual([]);
    // As it came (spacing included), the token a preview.
    expect(
      res?.body.startsWith(
        `{"access_token":"${previewOf(TOKEN)}",  "token_type":"Bearer","expires_in":3600.0,"echo":`,
      ),
    ).toBe(true);
    expect(res?.body).not.toContain(TOKEN);

    const findings = evaluate(p, evidence, { strict: false });
    expect(finding(findings, 'response.expires-in-integer')).toMatchObject({
      outcome: 'fail',
      message:
        'expires_in was sent as the literal 3600.0, a JSON number but not an integer literal (1*DIGIT, RFC 6749 Appendix A.14)',
    });
    expect(finding(findings, 'response.unique-members').outcome).toBe('pass');
    // The echoed Basic credentials (in the body's echo) are not recorded either.
    expect(JSON.stringify(evidence)).not.toContain(
      Buffer.from(`evidence-client:${encodeURIComponent(SECRET).replace(/%20/g, '+')}`).toString(
        'base64',
      ),
    );
  });

  it('a repeated member is recorded and fails response.unique-members; JSON.parse kept the last value', async () => {
    const p = await loadProvider(dir, secretDescriptor('duplicate', 'duplicate'), {
      TC_EVIDENCE_SECRET: SECRET,
    });
    const evidence = await observe(p);
    const res = evidence.exchanges['token.0']?.response;
    expect(res?.duplicateMembers).toEqual(['expires_in']);
    expect(res?.numberLiterals).toEqual({ expires_in: '60' });
    expect(res?.body).toContain('"expires_in":3600,"expires_in":60');
    const findings = evaluate(p, evidence, { strict: false });
    expect(finding(findings, 'response.unique-members')).toMatchObject({
      outcome: 'fail',
      message: 'the token response repeats "expires_in"; each response parameter may occur once',
    });
    expect(finding(findings, 'response.expires-in-integer').outcome).toBe('pass');
  });
});

describe('a grant assertion in the URL of the GET probe', () => {
  it('is known to the redactor before the URL and curl line are recorded, and scrubbed from the echo', async () => {
    const before = server.requests.length;
    const p = await loadProvider(
      dir,
      {
        name: 'get-assertion',
        title: 'evidence: jwt-bearer GET',
        tokenEndpoint: `${server.origin}/ok/token`,
        clients: [{ id: 'public-client', auth: { method: 'none' } }],
        grant: {
          type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: {
            issuer: 'evidence-issuer',
            alg: 'ES256',
            key: path.join(dir, 'grant-key.pem'),
          },
        },
        expect: { tokenType: 'Bearer' },
        limits: LIMITS,
        tls: { caFile: path.join(dir, 'ca.pem') },
      },
      {},
    );
    const evidence = await observe(p);
    const get = server.requests.slice(before).find((r) => r.method === 'GET');
    const assertion = new URL(get?.url ?? '/', server.origin).searchParams.get('assertion');
    expect(assertion).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);

    const ex = evidence.exchanges['grant.get'];
    expect(ex?.request.url).toContain(`assertion=${previewOf(assertion ?? '')}`);
    expect(ex?.request.assertion?.payload['iss']).toBe('evidence-issuer');
    expect(ex?.curl).not.toContain(assertion);
    expect(ex?.response?.headers['x-echo-url']?.[0]).toContain(previewOf(assertion ?? ''));
    // Not in full, nor anything past its preview, anywhere in the evidence.
    const all = JSON.stringify(evidence);
    expect(all).not.toContain(assertion?.slice(8));
    expect(all).not.toContain(TOKEN.slice(8));
  });
});
