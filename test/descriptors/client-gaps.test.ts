/**
 * Descriptor gaps real servers exposed (issue 12 §6): a client assertion's aud as any string, a
 * client certificate on a client of any auth method (private_key_jwt over mutual TLS, FAPI style),
 * presented on a real TLS connection, and a public client that sends no client_id.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { ProviderSession } from '../../src/http/runner.js';
import { mtlsClient } from '../../src/probes/clients.js';
import { PROBES } from '../../src/probes/ids.js';
import { assertionAudience, grantForm, withClientAuth } from '../../src/probes/request.js';
import { createCa, issueCert, issueServerCert } from '../../src/reference/certs.js';
import { closest, didYouMean, editDistance } from '../../src/text/suggest.js';

let dir: string;
let server: Server;
let origin: string;
/** The subject CN of the client certificate each request presented ('' for none). */
const presented: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tc-client-gaps-'));
  const ca = await createCa();
  const client = await issueCert(ca, { commonName: 'fapi-client', usage: 'client' });
  const serverCert = await issueServerCert(ca, { ips: ['127.0.0.1'] });
  await writeFile(path.join(dir, 'ca.pem'), ca.certPem);
  await writeFile(path.join(dir, 'client.crt'), client.certPem);
  await writeFile(path.join(dir, 'client.key'), client.keyPem);
  await writeFile(
    path.join(dir, 'ec.pem'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
  // Asks for a certificate, requires none: records what each request presented.
  server = createServer(
    {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      ca: [ca.certPem],
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate() as PeerCertificate | undefined;
      presented.push(String(peer?.subject?.CN ?? ''));
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_request"}');
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function load(clients: string, extra = ''): Promise<Provider> {
  const file = path.join(dir, `d-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `name: gaps\ntitle: Gaps\ntokenEndpoint: ${origin}/token\nissuer: https://issuer.example.test\nclients:\n${clients}\ngrant: { type: client_credentials }\nexpect: { tokenType: Bearer }\ntls: { caFile: ca.pem }\n${extra}`,
  );
  return resolveProvider(readDescriptor(file), {});
}

const PKJWT = (extra: string) =>
  `  - id: fapi\n    auth: { method: private_key_jwt, alg: ES256, key: ec.pem${extra} }\n`;

describe('the client assertion audience', () => {
  it('token-endpoint and issuer keep their meaning; any other string is sent as it is', async () => {
    for (const [declared, aud] of [
      ['', () => `${origin}/token`],
      [', audience: token-endpoint', () => `${origin}/token`],
      [', audience: issuer', () => 'https://issuer.example.test'],
      [', audience: https://login.example.test/oauth2', () => 'https://login.example.test/oauth2'],
      [', audience: key', () => 'key'],
    ] as const) {
      const p = await load(PKJWT(declared));
      const c = p.clients[0]!;
      expect(assertionAudience(p, c), declared).toBe(aud());
      const req = await withClientAuth(p, c, { method: 'POST', url: p.tokenEndpoint, form: [] });
      expect(decodeJwt(req.assertion ?? '').aud, declared).toBe(aud());
    }
  });
});

describe('a client certificate on any auth method', () => {
  it('private_key_jwt with tls: the certificate is loaded and bound tokens are checked', async () => {
    const p = await load(
      `${PKJWT('')}    tls: { certFile: client.crt, keyFile: client.key, certificateBoundTokens: true }\n`,
    );
    const c = p.clients[0]!;
    expect(c.auth.assertion?.alg).toBe('ES256');
    expect(c.auth.tls).toMatchObject({ certFile: path.join(dir, 'client.crt'), boundTokens: true });
    // Not an mTLS-authenticating client: without its certificate it may rightly get a token.
    expect(mtlsClient(p)).toBeUndefined();
    // The key of the certificate is a secret like the others.
    expect(p.secrets.some((s) => s.value.includes('PRIVATE KEY'))).toBe(true);
  });

  it('presents the certificate on the connection, with the assertion in the body', async () => {
    const p = await load(
      `${PKJWT('')}    tls: { certFile: client.crt, keyFile: client.key }\n  - id: plain\n    auth: { method: private_key_jwt, alg: ES256, key: ec.pem }\n`,
    );
    const session = new ProviderSession(p);
    try {
      for (const c of p.clients) {
        const req = await withClientAuth(p, c, {
          method: 'POST',
          url: p.tokenEndpoint,
          form: await grantForm(p, undefined),
        });
        expect(req.form?.some(([k]) => k === 'client_assertion')).toBe(true);
        const ex = await session.send(PROBES.token(p.clients.indexOf(c)), 'token', req);
        expect(ex.response?.status, JSON.stringify(ex.transportError)).toBe(400);
      }
    } finally {
      await session.close();
    }
    expect(presented.slice(-2)).toEqual(['fapi-client', '']);
  });
});

describe('a public client without client_id', () => {
  it('sendClientId: false leaves client_id out; method none sends it by default', async () => {
    const p = await load(
      `  - id: quiet\n    auth: { method: none }\n    sendClientId: false\n  - id: loud\n    auth: { method: none }\n`,
    );
    const [quiet, loud] = p.clients;
    const form = async (c: typeof quiet) =>
      (await withClientAuth(p, c!, { method: 'POST', url: p.tokenEndpoint, form: [] })).form;
    expect(quiet?.sendClientId).toBe(false);
    expect(await form(quiet)).toEqual([]);
    expect(await form(loud)).toEqual([['client_id', 'loud']]);
  });
});

describe('did you mean', () => {
  it('measures edits and suggests only near misses', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('tokenEnpoint', ['tokenEndpoint', 'issuer'])).toBe('tokenEndpoint');
    expect(closest('timeoutMS', ['timeoutMs', 'maxRequests'])).toBe('timeoutMs');
    expect(closest('colour', ['name', 'title', 'clients'])).toBeUndefined();
    expect(closest('refrence', ['reference', 'reference-jwt-bearer'])).toBe('reference');
    expect(didYouMean('jwt.tpy', ['jwt.typ', 'jwt.iss'])).toBe(' (did you mean jwt.typ?)');
    expect(didYouMean('xyz', ['jwt.typ'])).toBe('');
  });
});
