#!/usr/bin/env node
// The `weft` binary: the compiled CLI (dist/, built by `pnpm build`, which `pnpm install` runs in the
// repository). main() returns the exit code; setting process.exitCode lets pending output drain.
let main;
try {
  ({ main } = await import('../dist/main.js'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/[\\/]dist[\\/]main\.js\b/.test(String(error.message)))
    throw error;
  process.stderr.write(
    'weft: the CLI is not built. In the repository, run `pnpm build` (`pnpm install` runs it).\n',
  );
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
