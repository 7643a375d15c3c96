import type { ProbeId } from '../probes/ids.js';
import { describeResponse, jsonObject, oauthError } from './helpers.js';
import {
  defineCheck,
  fail,
  pass,
  skip,
  type CheckDef,
  type JudgeInput,
  type Level,
  type SpecRef,
  type Verdict,
} from './types.js';
import type { Provider } from '../descriptor/types.js';
import type { RecordedResponse } from '../evidence/types.js';

/**
 * One judge for every request the endpoint must refuse. Two findings, never folded into one:
 * acceptance (was a token issued? a 2xx is an acceptance too, whatever its body says) and the error
 * code (a refusal is a 4xx carrying the expected `error`; a 5xx is a server error, not a refusal).
 */

/** The request was accepted: a token came back, or a 2xx without an `error` member. */
export function accepted(res: RecordedResponse): boolean {
  if (res.accessToken) return true;
  return res.status >= 200 && res.status < 300 && oauthError(res) === undefined;
}

/** Acceptance: no access token may be issued, and a 2xx that is not an error response counts as accepted. */
export function judgeNotAccepted(res: RecordedResponse, what: string): Verdict {
  if (accepted(res))
    return fail(`${what} was answered ${describeResponse(res)}: the request was accepted`);
  return pass(`not accepted: answered ${describeResponse(res)}`);
}

/**
 * The error code: a 4xx whose `error` is one of `codes`. A 2xx with an `error` member is not a refusal
 * (RFC 6749 §5.2: error responses use 400, or 401 for invalid_client); a 5xx is a server error.
 */
export function judgeErrorCode(
  res: RecordedResponse,
  codes: string[],
  what: string,
  acceptanceId: string,
  rule: string,
): Verdict {
  // Not broken: nothing failed to happen. The acceptance check carries the verdict on it.
  if (accepted(res))
    return skip(
      `not applicable: the request was accepted, so there is no error code to judge (see ${acceptanceId})`,
    );
  const code = oauthError(res);
  const expected = `expected a 4xx with error ${codes.join(' or ')} (${rule})`;
  if (res.status >= 500)
    return fail(
      `${what} was answered ${describeResponse(res)}: a server error, not a refusal; ${expected}`,
    );
  if (res.status < 400)
    return fail(
      `${what} was answered ${describeResponse(res)}: an error response must use a 4xx status; ${expected}`,
    );
  if (code === undefined)
    return fail(
      `${what} was answered ${describeResponse(res)} without an OAuth error code${jsonObject(res) ? '' : ' (the body is not a JSON object)'}; ${expected}`,
    );
  return codes.includes(code)
    ? pass(`refused with ${describeResponse(res)}`)
    : fail(`${what} was answered ${describeResponse(res)}; ${expected}`);
}

export interface RefusalSpec {
  probe: ProbeId;
  area: CheckDef['area'];
  applies?: (p: Provider) => true | string;
  /** What the request is, for messages: "a request without grant_type" (a function when it names a client). */
  what: string | ((p: Provider) => string);
  acceptance: {
    id: string;
    title: string;
    level: Level | ((p: Provider) => Level);
    levelLabel?: string;
    levelReason?: string;
    spec: SpecRef;
    defect: string;
  };
  code: {
    id: string;
    title: string;
    level: Level;
    levelReason?: string;
    spec: SpecRef;
    defect: string;
    codes: string[];
    rule: string;
  };
}

/** The two checks of one refusal: acceptance first, then the error code. */
export function refusalChecks(s: RefusalSpec): [CheckDef, CheckDef] {
  const common = {
    area: s.area,
    needs: () => [s.probe],
    ...(s.applies ? { applies: s.applies } : {}),
  };
  const a = s.acceptance;
  const c = s.code;
  const what = (p: Provider) => (typeof s.what === 'string' ? s.what : s.what(p));
  return [
    defineCheck({
      ...common,
      id: a.id,
      title: a.title,
      level: a.level,
      ...(a.levelLabel ? { levelLabel: a.levelLabel } : {}),
      ...(a.levelReason ? { levelReason: a.levelReason } : {}),
      spec: a.spec,
      defect: a.defect,
      judge: ({ ex, provider }: JudgeInput) =>
        judgeNotAccepted(ex(s.probe).response, what(provider)),
    }),
    defineCheck({
      ...common,
      id: c.id,
      title: c.title,
      level: c.level,
      ...(c.levelReason ? { levelReason: c.levelReason } : {}),
      spec: c.spec,
      defect: c.defect,
      judge: ({ ex, provider }: JudgeInput) =>
        judgeErrorCode(ex(s.probe).response, c.codes, what(provider), a.id, c.rule),
    }),
  ];
}
