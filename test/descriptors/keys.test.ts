/**
 * Keys and certificates named by a descriptor are read and checked when it loads: a key that is no
 * key, does not fit its algorithm, or does not match its certificate stops the run with one line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescriptorError, readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import { createCa, issueCert } from '../../src/reference/certs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tc-keys-'));
  const ca = await createCa();
  const a = await issueCert(ca, { commonName: 'client-a', usage: 'client' });
  const b = await issueCert(ca, { commonName: 'client-b', usage: 'client' });
  await writeFile(path.join(dir, 'a.crt'), a.certPem);
  await writeFile(path.join(dir, 'a.key'), a.keyPem);
  await writeFile(path.join(dir, 'b.key'), b.keyPem);
  await writeFile(
    path.join(dir, 'ec.pem'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
  await writeFile(
    path.join(dir, 'rsa.pem'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs1',
      format: 'pem',
    }),
  );
  await writeFile(
    path.join(dir, 'public.jwk'),
    JSON.stringify(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
    ),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(auth: string): Promise<unknown> {
  const file = path.join(dir, `d-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `name: keys\ntitle: Keys\ntokenEndpoint: https://auth.example.test/token\nclients:\n  - id: c1\n    auth: ${auth}\ngrant: { type: client_credentials }\nexpect: { tokenType: Bearer }\n`,
  );
  try {
    return resolveProvider(readDescriptor(file), {});
  } catch (e) {
    return e;
  }
}

describe('key and certificate files', () => {
  it.each([
    [
      'a certificate whose key does not match',
      '{ method: tls_client_auth, certFile: a.crt, keyFile: b.key }',
      'clients[0].auth.keyFile',
      /does not match the certificate/,
    ],
    [
      'a certificate file that is a key',
      '{ method: tls_client_auth, certFile: a.key, keyFile: a.key }',
      'clients[0].auth.certFile',
      /not a PEM certificate/,
    ],
    [
      'a key file that does not exist',
      '{ method: private_key_jwt, key: nope.pem }',
      'clients[0].auth.key',
      /cannot read the key file .*no such file/,
    ],
    [
      'an EC key for RS256',
      '{ method: private_key_jwt, key: ec.pem, alg: RS256 }',
      'clients[0].auth.key',
      /a ec key cannot sign RS256/,
    ],
    [
      'a public JWK',
      '{ method: private_key_jwt, key: public.jwk, alg: ES256 }',
      'clients[0].auth.key',
      /public key/,
    ],
    [
      'a certificate as the signing key',
      '{ method: private_key_jwt, key: a.crt, alg: ES256 }',
      'clients[0].auth.key',
      /not a private key/,
    ],
  ])('%s → one line naming the field', async (_name, auth, field, problem) => {
    const e = await load(auth);
    expect(e).toBeInstanceOf(DescriptorError);
    const err = e as DescriptorError;
    expect(err.field).toBe(field);
    expect(err.message).toMatch(problem);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('loads a matching certificate and key, and keys in PKCS1 PEM, PKCS8 PEM and JWK form', async () => {
    const ok = await load('{ method: tls_client_auth, certFile: a.crt, keyFile: a.key }');
    expect(ok).not.toBeInstanceOf(Error);
    const rsa = await load('{ method: private_key_jwt, key: rsa.pem, kid: k1 }');
    expect(rsa).toMatchObject({
      clients: [
        {
          label: 'private_key_jwt RS256',
          auth: { assertion: { alg: 'RS256', kid: 'k1', key: { kind: 'pem' } } },
        },
      ],
    });
    // The key is a secret: the provider knows it, so the runner redacts it wherever it might appear.
    expect((rsa as { secrets: unknown[] }).secrets.length).toBeGreaterThan(0);
  });
});
