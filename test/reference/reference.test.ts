import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';

const TTL = 2;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const now = (): number => Math.floor(Date.now() / 1000);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('base64url');
/** An unsecured JWT (RFC 7519 §6): header {"alg":"none"}, empty signature. */
const unsecured = (claims: JWTPayload): string =>
  `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(claims))}.`;
const sign = (
  claims: JWTPayload,
  key: CryptoKey | Uint8Array,
  alg: string,
  kid?: string,
): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) }).sign(key);

/** Exact application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
const formEncode = (value: string): string => new URLSearchParams({ a: value }).toString().slice(2);
const basicAuth = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

interface TokenBody {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

interface IntrospectionBody {
  active?: boolean;
  client_id?: string;
  scope?: string;
  exp?: number;
  iat?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  token_type?: string;
  cnf?: Record<string, unknown>;
  error?: string;
}

describe('embedded reference endpoint', () => {
  let ref: ReferenceServer;
  let env: Record<string, string>;
  let agent: Agent;
  /** Presents the CA-issued client certificate of ref-mtls. */
  let mtlsAgent: Agent;
  /** Presents the self-signed client certificate of ref-self-signed. */
  let selfSignedAgent: Agent;

  beforeAll(async () => {
    ref = await startReference({ accessTokenTtlSeconds: TTL });
    env = ref.env;
    const ca = await readFile(env.TC_REF_CA_FILE ?? '', 'utf8');
    const file = (name: string): Promise<string> => readFile(env[name] ?? '', 'utf8');
    agent = new Agent({ connect: { ca } });
    mtlsAgent = new Agent({
      connect: {
        ca,
        cert: await file('TC_REF_MTLS_CERT_FILE'),
        key: await file('TC_REF_MTLS_KEY_FILE'),
      },
    });
    selfSignedAgent = new Agent({
      connect: {
        ca,
        cert: await file('TC_REF_SELF_SIGNED_CERT_FILE'),
        key: await file('TC_REF_SELF_SIGNED_KEY_FILE'),
      },
    });
  });

  afterAll(async () => {
    await Promise.all([agent.close(), mtlsAgent.close(), selfSignedAgent.close()]);
    await ref.close();
  });

  const v = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`missing ${name}`);
    return value;
  };

  async function token(
    params: Record<string, string>,
    headers: Record<string, string> = {},
    {
      url = v('TC_REF_TOKEN_URL'),
      dispatcher = agent,
    }: { url?: string; dispatcher?: Dispatcher } = {},
  ): Promise<{ res: Response; body: TokenBody }> {
    const res = await fetch(url, {
      method: 'POST',
      dispatcher,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...headers,
      },
      body: new URLSearchParams(params).toString(),
    });
    return { res, body: (await res.json()) as TokenBody };
  }
  const basicToken = (
    params: Record<string, string> = {},
  ): Promise<{ res: Response; body: TokenBody }> =>
    token(
      { grant_type: 'client_credentials', ...params },
      {
        authorization: basicAuth(v('TC_REF_BASIC_CLIENT_ID'), v('TC_REF_BASIC_CLIENT_SECRET')),
      },
    );
  const resource = (authorization?: string, dispatcher: Dispatcher = agent): Promise<Response> =>
    fetch(v('TC_REF_RESOURCE_URL'), {
      dispatcher,
      headers: authorization === undefined ? {} : { authorization },
    });

  it('exposes exactly the documented environment and secrets', () => {
    expect(Object.keys(env).sort()).toEqual([
      'TC_REF_ASSERTION_ISSUER',
      'TC_REF_ASSERTION_KEY_FILE',
      'TC_REF_ASSERTION_KID',
      'TC_REF_AUTHORIZATION_URL',
      'TC_REF_AUTH_CODE_CLIENT_ID',
      'TC_REF_AUTH_CODE_CLIENT_SECRET',
      'TC_REF_AUTH_CODE_OTHER_CLIENT_ID',
      'TC_REF_AUTH_CODE_OTHER_CLIENT_SECRET',
      'TC_REF_BASIC_CLIENT_ID',
      'TC_REF_BASIC_CLIENT_SECRET',
      'TC_REF_CA_FILE',
      'TC_REF_DISCOVERY_URL',
      'TC_REF_DPOP_CLIENT_ID',
      'TC_REF_DPOP_CLIENT_SECRET',
      'TC_REF_INTROSPECTION_URL',
      'TC_REF_ISSUER',
      'TC_REF_JWT_BEARER_CLIENT_ID',
      'TC_REF_JWT_HS_CLIENT_ID',
      'TC_REF_JWT_HS_CLIENT_SECRET',
      'TC_REF_MTLS_CERT_FILE',
      'TC_REF_MTLS_CLIENT_ID',
      'TC_REF_MTLS_KEY_FILE',
      'TC_REF_MTLS_TOKEN_URL',
      'TC_REF_PASSWORD',
      'TC_REF_PKJWT_CLIENT_ID',
      'TC_REF_PKJWT_EC_KEY_FILE',
      'TC_REF_PKJWT_EC_KID',
      'TC_REF_PKJWT_ED_KEY_FILE',
      'TC_REF_PKJWT_ED_KID',
      'TC_REF_PKJWT_RSA_KEY_FILE',
      'TC_REF_PKJWT_RSA_KID',
      'TC_REF_POST_CLIENT_ID',
      'TC_REF_POST_CLIENT_SECRET',
      'TC_REF_REDIRECT_URI',
      'TC_REF_RESOURCE_URL',
      'TC_REF_SELF_SIGNED_CERT_FILE',
      'TC_REF_SELF_SIGNED_CLIENT_ID',
      'TC_REF_SELF_SIGNED_KEY_FILE',
      'TC_REF_TOKEN_URL',
      'TC_REF_USERNAME',
    ]);
    expect(v('TC_REF_ISSUER')).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(v('TC_REF_TOKEN_URL')).toBe(`${v('TC_REF_ISSUER')}/token`);
    expect(v('TC_REF_DISCOVERY_URL')).toBe(
      `${v('TC_REF_ISSUER')}/.well-known/openid-configuration`,
    );
    expect(v('TC_REF_INTROSPECTION_URL')).toBe(`${v('TC_REF_ISSUER')}/token/introspection`);
    // The mTLS alias is another origin (port) on the same host.
    expect(v('TC_REF_MTLS_TOKEN_URL')).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/token$/);
    expect(new URL(v('TC_REF_MTLS_TOKEN_URL')).origin).not.toBe(v('TC_REF_ISSUER'));
    expect(ref.secrets.sort()).toEqual(
      [
        v('TC_REF_BASIC_CLIENT_SECRET'),
        v('TC_REF_POST_CLIENT_SECRET'),
        v('TC_REF_JWT_HS_CLIENT_SECRET'),
        v('TC_REF_AUTH_CODE_CLIENT_SECRET'),
        v('TC_REF_AUTH_CODE_OTHER_CLIENT_SECRET'),
        v('TC_REF_PASSWORD'),
        v('TC_REF_DPOP_CLIENT_SECRET'),
      ].sort(),
    );
    expect(
      Buffer.from(v('TC_REF_JWT_HS_CLIENT_SECRET'), 'base64url').length,
    ).toBeGreaterThanOrEqual(32);
    expect(v('TC_REF_ASSERTION_ISSUER')).toBe('ref-assertion-issuer');
    // Key and certificate files: absolute, private, in the run's directory (next to the CA).
    for (const name of Object.keys(env).filter((k) => k.endsWith('_FILE'))) {
      expect(dirname(v(name))).toBe(dirname(v('TC_REF_CA_FILE')));
      expect(statSync(v(name)).mode & 0o777).toBe(0o600);
    }
    // The basic secret must change under form-urlencoding, so the Appendix B step is observable.
    expect(formEncode(v('TC_REF_BASIC_CLIENT_SECRET'))).not.toBe(v('TC_REF_BASIC_CLIENT_SECRET'));
  });

  it('issues an RFC 9068 JWT access token to a client_secret_basic client', async () => {
    const { res, body } = await basicToken();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toContain('no-store');
    // Observed: oidc-provider sends no Pragma header (RFC 6749 §5.1's Pragma is obsoleted by RFC 9111).
    expect(res.headers.get('pragma')).toBeNull();
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(TTL);
    expect(body.scope).toBeUndefined(); // nothing requested → no scope member at all
    const jwt = body.access_token ?? '';
    expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      iss: v('TC_REF_ISSUER'),
      aud: v('TC_REF_RESOURCE_URL'),
      client_id: 'ref-basic',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(TTL);
  });

  it('refuses Basic credentials that skipped form-urlencoding', async () => {
    const raw = `Basic ${Buffer.from(`${v('TC_REF_BASIC_CLIENT_ID')}:${v('TC_REF_BASIC_CLIENT_SECRET')}`).toString('base64')}`;
    const { res, body } = await token({ grant_type: 'client_credentials' }, { authorization: raw });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(body.access_token).toBeUndefined();
  });

  it('issues a token to a client_secret_post client', async () => {
    const { res, body } = await token({
      grant_type: 'client_credentials',
      client_id: v('TC_REF_POST_CLIENT_ID'),
      client_secret: v('TC_REF_POST_CLIENT_SECRET'),
    });
    expect(res.status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(TTL);
  });

  it('answers a wrong secret with 401 invalid_client (+ WWW-Authenticate when Basic was used)', async () => {
    const basic = await token(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(v('TC_REF_BASIC_CLIENT_ID'), 'wrong') },
    );
    expect(basic.res.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
    expect(basic.res.headers.get('www-authenticate')).toMatch(
      /^Basic realm="[^"]+", error="invalid_client"/,
    );

    const post = await token({
      grant_type: 'client_credentials',
      client_id: v('TC_REF_POST_CLIENT_ID'),
      client_secret: 'wrong',
    });
    expect(post.res.status).toBe(401);
    expect(post.body.error).toBe('invalid_client');
  });

  it('grants allowed scopes and rejects a known scope outside the client allow-list', async () => {
    const read = await basicToken({ scope: 'api:read' });
    expect(read.res.status).toBe(200);
    expect(read.body.scope).toBe('api:read');

    for (const scope of ['admin', 'api:read admin']) {
      const denied = await basicToken({ scope });
      expect(denied.res.status).toBe(400);
      expect(denied.body.error).toBe('invalid_scope');
    }
  });

  it('protects the resource with RFC 6750 challenges and refuses expired tokens', async () => {
    const { body } = await basicToken({ scope: 'api:read' });
    const ok = await resource(`Bearer ${body.access_token ?? ''}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await ok.json()).toEqual({ ok: true });

    const none = await resource();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="reference"');

    const malformed = await resource('Bearer two words');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');

    const bogus = await resource('Bearer abc.def.ghi');
    expect(bogus.status).toBe(401);
    expect(bogus.headers.get('www-authenticate')).toContain('error="invalid_token"');

    // One character of the signature changed (the harness's resource.tampered probe).
    const [head = '', payload = '', signature = ''] = (body.access_token ?? '').split('.');
    const at = Math.floor(signature.length / 2);
    const tampered = `${head}.${payload}.${signature.slice(0, at)}${signature[at] === 'A' ? 'B' : 'A'}${signature.slice(at + 1)}`;
    const altered = await resource(`Bearer ${tampered}`);
    expect(altered.status).toBe(401);
    expect(altered.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="reference", error="invalid_token"/,
    );

    // A valid token without api:read, the scope the resource requires: 403 insufficient_scope (RFC 6750 §3.1).
    const narrow = await basicToken({ scope: 'api:write' });
    const forbidden = await resource(`Bearer ${narrow.body.access_token ?? ''}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toBe(
      'Bearer realm="reference", error="insufficient_scope", error_description="the access token lacks the scope api:read", scope="api:read"',
    );
    const unscoped = await basicToken();
    expect((await resource(`Bearer ${unscoped.body.access_token ?? ''}`)).status).toBe(403);

    await sleep((TTL + 1) * 1000);
    const expired = await resource(`Bearer ${body.access_token ?? ''}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="reference", error="invalid_token"/,
    );
  }, 15_000);

  it('fails TLS for a client that does not trust the run-time CA', async () => {
    const untrusted = new Agent();
    try {
      const err: unknown = await fetch(v('TC_REF_TOKEN_URL'), {
        method: 'POST',
        dispatcher: untrusted,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TypeError);
      const cause = (err as { cause?: { code?: string } }).cause;
      expect(cause?.code).toMatch(
        /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/,
      );
    } finally {
      await untrusted.close();
    }
  });

  // ---------------------------------------------------------------------------------------------
  // Client assertions (RFC 7523 §2.2 / OIDC Core §9): client_secret_jwt and private_key_jwt.

  const assertionClaims = (clientId: string, extra: JWTPayload = {}): JWTPayload => ({
    iss: clientId,
    sub: clientId,
    aud: v('TC_REF_TOKEN_URL'),
    jti: randomUUID(),
    iat: now(),
    exp: now() + 60,
    ...extra,
  });
  const assertionToken = (
    assertion: string,
    options: { url?: string; dispatcher?: Dispatcher } = {},
  ): Promise<{ res: Response; body: TokenBody }> =>
    token(
      {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      },
      {},
      options,
    );
  const expectInvalidClient = ({ res, body }: { res: Response; body: TokenBody }): void => {
    expect(res.status).toBe(401);
    // oidc-provider keeps the reason to itself (error_detail, visible with DEBUG=oidc-provider:error).
    expect(body).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  };

  describe('client_secret_jwt', () => {
    const secret = (): Uint8Array => new TextEncoder().encode(v('TC_REF_JWT_HS_CLIENT_SECRET'));

    it.each(['HS256', 'HS384', 'HS512'])(
      'issues a token for an assertion signed with %s',
      async (alg) => {
        const { res, body } = await assertionToken(
          await sign(assertionClaims(v('TC_REF_JWT_HS_CLIENT_ID')), secret(), alg),
        );
        expect(res.status).toBe(200);
        expect(decodeJwt(body.access_token ?? '')).toMatchObject({
          client_id: 'ref-jwt-hs',
          aud: v('TC_REF_RESOURCE_URL'),
        });
      },
    );

    it('refuses a wrong secret and an asymmetric alg with 401 invalid_client', async () => {
      const claims = assertionClaims(v('TC_REF_JWT_HS_CLIENT_ID'));
      expectInvalidClient(
        await assertionToken(await sign(claims, new TextEncoder().encode('x'.repeat(64)), 'HS256')),
      );
      const { privateKey } = await generateKeyPair('RS256');
      expectInvalidClient(
        await assertionToken(
          await sign(assertionClaims(v('TC_REF_JWT_HS_CLIENT_ID')), privateKey, 'RS256'),
        ),
      );
    });
  });

  describe('private_key_jwt', () => {
    const keys = async (): Promise<
      Record<'RS256' | 'PS256' | 'ES256' | 'EdDSA', { key: CryptoKey; kid: string }>
    > => {
      const rsaPem = await readFile(v('TC_REF_PKJWT_RSA_KEY_FILE'), 'utf8');
      const ecJwk = JSON.parse(await readFile(v('TC_REF_PKJWT_EC_KEY_FILE'), 'utf8')) as JWK;
      expect(ecJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: v('TC_REF_PKJWT_EC_KID') });
      expect(typeof ecJwk.d).toBe('string');
      const ec = await importJWK(ecJwk, 'ES256');
      if (ec instanceof Uint8Array) throw new Error('EC key file holds a symmetric key');
      return {
        RS256: { key: await importPKCS8(rsaPem, 'RS256'), kid: v('TC_REF_PKJWT_RSA_KID') },
        PS256: { key: await importPKCS8(rsaPem, 'PS256'), kid: v('TC_REF_PKJWT_RSA_KID') },
        ES256: { key: ec, kid: v('TC_REF_PKJWT_EC_KID') },
        EdDSA: {
          key: await importPKCS8(await readFile(v('TC_REF_PKJWT_ED_KEY_FILE'), 'utf8'), 'EdDSA'),
          kid: v('TC_REF_PKJWT_ED_KID'),
        },
      };
    };
    const rsaAssertion = async (
      extra: JWTPayload = {},
      kid: string | undefined = v('TC_REF_PKJWT_RSA_KID'),
    ): Promise<string> =>
      sign(
        assertionClaims(v('TC_REF_PKJWT_CLIENT_ID'), extra),
        (await keys()).RS256.key,
        'RS256',
        kid,
      );

    it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)(
      'issues a token for an assertion signed with %s (aud = token endpoint)',
      async (alg) => {
        const { key, kid } = (await keys())[alg];
        const { res, body } = await assertionToken(
          await sign(assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')), key, alg, kid),
        );
        expect(res.status).toBe(200);
        expect(body.token_type).toBe('Bearer');
        expect(decodeJwt(body.access_token ?? '')).toMatchObject({
          client_id: 'ref-pkjwt',
          sub: 'ref-pkjwt',
        });
      },
    );

    it('also accepts the issuer as aud, an aud array containing the token endpoint, and no kid', async () => {
      expect(
        (await assertionToken(await rsaAssertion({ aud: v('TC_REF_ISSUER') }))).res.status,
      ).toBe(200);
      expect(
        (
          await assertionToken(
            await rsaAssertion({ aud: ['https://other.example', v('TC_REF_TOKEN_URL')] }),
          )
        ).res.status,
      ).toBe(200);
      expect((await assertionToken(await rsaAssertion({}, undefined))).res.status).toBe(200);
    });

    it('at the mTLS alias accepts the alias URL or the issuer as aud, not the main token endpoint URL', async () => {
      const url = v('TC_REF_MTLS_TOKEN_URL');
      expect((await assertionToken(await rsaAssertion({ aud: url }), { url })).res.status).toBe(
        200,
      );
      expect(
        (await assertionToken(await rsaAssertion({ aud: v('TC_REF_ISSUER') }), { url })).res.status,
      ).toBe(200);
      // oidc-provider derives "the token endpoint URL" from the request's own origin.
      expectInvalidClient(await assertionToken(await rsaAssertion(), { url }));
    });

    it('refuses expired, wrong-aud, alg none, unknown-key and replayed assertions with 401 invalid_client', async () => {
      // detail: "jwt expired"
      expectInvalidClient(
        await assertionToken(await rsaAssertion({ iat: now() - 120, exp: now() - 60 })),
      );
      // detail: "audience (aud) must equal the endpoint url, issuer identifier or token endpoint url"
      expectInvalidClient(
        await assertionToken(await rsaAssertion({ aud: 'https://other.example/token' })),
      );
      // detail: "alg mismatch"
      expectInvalidClient(
        await assertionToken(unsecured(assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')))),
      );
      // detail: "alg mismatch" (HS* is not a private_key_jwt alg)
      expectInvalidClient(
        await assertionToken(
          await sign(assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')), new Uint8Array(64), 'HS256'),
        ),
      );
      const { privateKey: stranger } = await generateKeyPair('RS256');
      // detail: "signature verification failed" (registered kid, or no kid)
      expectInvalidClient(
        await assertionToken(
          await sign(
            assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')),
            stranger,
            'RS256',
            v('TC_REF_PKJWT_RSA_KID'),
          ),
        ),
      );
      expectInvalidClient(
        await assertionToken(
          await sign(assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')), stranger, 'RS256'),
        ),
      );
      // detail: "no applicable key found in the JSON Web Key Set"
      expectInvalidClient(
        await assertionToken(
          await sign(
            assertionClaims(v('TC_REF_PKJWT_CLIENT_ID')),
            stranger,
            'RS256',
            'unknown-kid',
          ),
        ),
      );
      // detail: "expiration must be specified in the client_assertion JWT"
      expectInvalidClient(await assertionToken(await rsaAssertion({ exp: undefined })));

      const once = await rsaAssertion();
      expect((await assertionToken(once)).res.status).toBe(200);
      // detail: "client assertion tokens must only be used once"
      expectInvalidClient(await assertionToken(once));
    });

    it('accepts (observed) an assertion whose exp is a day ahead: oidc-provider sets no maximum lifetime', async () => {
      const { res } = await assertionToken(await rsaAssertion({ exp: now() + 86_400 }));
      expect(res.status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // RFC 8705: tls_client_auth, self_signed_tls_client_auth, certificate-bound access tokens.

  describe('mutual TLS', () => {
    const certThumbprint = async (name: string): Promise<string> =>
      sha256(new X509Certificate(await readFile(v(name), 'utf8')).raw);
    const mtlsToken = (
      clientId: string,
      dispatcher: Dispatcher,
      url = v('TC_REF_TOKEN_URL'),
    ): Promise<{ res: Response; body: TokenBody }> =>
      token(
        { grant_type: 'client_credentials', client_id: clientId, scope: 'api:read api:write' },
        {},
        { url, dispatcher },
      );

    it('issues certificate-bound tokens to tls_client_auth, at the token endpoint and at its mTLS alias', async () => {
      const expected = await certThumbprint('TC_REF_MTLS_CERT_FILE');
      for (const url of [v('TC_REF_TOKEN_URL'), v('TC_REF_MTLS_TOKEN_URL')]) {
        const { res, body } = await mtlsToken(v('TC_REF_MTLS_CLIENT_ID'), mtlsAgent, url);
        expect(res.status).toBe(200);
        expect(body.token_type).toBe('Bearer');
        expect(body.scope).toBe('api:read api:write');
        expect(decodeJwt(body.access_token ?? '')).toMatchObject({
          client_id: 'ref-mtls',
          iss: v('TC_REF_ISSUER'),
          aud: v('TC_REF_RESOURCE_URL'),
          cnf: { 'x5t#S256': expected },
        });
      }
    });

    it('issues certificate-bound tokens to self_signed_tls_client_auth', async () => {
      const { res, body } = await mtlsToken(v('TC_REF_SELF_SIGNED_CLIENT_ID'), selfSignedAgent);
      expect(res.status).toBe(200);
      expect(decodeJwt(body.access_token ?? '')).toMatchObject({
        client_id: 'ref-self-signed',
        cnf: { 'x5t#S256': await certThumbprint('TC_REF_SELF_SIGNED_CERT_FILE') },
      });
    });

    it('refuses mTLS clients without their certificate with 401 invalid_client', async () => {
      for (const url of [v('TC_REF_TOKEN_URL'), v('TC_REF_MTLS_TOKEN_URL')]) {
        // detail: "client certificate was not provided"
        expectInvalidClient(await mtlsToken(v('TC_REF_MTLS_CLIENT_ID'), agent, url));
        expectInvalidClient(await mtlsToken(v('TC_REF_SELF_SIGNED_CLIENT_ID'), agent, url));
      }
      // A self-signed certificate does not chain to the CA — detail: "client certificate was not verified".
      expectInvalidClient(await mtlsToken(v('TC_REF_MTLS_CLIENT_ID'), selfSignedAgent));
      // A certificate other than the registered one — detail: "unregistered client certificate provided".
      expectInvalidClient(await mtlsToken(v('TC_REF_SELF_SIGNED_CLIENT_ID'), mtlsAgent));
    });

    it('does not bind tokens of ordinary clients that happen to present a certificate', async () => {
      const { res, body } = await token(
        { grant_type: 'client_credentials', scope: 'api:read' },
        { authorization: basicAuth(v('TC_REF_BASIC_CLIENT_ID'), v('TC_REF_BASIC_CLIENT_SECRET')) },
        { dispatcher: mtlsAgent },
      );
      expect(res.status).toBe(200);
      expect(decodeJwt(body.access_token ?? '')).not.toHaveProperty('cnf');
      expect((await resource(`Bearer ${body.access_token ?? ''}`, agent)).status).toBe(200);
    });

    it('lets the resource accept a bound token only with the same certificate', async () => {
      for (const [clientId, owner, other] of [
        [v('TC_REF_MTLS_CLIENT_ID'), mtlsAgent, selfSignedAgent],
        [v('TC_REF_SELF_SIGNED_CLIENT_ID'), selfSignedAgent, mtlsAgent],
      ] as const) {
        const { body } = await mtlsToken(clientId, owner);
        const authorization = `Bearer ${body.access_token ?? ''}`;

        const without = await resource(authorization, agent);
        expect(without.status).toBe(401);
        expect(without.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="reference", error="invalid_token"/,
        );
        expect(await without.json()).toEqual({
          error: 'invalid_token',
          error_description:
            'the access token is bound to a client certificate and none was presented',
        });

        const wrong = await resource(authorization, other);
        expect(wrong.status).toBe(401);
        expect(await wrong.json()).toMatchObject({
          error: 'invalid_token',
          error_description: 'the access token is bound to a different client certificate',
        });

        const ok = await resource(authorization, owner);
        expect(ok.status).toBe(200);
        expect(await ok.json()).toEqual({ ok: true });
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // RFC 7523 §2.1: the jwt-bearer authorization grant.

  const assertionKey = async (): Promise<CryptoKey> =>
    importPKCS8(await readFile(v('TC_REF_ASSERTION_KEY_FILE'), 'utf8'), 'RS256');
  const grantClaims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: v('TC_REF_ASSERTION_ISSUER'),
    sub: 'alice',
    aud: v('TC_REF_TOKEN_URL'),
    jti: randomUUID(),
    iat: now(),
    exp: now() + 60,
    ...extra,
  });
  const signedGrant = async (extra: JWTPayload = {}): Promise<string> =>
    sign(grantClaims(extra), await assertionKey(), 'RS256', v('TC_REF_ASSERTION_KID'));
  const bearerGrant = (
    assertion: string | undefined,
    extra: Record<string, string> = {},
  ): Promise<{ res: Response; body: TokenBody }> =>
    token({
      grant_type: JWT_BEARER,
      client_id: v('TC_REF_JWT_BEARER_CLIENT_ID'),
      ...(assertion === undefined ? {} : { assertion }),
      ...extra,
    });

  describe('jwt-bearer grant', () => {
    const expectInvalidGrant = ({ res, body }: { res: Response; body: TokenBody }): void => {
      expect(res.status).toBe(400);
      expect(body).toEqual({
        error: 'invalid_grant',
        error_description: 'grant request is invalid',
      });
    };

    it('issues an access token like the client_credentials ones, for the assertion subject', async () => {
      const { res, body } = await bearerGrant(await signedGrant(), { scope: 'api:read' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: TTL, scope: 'api:read' });
      const jwt = body.access_token ?? '';
      expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
      const claims = decodeJwt(jwt);
      expect(claims).toMatchObject({
        iss: v('TC_REF_ISSUER'),
        aud: v('TC_REF_RESOURCE_URL'),
        client_id: 'ref-jwt-bearer',
        sub: 'alice',
        scope: 'api:read',
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(TTL);
      expect((await resource(`Bearer ${jwt}`)).status).toBe(200);

      // Nothing requested → no scope; the issuer is accepted as aud too.
      const plain = await bearerGrant(await signedGrant({ aud: v('TC_REF_ISSUER') }));
      expect(plain.res.status).toBe(200);
      expect(plain.body.scope).toBeUndefined();
    });

    it('answers malformed assertions with 400 invalid_grant', async () => {
      const key = await assertionKey();
      const { privateKey: stranger } = await generateKeyPair('RS256');
      const cases: Record<string, string> = {
        expired: await signedGrant({ iat: now() - 120, exp: now() - 60 }),
        'wrong aud': await signedGrant({ aud: 'https://other.example/token' }),
        'alg none': unsecured(grantClaims()),
        'HS256 (key = the kid)': await sign(
          grantClaims(),
          new TextEncoder().encode(v('TC_REF_ASSERTION_KID')),
          'HS256',
          v('TC_REF_ASSERTION_KID'),
        ),
        'unknown key, trusted kid': await sign(
          grantClaims(),
          stranger,
          'RS256',
          v('TC_REF_ASSERTION_KID'),
        ),
        'unknown kid': await sign(grantClaims(), stranger, 'RS256', 'unknown-kid'),
        'exp a day ahead': await signedGrant({ exp: now() + 86_400 }),
        'exp just over an hour ahead': await signedGrant({ exp: now() + 3_700 }),
        'wrong iss': await signedGrant({ iss: 'someone-else' }),
        'no sub': await signedGrant({ sub: undefined }),
        'no jti': await signedGrant({ jti: undefined }),
        'no exp': await sign(
          { ...grantClaims(), exp: undefined },
          key,
          'RS256',
          v('TC_REF_ASSERTION_KID'),
        ),
        'not a JWT': 'not-a-jwt',
      };
      for (const [name, assertion] of Object.entries(cases)) {
        const result = await bearerGrant(assertion);
        expect({ name, status: result.res.status }).toEqual({ name, status: 400 });
        expectInvalidGrant(result);
      }
    });

    it('refuses a replayed jti with 400 invalid_grant', async () => {
      const once = await signedGrant();
      expect((await bearerGrant(once)).res.status).toBe(200);
      expectInvalidGrant(await bearerGrant(once));
    });

    it('applies the request rules: assertion required, scope allow-list, grant type per client', async () => {
      const missing = await bearerGrant(undefined);
      expect(missing.res.status).toBe(400);
      expect(missing.body).toEqual({
        error: 'invalid_request',
        error_description: "missing required parameter 'assertion'",
      });

      const admin = await bearerGrant(await signedGrant(), { scope: 'admin' });
      expect(admin.res.status).toBe(400);
      expect(admin.body.error).toBe('invalid_scope');

      const notAllowed = await token({
        grant_type: JWT_BEARER,
        client_id: v('TC_REF_POST_CLIENT_ID'),
        client_secret: v('TC_REF_POST_CLIENT_SECRET'),
        assertion: await signedGrant(),
      });
      expect(notAllowed.res.status).toBe(400);
      expect(notAllowed.body).toEqual({
        error: 'invalid_request',
        error_description: 'requested grant type is not allowed for this client',
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // RFC 7662 introspection.

  describe('introspection', () => {
    async function introspect(
      tokenValue: string,
      /** null: no client authentication at all. */
      authorization: string | null = basicAuth(
        v('TC_REF_BASIC_CLIENT_ID'),
        v('TC_REF_BASIC_CLIENT_SECRET'),
      ),
      extra: Record<string, string> = {},
    ): Promise<{ res: Response; body: IntrospectionBody }> {
      const res = await fetch(v('TC_REF_INTROSPECTION_URL'), {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...(authorization === null ? {} : { authorization }),
        },
        body: new URLSearchParams({ token: tokenValue, ...extra }).toString(),
      });
      return { res, body: (await res.json()) as IntrospectionBody };
    }

    it('describes a fresh JWT access token', async () => {
      const issued = await token({
        grant_type: 'client_credentials',
        client_id: v('TC_REF_POST_CLIENT_ID'),
        client_secret: v('TC_REF_POST_CLIENT_SECRET'),
        scope: 'api:read',
      });
      const jwt = issued.body.access_token ?? '';
      const claims = decodeJwt(jwt);
      const { res, body } = await introspect(jwt);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(body).toEqual({
        active: true,
        client_id: 'ref-post',
        scope: 'api:read',
        exp: claims.exp,
        iat: claims.iat,
        iss: v('TC_REF_ISSUER'),
        jti: claims.jti,
        aud: v('TC_REF_RESOURCE_URL'),
        sub: 'ref-post',
        token_type: 'Bearer',
      });
      // A wrong hint does not change the answer (RFC 7662 §2.1).
      expect((await introspect(jwt, undefined, { token_type_hint: 'refresh_token' })).body).toEqual(
        body,
      );
    });

    it('reports cnf for certificate-bound tokens and the subject of jwt-bearer tokens', async () => {
      const bound = await token(
        { grant_type: 'client_credentials', client_id: v('TC_REF_MTLS_CLIENT_ID') },
        {},
        { dispatcher: mtlsAgent },
      );
      const { body } = await introspect(bound.body.access_token ?? '');
      expect(body).toMatchObject({
        active: true,
        client_id: 'ref-mtls',
        cnf: decodeJwt(bound.body.access_token ?? '').cnf,
      });
      expect(body.cnf?.['x5t#S256']).toEqual(expect.any(String));

      const granted = await bearerGrant(await signedGrant(), { scope: 'api:write' });
      expect((await introspect(granted.body.access_token ?? '')).body).toMatchObject({
        active: true,
        client_id: 'ref-jwt-bearer',
        sub: 'alice',
        scope: 'api:write',
      });
    });

    it('answers active false for anything that is not a valid access token of this server', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const foreign = await sign(
        { iss: v('TC_REF_ISSUER'), client_id: 'ref-basic', exp: now() + 60 },
        privateKey,
        'RS256',
      );
      for (const value of ['opaque-looking-token', 'abc.def.ghi', foreign]) {
        const { res, body } = await introspect(value);
        expect(res.status).toBe(200);
        expect(body).toEqual({ active: false });
      }
    });

    it('keeps oidc-provider client authentication and policy', async () => {
      const { body: issued } = await basicToken();
      const jwt = issued.access_token ?? '';
      const anonymous = await introspect(jwt, null);
      expect(anonymous.res.status).toBe(400);
      expect(anonymous.body.error).toBe('invalid_request');
      const wrong = await introspect(jwt, basicAuth(v('TC_REF_BASIC_CLIENT_ID'), 'wrong'));
      expect(wrong.res.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      // A public client may only introspect its own tokens (oidc-provider's default allowedPolicy).
      const publicCaller = await fetch(v('TC_REF_INTROSPECTION_URL'), {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({
          token: jwt,
          client_id: v('TC_REF_JWT_BEARER_CLIENT_ID'),
        }).toString(),
      });
      expect(publicCaller.status).toBe(200);
      expect(await publicCaller.json()).toEqual({ active: false });
    });

    it('answers active false once the token expired', async () => {
      const { body: issued } = await basicToken();
      const jwt = issued.access_token ?? '';
      expect((await introspect(jwt)).body.active).toBe(true);
      await sleep((TTL + 1) * 1000);
      expect((await introspect(jwt)).body).toEqual({ active: false });
    }, 15_000);
  });

  // ---------------------------------------------------------------------------------------------
  // Discovery (OpenID Connect Discovery 1.0 and RFC 8414).

  it("binds the DPoP client's tokens to its proof key after the nonce dance (RFC 9449), and its resource enforces the binding", async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const jwk = { kty, crv, x, y };
    const proof = (htm: string, htu: string, extra: JWTPayload = {}) =>
      new SignJWT({ htm, htu, jti: randomUUID(), ...extra })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
        .setIssuedAt()
        .sign(privateKey);
    const dpopAuth = {
      authorization: basicAuth(v('TC_REF_DPOP_CLIENT_ID'), v('TC_REF_DPOP_CLIENT_SECRET')),
    };
    const params = { grant_type: 'client_credentials', scope: 'api:read' };
    const tokenUrl = v('TC_REF_TOKEN_URL');

    // No proof from a DPoP-bound client: refused.
    expect((await token(params, dpopAuth)).res.status).toBe(400);
    // A proof without a nonce: 400 use_dpop_nonce with the nonce to use (§8).
    const first = await token(params, { ...dpopAuth, dpop: await proof('POST', tokenUrl) });
    expect([first.res.status, first.body.error]).toEqual([400, 'use_dpop_nonce']);
    const nonce = first.res.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const bound = await token(params, {
      ...dpopAuth,
      dpop: await proof('POST', tokenUrl, { nonce: nonce! }),
    });
    expect([bound.res.status, bound.body.token_type]).toEqual([200, 'DPoP']);
    const at = bound.body.access_token!;
    expect(decodeJwt(at)['cnf']).toEqual({ jkt: await calculateJwkThumbprint(jwk) });

    const resourceUrl = v('TC_REF_RESOURCE_URL');
    const ath = createHash('sha256').update(at).digest('base64url');
    const atResource = async (authorization: string, dpop?: string) =>
      (
        await fetch(resourceUrl, {
          dispatcher: agent,
          headers: { authorization, ...(dpop ? { dpop } : {}) },
        })
      ).status;
    expect(await atResource(`DPoP ${at}`, await proof('GET', resourceUrl, { ath }))).toBe(200);
    // As a Bearer token, without a proof, with a proof for another token or method: refused.
    expect(await atResource(`Bearer ${at}`)).toBe(401);
    expect(await atResource(`DPoP ${at}`)).toBe(401);
    expect(await atResource(`DPoP ${at}`, await proof('GET', resourceUrl, { ath: 'x' }))).toBe(401);
    expect(await atResource(`DPoP ${at}`, await proof('POST', resourceUrl, { ath }))).toBe(401);
    // The same proof twice: refused the second time.
    const once = await proof('GET', resourceUrl, { ath });
    expect(await atResource(`DPoP ${at}`, once)).toBe(200);
    expect(await atResource(`DPoP ${at}`, once)).toBe(401);
  });

  it('refuses a resource indicator other than its resource with invalid_target (RFC 8707)', async () => {
    const ok = await basicToken({ scope: 'api:read', resource: v('TC_REF_RESOURCE_URL') });
    expect(ok.res.status).toBe(200);
    expect(decodeJwt(ok.body.access_token!).aud).toBe(v('TC_REF_RESOURCE_URL'));
    const other = await basicToken({ scope: 'api:read', resource: 'https://elsewhere.invalid/' });
    expect([other.res.status, other.body.error]).toEqual([400, 'invalid_target']);
  });

  it('publishes the same metadata at openid-configuration and oauth-authorization-server', async () => {
    const get = async (url: string): Promise<Record<string, unknown>> => {
      const res = await fetch(url, { dispatcher: agent });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json/);
      return (await res.json()) as Record<string, unknown>;
    };
    const openid = await get(v('TC_REF_DISCOVERY_URL'));
    const oauth = await get(`${v('TC_REF_ISSUER')}/.well-known/oauth-authorization-server`);
    expect(oauth).toEqual(openid);
    expect(openid).toMatchObject({
      issuer: v('TC_REF_ISSUER'),
      token_endpoint: v('TC_REF_TOKEN_URL'),
      jwks_uri: `${v('TC_REF_ISSUER')}/jwks`,
      introspection_endpoint: v('TC_REF_INTROSPECTION_URL'),
      mtls_endpoint_aliases: { token_endpoint: v('TC_REF_MTLS_TOKEN_URL') },
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(openid.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', JWT_BEARER]),
    );
    expect(openid.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining([
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
      ]),
    );
    expect(openid.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'EdDSA']),
    );
    // The JWKS published there verifies the access tokens.
    const jwks = await get(`${v('TC_REF_ISSUER')}/jwks`);
    const { body } = await basicToken();
    expect(jwks).toMatchObject({
      keys: [expect.objectContaining({ kid: decodeProtectedHeader(body.access_token ?? '').kid })],
    });
  });
});

describe('reference lifecycle', () => {
  it('close() stops listening and removes the CA directory', async () => {
    const ref = await startReference();
    const caFile = ref.env.TC_REF_CA_FILE ?? '';
    const files = Object.entries(ref.env)
      .filter(([k]) => k.endsWith('_FILE'))
      .map(([, file]) => file);
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(existsSync(file)).toBe(true);
    await ref.close();
    expect(existsSync(caFile)).toBe(false);
    expect(existsSync(dirname(caFile))).toBe(false);
    for (const file of files) expect(existsSync(file)).toBe(false);
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    await expect(fetch(ref.env.TC_REF_ISSUER ?? '', { dispatcher: agent })).rejects.toThrow();
    await expect(
      fetch(ref.env.TC_REF_MTLS_TOKEN_URL ?? '', { dispatcher: agent }),
    ).rejects.toThrow();
    await agent.close();
  });
});
