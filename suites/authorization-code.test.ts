import { registerArea } from '../src/report/suite.js';

registerArea('authorization-code');
