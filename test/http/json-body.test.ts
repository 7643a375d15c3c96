/**
 * A service that takes JSON (Federated Directory's jwt-bearer endpoint) gets its token request as a
 * JSON object, the assertion still redacted in the record and left as $ASSERTION in the curl line.
 */
import { createServer, type Server } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import { observe } from '../../src/observe.js';
import { createCa, issueServerCert } from '../../src/reference/certs.js';

let server: Server;
let dir: string;
const seen: { type: string | undefined; body: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tc-json-'));
  const ca = await createCa();
  const cert = await issueServerCert(ca, { ips: ['127.0.0.1'] });
  await writeFile(path.join(dir, 'ca.pem'), ca.certPem);
  await writeFile(
    path.join(dir, 'issuer.pem'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ type: req.headers['content-type'], body });
      res.writeHead(400, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end('{"error":"invalid_request"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await writeFile(
    path.join(dir, 'fd.yaml'),
    [
      'name: json-body',
      'title: JSON body',
      `tokenEndpoint: https://127.0.0.1:${port}/token`,
      'clients: [{ id: fd-client, auth: { method: none } }]',
      'grant:',
      '  type: urn:ietf:params:oauth:grant-type:jwt-bearer',
      '  assertion: { issuer: my-issuer, alg: RS256, key: issuer.pem, audience: key, claims: { scope: [directoryKey] } }',
      '  bodyEncoding: json',
      'expect: { tokenType: Bearer }',
      'limits: { requestsPerSecond: 100 }',
      'tls: { caFile: ca.pem }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

describe('bodyEncoding: json', () => {
  it('sends the grant as a JSON object with the assertion the descriptor describes', async () => {
    const provider = resolveProvider(readDescriptor(path.join(dir, 'fd.yaml')), {});
    const evidence = await observe(provider);
    const first = seen[0];
    expect(first?.type).toBe('application/json');
    const body = JSON.parse(first?.body ?? '{}') as Record<string, string>;
    expect(body['grant_type']).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = JSON.parse(
      Buffer.from(body['assertion']?.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: 'my-issuer',
      sub: 'my-issuer',
      aud: 'key',
      scope: ['directoryKey'],
    });
    const ex = evidence.exchanges['token.0'];
    // The record keeps the JSON shape, the assertion only as a preview, its claims decoded.
    expect(ex?.request.body).toMatch(
      /^\{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"eyJ[\w-]{5}\.\.\.\(redacted, \d+ chars\)"/,
    );
    expect(ex?.request.assertion?.payload).toMatchObject({ iss: 'my-issuer', aud: 'key' });
    expect(ex?.curl).toContain(`"assertion":"'"$ASSERTION"'"`);
    expect(ex?.curl).not.toContain(body['assertion']);
  });
});
