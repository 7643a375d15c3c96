/**
 * A TCP proxy that adds latency on loopback, for the benchmark (bench/run.ts).
 *
 * Latency model: a link with a constant ONE-WAY DELAY (default 50 ms) in each direction and
 * unlimited bandwidth. Every chunk read from one side is written to the other side `oneWayDelayMs`
 * after it was read; chunks keep their order (timers of equal duration fire in the order they were
 * set), and a FIN or a reset is passed on after the same delay, behind the data that preceded it.
 * Chunks do not queue behind each other: two chunks read 1 ms apart leave 1 ms apart.
 *
 * What that costs a client: every round trip gains 2 × oneWayDelayMs = 100 ms. An HTTPS request on a
 * kept-alive connection is one round trip (≥ 100 ms added); on a new connection the TLS 1.3 handshake
 * adds one more (≥ 200 ms in all). The TCP handshake with the proxy itself is not delayed (the
 * kernel completes it before the proxy sees the connection).
 *
 * TLS passes through untouched: the proxy never looks inside the bytes. It listens on 127.0.0.1,
 * the address the reference certificate is issued for, so certificate verification still holds.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface LatencyProxyOptions {
  /** Where the proxy forwards to; the port may be known only later (read at each new connection). */
  targetHost: string;
  targetPort: number | (() => number | undefined);
  /** Delay added to each chunk in each direction. Default 50 ms (so ≥ 100 ms per round trip). */
  oneWayDelayMs?: number;
  /** Listening address; default 127.0.0.1. */
  host?: string;
}

export interface ProxyStats {
  /** Client connections accepted (each one is a TCP connection and, here, a TLS handshake). */
  connections: number;
  /** Bytes from clients to the target, and back. */
  bytesUp: number;
  bytesDown: number;
}

export interface LatencyProxy {
  port: number;
  oneWayDelayMs: number;
  /** Counters since the last call (or since start), then reset to zero. */
  takeStats(): ProxyStats;
  close(): Promise<void>;
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const delay = options.oneWayDelayMs ?? 50;
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stats: ProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0 };

  /** Runs `fn` after the one-way delay; pending ones are cleared on close. */
  const later = (fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, delay);
    timers.add(t);
  };

  /** Forwards `from` → `to` with the delay: data, then the FIN, or a reset. */
  const forward = (from: Socket, to: Socket, count: (n: number) => void): void => {
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      later(() => {
        if (!to.destroyed && !to.writableEnded) to.write(chunk);
      });
    });
    // With allowHalfOpen a FIN closes only one direction, as it does end to end.
    from.on('end', () =>
      later(() => {
        if (!to.destroyed && !to.writableEnded) to.end();
      }),
    );
    from.on('error', () => later(() => to.destroy()));
    // A close without FIN or error (destroyed locally): take the other side down too.
    from.on('close', () =>
      later(() => {
        if (!to.destroyed && !to.writableEnded) to.end();
      }),
    );
  };

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections += 1;
    const port =
      typeof options.targetPort === 'function' ? options.targetPort() : options.targetPort;
    if (port === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({
      host: options.targetHost,
      port,
      allowHalfOpen: true,
      noDelay: true,
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    forward(client, upstream, (n) => (stats.bytesUp += n));
    forward(upstream, client, (n) => (stats.bytesDown += n));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    oneWayDelayMs: delay,
    takeStats: () => {
      const out = stats;
      stats = { connections: 0, bytesUp: 0, bytesDown: 0 };
      return out;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
