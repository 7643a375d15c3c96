import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { REPO_ROOT } from '../e2e/run-cli.js';

// ajv-formats ships CJS with a default export; under NodeNext it arrives as the module namespace.
type AddFormats = (a: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);

/** schemas/compare.schema.json, compiled strictly: a schema mistake fails the tests too. */
export const validateCompare = ajv.compile(
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas/compare.schema.json'), 'utf8')) as object,
);
