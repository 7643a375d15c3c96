import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';
import { Ajv, type ValidateFunction } from 'ajv';

const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'schemas');
const ajv = new Ajv({ strict: true, allErrors: true });

/** One of the JSON Schemas under schemas/, compiled (read once at start-up; checks stay free of I/O). */
export function compileSchema(file: string): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as object);
}
