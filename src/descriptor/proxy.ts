/**
 * Egress proxy settings: the environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, or a descriptor's
 * `proxy` field. Resolved once, with the rest of the descriptor, so a bad proxy URL stops the run
 * before any request and the runner never reads process.env behind the loader's back.
 */
import type { ProxyEndpoint, ProxySetting } from './types.js';

/** A usable proxy URL, or why not. The problem never quotes the value: it may hold a password. */
export function parseProxyUrl(
  value: string,
): { url: string; hostPort: string } | { problem: string } {
  // curl and most tools take "proxy.corp:3128" without a scheme as an http:// proxy; undici would
  // read "proxy.corp:" as the scheme, so the scheme is supplied here.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { problem: 'does not parse as a URL (expected http://host:port)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      problem: `${url.protocol.replace(/:$/, '')}:// proxies are not supported (expected http:// or https://)`,
    };
  }
  if (url.hostname === '') return { problem: 'has no host (expected http://host:port)' };
  return {
    url: url.href,
    hostPort: url.port ? url.host : `${url.host}:${url.protocol === 'https:' ? 443 : 80}`,
  };
}

/** Whether a URL carries user:password@ (or just a user name): credentials that must not sit in a file. */
export function hasCredentials(value: string): boolean {
  const parsed = parseProxyUrl(value);
  if ('problem' in parsed)
    return /@/.test(value.replace(/[/?#].*$/, '').replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
  const url = new URL(parsed.url);
  return url.username !== '' || url.password !== '';
}

type Env = NodeJS.ProcessEnv;

/** The first of two spellings undici reads (lower case first), with the name it came from. */
function pick(env: Env, lower: string, upper: string): { name: string; value: string | undefined } {
  // undici 7 (EnvHttpProxyAgent): `process.env.https_proxy ?? process.env.HTTPS_PROXY`: a lower-case
  // variable that is set, even empty, wins.
  return env[lower] !== undefined
    ? { name: lower, value: env[lower] }
    : { name: upper, value: env[upper] };
}

/**
 * The environment's proxies, read the way undici 7's EnvHttpProxyAgent reads them: https_proxy /
 * HTTPS_PROXY for https: URLs (falling back to the http proxy), http_proxy / HTTP_PROXY for http:,
 * no_proxy / NO_PROXY for the hosts that go direct. `undefined` when no proxy is set.
 */
export function environmentProxies(
  env: Env,
):
  | { https?: ProxyEndpoint; http?: ProxyEndpoint; noProxy: string }
  | { variable: string; problem: string }
  | undefined {
  const out: { https?: ProxyEndpoint; http?: ProxyEndpoint } = {};
  for (const [key, lower, upper] of [
    ['https', 'https_proxy', 'HTTPS_PROXY'],
    ['http', 'http_proxy', 'HTTP_PROXY'],
  ] as const) {
    const { name, value } = pick(env, lower, upper);
    if (!value) continue;
    const parsed = parseProxyUrl(value.trim());
    if ('problem' in parsed) return { variable: name, problem: parsed.problem };
    out[key] = { url: parsed.url, hostPort: parsed.hostPort, from: name, envName: name };
  }
  if (!out.https && !out.http) return undefined;
  return { ...out, noProxy: env['no_proxy'] ?? env['NO_PROXY'] ?? '' };
}

/**
 * Every request direct, for `reason` (`proxy: none`, or a server the harness starts on loopback
 * itself). `instead` is the proxy that would have applied: the summary says it was left unused.
 */
export function direct(reason: string, instead?: ProxySetting): ProxySetting {
  const p = instead?.mode === 'proxy' ? (instead.https ?? instead.http) : undefined;
  const ignored =
    instead?.mode === 'none' ? instead.ignored : p ? `${p.from} ${p.hostPort}` : undefined;
  return { mode: 'none', reason, ...(ignored ? { ignored } : {}) };
}
