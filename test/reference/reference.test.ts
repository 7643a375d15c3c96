import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Agent, fetch, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';

const TTL = 2;

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
}

describe('embedded reference endpoint', () => {
  let ref: ReferenceServer;
  let env: Record<string, string>;
  let agent: Agent;

  beforeAll(async () => {
    ref = await startReference({ accessTokenTtlSeconds: TTL });
    env = ref.env;
    agent = new Agent({ connect: { ca: await readFile(env.TC_REF_CA_FILE ?? '', 'utf8') } });
  });

  afterAll(async () => {
    await agent.close();
    await ref.close();
  });

  const v = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`missing ${name}`);
    return value;
  };

  async function token(params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ res: Response; body: TokenBody }> {
    const res = await fetch(v('TC_REF_TOKEN_URL'), {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
      body: new URLSearchParams(params).toString(),
    });
    return { res, body: (await res.json()) as TokenBody };
  }
  const basicToken = (params: Record<string, string> = {}): Promise<{ res: Response; body: TokenBody }> =>
    token({ grant_type: 'client_credentials', ...params }, {
      authorization: basicAuth(v('TC_REF_BASIC_CLIENT_ID'), v('TC_REF_BASIC_CLIENT_SECRET')),
    });
  const resource = (authorization?: string): Promise<Response> =>
    fetch(v('TC_REF_RESOURCE_URL'), {
      dispatcher: agent,
      headers: authorization === undefined ? {} : { authorization },
    });

  it('exposes exactly the documented environment and secrets', () => {
    expect(Object.keys(env).sort()).toEqual([
      'TC_REF_BASIC_CLIENT_ID', 'TC_REF_BASIC_CLIENT_SECRET', 'TC_REF_CA_FILE', 'TC_REF_ISSUER',
      'TC_REF_POST_CLIENT_ID', 'TC_REF_POST_CLIENT_SECRET', 'TC_REF_RESOURCE_URL', 'TC_REF_TOKEN_URL',
    ]);
    expect(v('TC_REF_ISSUER')).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(v('TC_REF_TOKEN_URL')).toBe(`${v('TC_REF_ISSUER')}/token`);
    expect(ref.secrets.sort()).toEqual([v('TC_REF_BASIC_CLIENT_SECRET'), v('TC_REF_POST_CLIENT_SECRET')].sort());
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
    expect(claims).toMatchObject({ iss: v('TC_REF_ISSUER'), aud: v('TC_REF_RESOURCE_URL'), client_id: 'ref-basic' });
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
    const basic = await token({ grant_type: 'client_credentials' }, { authorization: basicAuth(v('TC_REF_BASIC_CLIENT_ID'), 'wrong') });
    expect(basic.res.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
    expect(basic.res.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+", error="invalid_client"/);

    const post = await token({ grant_type: 'client_credentials', client_id: v('TC_REF_POST_CLIENT_ID'), client_secret: 'wrong' });
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
    const { body } = await basicToken();
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

    await sleep((TTL + 1) * 1000);
    const expired = await resource(`Bearer ${body.access_token ?? ''}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer realm="reference", error="invalid_token"/);
  }, 15_000);

  it('fails TLS for a client that does not trust the run-time CA', async () => {
    const untrusted = new Agent();
    try {
      const err: unknown = await fetch(v('TC_REF_TOKEN_URL'), { method: 'POST', dispatcher: untrusted }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TypeError);
      const cause = (err as { cause?: { code?: string } }).cause;
      expect(cause?.code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    } finally {
      await untrusted.close();
    }
  });
});

describe('reference lifecycle', () => {
  it('close() stops listening and removes the CA directory', async () => {
    const ref = await startReference();
    const caFile = ref.env.TC_REF_CA_FILE ?? '';
    expect(existsSync(caFile)).toBe(true);
    await ref.close();
    expect(existsSync(caFile)).toBe(false);
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    await expect(fetch(ref.env.TC_REF_ISSUER ?? '', { dispatcher: agent })).rejects.toThrow();
    await agent.close();
  });
});
