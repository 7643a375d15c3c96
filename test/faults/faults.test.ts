/**
 * Every check proven against a LIVE server: for each check id, the fault server runs with exactly
 * that defect (DEFECTS in fault-server.ts) and the whole harness — descriptor loading, observe() over
 * HTTPS, evaluate() — must turn that check red (fail for MUST/EXPECTATION, warn for SHOULD), while the
 * conformant mode and every valid-but-unusual behaviour (QUIRKS) keep every check green. This is the
 * live counterpart of test/checks/defects.ts, which applies the same defects to recorded exchanges.
 *
 * Each configuration is a descriptor written as YAML to a temp dir, with ${env:…} secrets resolved
 * from an env object (never process.env). Configurations are independent and run concurrently.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AUTH_CODE_DEFECTS } from './auth-code-fault-server.js';
import { CHECKS } from '../../src/checks/index.js';
import { levelOf, type Evidence } from '../../src/checks/types.js';
import { DescriptorError, readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import type { RecordedResponse } from '../../src/evidence/types.js';
import { evaluate, type Finding, type Outcome } from '../../src/evaluate.js';
import { observe } from '../../src/observe.js';
import {
  DEFECTS,
  LIFETIME_SECONDS,
  QUIRKS,
  SHORT_LIFETIME_SECONDS,
  SHORT_LIVED,
  startFaultServer,
  type DefectId,
  type FaultServer,
  type Mode,
  type QuirkId,
} from './fault-server.js';

/** A descriptor as written to YAML (the schema's shape; values may be ${env:…} references). */
interface Doc {
  name: string;
  title: string;
  tokenEndpoint: string;
  issuer?: string;
  discovery?: 'oauth-authorization-server' | 'openid-configuration';
  clients: { id: string; label: string; auth: Record<string, string | boolean> }[];
  grant: { type: string; assertion?: Record<string, string>; bodyEncoding?: 'form' | 'json' };
  scopes: { request?: string; default?: string; forbidden?: string; required?: boolean };
  expect: {
    tokenType: string;
    expiresIn?: number;
    expiresInTolerance?: number;
    refreshToken?: string;
    scopeEcho?: string;
    forbiddenScope?: string;
    ungrantableScope?: string;
    tokenFormat?: string;
    jwtAlgs?: string[];
    clientAssertion?: { jtiRequired?: boolean; singleUse?: boolean; maxLifetimeSeconds?: number };
  };
  resource?: { url: string; requiredScope?: string; insufficientScope?: { scope: string } };
  introspection?: {
    url: string;
    client?: number | { id: string; label: string; auth: Record<string, string | boolean> };
  };
  limits: { maxExpiryWaitSeconds: number; requestsPerSecond: number };
  tls: { caFile: string };
  dpop?: {
    required?: boolean;
    nonce?: 'required' | 'optional' | 'none';
    resourceEnforces?: boolean;
    replayDetection?: boolean;
    client?: number | { id: string; label: string; auth: Record<string, string | boolean> };
  };
  resourceIndicators?: { resource?: string; unknown?: string; audience?: string };
}

const BASIC_CLIENT = {
  id: '${env:FAULT_BASIC_ID}',
  label: 'client_secret_basic',
  auth: { method: 'client_secret_basic', secret: '${env:FAULT_SECRET_BASIC}' },
};
const POST_CLIENT = {
  id: '${env:FAULT_POST_ID}',
  label: 'client_secret_post',
  auth: { method: 'client_secret_post', secret: '${env:FAULT_SECRET_POST}' },
};
const PRIVATE_KEY_JWT_CLIENT = {
  id: '${env:FAULT_PKJWT_ID}',
  label: 'private_key_jwt ES256',
  auth: { method: 'private_key_jwt', alg: 'ES256', key: './pkjwt-key.pem' },
};
const SECRET_JWT_CLIENT = {
  id: '${env:FAULT_SECRET_JWT_ID}',
  label: 'client_secret_jwt HS256',
  auth: { method: 'client_secret_jwt', secret: '${env:FAULT_SECRET_JWT}' },
};
const MTLS_CLIENT = {
  id: '${env:FAULT_MTLS_ID}',
  label: 'tls_client_auth',
  auth: {
    method: 'tls_client_auth',
    certFile: './mtls-cert.pem',
    keyFile: './mtls-key.pem',
    certificateBoundTokens: true,
  },
};
const SELF_SIGNED_CLIENT = {
  id: '${env:FAULT_SELF_SIGNED_ID}',
  label: 'self_signed_tls_client_auth',
  auth: {
    method: 'self_signed_tls_client_auth',
    certFile: './self-signed-cert.pem',
    keyFile: './self-signed-key.pem',
    certificateBoundTokens: true,
  },
};
/** The primary client is Basic; the first JWT client (private_key_jwt) carries the assertion probes. */
const ALL_CLIENTS = [
  BASIC_CLIENT,
  POST_CLIENT,
  PRIVATE_KEY_JWT_CLIENT,
  SECRET_JWT_CLIENT,
  MTLS_CLIENT,
  SELF_SIGNED_CLIENT,
];

/**
 * What the fault server promises in its conformant mode: every client authentication method, discovery,
 * a resource and introspection, so that every check of the client_credentials grant with JWT access
 * tokens applies (the jwt-bearer grant and opaque tokens are the other conformant configurations).
 */
function baseDoc(name: string, title: string): Doc {
  return {
    name,
    title,
    tokenEndpoint: '${env:FAULT_TOKEN_URL}',
    issuer: '${env:FAULT_ISSUER}',
    discovery: 'oauth-authorization-server',
    clients: structuredClone(ALL_CLIENTS),
    grant: { type: 'client_credentials' },
    scopes: { request: 'api:read', default: '', forbidden: 'admin' },
    expect: {
      tokenType: 'Bearer',
      expiresIn: LIFETIME_SECONDS,
      refreshToken: 'absent',
      scopeEcho: 'always',
      forbiddenScope: 'invalid_scope',
      ungrantableScope: 'invalid_scope',
      tokenFormat: 'jwt',
    },
    resource: {
      url: '${env:FAULT_RESOURCE_URL}',
      requiredScope: 'api:read',
      insufficientScope: { scope: 'api:write' },
    },
    introspection: { url: '${env:FAULT_INTROSPECTION_URL}' },
    // A loopback server needs no pacing. Tokens live LIFETIME_SECONDS (longer than the maximum wait, so
    // the expiry probes are skipped) except in the SHORT_LIVED modes, whose expiry probes wait them out.
    limits: { maxExpiryWaitSeconds: 10, requestsPerSecond: 50 },
    tls: { caFile: './ca.pem' },
  };
}

interface Case {
  /** Unique; also names the descriptor. */
  label: string;
  mode: Mode;
  /** The check that must go red, and the client instance for per-client checks. */
  target?: { check: string; client?: string; message: RegExp };
  /** Descriptor settings this configuration needs (e.g. a check that only applies under one). */
  edit?: (d: Doc) => void;
  /** Other findings the defect legitimately affects, with the outcome they must have. */
  collateral?: Record<string, Outcome>;
  /** Harness false positives on a valid behaviour (see the report): pinned, so a fix shows up here. */
  harnessIssues?: Record<string, Outcome>;
  /** For a quirk: that the unusual behaviour really reached the harness (so "not flagged" means something). */
  shows?: (ex: (probe: string) => RecordedResponse) => void;
}

/**
 * With opaque tokens the certificate binding cannot be read (no introspection), yet the check fails
 * at EXPECTATION level instead of reporting that it cannot judge.
 */
/** With opaque tokens the certificate binding cannot be read from the token: a failed prerequisite. */
const OPAQUE_BINDING_ISSUE = { 'client-auth.certificate-bound-token': 'broken' } as const;

/** Checks of the access token as a JWT: a 201 or an opaque token leaves them nothing to judge. */
const JWT_CHECKS = [
  'expiry.jwt-lifetime',
  'expiry.jwt-iat-current',
  'scope.jwt-claim-agrees',
  ...CHECKS.filter((c) => c.area === 'jwt').map((c) => c.id),
];

