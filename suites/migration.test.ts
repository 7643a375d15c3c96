import { registerMigration } from '../src/compare/suite.js';

// Present only when the run has a comparison (npm run compare, or conformance --since): vitest.config.ts.
registerMigration();
