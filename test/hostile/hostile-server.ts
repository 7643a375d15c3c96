/**
 * A small hostile token endpoint on 127.0.0.1: TLS with a CA generated at run time, and HTTP/1.1
 * written by hand on the socket, so that an answer can be anything a server can send — header
 * values with control bytes, thousands of header fields, a body that trickles or stops half-way,
 * invalid UTF-8 — which node:http would refuse to produce. By default every request gets a
 * conformant-looking token response; `answer` is swapped between runs to mutate it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { createCa, issueServerCert } from '../../src/reference/certs.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}

/** What the server sends: the status line, header lines (any bytes), and the body, delivered as told. */
export interface Answer {
  status: number;
  headers: [string, string | Buffer][];
  body: Buffer;
  /** Omit Content-Length (the body ends when the connection closes). */
  noLength?: boolean;
  /** Send the body `bytes` at a time, one piece every `everyMs`. */
  trickle?: { bytes: number; everyMs: number };
  /** Destroy the connection after this many body bytes. */
  stopAfter?: number;
}

export type Answerer = (req: SeenRequest) => Answer;

/** A token response a conformant server could send (RFC 6749 §5.1): JSON, no-store, a fresh token. */
export function conformantAnswer(): Answer {
  const body = JSON.stringify({
    access_token: randomBytes(24).toString('base64url'),
    token_type: 'Bearer',
    expires_in: 300,
  });
  return {
    status: 200,
    headers: [
      ['Content-Type', 'application/json; charset=utf-8'],
      ['Cache-Control', 'no-store'],
      ['Pragma', 'no-cache'],
    ],
    body: Buffer.from(body),
  };
}

export interface HostileServer {
  /** https://127.0.0.1:<port>/token */
  tokenUrl: string;
  /** PEM file of the run-time CA: name it in the descriptor's tls.caFile. */
  caFile: string;
  /** How the next requests are answered. */
  answer: Answerer;
  requests: SeenRequest[];
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads one request (head and Content-Length body) from the socket. */
function readRequest(socket: TLSSocket, onRequest: (req: SeenRequest) => void): void {
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end < 0) return;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const [method = '', url = ''] = (lines[0] ?? '').split(' ');
    const headers = lines
      .slice(1)
      .map((l): [string, string] => [
        l.slice(0, l.indexOf(':')).toLowerCase(),
        l.slice(l.indexOf(':') + 1).trim(),
      ]);
    const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? '0');
    if (buf.length < end + 4 + length) return;
    socket.off('data', onData);
    onRequest({
      method,
      url,
      headers,
      body: buf.subarray(end + 4, end + 4 + length).toString('utf8'),
    });
  };
  socket.on('data', onData);
}

export async function startHostileServer(
  answer: Answerer = conformantAnswer,
): Promise<HostileServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tc-hostile-'));
  const ca = await createCa({ commonName: 'token-conformance hostile test CA' });
  const leaf = await issueServerCert(ca, { ips: ['127.0.0.1'] });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  const sockets = new Set<TLSSocket>();
  const timers = new Set<NodeJS.Timeout>();
  const state: { answer: Answerer; requests: SeenRequest[] } = { answer, requests: [] };

  const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readRequest(socket, (req) => {
      state.requests.push(req);
      let a: Answer;
      try {
        a = state.answer(req);
      } catch (e) {
        a = {
          status: 500,
          headers: [['Content-Type', 'text/plain']],
          body: Buffer.from(`answerer failed: ${(e as Error).message}`),
        };
      }
      const head: Buffer[] = [Buffer.from(`HTTP/1.1 ${a.status} X\r\n`, 'latin1')];
      for (const [n, v] of a.headers)
        head.push(
          Buffer.from(`${n}: `, 'latin1'),
          typeof v === 'string' ? Buffer.from(v, 'latin1') : v,
          Buffer.from('\r\n'),
        );
      if (!a.noLength && !a.headers.some(([n]) => /^content-length$/i.test(n)))
        head.push(Buffer.from(`Content-Length: ${a.body.length}\r\n`));
      head.push(Buffer.from('Connection: close\r\n\r\n'));
      socket.write(Buffer.concat(head));
      const body = a.stopAfter !== undefined ? a.body.subarray(0, a.stopAfter) : a.body;
      const finish = (): void => {
        if (a.stopAfter !== undefined) socket.destroy();
        else socket.end();
      };
      if (!a.trickle) {
        socket.write(body);
        finish();
        return;
      }
      const { bytes, everyMs } = a.trickle;
      let at = 0;
      const t = setInterval(() => {
        if (socket.destroyed || at >= body.length) {
          clearInterval(t);
          timers.delete(t);
          if (!socket.destroyed) finish();
          return;
        }
        socket.write(body.subarray(at, at + bytes));
        at += bytes;
      }, everyMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `https://127.0.0.1:${port}/token`,
    caFile,
    get answer() {
      return state.answer;
    },
    set answer(a: Answerer) {
      state.answer = a;
    },
    get requests() {
      return state.requests;
    },
    set requests(r: SeenRequest[]) {
      state.requests = r;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
