/**
 * A forward proxy on 127.0.0.1 for the proxy tests: HTTP CONNECT only (node:http's 'connect' event
 * and net.connect), counting the tunnels it opens. It tunnels to loopback targets only, so a test
 * can never reach the outside through it.
 */
import { createServer, STATUS_CODES } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` (no credentials). */
  url: string;
  port: number;
  /** Tunnels opened (200 sent), by target host:port, in order. */
  tunnels: string[];
  /** Every CONNECT received, whatever the answer. */
  connects: number;
  /** The Proxy-Authorization header of each CONNECT, as received. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Answer every CONNECT with this status (e.g. 407) instead of opening a tunnel. */
  answer?: number;
  /** Accept CONNECT and never answer. */
  silent?: boolean;
  /** Open tunnels only for these credentials; 407 otherwise. */
  credentials?: { user: string; password: string };
}

const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/;

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const proxy: Omit<ConnectProxy, 'url' | 'port' | 'close'> = {
    tunnels: [],
    connects: 0,
    authorizations: [],
  };
  const refuse = (socket: Socket, status: number): void => {
    const challenge = status === 407 ? 'Proxy-Authenticate: Basic realm="test proxy"\r\n' : '';
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${challenge}Content-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  };
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('CONNECT only');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    proxy.connects += 1;
    proxy.authorizations.push(req.headers['proxy-authorization']);
    client.on('error', () => undefined);
    if (options.silent) return;
    if (options.answer !== undefined) return refuse(client, options.answer);
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
      if (req.headers['proxy-authorization'] !== expected) return refuse(client, 407);
    }
    const target = req.url ?? '';
    if (!LOOPBACK.test(target)) return refuse(client, 403);
    const port = Number(target.slice(target.lastIndexOf(':') + 1));
    const host = target.slice(0, target.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    const upstream = connect(port, host, () => {
      proxy.tunnels.push(target);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => (client.writable ? refuse(client, 502) : client.destroy()));
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}
