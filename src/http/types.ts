// The recorded shapes live with the evidence (pure, read by the checks); the runner writes them.
export type * from '../evidence/types.js';
