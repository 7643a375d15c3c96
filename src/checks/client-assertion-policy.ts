/**
 * What a descriptor may promise about client assertions (expect.clientAssertion) beyond RFC 7523's
 * MAYs: jti required, single use, a maximum lifetime. A promise raises the SHOULD check that probes it
 * to an EXPECTATION (like refreshToken: absent does for grant.no-refresh-token); the maximum lifetime
 * also gets a probe of its own, just over the declared value.
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES } from '../probes/ids.js';
import { assertionClient } from '../probes/clients.js';
import { describeResponse } from './helpers.js';
import { defineCheck, fail, pass, rfc, type CheckDef, type Level } from './types.js';

interface AssertionPromise {
  promised: (p: Provider) => boolean;
  field: string;
}

const PROMISES: Record<string, AssertionPromise> = {
  'client-auth.missing-jti': {
    promised: (p) => p.expect.clientAssertion.jtiRequired,
    field: 'expect.clientAssertion.jtiRequired: true',
  },
  'client-auth.replayed-jti': {
    promised: (p) => p.expect.clientAssertion.singleUse,
    field: 'expect.clientAssertion.singleUse: true',
  },
  // A year-long assertion is beyond any declared maximum (the schema caps it at 30 days).
  'client-auth.far-future-exp': {
    promised: (p) => p.expect.clientAssertion.maxLifetimeSeconds !== undefined,
    field: 'expect.clientAssertion.maxLifetimeSeconds',
  },
};

/** The check, its level a function of the descriptor when a promise covers it; any other check unchanged. */
export function raisedByPromise(check: CheckDef): CheckDef {
  const promise = PROMISES[check.id];
  if (!promise || typeof check.level === 'function') return check;
  const base: Level = check.level;
  return {
    ...check,
    level: (p) => (promise.promised(p) ? 'EXPECTATION' : base),
    levelLabel: `${base} (EXPECTATION when ${promise.field} is declared)`,
    levelReason:
      `${check.levelReason ?? ''} An EXPECTATION when the descriptor declares ${promise.field}.`.trim(),
  };
}

/** Seconds between iat and exp of a recorded assertion, when both are numbers. */
function lifetimeOf(payload: Record<string, unknown> | undefined): number | undefined {
  const iat = payload?.['iat'];
  const exp = payload?.['exp'];
  return typeof iat === 'number' && typeof exp === 'number' ? exp - iat : undefined;
}

export const assertionMaxLifetime = defineCheck({
  id: 'client-auth.assertion-max-lifetime',
  title: 'A client assertion living longer than the declared maximum is refused',
  area: 'client-auth',
  level: 'EXPECTATION',
  levelReason:
    "RFC 7523 §3: the server MAY reject an exp unreasonably far in the future; expect.clientAssertion.maxLifetimeSeconds declares where this server draws the line. The probe lives the maximum plus limits.clockSkewSeconds plus 10 s, so a server whose clock runs ahead within the declared skew still sees too long a lifetime. Only the refusal is judged: the error code of refused assertions is the other client-auth checks' business.",
  spec: rfc(7523, '3'),
  defect: 'the endpoint accepts a client assertion whose lifetime exceeds the declared maximum',
  applies: (p) =>
    !assertionClient(p)
      ? 'no client authenticates with a JWT (client_secret_jwt or private_key_jwt)'
      : p.expect.clientAssertion.maxLifetimeSeconds === undefined
        ? 'the descriptor declares no maximum client-assertion lifetime (expect.clientAssertion.maxLifetimeSeconds)'
        : true,
  needs: () => [PROBES.assertionOverMaxLifetime],
  judge: ({ ex, provider }) => {
    const e = ex(PROBES.assertionOverMaxLifetime);
    const res = e.response;
    const lived = lifetimeOf(e.request.assertion?.payload);
    const what = `an assertion living ${lived ?? '?'} s (declared maximum ${provider.expect.clientAssertion.maxLifetimeSeconds} s)`;
    if (res.accessToken || (res.status >= 200 && res.status < 300))
      return fail(`${what} was answered ${describeResponse(res)}: the server accepted it`);
    return pass(`${what} was refused with ${describeResponse(res)}`);
  },
});
