import path from 'node:path';
import { CHECKS } from '../checks/index.js';
import type { Provider } from '../descriptor/types.js';
import { didYouMean } from '../text/suggest.js';

/** A deviation names checks; a typo there would silently declare nothing. The error line, or undefined. */
export function unknownDeviation(providers: Provider[]): string | undefined {
  for (const p of providers) {
    const i = p.deviations.findIndex((d) =>
      d.checks.some((id) => !CHECKS.some((c) => c.id === id)),
    );
    if (i >= 0) {
      const unknown = p.deviations[i]!.checks.find((id) => !CHECKS.some((c) => c.id === id));
      return `${path.relative(process.cwd(), p.file) || p.file}: deviations[${i}]: unknown check id ${unknown}${didYouMean(
        unknown ?? '',
        CHECKS.map((c) => c.id),
      )} (see docs/checks.md)`;
    }
  }
  return undefined;
}
