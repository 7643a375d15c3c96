/**
 * allowInsecureHttp: loopback. Plain http:// endpoint URLs are accepted only on a loopback host
 * (127.0.0.0/8, ::1, localhost), and only when the descriptor says so; every result is then marked
 * INSECURE and the checks that need TLS are not applicable. Pure: checks may import it.
 */
import type { Provider } from './types.js';

/** 127.0.0.0/8, ::1 and localhost (and its subdomains, RFC 6761 §6.3). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

/** An absolute http:// URL whose host is a loopback address. */
export function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}

/** https://, or, for a provider that allows it, http:// on a loopback host. */
export function isAcceptableUrl(p: Provider, url: unknown): url is string {
  if (typeof url !== 'string') return false;
  if (/^https:\/\//.test(url)) return true;
  return p.insecureHttp !== undefined && isLoopbackHttp(url);
}

/** Why the checks that need TLS do not apply to this provider, or undefined when they do. */
export function withoutTls(p: Provider): string | undefined {
  return p.insecureHttp && p.insecureHttp.includes('tokenEndpoint')
    ? 'the token endpoint is plain http:// on loopback (allowInsecureHttp: loopback): no TLS, so no client certificate and no certificate-bound token'
    : undefined;
}

/** How a refused http:// URL is explained: run behind TLS instead. */
export const HTTP_REFUSED =
  'plain http:// is refused: run the server behind TLS (https://) and trust its CA with tls.caFile; only a loopback host (127.0.0.1, ::1, localhost) may use http://, with allowInsecureHttp: loopback';