const DEFECT_CASES: (Case & { mode: DefectId })[] = [
  // Grant handling
  {
    label: 'grant.client-credentials',
    mode: 'grant.client-credentials',
    target: {
      check: 'grant.client-credentials',
      client: 'client_secret_post',
      message: /client_secret_post was answered 400 unauthorized_client/,
    },
  },
  // A resource that refuses every token refuses the altered and the narrow one for no reason of their own.
  {
    label: 'grant.token-accepted-at-resource',
    mode: 'grant.token-accepted-at-resource',
    target: {
      check: 'grant.token-accepted-at-resource',
      message:
        /answered 401 to a fresh token \(WWW-Authenticate: Bearer realm="faults", error="invalid_token"/,
    },
    collateral: Object.fromEntries(
      [
        'resource.tampered-token-refused',
        'resource.tampered-token-challenge',
        'resource.insufficient-scope-refused',
        'resource.insufficient-scope-challenge',
      ].map((id) => [id, 'broken' as const]),
    ),
  },
  {
    label: 'grant.get-refused',
    mode: 'grant.get-refused',
    target: {
      check: 'grant.get-refused',
      message: /GET token request was answered 200 with an access token/,
    },
  },
  {
    label: 'grant.missing-grant-type',
    mode: 'grant.missing-grant-type',
    target: {
      check: 'grant.missing-grant-type',
      message: /answered 400 unsupported_grant_type; expected a 4xx with error invalid_request/,
    },
  },
  {
    label: 'grant.missing-grant-type-not-accepted',
    mode: 'grant.missing-grant-type-not-accepted',
    target: {
      check: 'grant.missing-grant-type-not-accepted',
      message:
        /a request without grant_type was answered 200 with an access token: the request was accepted/,
    },
  },
  {
    label: 'grant.unknown-grant-type',
    mode: 'grant.unknown-grant-type',
    target: {
      check: 'grant.unknown-grant-type',
      message: /answered 400 invalid_grant; expected a 4xx with error unsupported_grant_type/,
    },
  },
  {
    label: 'grant.unknown-grant-type-not-accepted',
    mode: 'grant.unknown-grant-type-not-accepted',
    target: {
      check: 'grant.unknown-grant-type-not-accepted',
      message:
        /an unknown grant_type was answered 200 with an access token: the request was accepted/,
    },
  },
  {
    label: 'grant.repeated-parameter-not-accepted',
    mode: 'grant.repeated-parameter-not-accepted',
    target: {
      check: 'grant.repeated-parameter-not-accepted',
      message: /grant_type twice was answered 200 with an access token/,
    },
  },
  {
    label: 'grant.repeated-parameter',
    mode: 'grant.repeated-parameter',
    target: {
      check: 'grant.repeated-parameter',
      message:
        /grant_type twice was answered 400 unsupported_grant_type; expected a 4xx with error invalid_request/,
    },
  },
  {
    label: 'grant.query-credentials-refused',
    mode: 'grant.query-credentials-refused',
    target: {
      check: 'grant.query-credentials-refused',
      message:
        /the client credentials of client_secret_post in the query string was answered 200 with an access token/,
    },
  },
  // What one real server does: a 500 HTML page for credentials in the query string.
  {
    label: 'grant.query-credentials-error-code',
    mode: 'grant.query-credentials-error-code',
    target: {
      check: 'grant.query-credentials-error-code',
      message: /query string was answered 500 \(text\/html\): a server error, not a refusal/,
    },
    collateral: {
      'errors.status': 'fail',
      'errors.content-type-json': 'fail',
      'errors.schema': 'fail',
      'errors.cache-control': 'warn',
    },
  },
  {
    label: 'grant.two-auth-methods-refused',
    mode: 'grant.two-auth-methods-refused',
    target: {
      check: 'grant.two-auth-methods-refused',
      message: /client_secret in the body was answered 200 with an access token/,
    },
  },
  {
    label: 'grant.two-auth-methods-error-code',
    mode: 'grant.two-auth-methods-error-code',
    target: {
      check: 'grant.two-auth-methods-error-code',
      message:
        /answered 400 unauthorized_client; expected a 4xx with error invalid_request or invalid_client/,
    },
  },
  {
    label: 'grant.no-refresh-token (declared absent: EXPECTATION)',
    mode: 'grant.no-refresh-token',
    target: { check: 'grant.no-refresh-token', message: /carries a refresh_token/ },
  },
  {
    label: 'grant.no-refresh-token (allowed: SHOULD NOT)',
    mode: 'grant.no-refresh-token',
    target: { check: 'grant.no-refresh-token', message: /carries a refresh_token/ },
    edit: (d) => {
      d.expect.refreshToken = 'allowed';
    },
    // The refresh token it hands out cannot be used (this server has no refresh_token grant): true.
    collateral: { 'refresh.works': 'fail', 'refresh.expires-in': 'fail' },
  },
  // Response schema
  {
    label: 'response.status-200',
    mode: 'response.status-200',
    target: { check: 'response.status-200', message: /answered 201 with an access token/ },
    // Every check that needs a 200 success response has nothing to judge: broken, not a verdict.
    collateral: {
      'grant.client-credentials': 'fail',
      'scope.default': 'fail',
      'client-auth.replayed-jti': 'broken',
      ...Object.fromEntries(
        [
          'response.schema',
          'response.access-token-syntax',
          'response.token-type',
          'response.expires-in-integer',
          'response.expires-in-positive',
          'response.unique-members',
          'response.expires-in-present',
          'response.scope-syntax',
          'response.cache-control',
          'response.pragma',
          'response.token-format',
          'expiry.expires-in-declared',
          ...JWT_CHECKS,
          'scope.requested-granted',
          'scope.echoed',
          'scope.not-broader',
        ].map((id) => [id, 'broken' as const]),
      ),
    },
    // Its first use of an assertion got 201, so replay cannot be judged: a failed prerequisite.
  },
  {
    label: 'response.content-type-json',
    mode: 'response.content-type-json',
    target: {
      check: 'response.content-type-json',
      message: /Content-Type is "text\/plain; charset=utf-8", not application\/json/,
    },
  },
  {
    label: 'response.schema',
    mode: 'response.schema',
    target: { check: 'response.schema', message: /required member "token_type" is missing/ },
    collateral: { 'response.token-type': 'fail' },
  },
  // A trailing TAB travels back in the Authorization header, where HTTP trims it, so the resource still
  // accepts the token; but it is no JWT any more, so the descriptor declares opaque tokens.
  {
    label: 'response.access-token-syntax',
    mode: 'response.access-token-syntax',
    target: { check: 'response.access-token-syntax', message: /outside VSCHAR/ },
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    harnessIssues: OPAQUE_BINDING_ISSUE,
  },
  {
    label: 'response.token-type',
    mode: 'response.token-type',
    target: { check: 'response.token-type', message: /token_type is "mac", expected "Bearer"/ },
  },
  // expires_in 2.5 against a declared 2 ± 1: only the syntax (and the schema's integer type) is wrong.
  {
    label: 'response.expires-in-positive',
    mode: 'response.expires-in-positive',
    target: {
      check: 'response.expires-in-positive',
      message: /expires_in is 0: the token expires as it is issued/,
    },
    collateral: {
      'expiry.expires-in-declared': 'fail',
      'expiry.jwt-lifetime': 'fail',
      'expiry.refused-after-expiry': 'fail',
      'expiry.expired-token-challenge': 'broken',
      'introspection.expired-inactive': 'fail',
      'introspection.agrees-with-token-response': 'fail',
      'resource.tampered-token-refused': 'broken',
      'resource.tampered-token-challenge': 'broken',
    },
  },
  {
    label: 'response.expires-in-integer',
    mode: 'response.expires-in-integer',
    target: {
      check: 'response.expires-in-integer',
      message: /expires_in is 300.5, not an integer/,
    },
    edit: (d) => {
      d.expect.expiresInTolerance = 1;
    },
    collateral: { 'response.schema': 'fail' },
  },
  {
    label: 'response.unique-members',
    mode: 'response.unique-members',
    target: {
      check: 'response.unique-members',
      message: /the token response repeats "expires_in"/,
    },
  },
  {
    label: 'response.expires-in-present',
    mode: 'response.expires-in-present',
    target: { check: 'response.expires-in-present', message: /expires_in is absent/ },
    // Nothing declares the lifetime either: the expiry probes at the resource are skipped (policy).
    edit: (d) => {
      delete d.expect.expiresIn;
    },
    // The JWT's exp is there and consistent; with no expires_in there is nothing to disagree with.
  },
  {
    label: 'response.scope-syntax',
    mode: 'response.scope-syntax',
    target: { check: 'response.scope-syntax', message: /scope is a JSON array/ },
    collateral: { 'response.schema': 'fail', 'scope.echoed': 'fail' },
  },
  {
    label: 'response.cache-control',
    mode: 'response.cache-control',
    target: {
      check: 'response.cache-control',
      message: /Cache-Control is "no-cache", without no-store/,
    },
  },
  {
    label: 'response.pragma',
    mode: 'response.pragma',
    target: { check: 'response.pragma', message: /Pragma is absent, not no-cache/ },
  },
  {
    label: 'response.token-format (opaque where JWT declared)',
    mode: 'response.token-format',
    target: {
      check: 'response.token-format',
      message: /not a JWT; the descriptor declares tokenFormat: jwt/,
    },
    collateral: Object.fromEntries(JWT_CHECKS.map((id) => [id, 'broken' as const])),
    harnessIssues: OPAQUE_BINDING_ISSUE,
  },
  // Expiry
  {
    label: 'expiry.expires-in-declared',
    mode: 'expiry.expires-in-declared',
    target: {
      check: 'expiry.expires-in-declared',
      message: /expires_in is 360; the descriptor declares 300/,
    },
  },
  {
    label: 'expiry.jwt-lifetime',
    mode: 'expiry.jwt-lifetime',
    target: { check: 'expiry.jwt-lifetime', message: /exp − iat = 308 s but expires_in is 300 s/ },
  },
  // The slow clock also shows in introspection's exp, an hour from what the response implies.
  {
    label: 'expiry.jwt-iat-current',
    mode: 'expiry.jwt-iat-current',
    target: {
      check: 'expiry.jwt-iat-current',
      message: /iat is -3[56]\d\d s from the response time/,
    },
    collateral: { 'introspection.agrees-with-token-response': 'fail' },
  },
  {
    label: 'expiry.refused-after-expiry',
    mode: 'expiry.refused-after-expiry',
    target: { check: 'expiry.refused-after-expiry', message: /answered 200 to an expired token/ },
    collateral: { 'expiry.expired-token-challenge': 'broken' },
  },
  {
    label: 'expiry.expired-token-challenge',
    mode: 'expiry.expired-token-challenge',
    target: {
      check: 'expiry.expired-token-challenge',
      message: /no Bearer challenge in WWW-Authenticate \(absent\)/,
    },
  },
  // Scope
  {
    label: 'scope.requested-granted',
    mode: 'scope.requested-granted',
    target: {
      check: 'scope.requested-granted',
      message: /requested "api:read api:write" but granted "api:read"/,
    },
    edit: (d) => {
      d.scopes.request = 'api:read api:write';
    },
  },
  {
    label: 'scope.echoed',
    mode: 'scope.echoed',
    target: { check: 'scope.echoed', message: /no scope member/ },
  },
  {
    label: 'scope.returned-when-different',
    mode: 'scope.returned-when-different',
    target: {
      check: 'scope.returned-when-different',
      message:
        /scope is omitted but the token grants "api:read" while "api:read api:write" was requested/,
    },
    edit: (d) => {
      d.scopes.request = 'api:read api:write';
      d.expect.scopeEcho = 'when-different';
    },
    // Omitted scope means "as requested" to the client, which the JWT (and so introspection)
    // contradicts: a real disagreement.
    collateral: {
      'scope.jwt-claim-agrees': 'warn',
      'introspection.agrees-with-token-response': 'fail',
    },
  },
  // The token asked for without the resource's scope gets it anyway: nothing to show the resource refusing.
  {
    label: 'scope.not-broader',
    mode: 'scope.not-broader',
    target: {
      check: 'scope.not-broader',
      message: /granted "api:write" beyond the requested "api:read"/,
    },
    collateral: {
      'resource.insufficient-scope-refused': 'broken',
      'resource.insufficient-scope-challenge': 'broken',
    },
  },
  {
    label: 'scope.default',
    mode: 'scope.default',
    target: {
      check: 'scope.default',
      message: /granted "api:read"; the declared default is \(none\)/,
    },
  },
  // No default declared: the refusal is judged by RFC 6749 §3.3 alone.
  {
    label: 'scope.none-default-or-invalid-scope',
    mode: 'scope.none-default-or-invalid-scope',
    target: {
      check: 'scope.none-default-or-invalid-scope',
      message:
        /without scope was answered 400 invalid_request; RFC 6749 §3.3 allows a token \(a default scope\) or error invalid_scope/,
    },
    edit: (d) => {
      delete d.scopes.default;
    },
  },
  {
    label: 'scope.required',
    mode: 'scope.required',
    target: {
      check: 'scope.required',
      message:
        /without scope was answered 200 with an access token; the descriptor declares scope required/,
    },
    edit: (d) => {
      delete d.scopes.default;
      d.scopes.required = true;
    },
  },
  {
    label: 'scope.forbidden (declared invalid_scope)',
    mode: 'scope.forbidden',
    target: {
      check: 'scope.forbidden',
      message:
        /a request for "api:read admin" was answered with a token that grants "admin", which the client may not have \(the response grants "api:read admin"\)/,
    },
  },
  {
    label: 'scope.forbidden (declared narrowed)',
    mode: 'scope.forbidden',
    target: { check: 'scope.forbidden', message: /grants "admin", which the client may not have/ },
    edit: (d) => {
      d.expect.forbiddenScope = 'narrowed';
    },
  },
  {
    label: 'scope.forbidden (no promise: either)',
    mode: 'scope.forbidden',
    target: { check: 'scope.forbidden', message: /grants "admin", which the client may not have/ },
    edit: (d) => {
      delete d.expect.forbiddenScope;
      delete d.expect.ungrantableScope;
    },
  },
  {
    label: 'scope.ungrantable-alone',
    mode: 'scope.ungrantable-alone',
    target: {
      check: 'scope.ungrantable-alone',
      message:
        /a request for "admin" was answered with a token that grants "admin", which the client may not have/,
    },
  },
  {
    label: 'scope.refused-with-invalid-scope',
    mode: 'scope.refused-with-invalid-scope',
    target: {
      check: 'scope.refused-with-invalid-scope',
      message:
        /next to one it may have: answered 403 access_denied, not error invalid_scope; .*only a scope the client may not have: answered 403 access_denied/,
    },
  },
  {
    label: 'scope.jwt-claim-agrees',
    mode: 'scope.jwt-claim-agrees',
    target: {
      check: 'scope.jwt-claim-agrees',
      message: /the JWT says "api:read", the response "api:read api:write"/,
    },
    edit: (d) => {
      d.scopes.request = 'api:read api:write';
    },
    collateral: { 'introspection.agrees-with-token-response': 'fail' },
  },
  // Errors
  {
    label: 'errors.wrong-secret',
    mode: 'errors.wrong-secret',
    target: {
      check: 'errors.wrong-secret',
      message: /wrong client secret was answered 200 with an access token/,
    },
  },
  {
    label: 'errors.unknown-client',
    mode: 'errors.unknown-client',
    target: {
      check: 'errors.unknown-client',
      message: /unknown client id was answered 200 with an access token/,
    },
  },
  {
    label: 'errors.unknown-client-error-code',
    mode: 'errors.unknown-client-error-code',
    target: {
      check: 'errors.unknown-client-error-code',
      message:
        /an unknown client id was answered 400 access_denied; expected a 4xx with error invalid_client/,
    },
    collateral: { 'errors.invalid-client-401-challenge': 'fail' },
  },
  {
    label: 'errors.no-client-auth',
    mode: 'errors.no-client-auth',
    target: {
      check: 'errors.no-client-auth',
      message: /without client authentication was answered 200 with an access token/,
    },
  },
  {
    label: 'errors.no-client-auth-error-code',
    mode: 'errors.no-client-auth-error-code',
    target: {
      check: 'errors.no-client-auth-error-code',
      message:
        /without client authentication was answered 400 unauthorized_client; expected a 4xx with error invalid_client or invalid_request/,
    },
  },
  {
    label: 'errors.wrong-secret-error-code',
    mode: 'errors.wrong-secret-error-code',
    target: {
      check: 'errors.wrong-secret-error-code',
      message:
        /a wrong client secret was answered 400 access_denied; expected a 4xx with error invalid_client/,
    },
    collateral: { 'errors.invalid-client-401-challenge': 'fail' },
  },
  {
    label: 'errors.invalid-client-401-challenge',
    mode: 'errors.invalid-client-401-challenge',
    target: {
      check: 'errors.invalid-client-401-challenge',
      message: /a wrong client secret \(client_secret_basic\): status 400, not 401/,
    },
  },
  {
    label: 'errors.status',
    mode: 'errors.status',
    target: {
      check: 'errors.status',
      message: /without grant_type: 500 invalid_request: expected 400/,
    },
    collateral: { 'grant.missing-grant-type': 'fail' },
  },
  {
    label: 'errors.content-type-json',
    mode: 'errors.content-type-json',
    target: {
      check: 'errors.content-type-json',
      message: /Content-Type "text\/plain; charset=utf-8"/,
    },
  },
  {
    label: 'errors.schema',
    mode: 'errors.schema',
    target: { check: 'errors.schema', message: /error_description: must match pattern/ },
  },
  {
    label: 'errors.cache-control',
    mode: 'errors.cache-control',
    target: { check: 'errors.cache-control', message: /without grant_type: Cache-Control absent/ },
  },
  // Client authentication: the assertion probes are made with the private_key_jwt client.
  {
    label: 'client-auth.expired-assertion',
    mode: 'client-auth.expired-assertion',
    target: {
      check: 'client-auth.expired-assertion',
      message:
        /an assertion whose exp has passed was answered 200 with an access token: the request was accepted/,
    },
  },
  {
    label: 'client-auth.wrong-audience',
    mode: 'client-auth.wrong-audience',
    target: {
      check: 'client-auth.wrong-audience',
      message: /an assertion with aud of another server was answered 200/,
    },
  },
  {
    label: 'client-auth.wrong-issuer',
    mode: 'client-auth.wrong-issuer',
    target: {
      check: 'client-auth.wrong-issuer',
      message: /an assertion whose iss is not the client id was answered 200/,
    },
  },
  {
    label: 'client-auth.wrong-subject',
    mode: 'client-auth.wrong-subject',
    target: {
      check: 'client-auth.wrong-subject',
      message: /an assertion whose sub is not the client id was answered 200/,
    },
  },
  {
    label: 'client-auth.alg-none',
    mode: 'client-auth.alg-none',
    target: {
      check: 'client-auth.alg-none',
      message: /an unsigned assertion \(alg none\) was answered 200/,
    },
  },
  {
    label: 'client-auth.unknown-key',
    mode: 'client-auth.unknown-key',
    target: {
      check: 'client-auth.unknown-key',
      message: /an assertion signed by an unknown key was answered 200/,
    },
  },
  {
    label: 'client-auth.missing-jti',
    mode: 'client-auth.missing-jti',
    target: {
      check: 'client-auth.missing-jti',
      message: /an assertion without jti was answered 200/,
    },
  },
  {
    label: 'client-auth.far-future-exp',
    mode: 'client-auth.far-future-exp',
    target: {
      check: 'client-auth.far-future-exp',
      message: /an assertion with exp a year ahead was answered 200/,
    },
  },
  {
    label: 'client-auth.replayed-jti',
    mode: 'client-auth.replayed-jti',
    target: {
      check: 'client-auth.replayed-jti',
      message: /the replayed assertion was answered 200 with an access token/,
    },
  },
  // With a promise declared (expect.clientAssertion) these are EXPECTATIONs (test/checks/defects.ts
  // shows all three; here the maximum lifetime, which brings a probe of its own).
  // No limit at all: the year-long assertion and the one just over the declared maximum both get through.
  {
    label: 'client-auth.far-future-exp (maxLifetimeSeconds declared)',
    mode: 'client-auth.far-future-exp',
    target: {
      check: 'client-auth.far-future-exp',
      message: /an assertion with exp a year ahead was answered 200/,
    },
    edit: (d) => {
      d.expect.clientAssertion = { maxLifetimeSeconds: 600 };
    },
    collateral: { 'client-auth.assertion-max-lifetime': 'fail' },
  },
  // The server's limit is an hour where 600 s is declared: the probe (600 + 60 + 10 s) gets through, the year does not.
  {
    label: 'client-auth.assertion-max-lifetime',
    mode: 'client-auth.assertion-max-lifetime',
    target: {
      check: 'client-auth.assertion-max-lifetime',
      message:
        /an assertion living 670 s \(declared maximum 600 s\) was answered 200 with an access token: the server accepted it/,
    },
    edit: (d) => {
      d.expect.clientAssertion = { maxLifetimeSeconds: 600 };
    },
  },
  {
    label: 'client-auth.certificate-bound-token',
    mode: 'client-auth.certificate-bound-token',
    target: {
      check: 'client-auth.certificate-bound-token',
      message:
        /tls_client_auth: the token has no cnf x5t#S256; self_signed_tls_client_auth: the token has no cnf x5t#S256/,
    },
  },
  {
    label: 'client-auth.mtls-without-certificate',
    mode: 'client-auth.mtls-without-certificate',
    target: {
      check: 'client-auth.mtls-without-certificate',
      message: /a request without a client certificate was answered 200 with an access token/,
    },
  },
  {
    label: 'client-auth.mtls-without-certificate-error-code',
    mode: 'client-auth.mtls-without-certificate-error-code',
    target: {
      check: 'client-auth.mtls-without-certificate-error-code',
      message:
        /a request without a client certificate was answered 403 \(text\/html\) without an OAuth error code/,
    },
  },
  ...(
    [
      'expired-assertion',
      'wrong-audience',
      'wrong-issuer',
      'wrong-subject',
      'alg-none',
      'unknown-key',
      'missing-jti',
      'far-future-exp',
    ] as const
  ).map((id) => ({
    label: `client-auth.${id}-error-code`,
    mode: `client-auth.${id}-error-code` as const,
    target: {
      check: `client-auth.${id}-error-code`,
      message: /was answered 400 invalid_grant; expected a 4xx with error invalid_client/,
    },
  })),
  // Discovery (RFC 8414)
  {
    label: 'discovery.metadata',
    mode: 'discovery.metadata',
    target: {
      check: 'discovery.metadata',
      message: /Content-Type is "text\/html; charset=utf-8", not application\/json/,
    },
  },
  {
    label: 'discovery.issuer',
    mode: 'discovery.issuer',
    target: {
      check: 'discovery.issuer',
      message:
        /the metadata says issuer "https:\/\/127\.0\.0\.1:\d+\/discovery\.issuer\/"; configured is "https:\/\/127\.0\.0\.1:\d+\/discovery\.issuer"/,
    },
  },
  {
    label: 'discovery.token-endpoint',
    mode: 'discovery.token-endpoint',
    target: {
      check: 'discovery.token-endpoint',
      message:
        /token_endpoint ".*\/oauth2\/token" answered 404 invalid_request; the descriptor's ".*\/discovery\.token-endpoint\/token" answered 200 with an access token/,
    },
  },
  {
    label: 'discovery.mtls-endpoint-aliases',
    mode: 'discovery.mtls-endpoint-aliases',
    target: {
      check: 'discovery.mtls-endpoint-aliases',
      message: /mtls_endpoint_aliases\.token_endpoint is "http:\/\//,
    },
  },
  {
    label: 'discovery.grant-types-supported',
    mode: 'discovery.grant-types-supported',
    target: {
      check: 'discovery.grant-types-supported',
      message:
        /grant_types_supported \["authorization_code","refresh_token"\] lacks client_credentials/,
    },
  },
  {
    label: 'discovery.auth-methods-supported',
    mode: 'discovery.auth-methods-supported',
    target: {
      check: 'discovery.auth-methods-supported',
      message:
        /lacks private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth, which the descriptor uses/,
    },
  },
  {
    label: 'discovery.jwks',
    mode: 'discovery.jwks',
    target: { check: 'discovery.jwks', message: /1 keys carry private or symmetric key material/ },
  },
  // JWT access tokens (RFC 9068)
  {
    label: 'jwt.typ',
    mode: 'jwt.typ',
    target: { check: 'jwt.typ', message: /typ is "JWT", not "at\+jwt"/ },
  },
  // Unsigned, so also no allowed algorithm and no signature that verifies: the same fault, three rules.
  {
    label: 'jwt.alg-not-none',
    mode: 'jwt.alg-not-none',
    target: { check: 'jwt.alg-not-none', message: /alg is "none"/ },
    collateral: { 'jwt.alg-allowed': 'fail', 'jwt.signature': 'fail' },
  },
  // An HMAC cannot verify against published public keys: the signature check fails with it.
  {
    label: 'jwt.alg-allowed (HS256)',
    mode: 'jwt.alg-allowed',
    target: { check: 'jwt.alg-allowed', message: /alg is "HS256"; allowed: RS256, RS384/ },
    collateral: { 'jwt.signature': 'fail' },
  },
  {
    label: 'jwt.signature',
    mode: 'jwt.signature',
    target: {
      check: 'jwt.signature',
      message: /the signature does not verify: ERR_JWKS_NO_MATCHING_KEY/,
    },
  },
  {
    label: 'jwt.claims-well-formed',
    mode: 'jwt.claims-well-formed',
    target: { check: 'jwt.claims-well-formed', message: /^sub is 42, not a string$/ },
  },
  {
    label: 'jwt.required-claims',
    mode: 'jwt.required-claims',
    target: { check: 'jwt.required-claims', message: /missing claims: jti$/ },
  },
  {
    label: 'jwt.iss',
    mode: 'jwt.iss',
    target: {
      check: 'jwt.iss',
      message: /iss is ".*\/jwt\.iss-elsewhere"; the issuer is ".*\/jwt\.iss"/,
    },
  },
  {
    label: 'jwt.aud',
    mode: 'jwt.aud',
    target: {
      check: 'jwt.aud',
      message: /aud is ".*\/other-resource"; expected it to include ".*\/jwt\.aud\/resource"/,
    },
  },
  // Introspection reads the same token, so it names the same wrong client.
  {
    label: 'jwt.client-id',
    mode: 'jwt.client-id',
    target: {
      check: 'jwt.client-id',
      message: /client_id is "someone-else"; the token was requested by "faults:basic"/,
    },
    collateral: { 'introspection.agrees-with-token-response': 'fail' },
  },
  {
    label: 'jwt.jti-unique',
    mode: 'jwt.jti-unique',
    target: {
      check: 'jwt.jti-unique',
      message: /\d+ distinct tokens but only 1 distinct jti values/,
    },
  },
  // Introspection (RFC 7662)
  {
    label: 'introspection.fresh-active',
    mode: 'introspection.fresh-active',
    target: {
      check: 'introspection.fresh-active',
      message: /active is false for a token issued seconds ago/,
    },
    collateral: { 'introspection.agrees-with-token-response': 'broken' },
  },
  {
    label: 'introspection.agrees-with-token-response',
    mode: 'introspection.agrees-with-token-response',
    target: {
      check: 'introspection.agrees-with-token-response',
      message: /client_id is "someone-else", not "faults:basic"/,
    },
  },
  {
    label: 'introspection.expired-inactive',
    mode: 'introspection.expired-inactive',
    target: {
      check: 'introspection.expired-inactive',
      message: /active is true after the token's lifetime/,
    },
  },
  {
    label: 'introspection.requires-authentication',
    mode: 'introspection.requires-authentication',
    target: {
      check: 'introspection.requires-authentication',
      message:
        /introspection of the fresh token without client authentication was answered 200 with active: true: the endpoint answers anyone/,
    },
    collateral: { 'introspection.unauthenticated-error': 'broken' },
  },
  {
    label: 'introspection.unauthenticated-error',
    mode: 'introspection.unauthenticated-error',
    target: {
      check: 'introspection.unauthenticated-error',
      message:
        /answered 403 access_denied; expected 401 invalid_client \(or 400 invalid_client \/ invalid_request\)/,
    },
  },
  // Without an inactive answer to an unknown token, only the expired token's is left to judge the members of.
  {
    label: 'introspection.unknown-token-inactive',
    mode: 'introspection.unknown-token-inactive',
    target: {
      check: 'introspection.unknown-token-inactive',
      message: /introspection was answered 400 invalid_token, not 200 with a JSON object/,
    },
  },
  {
    label: 'introspection.inactive-only-active',
    mode: 'introspection.inactive-only-active',
    target: {
      check: 'introspection.inactive-only-active',
      message:
        /a random string the server never issued: also reason; introspection of the access token after its lifetime \(\d+ s\): also reason/,
    },
  },
  // Protected resource (RFC 6750)
  {
    label: 'resource.no-token-refused',
    mode: 'resource.no-token-refused',
    target: {
      check: 'resource.no-token-refused',
      message: /answered 200 to a request without any access token: it is not protected/,
    },
    collateral: {
      'resource.no-token-challenge': 'broken',
      'resource.no-token-no-error-code': 'broken',
    },
  },
  {
    label: 'resource.no-token-challenge',
    mode: 'resource.no-token-challenge',
    target: {
      check: 'resource.no-token-challenge',
      message: /no Bearer challenge in WWW-Authenticate \(absent\)/,
    },
    collateral: { 'resource.no-token-no-error-code': 'broken' },
  },
  {
    label: 'resource.no-token-no-error-code',
    mode: 'resource.no-token-no-error-code',
    target: {
      check: 'resource.no-token-no-error-code',
      message:
        /carries error="invalid_token", error_description="no access token was presented" although the request had no credentials/,
    },
  },
  {
    label: 'resource.tampered-token-refused',
    mode: 'resource.tampered-token-refused',
    target: {
      check: 'resource.tampered-token-refused',
      message:
        /answered 200 to the fresh token with one character changed: it does not validate the token/,
    },
    collateral: { 'resource.tampered-token-challenge': 'broken' },
  },
  {
    label: 'resource.tampered-token-challenge',
    mode: 'resource.tampered-token-challenge',
    target: {
      check: 'resource.tampered-token-challenge',
      message:
        /the tampered token was answered 400 invalid_request, not 401; the Bearer challenge has error="invalid_request", not "invalid_token"/,
    },
  },
  {
    label: 'resource.insufficient-scope-refused',
    mode: 'resource.insufficient-scope-refused',
    target: {
      check: 'resource.insufficient-scope-refused',
      message: /answered 200 to a token granted "api:write", without the required "api:read"/,
    },
    collateral: { 'resource.insufficient-scope-challenge': 'broken' },
  },
  {
    label: 'resource.insufficient-scope-challenge',
    mode: 'resource.insufficient-scope-challenge',
    target: {
      check: 'resource.insufficient-scope-challenge',
      message:
        /answered 401 invalid_token, not 403; the Bearer challenge has error="invalid_token", not "insufficient_scope"/,
    },
  },
  {
    label: 'response.token-entropy',
    mode: 'response.token-entropy',
    target: {
      check: 'response.token-entropy',
      message: /about 96 bits per token .*RFC 6749 §10\.10 asks for ≥ 128/,
    },
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    harnessIssues: OPAQUE_BINDING_ISSUE,
  },
  // Long tokens that count up: the length bound holds, the counter gives them away (and the estimate sees it too).
  {
    label: 'response.token-entropy-bound',
    mode: 'response.token-entropy-bound',
    target: {
      check: 'response.token-entropy-bound',
      message:
        /^the \d+ distinct tokens differ only in a trailing decimal counter that rises by 1(, 1)+: each token gives away the next$/,
    },
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    collateral: { 'response.token-entropy': 'warn' },
    harnessIssues: OPAQUE_BINDING_ISSUE,
  },
  // The jwt-bearer grant: its own assertion, spoilt one way at a time, must be invalid_grant.
  {
    label: 'grant.form-encoded-body',
    mode: 'grant.form-encoded-body',
    edit: (d) => {
      jwtBearer(d);
      d.grant.bodyEncoding = 'json';
    },
    target: {
      check: 'grant.form-encoded-body',
      message: /the form-encoded token request was answered 400 invalid_request/,
    },
  },
  {
    label: 'grant.jwt-bearer',
    mode: 'grant.jwt-bearer',
    edit: jwtBearer,
    target: {
      check: 'grant.jwt-bearer',
      client: 'client_secret_post',
      message:
        /a valid jwt-bearer grant \(client_secret_post\) was answered 400 unauthorized_client/,
    },
  },
  ...(
    [
      'grant.assertion-expired',
      'grant.assertion-wrong-audience',
      'grant.assertion-wrong-issuer',
      'grant.assertion-alg-none',
      'grant.assertion-unknown-key',
      'grant.assertion-far-future-exp',
    ] as const
  ).map((id) => ({
    label: id,
    mode: id,
    edit: jwtBearer,
    target: {
      check: id,
      message: /^an? (unsigned )?grant assertion.* was answered 200 with an access token/,
    },
  })),
  ...(
    [
      'grant.assertion-expired',
      'grant.assertion-wrong-audience',
      'grant.assertion-wrong-issuer',
      'grant.assertion-alg-none',
      'grant.assertion-unknown-key',
      'grant.assertion-far-future-exp',
    ] as const
  ).map((id) => ({
    label: `${id}-error-code`,
    mode: `${id}-error-code` as const,
    edit: jwtBearer,
    target: {
      check: `${id}-error-code`,
      message:
        /grant assertion.* was answered 401 invalid_client; expected a 4xx with error invalid_grant/,
    },
  })),
  {
    label: 'grant.assertion-replay',
    mode: 'grant.assertion-replay',
    edit: jwtBearer,
    target: {
      check: 'grant.assertion-replay',
      message: /the replayed assertion was answered 200 with an access token/,
    },
  },
  // The same with client_secret_jwt (HS256) as the client that carries the assertion probes.
  ...(['client-auth.alg-none', 'client-auth.unknown-key', 'client-auth.replayed-jti'] as const).map(
    (id) => ({
      label: `${id} (client_secret_jwt)`,
      mode: id,
      target: { check: id, message: /was answered 200 with an access token/ },
      edit: secretJwtFirst,
    }),
  ),
];

/** The jwt-bearer grant (RFC 7523 §2.1) instead of client_credentials, every client still authenticating. */
function jwtBearer(d: Doc): void {
  d.grant = {
    type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: {
      issuer: '${env:FAULT_GRANT_ISSUER}',
      subject: 'service-account-1',
      alg: 'ES256',
      key: './grant-key.pem',
    },
  };
}

/** client_secret_jwt before private_key_jwt: it becomes the client of the assertion probes. */
function secretJwtFirst(d: Doc): void {
  d.clients = structuredClone([
    BASIC_CLIENT,
    POST_CLIENT,
    SECRET_JWT_CLIENT,
    PRIVATE_KEY_JWT_CLIENT,
    MTLS_CLIENT,
    SELF_SIGNED_CLIENT,
  ]);
}

/** The conformant mode under other descriptor promises that it keeps. */
/**
 * DPoP (RFC 9449) with the DPoP-bound client, every promise declared (the server asks for a nonce
 * first, detects replays, and its resource enforces the binding), and resource indicators (RFC 8707).
 */
function withDpop(d: Doc, nonce: 'required' | 'optional' = 'required'): void {
  d.dpop = {
    required: true,
    nonce,
    resourceEnforces: true,
    replayDetection: true,
    client: {
      id: '${env:FAULT_DPOP_ID}',
      label: 'client_secret_basic, DPoP-bound',
      auth: { method: 'client_secret_basic', secret: '${env:FAULT_SECRET_DPOP}' },
    },
  };
  d.resourceIndicators = {};
}

/** One DPoP or resource-indicator defect: the check it turns red, how, and what else it moves. */
const dpopCase = (
  mode: DefectId,
  message: RegExp,
  collateral?: Record<string, Outcome>,
  nonce: 'required' | 'optional' = 'required',
): Case & { mode: DefectId } => ({
  label: mode,
  mode,
  target: { check: mode, message },
  edit: (d) => withDpop(d, nonce),
  ...(collateral ? { collateral } : {}),
});

const ACCEPTED = /was accepted/;
const INVALID_REQUEST = /answered 400 invalid_request; expected a 4xx with error/;

const DPOP_CASES: (Case & { mode: DefectId })[] = [
  dpopCase('grant.resource-indicated-issued', /answered 400 invalid_target/, {
    'grant.resource-audience': 'broken',
  }),
  dpopCase('grant.resource-audience', /not restricted to/),
  dpopCase('grant.unknown-resource-refused', ACCEPTED),
  dpopCase(
    'grant.unknown-resource-code',
    /answered 400 invalid_request; expected a 4xx with error invalid_target/,
  ),
  // Without a DPoP token nothing that presents one can be judged; nor was a nonce ever asked for.
  dpopCase('dpop.token-issued', /answered 400 invalid_dpop_proof/, {
    'dpop.token-type': 'broken',
    'dpop.cnf-jkt': 'broken',
    'dpop.nonce-policy': 'fail',
    'dpop.resource-accepts': 'broken',
    'dpop.resource-bearer-refused': 'broken',
    'dpop.replay-refused': 'broken',
    'dpop.replay-code': 'broken',
  }),
  dpopCase('dpop.token-type', /token_type is "Bearer"/),
  // The resource checks the binding itself: a token bound to another key is refused there too.
  dpopCase('dpop.cnf-jkt', /not the proof key's thumbprint/, { 'dpop.resource-accepts': 'fail' }),
  dpopCase('dpop.nonce-challenge', /answered 401 use_dpop_nonce with a DPoP-Nonce header/),
  dpopCase('dpop.nonce-policy', /not use_dpop_nonce \(dpop.nonce: required\)/),
  dpopCase('dpop.missing-proof-refused', ACCEPTED),
  dpopCase('dpop.missing-proof-code', /answered 400 unauthorized_client; expected/),
  dpopCase('dpop.bad-signature-refused', ACCEPTED),
  dpopCase('dpop.bad-signature-code', INVALID_REQUEST),
  dpopCase('dpop.wrong-htm-refused', ACCEPTED),
  dpopCase('dpop.wrong-htm-code', INVALID_REQUEST),
  dpopCase('dpop.wrong-htu-refused', ACCEPTED),
  dpopCase('dpop.wrong-htu-code', INVALID_REQUEST),
  // A server without nonces (the defect's server never asks): a stale proof is judged on its iat alone.
  dpopCase('dpop.stale-iat-refused', ACCEPTED, undefined, 'optional'),
  dpopCase('dpop.stale-iat-code', INVALID_REQUEST),
  dpopCase('dpop.alg-none-refused', ACCEPTED),
  dpopCase('dpop.alg-none-code', INVALID_REQUEST),
  dpopCase('dpop.private-key-refused', ACCEPTED),
  dpopCase('dpop.private-key-code', INVALID_REQUEST),
  dpopCase('dpop.replay-refused', ACCEPTED),
  dpopCase('dpop.replay-code', INVALID_REQUEST),
  dpopCase('dpop.resource-accepts', /answered 401 invalid_token/),
  dpopCase('dpop.resource-bearer-refused', ACCEPTED),
];

const OK_CASES: Case[] = [
  { label: 'ok', mode: 'ok' },
  { label: 'ok (DPoP and resource indicators)', mode: 'ok', edit: (d) => withDpop(d) },
  { label: 'ok (client_secret_jwt assertions)', mode: 'ok', edit: secretJwtFirst },
  // Every client-assertion promise, kept: the server's limit is exactly the declared 600 s.
  {
    label: 'ok (client assertion policy declared)',
    mode: 'ok',
    edit: (d) => {
      d.expect.clientAssertion = { jtiRequired: true, singleUse: true, maxLifetimeSeconds: 600 };
    },
  },
  // The JWTs are no opaque tokens to sample: the entropy estimate has nothing to judge.
  {
    label: 'response.token-format (JWT where opaque declared)',
    mode: 'ok',
    target: {
      check: 'response.token-format',
      message: /the access token is a JWT; the descriptor declares tokenFormat: opaque/,
    },
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    collateral: { 'response.token-entropy': 'broken', 'response.token-entropy-bound': 'broken' },
  },
  { label: 'ok (jwt-bearer grant)', mode: 'ok', edit: jwtBearer },
  {
    label: 'ok (jwt-bearer grant, JSON body)',
    mode: 'ok',
    edit: (d) => {
      jwtBearer(d);
      d.grant.bodyEncoding = 'json';
    },
  },
  {
    label: 'ok (OpenID Connect discovery)',
    mode: 'ok',
    edit: (d) => {
      d.discovery = 'openid-configuration';
    },
  },
  // Introspection called by a client of its own (introspection.client), not the primary one.
  {
    label: 'ok (introspection by its own client)',
    mode: 'ok',
    edit: (d) => {
      d.introspection = {
        url: '${env:FAULT_INTROSPECTION_URL}',
        client: structuredClone(POST_CLIENT),
      };
    },
  },
  {
    label: 'ok (introspection by clients[1])',
    mode: 'ok',
    edit: (d) => {
      d.introspection = { url: '${env:FAULT_INTROSPECTION_URL}', client: 1 };
    },
  },
  // Scope promises a valid server does not keep: the promise, not the RFC, fails.
  {
    label: 'scope.forbidden (declared invalid_scope, server narrows)',
    mode: 'narrow-mixed-refuse-alone',
    target: {
      check: 'scope.forbidden',
      message:
        /answered with a token \(the response grants "api:read"\); the descriptor declares a refusal with invalid_scope/,
    },
  },
  {
    label: 'scope.ungrantable-alone (declared narrowed, server refuses)',
    mode: 'narrow-mixed-refuse-alone',
    target: {
      check: 'scope.ungrantable-alone',
      message:
        /a request for "admin" was refused \(400 invalid_scope\); the descriptor declares a narrowed grant/,
    },
    edit: (d) => {
      d.expect.forbiddenScope = 'narrowed';
      d.expect.ungrantableScope = 'narrowed';
    },
  },
  // A promise the server does not keep: RS256 tokens where the owners allow only ES256.
  {
    label: 'jwt.alg-allowed (RS256 where ES256 is promised)',
    mode: 'ok',
    target: { check: 'jwt.alg-allowed', message: /alg is "RS256"; allowed: ES256$/ },
    edit: (d) => {
      d.expect.jwtAlgs = ['ES256'];
    },
  },
];

const body = (r: RecordedResponse) => r.json as Record<string, unknown>;

const QUIRK_CASES: (Case & { mode: QuirkId })[] = [
  {
    label: 'token-endpoint-alias',
    mode: 'token-endpoint-alias',
    shows: (ex) =>
      expect([
        ex('discovery.advertised-token-endpoint').status,
        ex('discovery.advertised-token-endpoint').accessToken !== undefined,
      ]).toEqual([200, true]),
  },
  // RFC 9068 tokens of one client and scope, cached: the same jti twice is one token, not a reuse.
  {
    label: 'token-cache',
    mode: 'token-cache',
    shows: (ex) =>
      expect(ex('client-auth.first-use').accessToken?.jwt?.payload['jti']).toBe(
        ex('token.2').accessToken?.jwt?.payload['jti'],
      ),
  },
  {
    label: 'remaining-lifetime',
    mode: 'remaining-lifetime',
    shows: (ex) => expect(body(ex('token.0'))['expires_in']).toBe(LIFETIME_SECONDS - 1),
  },
  {
    label: 'short-lived-tokens',
    mode: 'short-lived-tokens',
    shows: (ex) => {
      expect(body(ex('token.0'))['expires_in']).toBe(SHORT_LIFETIME_SECONDS);
      expect(ex('resource.expired').status).toBe(401);
    },
  },
  {
    label: 'lowercase-bearer',
    mode: 'lowercase-bearer',
    shows: (ex) => expect(body(ex('token.0'))['token_type']).toBe('bearer'),
  },
  {
    label: 'json-no-charset',
    mode: 'json-no-charset',
    shows: (ex) => expect(ex('token.0').headers['content-type']).toEqual(['application/json']),
  },
  {
    label: 'json-uppercase',
    mode: 'json-uppercase',
    shows: (ex) =>
      expect(ex('grant.unknown-grant-type').headers['content-type']).toEqual([
        'Application/JSON;Charset=UTF-8',
      ]),
  },
  {
    label: 'extra-fields',
    mode: 'extra-fields',
    shows: (ex) => {
      expect(body(ex('token.0'))).toMatchObject({
        'not-before-policy': 0,
        vendor: { region: 'eu-1' },
        session_state: null,
      });
      expect(body(ex('grant.missing-grant-type'))).toHaveProperty('error_codes');
    },
  },
  {
    label: 'scope-reordered',
    mode: 'scope-reordered',
    edit: (d) => {
      d.scopes.request = 'api:write api:read';
    },
    shows: (ex) => expect(body(ex('token.0'))['scope']).toBe('api:read api:write'),
  },
  {
    label: 'omit-identical-scope',
    mode: 'omit-identical-scope',
    edit: (d) => {
      d.expect.scopeEcho = 'when-different';
    },
    shows: (ex) => expect(body(ex('token.0'))).not.toHaveProperty('scope'),
  },
  {
    label: 'omit-identical-scope (reordered request)',
    mode: 'omit-identical-scope',
    edit: (d) => {
      d.expect.scopeEcho = 'when-different';
      d.scopes.request = 'api:write api:read';
    },
    shows: (ex) => {
      expect(body(ex('token.0'))).not.toHaveProperty('scope');
      expect(ex('token.0').accessToken?.jwt?.payload['scope']).toBe('api:write api:read');
    },
  },
  {
    label: 'cache-control-no-cache',
    mode: 'cache-control-no-cache',
    shows: (ex) => expect(ex('token.0').headers['cache-control']).toEqual(['no-store, no-cache']),
  },
  {
    label: 'cache-control-split',
    mode: 'cache-control-split',
    shows: (ex) =>
      expect(ex('token.0').headers['cache-control']).toEqual(['private', 'No-Store, max-age=0']),
  },
  {
    label: 'error-uri',
    mode: 'error-uri',
    shows: (ex) =>
      expect(body(ex('errors.wrong-secret'))['error_uri']).toMatch(
        /^https:\/\/127\.0\.0\.1\/docs\/errors#invalid_client$/,
      ),
  },
  {
    label: 'errors-bare',
    mode: 'errors-bare',
    shows: (ex) =>
      expect(body(ex('grant.unknown-grant-type'))).toEqual({ error: 'unsupported_grant_type' }),
  },
  // The client_secret_post client is the primary one, so the refusals are made with it. With it alone
  // the Basic-challenge check does not apply (skipped).
  {
    label: 'post-invalid-client-400 (post client only)',
    mode: 'post-invalid-client-400',
    edit: (d) => {
      d.clients = [structuredClone(POST_CLIENT)];
    },
    shows: (ex) => {
      expect([ex('errors.wrong-secret').status, body(ex('errors.wrong-secret'))['error']]).toEqual([
        400,
        'invalid_client',
      ]);
      expect(ex('errors.wrong-secret').headers['www-authenticate']).toBeUndefined();
    },
  },
  // With a Basic client declared second the check applies, but no probe ever fails a Basic
  // authentication (they all use the primary client's method): broken although nothing is wrong.
  {
    label: 'post-invalid-client-400 (post primary, basic second)',
    mode: 'post-invalid-client-400',
    edit: (d) => {
      d.clients = [structuredClone(POST_CLIENT), structuredClone(BASIC_CLIENT)];
    },
    shows: (ex) => expect(ex('errors.unknown-client').status).toBe(400),
  },
  {
    label: 'no-auth-invalid-request',
    mode: 'no-auth-invalid-request',
    shows: (ex) => {
      expect([
        ex('errors.no-client-auth').status,
        body(ex('errors.no-client-auth'))['error'],
      ]).toEqual([400, 'invalid_request']);
      expect([
        ex('introspection.no-client-auth').status,
        body(ex('introspection.no-client-auth'))['error'],
      ]).toEqual([400, 'invalid_request']);
    },
  },
  {
    label: 'two-methods-invalid-client',
    mode: 'two-methods-invalid-client',
    shows: (ex) => {
      expect([ex('grant.two-methods').status, body(ex('grant.two-methods'))['error']]).toEqual([
        401,
        'invalid_client',
      ]);
      expect(ex('grant.two-methods').headers['www-authenticate']).toEqual(['Basic realm="faults"']);
    },
  },
  {
    label: 'get-405-html',
    mode: 'get-405-html',
    shows: (ex) =>
      expect([ex('grant.get').status, ex('grant.get').headers['content-type']]).toEqual([
        405,
        ['text/html; charset=utf-8'],
      ]),
  },
  {
    label: 'challenge-variants',
    mode: 'challenge-variants',
    shows: (ex) => {
      expect(ex('errors.wrong-secret').headers['www-authenticate']).toEqual([
        'basic realm="faults", charset="UTF-8"',
      ]);
      expect(ex('resource.expired').headers['www-authenticate']).toEqual([
        'DPoP algs="ES256 PS256"',
        'bearer error="invalid_token", error_description="the token \\"the access token expired\\", renew it", realm="faults"',
      ]);
    },
  },
  // RFC 9110 §11.6.1: one field may hold several challenges ("Newauth realm=…, Basic realm=…" is its
  // own example); the Basic/Bearer challenge second in the field must still be found.
  {
    label: 'multi-challenge',
    mode: 'multi-challenge',
    shows: (ex) => {
      expect(ex('errors.wrong-secret').headers['www-authenticate']).toEqual([
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="faults"',
      ]);
      expect(ex('resource.expired').headers['www-authenticate']).toEqual([
        'DPoP algs="ES256 PS256", Bearer realm="faults", error="invalid_token", error_description="the access token expired"',
      ]);
    },
  },
  {
    label: 'fractional-numericdate',
    mode: 'fractional-numericdate',
    shows: (ex) =>
      expect(Number.isInteger(ex('token.0').accessToken?.jwt?.payload['iat'])).toBe(false),
  },
  {
    label: 'connection-close',
    mode: 'connection-close',
    shows: (ex) => expect(ex('token.0').headers['connection']).toEqual(['close']),
  },
  // No promise (the default, either): both narrowed answers are fine, and say what was granted.
  {
    label: 'narrow-forbidden',
    mode: 'narrow-forbidden',
    edit: (d) => {
      delete d.expect.forbiddenScope;
      delete d.expect.ungrantableScope;
    },
    shows: (ex) =>
      expect([
        ex('scope.forbidden').status,
        body(ex('scope.forbidden'))['scope'],
        ex('scope.ungrantable').status,
        body(ex('scope.ungrantable'))['scope'],
      ]).toEqual([200, 'api:read', 200, 'api:read']),
  },
  {
    label: 'narrow-forbidden (declared narrowed)',
    mode: 'narrow-forbidden',
    edit: (d) => {
      d.expect.forbiddenScope = 'narrowed';
      d.expect.ungrantableScope = 'narrowed';
    },
    shows: (ex) =>
      expect(ex('scope.ungrantable').accessToken?.jwt?.payload['scope']).toBe('api:read'),
  },
  {
    label: 'narrow-mixed-refuse-alone',
    mode: 'narrow-mixed-refuse-alone',
    edit: (d) => {
      d.expect.forbiddenScope = 'narrowed';
      d.expect.ungrantableScope = 'invalid_scope';
    },
    shows: (ex) =>
      expect([
        ex('scope.forbidden').status,
        body(ex('scope.forbidden'))['scope'],
        ex('scope.ungrantable').status,
        body(ex('scope.ungrantable'))['error'],
      ]).toEqual([200, 'api:read', 400, 'invalid_scope']),
  },
  {
    label: 'scope-required (declared)',
    mode: 'scope-required',
    edit: (d) => {
      delete d.scopes.default;
      d.scopes.required = true;
    },
    shows: (ex) =>
      expect([ex('scope.none').status, body(ex('scope.none'))['error']]).toEqual([
        400,
        'invalid_scope',
      ]),
  },
  {
    label: 'scope-required (nothing declared about a request without scope)',
    mode: 'scope-required',
    edit: (d) => {
      delete d.scopes.default;
    },
    shows: (ex) => expect(body(ex('scope.none'))['error']).toBe('invalid_scope'),
  },
  {
    label: 'opaque-vendor-tokens',
    mode: 'opaque-vendor-tokens',
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    harnessIssues: OPAQUE_BINDING_ISSUE,
    shows: (ex) => expect(ex('token.0').accessToken?.preview).toMatch(/^tcat_\d/),
  },
  {
    label: 'assertion-skew-tolerance',
    mode: 'assertion-skew-tolerance',
    edit: (d) => {
      d.expect.clientAssertion = { jtiRequired: true, singleUse: true, maxLifetimeSeconds: 600 };
    },
    shows: (ex) => expect(ex('client-auth.over-max-lifetime').status).toBe(401),
  },
  {
    label: 'opaque-tokens',
    mode: 'opaque-tokens',
    edit: (d) => {
      d.expect.tokenFormat = 'opaque';
    },
    harnessIssues: OPAQUE_BINDING_ISSUE,
    shows: (ex) =>
      expect([ex('token.0').accessToken?.jwt, ex('token.0').accessToken?.length]).toEqual([
        undefined,
        43,
      ]),
  },
  {
    label: 'es256-access-tokens',
    mode: 'es256-access-tokens',
    shows: (ex) => expect(ex('token.0').accessToken?.jwt?.header['alg']).toBe('ES256'),
  },
  {
    label: 'typ-application-at-jwt',
    mode: 'typ-application-at-jwt',
    shows: (ex) => expect(ex('token.0').accessToken?.jwt?.header['typ']).toBe('application/at+jwt'),
  },
  {
    label: 'aud-array',
    mode: 'aud-array',
    shows: (ex) => expect(Array.isArray(ex('token.0').accessToken?.jwt?.payload['aud'])).toBe(true),
  },
  {
    label: 'challenge-scope',
    mode: 'challenge-scope',
    shows: (ex) => {
      expect(ex('resource.no-token').headers['www-authenticate']).toEqual([
        'Bearer realm="faults", scope="api:read api:write", DPoP algs="ES256"',
        'Basic realm="faults"',
      ]);
      expect([
        ex('resource.insufficient-scope').status,
        ex('resource.insufficient-scope').headers['www-authenticate']?.[0],
      ]).toEqual([
        403,
        'Bearer realm="faults", scope="api:read api:write", error="insufficient_scope", DPoP algs="ES256"',
      ]);
    },
  },
  {
    label: 'bare-bearer-challenge',
    mode: 'bare-bearer-challenge',
    shows: (ex) =>
      expect([
        ex('resource.no-token').status,
        ex('resource.no-token').headers['www-authenticate'],
      ]).toEqual([401, ['Bearer']]),
  },
  {
    label: 'introspection-401-challenges',
    mode: 'introspection-401-challenges',
    shows: (ex) =>
      expect([
        ex('introspection.no-client-auth').status,
        ex('introspection.no-client-auth').headers['www-authenticate'],
      ]).toEqual([401, ['Basic realm="faults", Bearer realm="faults"']]),
  },
  {
    label: 'introspection-inactive-cache',
    mode: 'introspection-inactive-cache',
    shows: (ex) => {
      expect(body(ex('introspection.unknown-token'))).toEqual({ active: false });
      expect(ex('introspection.unknown-token').headers['cache-control']).toEqual([
        'private, max-age=0',
      ]);
    },
  },
];

const CASES: Case[] = [...OK_CASES, ...DEFECT_CASES, ...DPOP_CASES, ...QUIRK_CASES];
/** ~110 runs of ~3.5 s each (the expiry wait sets the length): 12 at a time keeps the file near 40 s. */
const CONCURRENCY = 12;

interface Run {
  provider: Provider;
  evidence: Evidence;
  findings: Finding[];
  requestsSent: number;
  ms: number;
}

/** Runs `jobs` with at most `n` in flight; each job's promise settles on its own. */
function pool<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T>[] {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = () =>
    active < n ? (active++, Promise.resolve()) : new Promise<void>((r) => waiting.push(r));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return jobs.map(async (job) => {
    await acquire();
    try {
      return await job();
    } finally {
      release();
    }
  });
}

const slug = (label: string) =>
  `fault-${label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;

/** SHOULD → warn, MUST/EXPECTATION → fail (strict: false). */
function expectedOutcome(checkId: string, provider: Provider): Outcome {
  const check = CHECKS.find((c) => c.id === checkId);
  if (!check) throw new Error(`no check ${checkId}`);
  return levelOf(check, provider) === 'SHOULD' ? 'warn' : 'fail';
}

const describeFinding = (f: Finding) =>
  `${f.checkId}${f.params['client'] ? ` [${f.params['client']}]` : ''}: ${f.outcome} (${f.message})`;

describe('the harness against a live server with one defect at a time', () => {
  let server: FaultServer;
  let dir: string;
  const runs = new Map<string, Promise<Run>>();

  const envFor = (mode: Mode): Record<string, string> => ({
    FAULT_TOKEN_URL: server.tokenUrl(mode),
    FAULT_ISSUER: `${server.origin}/${mode}`,
    FAULT_INTROSPECTION_URL: `${server.origin}/${mode}/introspect`,
    FAULT_RESOURCE_URL: server.resourceUrl(mode),
    FAULT_BASIC_ID: server.clients.basic.id,
    FAULT_SECRET_BASIC: server.clients.basic.secret,
    FAULT_POST_ID: server.clients.post.id,
    FAULT_SECRET_POST: server.clients.post.secret,
    FAULT_PKJWT_ID: server.clients.privateKeyJwt.id,
    FAULT_SECRET_JWT_ID: server.clients.secretJwt.id,
    FAULT_SECRET_JWT: server.clients.secretJwt.secret,
    FAULT_MTLS_ID: server.clients.mtls.id,
    FAULT_SELF_SIGNED_ID: server.clients.selfSigned.id,
    FAULT_GRANT_ISSUER: server.grantIssuer.issuer,
    FAULT_DPOP_ID: server.clients.dpop.id,
    FAULT_SECRET_DPOP: server.clients.dpop.secret,
  });

  async function runCase(c: Case): Promise<Run> {
    const doc = baseDoc(slug(c.label), `fault server: ${c.label}`);
    if (SHORT_LIVED.includes(c.mode)) doc.expect.expiresIn = SHORT_LIFETIME_SECONDS;
    c.edit?.(doc);
    const file = path.join(dir, `${doc.name}.yaml`);
    await writeFile(
      file,
      `# yaml-language-server: $schema=../schemas/provider.schema.json\n${stringify(doc)}`,
    );
    const provider = resolveProvider(readDescriptor(file), envFor(c.mode));
    const t0 = performance.now();
    const evidence = await observe(provider);
    return {
      provider,
      evidence,
      findings: evaluate(provider, evidence, { strict: false }),
      requestsSent: evidence.requestsSent,
      ms: Math.round(performance.now() - t0),
    };
  }

  beforeAll(async () => {
    server = await startFaultServer();
    dir = await mkdtemp(path.join(tmpdir(), 'tc-faults-'));
    await writeFile(path.join(dir, 'ca.pem'), server.caPem);
    await writeFile(path.join(dir, 'pkjwt-key.pem'), server.clients.privateKeyJwt.keyPem, {
      mode: 0o600,
    });
    await writeFile(path.join(dir, 'mtls-cert.pem'), server.clients.mtls.certPem);
    await writeFile(path.join(dir, 'mtls-key.pem'), server.clients.mtls.keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'self-signed-cert.pem'), server.clients.selfSigned.certPem);
    await writeFile(path.join(dir, 'self-signed-key.pem'), server.clients.selfSigned.keyPem, {
      mode: 0o600,
    });
    await writeFile(path.join(dir, 'grant-key.pem'), server.grantIssuer.keyPem, { mode: 0o600 });

    const promises = pool(
      CONCURRENCY,
      CASES.map((c) => () => runCase(c)),
    );
    CASES.forEach((c, i) => {
      const p = promises[i]!;
      p.catch(() => undefined); // observed by the case's own test; never an unhandled rejection
      runs.set(c.label, p);
    });
  });

  afterAll(async () => {
    // Let every run finish before the server goes away (a failed test must not leave them hanging).
    await Promise.allSettled(runs.values());
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has a live defect for every check id, and a configuration proving it', () => {
    // The authorization-code and refresh checks have their own server (auth-code-faults.test.ts).
    const ids = CHECKS.map((c) => c.id)
      .filter((id) => !(id in AUTH_CODE_DEFECTS))
      .sort();
    const defects: string[] = Object.keys(DEFECTS);
    expect(
      ids.filter((id) => !defects.includes(id)),
      'checks without a defect in test/faults/fault-server.ts',
    ).toEqual([]);
    expect(
      defects.filter((id) => !ids.includes(id)),
      'defects for checks that no longer exist',
    ).toEqual([]);
    for (const id of ids) {
      expect(
        [...DEFECT_CASES, ...DPOP_CASES].some((c) => c.mode === id && c.target?.check === id),
        `no case for the defect of ${id}`,
      ).toBe(true);
    }
    for (const quirk of Object.keys(QUIRKS)) {
      expect(
        QUIRK_CASES.some((c) => c.mode === quirk),
        `no case for the quirk ${quirk}`,
      ).toBe(true);
    }
    expect(
      QUIRK_CASES.filter((c) => !c.shows).map((c) => c.label),
      'quirk cases that do not show their behaviour',
    ).toEqual([]);
    expect(new Set(CASES.map((c) => c.label)).size).toBe(CASES.length);
    expect(new Set(CASES.map((c) => slug(c.label))).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const run = await runs.get(c.label)!;
    const { findings, provider, evidence } = run;
    if (c.shows) {
      c.shows((probe) => {
        const r = evidence.exchanges[probe]?.response;
        if (!r) throw new Error(`no response recorded for ${probe}`);
        return r;
      });
    }
    expect(findings.length).toBeGreaterThanOrEqual(CHECKS.length);
    // No request is ever refused by the budget, and every probe got an answer.
    expect(findings.filter((f) => /request budget/.test(f.message)).map(describeFinding)).toEqual(
      [],
    );
    const unexpected: string[] = [];
    for (const f of findings) {
      const client = f.params['client'];
      const targeted =
        c.target?.check === f.checkId &&
        (c.target.client === undefined || c.target.client === client);
      let want: Outcome[];
      if (targeted) want = [expectedOutcome(f.checkId, provider)];
      else if (c.collateral?.[f.checkId]) want = [c.collateral[f.checkId]!];
      else if (c.harnessIssues?.[f.checkId]) want = [c.harnessIssues[f.checkId]!];
      else want = ['pass', 'skipped'];
      if (!want.includes(f.outcome))
        unexpected.push(`${describeFinding(f)}; expected ${want.join(' or ')}`);
      // A skip is always a declared policy, never a failed prerequisite in disguise.
      if (f.outcome === 'skipped')
        expect(f.message, describeFinding(f)).toMatch(/^not applicable: |^not run: /);
    }
    expect(unexpected, `checks that moved in "${c.label}":\n${unexpected.join('\n')}`).toEqual([]);
    if (c.target) {
      const hits = findings.filter(
        (f) =>
          f.checkId === c.target!.check &&
          (c.target!.client === undefined || f.params['client'] === c.target!.client),
      );
      expect(hits).toHaveLength(1);
      const hit = hits[0]!;
      expect(hit.checkId).toBe(c.target.check);
      expect(hit.outcome).toBe(hit.level === 'SHOULD' ? 'warn' : 'fail');
      expect(hit.message).toMatch(c.target.message);
    }
  });

  it('passes every check on the conformant server, each in at least one conformant configuration', async () => {
    // client_credentials with JWTs, the jwt-bearer grant, and opaque tokens: between them every check
    // applies somewhere, and (the per-case tests say) none is ever flagged on them.
    const conformant = [
      'ok',
      'ok (jwt-bearer grant)',
      'ok (jwt-bearer grant, JSON body)',
      'opaque-tokens',
      'short-lived-tokens',
      'ok (client assertion policy declared)',
      'scope-required (declared)',
      'ok (DPoP and resource indicators)',
    ];
    const passed = new Set<string>();
    for (const label of conformant)
      for (const f of (await runs.get(label)!).findings)
        if (f.outcome === 'pass') passed.add(f.checkId);
    expect(
      CHECKS.map((c) => c.id).filter((id) => !passed.has(id) && !(id in AUTH_CODE_DEFECTS)),
    ).toEqual([]);
    // In the main conformant run nothing is skipped but what another grant or token format is for.
    const ok = await runs.get('ok')!;
    // (and the promises another configuration makes: a maximum assertion lifetime, scope required).
    expect(
      ok.findings
        .filter(
          (f) =>
            f.outcome === 'skipped' &&
            !(f.checkId in AUTH_CODE_DEFECTS) &&
            !/jwt-bearer|opaque tokens|JWT access tokens: see|form-encoded|longer than the maximum wait|maxLifetimeSeconds|scopes\.required|no DPoP support|no resource indicator support/.test(
              f.message,
            ),
        )
        .map(describeFinding),
    ).toEqual([]);
  });

  it("really waits out the lifetime of short-lived tokens before the expiry probes (no wall-clock bound: that is the benchmark's business)", async () => {
    const run = await runs.get('short-lived-tokens')!;
    const issued = Date.parse(run.evidence.exchanges['token.0']!.startedAt);
    const expired = Date.parse(run.evidence.exchanges['resource.expired']!.startedAt);
    expect(expired - issued).toBeGreaterThanOrEqual(SHORT_LIFETIME_SECONDS * 1000);
    expect(run.requestsSent).toBeGreaterThanOrEqual(15);
  });
});

