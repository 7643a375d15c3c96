/**
 * The probe plan as data: every planned probe is read by some check, every probe a check needs is
 * planned, and the recorded runs hold exactly the planned probes (sent or not run, with a reason).
 */
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/index.js';
import { ERROR_PROBES } from '../../src/probes/ids.js';
import { probePlan } from '../../src/probes/plan.js';
import { conformant, type FixtureName } from '../checks/fixture.js';

describe.each<FixtureName>(['reference', 'jwt-bearer', 'authorization-code'])(
  'the probe plan of the %s recording',
  (name) => {
    const { provider, evidence } = conformant(name);
    const planned = probePlan(provider).map((u) => u.id);

    it('has unique probe ids', () => {
      expect(planned.length).toBe(new Set(planned).size);
    });

    it('plans every probe a check needs', () => {
      const needed = CHECKS.flatMap((c) =>
        provider.clients.flatMap((_, i) => c.needs(provider, i)),
      );
      expect([...new Set(needed)].filter((id) => !planned.includes(id))).toEqual([]);
    });

    it('plans no probe that no check reads', () => {
      const read = new Set([
        ...CHECKS.flatMap((c) => [
          ...provider.clients.flatMap((_, i) => c.needs(provider, i)),
          ...(c.alsoReads?.(provider) ?? []),
        ]),
        ...ERROR_PROBES,
      ]);
      expect(planned.filter((id) => !read.has(id))).toEqual([]);
    });

    it('is what the recording holds: each planned probe was sent or not run with a reason', () => {
      const recorded = [...Object.keys(evidence.exchanges), ...Object.keys(evidence.notRun)];
      expect([...recorded].sort()).toEqual([...planned].sort());
      expect(Object.keys(evidence.exchanges)).toEqual(
        planned.filter((id) => evidence.exchanges[id]),
      );
    });
  },
);
