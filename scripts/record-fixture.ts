/**
 * Re-records test/fixtures/reference*-evidence.json: one observe() of the embedded reference per descriptor, redacted
 * as always, with the run's random port normalised. The checks' unit tests apply defects to it.
 * Run after the probes or the reference change: `npx tsx scripts/record-fixture.ts`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDescriptor, resolveProvider } from '../src/descriptor/load.js';
import type { ClientDescriptor } from '../src/descriptor/types.js';
import { observe } from '../src/observe.js';
import { startReference } from '../src/reference/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ref = await startReference();
try {
  for (const name of ['reference', 'reference-jwt-bearer', 'reference-authorization-code'])
    await record(name);
} finally {
  await ref.close();
}

function scrubClient(c: ClientDescriptor): ClientDescriptor {
  return {
    ...c,
    auth: {
      ...c.auth,
      ...(c.auth.secret ? { secret: '(not recorded)' } : {}),
      ...(c.auth.assertion?.key
        ? {
            assertion: {
              ...c.auth.assertion,
              key: { kind: c.auth.assertion.key.kind, material: '(not recorded)' },
            },
          }
        : {}),
      ...(c.auth.tls ? { tls: { ...c.auth.tls, key: '(not recorded)' } } : {}),
    },
  };
}

async function record(name: string): Promise<void> {
  const provider = resolveProvider(readDescriptor(path.join(root, `providers/${name}.yaml`)), {
    ...process.env,
    ...ref.env,
  });
  const evidence = await observe(provider);
  const port = new URL(provider.tokenEndpoint).port;
  const tmp = path.dirname(ref.env['TC_REF_CA_FILE'] ?? '/nowhere/x');
  const normalise = (text: string) =>
    text.split(`127.0.0.1:${port}`).join('127.0.0.1:8443').split(tmp).join('/tmp/tc-ref');
  const publicProvider = {
    ...provider,
    file: `providers/${name}.yaml`,
    tls: { ...provider.tls, caFile: '/tmp/tc-ref/ca.pem' },
    // Key material and secrets never go into a fixture.
    grant: {
      ...provider.grant,
      ...(provider.grant.assertion
        ? {
            assertion: {
              ...provider.grant.assertion,
              key: { kind: provider.grant.assertion.key.kind, material: '(not recorded)' },
            },
          }
        : {}),
    },
    clients: provider.clients.map(scrubClient),
    // The test user's password and a supplied refresh token never go into a fixture either.
    ...(provider.authorization
      ? {
          authorization: {
            ...provider.authorization,
            user: { username: provider.authorization.user.username, password: '(not recorded)' },
          },
        }
      : {}),
    ...(provider.refresh?.token
      ? { refresh: { ...provider.refresh, token: '(not recorded)' } }
      : {}),
    ...(provider.introspection
      ? {
          introspection: {
            ...provider.introspection,
            client: scrubClient(provider.introspection.client),
          },
        }
      : {}),
    ...(provider.dpop
      ? { dpop: { ...provider.dpop, client: scrubClient(provider.dpop.client) } }
      : {}),
    secrets: [],
  };
  const fixture = {
    $comment:
      'Recorded from the embedded reference (oidc-provider) by scripts/record-fixture.ts, redacted by the runner; port and temp paths normalised. The conformant baseline of test/checks.',
    provider: publicProvider,
    evidence,
  };
  writeFileSync(
    path.join(root, `test/fixtures/${name}-evidence.json`),
    `${normalise(JSON.stringify(fixture, null, 1))}\n`,
  );
  process.stdout.write(`${name}: recorded ${Object.keys(evidence.exchanges).length} exchanges\n`);
}
