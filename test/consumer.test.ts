/**
 * The consumer test: Weft as a user gets it. Every public package is packed (`pnpm pack`, which writes
 * real versions where the workspace says `workspace:*`, as `pnpm publish` does) and the tarballs are
 * installed with npm into a scratch project in the system's temp folder — outside the repository, no
 * workspace links. Then, from that project:
 * - the README's embedding snippet (taken from README.md, so the two cannot drift) runs as plain Node ESM
 *   against a loopback server speaking the OpenAI Chat Completions format, and is type-checked as a
 *   consumer's app.ts under the strictest settings with skipLibCheck off;
 * - the installed `weft` binary validates and runs an example;
 * - the tarballs hold the built package and nothing else.
 * npm fetches the packages' own dependencies from its cache or the registry. Install scripts run after the
 * install, one by one (see runInstallScripts: better-sqlite3's addon is the workspace's, not recompiled).
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddingSnippet, publicPackages, ROOT } from './workspace.js';

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a command in the scratch project: without the npm_* / pnpm settings of the runner. */
function scratchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|VITEST|OPENAI_|ANTHROPIC_|WEFT_)/i.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

function exec(command: string, args: readonly string[], cwd: string, env = scratchEnv()): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** pnpm as this test was started (`pnpm test` sets npm_execpath), else `npx -y pnpm@10`. */
function pnpm(args: readonly string[]): Promise<Exec> {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: vitest reads it, not a turbo task (turbo.json caches none)
  const execPath = process.env.npm_execpath ?? '';
  if (/pnpm/.test(execPath)) return exec(process.execPath, [execPath, ...args], ROOT, process.env);
  return exec('npx', ['-y', 'pnpm@10', ...args], ROOT, process.env);
}

/** A loopback server speaking the Chat Completions wire format, streamed (SSE) or not, with usage. */
function chatCompletionsServer(requests: Array<{ headers: IncomingMessage['headers']; body: any }>): Server {
  return createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const body = JSON.parse(raw);
      requests.push({ headers: req.headers, body });
      const reply = 'We have refunded the duplicate charge.';
      const usage = { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 };
      const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: body.model };
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
        for (const piece of [reply.slice(0, 10), reply.slice(10)]) {
          chunk({
            ...base,
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: { content: piece } }],
          });
        }
        chunk({
          ...base,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        });
        chunk({ ...base, object: 'chat.completion.chunk', choices: [], usage });
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
}

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
    // The scratch project installs only Weft: Node's types come from the repository's @types/node.
    typeRoots: [join(ROOT, 'node_modules/@types')],
  },
  files: ['app.ts'],
};

/**
 * What `npm install` would have run after unpacking, done by hand (the install ran with --ignore-scripts):
 * every dependency with an install script (npm marks it `hasInstallScript` in its lockfile) is built by
 * `npm rebuild`, except better-sqlite3 when the workspace has the same version built: its addon is
 * copied. Compiling SQLite from source is ~2 minutes of this 2-core machine, most of the whole suite, and
 * proves nothing about Weft (the workspace's build is the same compiler output for the same Node).
 * Returns how each package was installed, for the test below.
 */
