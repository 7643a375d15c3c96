/**
 * Child process of bench/run.ts: the embedded reference server (src/reference/server.ts, unchanged)
 * behind the latency proxy. Kept out of the measuring process so that the server's work
 * (oidc-provider, RS256 signing) and the proxy's timers do not share an event loop with the client
 * being measured — as with a real, remote token endpoint.
 *
 * The reference names its own URLs after the port it listens on (issuer, token endpoint, resource,
 * jwks_uri in its discovery metadata, the JWT `aud`). So that every one of them leads through the
 * proxy, this process hands startReference() an https.createServer whose server reports the proxy's
 * port from address(); the server really listens on another port, the proxy's target. Nothing in
 * src/ changes; the wrapper is removed again once the reference has started. Should that ever stop
 * working (the reference finding its port another way), the host falls back to pointing only
 * TC_REF_TOKEN_URL and TC_REF_RESOURCE_URL at the proxy, and says so (mode 'rewritten').
 *
 * IPC: sends { type: 'ready', env, proxyPort, oneWayDelayMs, mode } once; answers { type: 'stats' }
 * with { type: 'stats', stats } (counters since the previous request); { type: 'close' } shuts down.
 */
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { startLatencyProxy, type ProxyStats } from './latency-proxy.js';

export type HostMode = 'all' | 'rewritten';
export type HostMessage =
  | {
      type: 'ready';
      env: Record<string, string>;
      proxyPort: number;
      oneWayDelayMs: number;
      mode: HostMode;
    }
  | { type: 'stats'; stats: ProxyStats };
export type HostCommand = { type: 'stats' } | { type: 'close' };

const HOST = '127.0.0.1';
const oneWayDelayMs = Number(process.env['BENCH_ONE_WAY_DELAY_MS'] ?? 50);
const send = (m: HostMessage): void => {
  process.send?.(m);
};

let serverPort: number | undefined;
const proxy = await startLatencyProxy({
  targetHost: HOST,
  targetPort: () => serverPort,
  oneWayDelayMs,
});

type CreateServer = (...args: unknown[]) => https.Server;
const mutableHttps = https as unknown as { createServer: CreateServer };
const originalCreateServer = mutableHttps.createServer;
mutableHttps.createServer = (...args: unknown[]): https.Server => {
  const server = originalCreateServer(...args);
  const realAddress = server.address.bind(server);
  server.once('listening', () => {
    serverPort = (realAddress() as AddressInfo).port;
  });
  server.address = (): AddressInfo | string | null => {
    const a = realAddress();
    return a && typeof a === 'object' ? { ...a, port: proxy.port } : a;
  };
  return server;
};
syncBuiltinESMExports();

const { startReference } = await import('../src/reference/server.js');
let reference: Awaited<ReturnType<typeof startReference>>;
try {
  reference = await startReference();
} finally {
  mutableHttps.createServer = originalCreateServer;
  syncBuiltinESMExports();
}

const env = { ...reference.env };
let mode: HostMode = 'all';
const tokenUrl = new URL(env['TC_REF_TOKEN_URL'] ?? '');
if (tokenUrl.port !== String(proxy.port)) {
  mode = 'rewritten';
  serverPort = Number(tokenUrl.port);
  for (const name of ['TC_REF_TOKEN_URL', 'TC_REF_RESOURCE_URL']) {
    const u = new URL(env[name] ?? '');
    u.port = String(proxy.port);
    env[name] = u.toString();
  }
}

let closing = false;
const shutdown = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  await proxy.close();
  await reference.close();
  process.exit(0);
};

process.on('message', (m: HostCommand) => {
  if (m.type === 'stats') send({ type: 'stats', stats: proxy.takeStats() });
  else if (m.type === 'close') void shutdown();
});
// The parent went away without saying so: do not linger.
process.on('disconnect', () => void shutdown());

send({ type: 'ready', env, proxyPort: proxy.port, oneWayDelayMs, mode });
