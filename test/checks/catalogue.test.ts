import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_FILE, renderCatalogue } from '../../scripts/checks-catalogue.js';
import { CHECKS } from '../../src/checks/index.js';
import { CASES } from './defects.js';

describe('docs/checks.md', () => {
  it('is current (regenerate with npm run catalogue)', () => {
    expect(readFileSync(CATALOGUE_FILE, 'utf8')).toBe(renderCatalogue());
  });
  it('lists no check without a proof', () => {
    expect(CHECKS.filter((c) => !CASES.some((k) => k.check === c.id)).map((c) => c.id)).toEqual([]);
    expect(renderCatalogue()).not.toContain('**none**');
  });
  it('has unique, stable-looking check ids', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(
        /^(grant|client-auth|discovery|response|jwt|introspection|resource|expiry|scope|errors|authorization-code|refresh|dpop)\.[a-z0-9-]+$/,
      );
  });
});
