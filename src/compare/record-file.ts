/**
 * Reading a run record given on the command line (--baseline/--candidate/--secondary run.json,
 * --since, --replay): bad input is one line naming the file and the field, before any request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { DescriptorError } from '../descriptor/load.js';
import type { RunRecord } from '../run-record.js';

/**
 * Only what the comparison and the replay read: the run record's own schema (and its version) is
 * another module's business, and a record written by an older harness must still be readable.
 */
const RECORD_SHAPE = {
  type: 'object',
  required: ['startedAt', 'providers'],
  properties: {
    harnessVersion: { type: 'string' },
    startedAt: { type: 'string' },
    strict: { type: 'boolean' },
    providers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['provider', 'evidence', 'findings'],
        properties: {
          provider: {
            type: 'object',
            required: ['name', 'title', 'tokenEndpoint', 'clients'],
            properties: {
              name: { type: 'string', minLength: 1 },
              title: { type: 'string' },
              tokenEndpoint: { type: 'string' },
              clients: {
                type: 'array',
                items: { type: 'object', required: ['id', 'label', 'method'] },
              },
            },
          },
          evidence: {
            type: 'object',
            required: ['exchanges', 'notRun'],
            properties: { exchanges: { type: 'object' }, notRun: { type: 'object' } },
          },
          findings: {
            type: 'array',
            items: { type: 'object', required: ['checkId', 'outcome', 'params', 'probes'] },
          },
          descriptor: { type: 'object' },
        },
      },
    },
  },
};
const validate = new Ajv({ allErrors: false, strict: false }).compile<RunRecord>(RECORD_SHAPE);

export function shownPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** `providers[0].evidence` from `/providers/0/evidence`. */
function field(pointer: string, missing?: string): string {
  const parts = [...pointer.split('/').filter(Boolean), ...(missing ? [missing] : [])];
  if (parts.length === 0) return '(top level)';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A run record as recorded (`flag` names the option it came from, for the message when the file is missing). */
export function readRecordFile(file: string, flag: string): RunRecord {
  const shown = shownPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DescriptorError(
      flag,
      shown,
      `cannot read the run record: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DescriptorError(
      shown,
      '(file)',
      `not a run record: invalid JSON (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (!validate(data)) {
    const e = validate.errors?.[0];
    const missing =
      e?.keyword === 'required'
        ? String((e.params as { missingProperty?: string }).missingProperty)
        : undefined;
    throw new DescriptorError(
      shown,
      field(e?.instancePath ?? '', missing),
      missing
        ? 'missing: this is not a run record (run.json) written by npm run conformance'
        : `${e?.message ?? 'invalid'}: this is not a run record (run.json) written by npm run conformance`,
    );
  }
  if (data.providers.length === 0)
    throw new DescriptorError(
      shown,
      'providers',
      'empty: the run record has no provider to compare',
    );
  return data;
}
