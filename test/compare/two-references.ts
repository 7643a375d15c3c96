/**
 * Two embedded references side by side, as a migration engineer would meet them: each one its own
 * oidc-provider with its own port, keys and secrets, described by its own descriptor (a copy of
 * providers/reference.yaml whose ${env:…} names carry the side's prefix, so both can be resolved in
 * one environment). The descriptors differ only where the servers' promises differ.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import {
  startReference,
  type ReferenceOptions,
  type ReferenceServer,
} from '../../src/reference/server.js';
import { REPO_ROOT } from '../e2e/run-cli.js';

export interface ReferenceSide {
  /** The descriptor file written for this side. */
  file: string;
  server: ReferenceServer;
  /** The side's variables (prefixed), for the environment of the process that observes it. */
  env: Record<string, string>;
}

export interface SideSpec {
  /** Provider name (also the descriptor's file stem). */
  name: string;
  /** Variable prefix replacing TC_REF_, e.g. TC_BASE_. */
  prefix: string;
  options: ReferenceOptions;
  /** Changes to the descriptor's `expect` block (the promises this side makes). */
  expect?: Record<string, unknown>;
}

type Descriptor = Record<string, unknown> & {
  clients: { auth: { method: string } }[];
  expect: Record<string, unknown>;
  limits: Record<string, unknown>;
};

/**
 * The reference descriptor for one side. The client_secret_post client comes first: it is then the
 * client every secret probe uses, so "a wrong secret" travels in the request body.
 */
export function referenceDescriptor(spec: SideSpec, dir: string): string {
  const text = readFileSync(path.join(REPO_ROOT, 'providers/reference.yaml'), 'utf8')
    .split('TC_REF_')
    .join(spec.prefix);
  const d = parse(text) as Descriptor;
  delete d['embedded'];
  d['name'] = spec.name;
  d['title'] = `${spec.name} (oidc-provider)`;
  const post = d.clients.findIndex((c) => c.auth.method === 'client_secret_post');
  d.clients.unshift(...d.clients.splice(post, 1));
  d.expect = {
    ...d.expect,
    ...(spec.options.accessTokenTtlSeconds
      ? { expiresIn: spec.options.accessTokenTtlSeconds }
      : {}),
    ...spec.expect,
  };
  // Lifetimes of minutes are not waited out: the expiry-at-resource probes are skipped on both sides alike.
  d.limits = { ...d.limits, maxExpiryWaitSeconds: 30 };
  const file = path.join(dir, `${spec.name}.yaml`);
  writeFileSync(file, stringify(d));
  return file;
}

export async function startSides(specs: SideSpec[]): Promise<{
  sides: ReferenceSide[];
  env: Record<string, string>;
  secrets: string[];
  dir: string;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-compare-refs-'));
  const sides: ReferenceSide[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(sides.map((s) => s.server.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const spec of specs) {
      const server = await startReference(spec.options);
      const env = Object.fromEntries(
        Object.entries(server.env).map(([k, v]) => [k.replace(/^TC_REF_/, spec.prefix), v]),
      );
      sides.push({ file: referenceDescriptor(spec, dir), server, env });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    sides,
    env: Object.assign({}, ...sides.map((s) => s.env)) as Record<string, string>,
    secrets: sides.flatMap((s) => s.server.secrets),
    dir,
    close,
  };
}

/** The migration of the comparison's end-to-end test: exactly five behaviour changes. */
export const BASELINE: SideSpec = {
  name: 'current',
  prefix: 'TC_BASE_',
  options: { accessTokenTtlSeconds: 300, accessTokenFormat: 'opaque' },
  expect: { tokenFormat: 'opaque', scopeEcho: 'always' },
};
export const CANDIDATE: SideSpec = {
  name: 'candidate',
  prefix: 'TC_CAND_',
  options: {
    accessTokenTtlSeconds: 60,
    accessTokenFormat: 'jwt',
    scopeEcho: false,
    refreshToken: true,
    wrongBodySecretStatus: 400,
  },
  expect: { tokenFormat: 'jwt', scopeEcho: 'when-different', refreshToken: 'allowed' },
};
