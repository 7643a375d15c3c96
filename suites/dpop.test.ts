import { registerArea } from '../src/report/suite.js';

registerArea('dpop');
