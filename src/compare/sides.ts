/**
 * The sides of `npm run compare`: a provider (observed here, as `npm run conformance` observes it:
 * the embedded reference or an --emulate stand-in started for that side alone) or a run record
 * (read as recorded, `run.json#provider` to pick one of several). Every side is read and validated
 * before any server starts or any request is sent.
 */
import { didYouMean } from '../text/suggest.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../checks/index.js';
import {
  DescriptorError,
  locateDescriptor,
  readDescriptor,
  resolveProvider,
  type RawDescriptor,
} from '../descriptor/load.js';
import type { Provider } from '../descriptor/types.js';
import { STAND_IN_NAMES, startStandIns, trustStandIns, type StandIns } from '../emulate/index.js';
import { evaluate } from '../evaluate.js';
import { observe } from '../observe.js';
import { startReference, type ReferenceServer } from '../reference/server.js';
import { replayableProvider } from '../replay.js';
import { publicProvider, type ProviderRun, type RunRecord } from '../run-record.js';
import type { SideRun } from './compare.js';
import { readRecordFile, shownPath } from './record-file.js';
import { recordedSide, sideOf } from './since.js';

export type SideRole = 'baseline' | 'candidate' | 'secondary';

export type SideSpec =
  | { role: SideRole; kind: 'recorded'; file: string; record: RunRecord; run: ProviderRun }
  | { role: SideRole; kind: 'provider'; raw: RawDescriptor };

/** A path to a JSON file whose top level has `providers`: a run record, not a descriptor. */
function isRunRecord(file: string): boolean {
  if (!/\.json$/i.test(file) || !existsSync(file)) return false;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof data === 'object' && data !== null && 'providers' in data;
  } catch {
    return /run[^/\\]*\.json$/i.test(file);
  }
}

/** Reads one side's argument; a DescriptorError names the flag or file and the field. */
export function readSide(role: SideRole, arg: string): SideSpec {
  const flag = `--${role}`;
  const hash = arg.lastIndexOf('#');
  const [file, pick] =
    hash > 0 && /\.json$/i.test(arg.slice(0, hash))
      ? [arg.slice(0, hash), arg.slice(hash + 1)]
      : [arg, undefined];
  // A .json path that does not exist is named as the run record it was meant to be.
  if (
    isRunRecord(path.resolve(file)) ||
    pick !== undefined ||
    (/run[^/\\]*\.json$/i.test(file) && !existsSync(file))
  ) {
    const resolved = path.resolve(file);
    const record = readRecordFile(resolved, flag);
    const names = record.providers.map((r) => r.provider.name);
    const run =
      pick !== undefined
        ? record.providers.find((r) => r.provider.name === pick)
        : record.providers.length === 1
          ? record.providers[0]
          : undefined;
    if (!run) {
      const problem =
        pick !== undefined
          ? `no provider named ${pick} in it`
          : `it holds ${names.length} providers`;
      throw new DescriptorError(
        flag,
        arg,
        `${problem}: name one as ${shownPath(resolved)}#<provider> (${names.join(', ')})`,
      );
    }
    return { role, kind: 'recorded', file: resolved, record, run };
  }
  try {
    return { role, kind: 'provider', raw: readDescriptor(locateDescriptor(arg)) };
  } catch (e) {
    // locateDescriptor speaks of --provider; here the flag is the side's.
    if (e instanceof DescriptorError && e.file === '--provider')
      throw new DescriptorError(flag, e.field, e.problem);
    if (e instanceof DescriptorError && e.field === '--provider')
      throw new DescriptorError(flag, e.file, e.problem);
    throw e;
  }
}

interface Started {
  reference?: ReferenceServer;
  standIns?: StandIns;
}

export interface ObserveOptions {
  emulate: boolean;
  strict: boolean;
  onWait?: (role: SideRole, provider: Provider, seconds: number, why: string) => void;
}

/**
 * Observes the provider sides at once, each against its own servers (two sides naming the embedded
 * reference are two instances of it), and returns every side ready to compare. Recorded sides are
 * judged again with today's checks when they carry their descriptor (src/replay.ts).
 */
export async function collectSides(specs: SideSpec[], options: ObserveOptions): Promise<SideRun[]> {
  const started: Started[] = [];
  try {
    const providers: (Provider | undefined)[] = [];
    for (const spec of specs) {
      if (spec.kind === 'recorded') {
        providers.push(undefined);
        continue;
      }
      const raw = spec.raw;
      const s: Started = {};
      started.push(s);
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (raw.data['embedded'] === 'reference') {
        s.reference = await startReference();
        Object.assign(env, s.reference.env);
      }
      const name = String(raw.data['name']);
      const emulated = options.emulate && STAND_IN_NAMES.includes(name);
      if (emulated) {
        s.standIns = await startStandIns({ only: [name] });
        Object.assign(env, s.standIns.env);
      }
      const p = resolveProvider(raw, s.reference || emulated ? env : process.env);
      const unknown = p.deviations.flatMap((d, i) =>
        d.checks.filter((id) => !CHECKS.some((c) => c.id === id)).map((id) => ({ i, id })),
      )[0];
      if (unknown)
        throw new DescriptorError(
          raw.shownFile,
          `deviations[${unknown.i}]`,
          `unknown check id ${unknown.id}${didYouMean(
            unknown.id,
            CHECKS.map((c) => c.id),
          )} (see docs/checks.md)`,
        );
      providers.push(s.standIns ? trustStandIns(p, s.standIns.caFile) : p);
    }
    const startedAt = new Date().toISOString();
    return await Promise.all(
      specs.map(async (spec, i): Promise<SideRun> => {
        if (spec.kind === 'recorded')
          return recordedSide(spec.run, spec.record, spec.file, options.strict);
        const p = providers[i]!;
        const evidence = await observe(p, {
          onWait: (prov, seconds, why) => options.onWait?.(spec.role, prov, seconds, why),
        });
        const run: ProviderRun = {
          provider: publicProvider(p),
          evidence,
          findings: evaluate(p, evidence, { strict: options.strict }),
          descriptor: replayableProvider(p),
        };
        return { side: sideOf(run, 'observed', { startedAt }), run };
      }),
    );
  } finally {
    await Promise.all(
      started.map(async (s) => Promise.all([s.reference?.close(), s.standIns?.close()])),
    );
  }
}
