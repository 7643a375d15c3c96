import type { Provider } from './descriptor/types.js';
import type { Evidence } from './checks/types.js';
import type { RecordedResponse } from './evidence/types.js';
import { PROBES } from './probes/ids.js';

/**
 * Whether a refused ordinary token request says "your set-up is wrong" rather than "I am
 * non-conformant": the server did not accept the descriptor's own credentials (invalid_client, a
 * bare 401/403) or, for the jwt-bearer grant, the descriptor's assertion (invalid_grant). Then every
 * answer that relied on those credentials says nothing about the server: not verified, never a failure.
 */
export function setupRefusal(p: Provider, res: RecordedResponse): string | undefined {
  if (res.accessToken || (res.status >= 200 && res.status < 300)) return undefined;
  const j = res.json;
  const code =
    j && typeof j === 'object' && !Array.isArray(j)
      ? (j as Record<string, unknown>)['error']
      : undefined;
  const answered = `${res.status}${typeof code === 'string' ? ` ${code}` : ''}`;
  if (
    code === 'invalid_client' ||
    ((res.status === 401 || res.status === 403) && typeof code !== 'string')
  )
    return answered;
  if (code === 'invalid_grant' && p.grant.assertion) return answered;
  return undefined;
}

export interface SetupProblem {
  clientIndex: number;
  message: string;
}

/** The clients whose ordinary token request was refused as a set-up problem, with the loud message. */
export function setupProblems(p: Provider, evidence: Evidence): SetupProblem[] {
  const out: SetupProblem[] = [];
  p.clients.forEach((client, i) => {
    const res = evidence.exchanges[PROBES.token(i)]?.response;
    const answered = res ? setupRefusal(p, res) : undefined;
    if (!answered) return;
    const hints = [
      'the credentials',
      'the authentication method',
      ...(client.auth.assertion ? ['the assertion audience'] : []),
      ...(p.grant.assertion ? ["the grant assertion's issuer, key and audience"] : []),
    ];
    out.push({
      clientIndex: i,
      message: `the configured client ${client.label} (${client.id}) could not obtain a token: check ${hints.join(', ')} in ${p.file} (the server answered ${answered})`,
    });
  });
  return out;
}
