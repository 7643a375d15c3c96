import type { ClientDescriptor, Provider } from '../descriptor/types.js';
import { buildAssertion, CLIENT_ASSERTION_TYPE, type AssertionKey } from '../auth/assertion.js';
import type { AssertionDefect } from './ids.js';

/** A request as a probe describes it; the runner encodes, sends, records and redacts it. */
export interface ProbeRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: [string, string][];
  /** Sent as application/x-www-form-urlencoded, in this order, repeats kept. */
  form?: [string, string][];
  /** Client credentials for HTTP Basic, form-urlencoded before base64 (RFC 6749 §2.3.1). */
  basic?: { id: string; secret: string };
  bearer?: string;
  /** A DPoP proof (RFC 9449 §4) for the DPoP header: recorded as a preview plus its decoded header and claims. */
  dpop?: string;
  /** An access token presented with the DPoP scheme (RFC 9449 §7.1) instead of Bearer. */
  dpopToken?: string;
  /** A client assertion in the body: recorded as a preview plus its decoded header and claims. */
  assertion?: string;
  /** Send `form` as a JSON object instead of form-urlencoded (services that deviate so, declared). */
  bodyEncoding?: 'form' | 'json';
  /** A TLS client certificate to present (mTLS client authentication, RFC 8705). */
  tlsClient?: { cert: string; key: string; certFile: string; keyFile: string };
}

/** The key a client signs its assertions with, in the form buildAssertion takes. */
function assertionKey(client: ClientDescriptor): AssertionKey {
  const a = client.auth.assertion;
  if (!a) throw new Error(`client ${client.id} does not use JWT authentication`);
  if (a.key)
    return {
      alg: a.alg,
      material: a.key.material,
      kind: a.key.kind,
      ...(a.kid ? { kid: a.kid } : {}),
    };
  return {
    alg: a.alg,
    material: client.auth.secret ?? '',
    kind: 'secret',
    ...(a.kid ? { kid: a.kid } : {}),
  };
}

export interface AuthOptions {
  /** Spoil the client assertion in exactly this way. */
  defect?: AssertionDefect;
  /** Send this assertion instead of a fresh one (replay). */
  assertion?: string;
  /** Leave out the TLS client certificate. */
  withoutCertificate?: boolean;
  /** exp − iat of the client assertion, in seconds (default 60). */
  assertionLifetimeSeconds?: number;
}

/**
 * Adds the client's authentication to a token request, as its method prescribes, and its TLS client
 * certificate when it has one (tls_client_auth, or any method over mutual TLS, FAPI style).
 */
export async function withClientAuth(
  p: Provider,
  client: ClientDescriptor,
  req: ProbeRequest,
  options: AuthOptions = {},
): Promise<ProbeRequest> {
  const out = await byMethod(p, client, req, options);
  return client.auth.tls && !options.withoutCertificate
    ? { ...out, tlsClient: client.auth.tls }
    : out;
}

/** The aud of the client's assertions: the token endpoint, the issuer, or the declared string. */
export function assertionAudience(p: Provider, client: ClientDescriptor): string {
  const declared = client.auth.assertion?.audience ?? 'token-endpoint';
  if (declared === 'token-endpoint') return p.tokenEndpoint;
  if (declared === 'issuer') return p.issuer ?? p.tokenEndpoint;
  return declared;
}

async function byMethod(
  p: Provider,
  client: ClientDescriptor,
  req: ProbeRequest,
  options: AuthOptions,
): Promise<ProbeRequest> {
  const form = [...(req.form ?? [])];
  switch (client.auth.method) {
    case 'client_secret_basic':
      return { ...req, form, basic: { id: client.id, secret: client.auth.secret ?? '' } };
    case 'client_secret_post':
      form.push(['client_id', client.id], ['client_secret', client.auth.secret ?? '']);
      return { ...req, form };
    case 'client_secret_jwt':
    case 'private_key_jwt': {
      const audience = assertionAudience(p, client);
      const assertion =
        options.assertion ??
        (await buildAssertion(
          assertionKey(client),
          {
            iss: client.id,
            sub: client.id,
            aud: audience,
            ...(options.assertionLifetimeSeconds !== undefined
              ? { lifetimeSeconds: options.assertionLifetimeSeconds }
              : {}),
          },
          options.defect,
        ));
      form.push(
        ['client_id', client.id],
        ['client_assertion_type', CLIENT_ASSERTION_TYPE],
        ['client_assertion', assertion],
      );
      return { ...req, form, assertion };
    }
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      form.push(['client_id', client.id]);
      return { ...req, form };
    case 'none':
      // sendClientId: false: a public client that identifies itself by nothing (a jwt-bearer grant
      // whose assertion names the client, RFC 7523 §3.1).
      if (client.sendClientId !== false) form.push(['client_id', client.id]);
      return { ...req, form };
  }
}

/**
 * Stand-ins for a fresh authorization code and its verifier in a request built by grantForm: the
 * observer fills them with a code issued to the probe's client just before sending (src/observe.ts),
 * so every generic token request of an authorization_code descriptor presents a real, unused code.
 */
export const CODE_SLOT = '<fresh authorization code>';
export const VERIFIER_SLOT = '<its code_verifier>';

/** The grant's parameters: client_credentials, jwt-bearer with a fresh (or deliberately spoilt) assertion, or an authorization code. */
export async function grantForm(
  p: Provider,
  scope: string | undefined,
  defect?: AssertionDefect,
): Promise<[string, string][]> {
  const form: [string, string][] = [['grant_type', p.grant.type]];
  // RFC 6749 §4.1.3: the scope was chosen at the authorization request; the token request has none.
  if (p.grant.type === 'authorization_code')
    return [
      ...form,
      ['code', CODE_SLOT],
      ['redirect_uri', p.authorization?.redirectUri ?? ''],
      ['code_verifier', VERIFIER_SLOT],
    ];
  const a = p.grant.assertion;
  if (a) {
    const key: AssertionKey = {
      alg: a.alg,
      material: a.key.material,
      kind: a.key.kind,
      ...(a.kid ? { kid: a.kid } : {}),
    };
    form.push([
      'assertion',
      await buildAssertion(
        key,
        { iss: a.issuer, sub: a.subject, aud: a.audience ?? p.tokenEndpoint, extra: a.claims },
        defect,
      ),
    ]);
  }
  if (scope) form.push(['scope', scope]);
  return form;
}

export function withQuery(url: string, params: [string, string][]): string {
  const u = new URL(url);
  for (const [k, v] of params) u.searchParams.append(k, v);
  return u.toString();
}

/** RFC 8414 §3.1 inserts the well-known segment before the issuer's path; OpenID Connect appends it. */
export function wellKnownUrl(
  issuer: string,
  kind: 'openid-configuration' | 'oauth-authorization-server',
): string {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/$/, '');
  if (kind === 'openid-configuration') return `${u.origin}${path}/.well-known/openid-configuration`;
  return `${u.origin}/.well-known/oauth-authorization-server${path}`;
}
