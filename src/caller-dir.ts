/**
 * The directory the user ran the command from. `npm run conformance` runs the CLI from the package
 * root; npm keeps the caller's directory in INIT_CWD, so a relative --out lands where the user is,
 * not under the repository.
 */
export const callerDir = (): string => process.env['INIT_CWD'] ?? process.cwd();