async function runInstallScripts(app: string): Promise<Map<string, 'copied' | 'rebuilt'>> {
  const lock = JSON.parse(readFileSync(join(app, 'node_modules/.package-lock.json'), 'utf8'));
  const how = new Map<string, 'copied' | 'rebuilt'>();
  for (const [path, entry] of Object.entries<{ version: string; hasInstallScript?: boolean }>(
    lock.packages,
  )) {
    if (entry.hasInstallScript !== true) continue;
    const name = path.replace(/^.*node_modules\//, '');
    if (name === 'better-sqlite3' && path === 'node_modules/better-sqlite3') {
      const workspace = dirname(
        createRequire(join(ROOT, 'packages/store-sqlite/package.json')).resolve(
          'better-sqlite3/package.json',
        ),
      );
      const addon = join(workspace, 'build/Release/better_sqlite3.node');
      const version = JSON.parse(readFileSync(join(workspace, 'package.json'), 'utf8')).version;
      if (version === entry.version && existsSync(addon)) {
        mkdirSync(join(app, path, 'build/Release'), { recursive: true });
        copyFileSync(addon, join(app, path, 'build/Release/better_sqlite3.node'));
        how.set(name, 'copied');
        continue;
      }
    }
    const rebuilt = await exec('npm', ['rebuild', '--loglevel=error', name], app);
    if (rebuilt.code !== 0)
      throw new Error(`npm rebuild ${name} failed:\n${rebuilt.stdout}${rebuilt.stderr}`);
    how.set(name, 'rebuilt');
  }
  return how;
}

const packages = publicPackages();
let installScripts: Map<string, 'copied' | 'rebuilt'>;
let scratch: string;
let tarballs: string;
let server: Server;
let baseURL: string;
const requests: Array<{ headers: IncomingMessage['headers']; body: any }> = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'weft-consumer-'));
  tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const packed = await pnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs]);
  if (packed.code !== 0) throw new Error(`pnpm pack failed:\n${packed.stdout}${packed.stderr}`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`,
  );
  writeFileSync(join(app, 'app.mjs'), embeddingSnippet());
  writeFileSync(join(app, 'app.ts'), embeddingSnippet());
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(CONSUMER_TSCONFIG, null, 2)}\n`);
  cpSync(join(ROOT, 'examples/support-triage'), join(app, 'triage'), { recursive: true });
  const files = readdirSync(tarballs).map((file) => join(tarballs, file));
  const installed = await exec(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      '--ignore-scripts',
      ...files,
    ],
    app,
  );
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stdout}${installed.stderr}`);
  installScripts = await runInstallScripts(app);

  server = chatCompletionsServer(requests);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('a project outside the repository, with the packed packages installed by npm', () => {
  it('installs every public package from its tarball, not through a link', () => {
    for (const pkg of packages) {
      const dir = join(scratch, 'app/node_modules', pkg.name);
      expect(existsSync(join(dir, 'package.json')), pkg.name).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe(pkg.version);
    }
  });

  it("runs the README's embedding snippet as plain Node ESM against a Chat Completions server", async () => {
    const env = scratchEnv({ OPENAI_API_KEY: 'sk-consumer-test', OPENAI_BASE_URL: baseURL });
    const r = await exec(process.execPath, ['app.mjs'], join(scratch, 'app'), env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✔ reply\n✔ answer\n');
    const summary = /^(\w+): (.*) \((\S+) credits\)$/m.exec(r.stdout);
    expect(summary, r.stdout).not.toBeNull();
    const [, status, result, credits] = summary!;
    expect(status).toBe('COMPLETED');
    expect(result).toBe('We have refunded the duplicate charge.');
    // 1,200 input + 300 output tokens of gpt-4o-mini at the provider's list prices: 0.00036 credits.
    expect(Number(credits)).toBeGreaterThan(0);
    expect(Number(credits)).toBeCloseTo((1200 * 0.15 + 300 * 0.6) / 1_000_000, 12);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers.authorization).toBe('Bearer sk-consumer-test');
    expect(requests[0]!.body).toMatchObject({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Answer this ticket in one line: I was charged twice this month.' },
      ],
    });
  });

  it('type-checks the same snippet as app.ts: strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, nodenext, skipLibCheck off', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], join(scratch, 'app'));
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  });

  it('runs the installed weft binary: validate and a dry run of an example', async () => {
    const app = join(scratch, 'app');
    const version = await exec('npx', ['--no-install', 'weft', '--version'], app);
    expect(version.stdout.trim()).toBe(packages.find((p) => p.name === '@weft/cli')!.version);

    const validate = await exec('npx', ['--no-install', 'weft', 'validate', 'triage/workflow.json'], app);
    expect(validate.stdout).toContain('triage/workflow.json: ✔ valid');
    expect(validate.code).toBe(0);

    const run = await exec('npx', ['--no-install', 'weft', 'run', 'triage/workflow.json', '-o', 'json'], app);
    expect(run.stderr).toContain('Dry run');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ queue: 'billing', escalated: true });
    // Recorded in the run history: @weft/store-sqlite and better-sqlite3's native addon, as installed.
    expect(run.stderr).toMatch(/Recorded as run \S+ in \.weft\/weft\.db/);
    expect(existsSync(join(app, '.weft/weft.db'))).toBe(true);
  });

  it("ran every dependency's install script: better-sqlite3 only, its addon loads", () => {
    expect([...installScripts.keys()]).toEqual(['better-sqlite3']);
  });
});

describe('the tarballs', () => {
  const listings = new Map<string, string[]>();
  beforeAll(async () => {
    for (const file of readdirSync(tarballs)) {
      const r = await exec('tar', ['-tzf', join(tarballs, file)], tarballs);
      listings.set(file, r.stdout.trim().split('\n'));
    }
  });

  it.each(packages.map((p) => [p.name, p] as const))(
    '%s holds its built files and nothing else',
    (_name, pkg) => {
      const tarball = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
      const files = listings.get(tarball)!.map((f) => f.replace(/^package\//, ''));
      expect(files).toContain('package.json');
      expect(files).toContain('README.md');
      expect(files).toContain('LICENSE');
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      for (const file of files) {
        expect(file, `${tarball}: ${file}`).toMatch(
          /^(package\.json|README\.md|LICENSE|bin\/[\w-]+\.js|dist\/.+\.(js|d\.ts|js\.map))$/,
        );
        expect(file, `${tarball}: ${file}`).not.toMatch(
          /\.test\.|(^|\/)(test|tests|test-support|fixtures)\/|tsconfig/,
        );
        // Every compiled file has its source (no leftover of a deleted or renamed module).
        const source = /^dist\/(.+?)\.(js|d\.ts|js\.map)$/.exec(file)?.[1];
        if (source !== undefined)
          expect(existsSync(join(pkg.dir, 'src', `${source}.ts`)), `${tarball}: ${file}`).toBe(true);
      }
    },
  );

  it('declare real versions of each other, never workspace:', async () => {
    for (const file of readdirSync(tarballs)) {
      const r = await exec('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], tarballs);
      const manifest = JSON.parse(r.stdout);
      for (const [name, range] of Object.entries({
        ...manifest.dependencies,
        ...manifest.peerDependencies,
      })) {
        expect(range, `${file}: ${name}`).not.toMatch(/^workspace:/);
        if (name.startsWith('@weft/')) expect(range).toBe(manifest.version);
      }
    }
  });
});
