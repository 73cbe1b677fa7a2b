// @weft/cli — the `weft` command. Programmatic use: `main(argv, io?)` runs one command in process and
// resolves with its exit code (EXIT). Everything else in src/ is internal.

export type { Io } from './commands/run.js';
export { EXIT } from './errors.js';
export { main, VERSION } from './main.js';
