/**
 * Client roles, so two descriptors with other client ids, orders and counts line up. Every probe id
 * but `token.<i>` already names its role (errors.wrong-secret is the secret client's, client-auth.*
 * the assertion client's); the per-client token requests are paired by the role of their client.
 */
import type { Evidence } from '../checks/types.js';
import type { PublicProvider } from '../run-record.js';

/** The roles src/probes/clients.ts selects by, in the order pairing tries them. */
export const ROLES = [
  'primary',
  'secret client',
  'body-secret client',
  'assertion client',
  'TLS client',
] as const;

const SECRET = ['client_secret_basic', 'client_secret_post'];
const ASSERTION = ['client_secret_jwt', 'private_key_jwt'];
const TLS = ['tls_client_auth', 'self_signed_tls_client_auth'];

/**
 * Each client's roles, most specific pairing first: the selectors' roles (primary = clients[0], the
 * first secret client, the client_secret_post client, the first JWT client, the first TLS client),
 * then its method and, for JWT clients, the alg its token request was signed with (read from the
 * recording, since a run record keeps no keys), numbered when a side has several alike.
 */
export function clientRoles(
  provider: Pick<PublicProvider, 'clients'>,
  evidence: Pick<Evidence, 'exchanges'>,
): string[][] {
  const methods = provider.clients.map((c) => c.method);
  const first = (set: string[]): number => methods.findIndex((m) => set.includes(m));
  const post = methods.indexOf('client_secret_post');
  const special: [string, number][] = [
    ['primary', 0],
    ['secret client', first(SECRET)],
    ['body-secret client', post >= 0 ? post : first(SECRET)],
    ['assertion client', first(ASSERTION)],
    ['TLS client', first(TLS)],
  ];
  const seen = new Map<string, number>();
  return methods.map((method, i) => {
    const alg = evidence.exchanges[`token.${i}`]?.request.assertion?.header['alg'];
    const base = `${method}${typeof alg === 'string' ? ` ${alg}` : ''}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return [
      ...special.filter(([, index]) => index === i).map(([role]) => role),
      n === 1 ? base : `${base} #${n}`,
    ];
  });
}

/** A pairing of the two sides' clients: baseline index → candidate index, with the role they share. */
export interface ClientPairing {
  pairs: { baseline: number; candidate: number; role: string }[];
  /** Clients of one side that found no partner. */
  onlyBaseline: { index: number; role: string }[];
  onlyCandidate: { index: number; role: string }[];
}

/** Pairs clients role by role: the selectors' roles first, then method (and alg). */
export function pairClients(baseline: string[][], candidate: string[][]): ClientPairing {
  const taken = { baseline: new Set<number>(), candidate: new Set<number>() };
  const pairs: ClientPairing['pairs'] = [];
  const order = [...ROLES, ...new Set([...baseline, ...candidate].flatMap((r) => r.slice(-1)))];
  for (const role of order) {
    const b = baseline.findIndex((r, i) => !taken.baseline.has(i) && r.includes(role));
    const c = candidate.findIndex((r, i) => !taken.candidate.has(i) && r.includes(role));
    if (b < 0 || c < 0) continue;
    taken.baseline.add(b);
    taken.candidate.add(c);
    pairs.push({ baseline: b, candidate: c, role });
  }
  const rest = (roles: string[][], used: Set<number>) =>
    roles.flatMap((r, index) =>
      used.has(index) ? [] : [{ index, role: r[0] ?? `client ${index}` }],
    );
  return {
    pairs: pairs.sort((x, y) => x.baseline - y.baseline),
    onlyBaseline: rest(baseline, taken.baseline),
    onlyCandidate: rest(candidate, taken.candidate),
  };
}

/** The index of the client a per-client finding is about (its `client` parameter is the label). */
export function clientIndexOfLabel(
  provider: Pick<PublicProvider, 'clients'>,
  label: string | undefined,
): number | undefined {
  if (label === undefined) return undefined;
  const i = provider.clients.findIndex((c) => c.label === label);
  return i >= 0 ? i : undefined;
}
