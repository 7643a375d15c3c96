/**
 * src/descriptor/raw.gen.ts is generated from schemas/provider.schema.json (scripts/gen-raw-types.ts):
 * it must be what the generator makes of the schema as it is now.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRawTypes, RAW_TYPES_FILE } from '../../scripts/gen-raw-types.js';

describe('raw descriptor types', () => {
  it('src/descriptor/raw.gen.ts is up to date with schemas/provider.schema.json', async () => {
    const fresh = await generateRawTypes();
    const onDisk = readFileSync(RAW_TYPES_FILE, 'utf8');
    // On failure: the schema changed after the types were generated. Run `npm run types`.
    expect(
      onDisk === fresh,
      'src/descriptor/raw.gen.ts is stale: run `npm run types` and commit the result',
    ).toBe(true);
  });

  it('the generated types name every top-level field of the schema', async () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/provider.schema.json', import.meta.url), 'utf8'),
    ) as { properties: Record<string, unknown> };
    const text = await generateRawTypes();
    const body = text.slice(text.indexOf('export interface RawProvider'));
    for (const field of Object.keys(schema.properties))
      expect(body).toMatch(new RegExp(`\\n  ${field.replace('$', '\\$')}\\??:`));
  });
});
