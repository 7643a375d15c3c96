/**
 * The package's own folder: the repository when run from source (src/… with tsx), the installed
 * package when run compiled (dist/src/…). Schemas, the embedded descriptors, the conformance suites
 * and the Allure configuration are found from here, never from the caller's working directory.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const PACKAGE_ROOT = findRoot(HERE);

/** True when this is the compiled package (dist/…/*.js), false under tsx from the sources. */
export const COMPILED = import.meta.url.endsWith('.js');

/** Where the compiled or source tree starts: <root>/dist or <root>. */
export const CODE_ROOT = path.resolve(HERE, '..');
