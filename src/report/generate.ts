import type { RunRecord } from '../run-record.js';
export async function generateReport(_record: RunRecord): Promise<{ message: string }> {
  return { message: 'report: (not yet)' };
}
