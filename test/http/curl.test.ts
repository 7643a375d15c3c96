/**
 * The curl line in the report must reproduce the request: run it, with the secrets taken from the
 * environment as the line says, against the real reference server, and get the same answer.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { ProviderSession } from '../../src/http/runner.js';
import { withClientAuth } from '../../src/probes/request.js';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';

let ref: ReferenceServer;
let provider: Provider;

beforeAll(async () => {
  ref = await startReference();
  provider = resolveProvider(readDescriptor('providers/reference.yaml'), {
    ...process.env,
    ...ref.env,
  });
});
afterAll(async () => {
  await ref.close();
});

// Asynchronous: the reference server runs in this process and must keep answering meanwhile.
async function runCurl(line: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['-c', line], {
    env: { ...process.env, ...ref.env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return stdout;
}

describe('curl reproduction lines', () => {
  it.each([0, 1])(
    'reproduce a token request of client %i (Basic with a secret that needs form-encoding, and client_secret_post)',
    async (i) => {
      const session = new ProviderSession(provider);
      const client = provider.clients[i]!;
      const ex = await session.send(
        'token.0',
        'test',
        await withClientAuth(provider, client, {
          method: 'POST',
          url: provider.tokenEndpoint,
          form: [
            ['grant_type', 'client_credentials'],
            ['scope', 'api:read'],
          ],
        }),
      );
      await session.close();
      expect(ex.response?.status).toBe(200);
      // The line names the secret's variable, never its value.
      expect(ex.curl).toContain(
        i === 0 ? '$TC_REF_BASIC_CLIENT_SECRET' : '$TC_REF_POST_CLIENT_SECRET',
      );
      expect(ex.curl).not.toContain(client.auth.secret);
      const out = await runCurl(ex.curl);
      expect(out).toMatch(/^HTTP\/[\d.]+ 200/);
      expect(out).toMatch(/"access_token"/);
    },
  );

  it('reproduces a refusal as well (wrong secret → 401 invalid_client)', async () => {
    const session = new ProviderSession(provider);
    const client = provider.clients[0]!;
    const wrong = { ...client, auth: { ...client.auth, secret: 'not-the-secret' } };
    const ex = await session.send(
      'token.0',
      'test',
      await withClientAuth(provider, wrong, {
        method: 'POST',
        url: provider.tokenEndpoint,
        form: [['grant_type', 'client_credentials']],
      }),
    );
    await session.close();
    expect(ex.response?.status).toBe(401);
    expect(await runCurl(ex.curl)).toMatch(/^HTTP\/[\d.]+ 401/);
  });
});
