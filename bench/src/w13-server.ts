/**
 * W13's server process: `node w13-server.js weft|bare`. Both serve `POST …/runs` of the same 10-step
 * no-op workflow through the same in-process call, `app.runs.run(id, { input })`:
 * - `weft`: @weft/server as users run it (API key, rate limit, schema validation, wire mapping);
 * - `bare`: one plain Fastify route doing that call and answering its result as JSON.
 * Both also answer `GET /__cpu` (the process's CPU time). Prints `ready <url> <path> <key>` once
 * listening; exits on SIGTERM.
 */
import { createWeft } from '@weft/core';
import { createApiKey, createServer } from '@weft/server';
import Fastify from 'fastify';
import { chain } from './documents.js';

const mode = process.argv[2];
/** CPU time this process has used, in µs (the bench divides it by the requests served). */
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return { micros: user + system };
};
const weft = createWeft({ steps: { noop: () => null } });
const app = weft.app('bench');
const workflow = await app.workflows.create({ id: 'chain10', name: 'chain10', draft: chain(10) as never });
await app.versions.publish(workflow.id);

let url: string;
let path: string;
let key = '-';
if (mode === 'weft') {
  const server = await createServer({ weft, rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } });
  server.get('/__cpu', async () => cpu());
  key = (await createApiKey(weft.store, 'bench')).key;
  url = await server.listen({ port: 0, host: '127.0.0.1' });
  path = `/apps/bench/workflows/${workflow.id}/runs`;
} else if (mode === 'bare') {
  const server = Fastify();
  server.get('/__cpu', async () => cpu());
  server.post('/run', async (request) => {
    const body = (request.body ?? {}) as { input?: Record<string, unknown> };
    return app.runs.run(workflow.id, { input: body.input ?? {} });
  });
  url = await server.listen({ port: 0, host: '127.0.0.1' });
  path = '/run';
} else {
  throw new Error('usage: w13-server.js weft|bare');
}
process.on('SIGTERM', () => process.exit(0));
console.log(`ready ${url} ${path} ${key}`);
