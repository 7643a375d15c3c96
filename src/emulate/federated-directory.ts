/**
 * Stand-in for Federated Directory (/work/shared/seeds/000_8d98fc11a57c0bc4.txt, "Create an access
 * token with the issuer and private key"): POST /v2/Login/Oauth2/Token with a JSON body
 * {grant_type: jwt-bearer, assertion}, the assertion RS256-signed by the directory key's private key
 * with {iss: <key issuer>, scope: [directoryKey], aud: key}; answered with
 * {access_token (a JWT), token_type: Bearer, expires_in: 28800}. The access token is shaped like the
 * document's example: header {alg: HS256, typ: JWT}, claims {iss, aud: key, exp, jti}: a plain JWT,
 * not an RFC 9068 one (no at+jwt, no iat, sub or client_id), hence tokenFormat: jwt-plain.
 *
 * Our own endpoint (node:https + jose): no real authorization server takes a JSON token request,
 * which is the point of this service's declared deviation. A form-encoded request is refused
 * with 400 (so grant.form-encoded-body really is a deviation). With `broken`, the JSON body is
 * refused too (400), breaking the document's one promise.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { listen, readBody, rsaKey, sendJson } from './host.js';
import type { StartStandIn } from './types.js';

const TOKEN_PATH = '/v2/Login/Oauth2/Token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const LIFETIME = 28800;
const MAX_ASSERTION_LIFETIME = 3600;
const CLOCK_TOLERANCE = 15;
/** The iss of the document's example access token. */
const TOKEN_ISSUER = 'https://www.federated.directory/';

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

export const start: StartStandIn = async (ca, options) => {
  const listener = await listen(ca);
  try {
    const origin = listener.origin;
    const keyIssuer = `fd-key-${randomBytes(6).toString('hex')}`;
    // The directory key (its private key is the client's) and the server's own token-signing
    // secret: the document's example token is HS256-signed.
    const directoryKey = await rsaKey();
    const signingKey = randomBytes(32);
    const seenJti = new Map<string, number>();

    const issue = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const grantType = body['grant_type'];
      if (grantType === undefined)
        throw new OAuthError(400, 'invalid_request', "missing required parameter 'grant_type'");
      if (typeof grantType !== 'string')
        throw new OAuthError(400, 'invalid_request', "'grant_type' must be a string");
      if (grantType !== JWT_BEARER)
        throw new OAuthError(400, 'unsupported_grant_type', `unsupported grant_type ${grantType}`);
      const clientId = body['client_id'];
      // The document sends no client_id; one that is sent must be the key's issuer.
      if (clientId !== undefined && clientId !== keyIssuer)
        throw new OAuthError(401, 'invalid_client', 'unknown client');
      const assertion = body['assertion'];
      if (typeof assertion !== 'string' || assertion === '')
        throw new OAuthError(400, 'invalid_request', "missing required parameter 'assertion'");
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(assertion, directoryKey.publicKey, {
          algorithms: ['RS256'],
          issuer: keyIssuer,
          audience: 'key',
          requiredClaims: ['exp'],
          clockTolerance: CLOCK_TOLERANCE,
        }));
      } catch (cause) {
        throw new OAuthError(
          400,
          'invalid_grant',
          `invalid assertion: ${cause instanceof Error ? cause.message : String(cause)}`,
        );
      }
      const now = Math.floor(Date.now() / 1000);
      const exp = payload.exp ?? 0;
      if (exp - now > MAX_ASSERTION_LIFETIME)
        throw new OAuthError(
          400,
          'invalid_grant',
          `assertion exp must be at most ${MAX_ASSERTION_LIFETIME} s ahead`,
        );
      const scope = payload['scope'];
      if (!Array.isArray(scope) || !scope.includes('directoryKey'))
        throw new OAuthError(400, 'invalid_grant', 'assertion scope must be [directoryKey]');
      if (typeof payload.jti === 'string') {
        for (const [jti, until] of seenJti) if (until < now) seenJti.delete(jti);
        if (seenJti.has(payload.jti))
          throw new OAuthError(400, 'invalid_grant', 'assertion was already used');
        seenJti.set(payload.jti, exp + CLOCK_TOLERANCE);
      }
      // As in the document's example response: {iss, aud: key, exp, jti}, typ JWT, HS256.
      const accessToken = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(TOKEN_ISSUER)
        .setAudience('key')
        .setExpirationTime(now + LIFETIME)
        .setJti(randomUUID())
        .sign(signingKey);
      return { access_token: accessToken, token_type: 'Bearer', expires_in: LIFETIME };
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if ((req.url ?? '').split('?')[0] !== TOKEN_PATH) {
        sendJson(res, 404, { error: 'not_found' });
        return;
      }
      try {
        if (req.method !== 'POST')
          throw new OAuthError(400, 'invalid_request', 'the token endpoint takes POST');
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        const raw = (
          await readBody(req).catch(() => {
            throw new OAuthError(400, 'invalid_request', 'request body too large');
          })
        ).toString('utf8');
        if (type !== 'application/json' || options.broken)
          throw new OAuthError(400, 'invalid_request', 'the request body must be JSON');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new OAuthError(400, 'invalid_request', 'the request body is not valid JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new OAuthError(400, 'invalid_request', 'the request body must be a JSON object');
        sendJson(res, 200, await issue(body as Record<string, unknown>));
      } catch (err) {
        if (err instanceof OAuthError)
          sendJson(res, err.status, { error: err.code, error_description: err.message });
        else sendJson(res, 500, { error: 'server_error' });
      }
    };
    listener.serve((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      });
    });
    return {
      name: 'federated-directory',
      env: {
        FD_TOKEN_URL: `${origin}${TOKEN_PATH}`,
        FD_KEY_ISSUER: keyIssuer,
        FD_PRIVATE_KEY: directoryKey.pkcs8,
      },
      secrets: [directoryKey.pkcs8],
      close: () => listener.close(),
    };
  } catch (err) {
    await listener.close();
    throw err;
  }
};