describe('the fault server itself', () => {
  let server: FaultServer;
  let agent: Agent;
  let dir: string;

  beforeAll(async () => {
    server = await startFaultServer();
    agent = new Agent({ connect: { ca: server.caPem } });
    dir = await mkdtemp(path.join(tmpdir(), 'tc-faults-http-'));
    await writeFile(path.join(dir, 'ca.pem'), server.caPem);
  });

  afterAll(async () => {
    await agent?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const formEncode = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;
  async function post(url: string, authorization: string, body = 'grant_type=client_credentials') {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      body,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      json: (await res.body.json()) as Record<string, unknown>,
    };
  }

  it('decodes HTTP Basic credentials as RFC 6749 Appendix B asks, and refuses them otherwise', async () => {
    const { id, secret } = server.clients.basic;
    expect(formEncode(secret)).not.toBe(secret);
    expect(formEncode(id)).not.toBe(id);
    const good = await post(server.tokenUrl('ok'), basic(formEncode(id), formEncode(secret)));
    expect(good.status).toBe(200);
    expect(good.json['token_type']).toBe('Bearer');
    expect(good.headers['cache-control']).toBe('no-store');
    expect(good.headers['pragma']).toBe('no-cache');
    const raw = await post(server.tokenUrl('ok'), basic(id, secret));
    expect(raw.status).toBe(401);
    expect(raw.json['error']).toBe('invalid_client');
    expect(raw.headers['www-authenticate']).toBe('Basic realm="faults"');
  });

  it('answers an unknown mode or endpoint 404', async () => {
    const res = await request(`${server.origin}/no-such-mode/token`, {
      method: 'POST',
      dispatcher: agent,
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
  });

  it('refuses a descriptor with an http: token endpoint before sending any request (exit-2 DescriptorError)', async () => {
    const env = {
      FAULT_TOKEN_URL: server.tokenUrl('ok', 'http'),
      FAULT_ISSUER: `${server.origin}/ok`,
      FAULT_INTROSPECTION_URL: `${server.origin}/ok/introspect`,
      FAULT_RESOURCE_URL: server.resourceUrl('ok'),
      FAULT_BASIC_ID: server.clients.basic.id,
      FAULT_SECRET_BASIC: server.clients.basic.secret,
      FAULT_POST_ID: server.clients.post.id,
      FAULT_SECRET_POST: server.clients.post.secret,
    };
    const before = server.requests.http;
    // A literal http: URL fails the schema while reading; one from the environment fails on resolution.
    const literal = baseDoc('fault-http-literal', 'http token endpoint (literal)');
    literal.tokenEndpoint = server.tokenUrl('ok', 'http');
    const fromEnv = baseDoc('fault-http-env', 'http token endpoint (from the environment)');
    // Secret clients only: nothing else (a missing key file or variable) may be what stops the run.
    for (const d of [literal, fromEnv]) d.clients = structuredClone([BASIC_CLIENT, POST_CLIENT]);
    const errors: unknown[] = [];
    for (const doc of [literal, fromEnv]) {
      const file = path.join(dir, `${doc.name}.yaml`);
      await writeFile(file, stringify(doc));
      try {
        await observe(resolveProvider(readDescriptor(file), env));
        errors.push(undefined);
      } catch (e) {
        errors.push(e);
      }
    }
    expect(errors[0]).toBeInstanceOf(DescriptorError);
    expect((errors[0] as DescriptorError).field).toBe('tokenEndpoint');
    expect((errors[0] as DescriptorError).message).toMatch(
      /fault-http-literal\.yaml: tokenEndpoint: must be an absolute https:\/\/ URL/,
    );
    expect(errors[1]).toBeInstanceOf(DescriptorError);
    expect((errors[1] as DescriptorError).message).toMatch(
      /fault-http-env\.yaml: tokenEndpoint: .*https:\/\/.*\(value of \$\{env:FAULT_TOKEN_URL\}\)/,
    );
    expect(server.requests.http).toBe(before);
    expect(server.requests.http).toBe(0);
    // The listener is alive and counting: the zero above means "never asked", not "not there".
    const res = await request(server.tokenUrl('ok', 'http'), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(
          formEncode(server.clients.basic.id),
          formEncode(server.clients.basic.secret),
        ),
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(server.requests.http).toBe(1);
  });
});
