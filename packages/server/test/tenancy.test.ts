/**
 * Tenancy, checked with fast-check over random (key, app in the path, route) triples: a key of one app
 * gets 404 — never 403, never a 2xx — for every route that names another app's resource, with the
 * same answer as for a resource that does not exist; and nothing of the other app changes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import { createGates, greeter } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

interface Resources {
  w: string;
  v: string;
  r: string;
  running: string;
  t: string;
  k: string;
  /** A library expectation of `w`. */
  e: string;
}

const ROUTES: ReadonlyArray<readonly [method: string, path: string, body?: unknown]> = [
  ['GET', '/workflows/{w}'],
  ['PATCH', '/workflows/{w}', { name: 'taken over' }],
  ['PUT', '/workflows/{w}/draft', { steps: [] }],
  ['POST', '/workflows/{w}/archive'],
  ['POST', '/workflows/{w}/restore'],
  ['GET', '/workflows/{w}/versions'],
  ['POST', '/workflows/{w}/versions', {}],
  ['POST', '/workflows/{w}/rollback', { version: 1 }],
  ['GET', '/workflows/{w}/versions/{v}'],
  ['GET', '/workflows/{w}/versions/1'],
  ['GET', '/workflows/{w}/runs'],
  ['POST', '/workflows/{w}/runs', { input: { name: 'x' } }],
  ['POST', '/workflows/{w}/runs', { input: { name: 'x' }, stream: true }],
  ['GET', '/workflows/{w}/runs/{r}'],
  ['POST', '/workflows/{w}/runs/{r}/replay', {}],
  ['POST', '/workflows/{w}/runs/{running}/cancel'],
  ['PATCH', '/workflows/{w}/runs/{r}/retention', { retention: 60 }],
  ['GET', '/workflows/discover/{w}'],
  ['GET', '/workflows/discover/{w}/versions/1'],
  ['POST', '/workflows/discover/{w}/runs', {}],
  ['POST', '/workflows/discover/{w}/runs/{running}/cancel'],
  ['GET', '/workflows/{w}/tests'],
  ['POST', '/workflows/{w}/tests', { name: 'x' }],
  ['GET', '/workflows/{w}/tests/stats'],
  ['POST', '/workflows/{w}/tests/runs', {}],
  ['POST', '/workflows/{w}/tests/cancel'],
  ['GET', '/workflows/{w}/tests/{t}'],
  ['PATCH', '/workflows/{w}/tests/{t}', { name: 'taken over' }],
  ['DELETE', '/workflows/{w}/tests/{t}'],
  ['POST', '/workflows/{w}/tests/{t}/runs', {}],
  ['POST', '/workflows/{w}/tests/{t}/cancel'],
  ['GET', '/workflows/{w}/tests/expectations'],
  ['POST', '/workflows/{w}/tests/expectations', { name: 'x', script: 'true' }],
  ['GET', '/workflows/{w}/tests/expectations/{e}'],
  ['PATCH', '/workflows/{w}/tests/expectations/{e}', { name: 'taken over' }],
  ['DELETE', '/workflows/{w}/tests/expectations/{e}'],
  ['PATCH', '/variables/{k}', { value: 'taken over' }],
  ['DELETE', '/variables/{k}'],
];

const gates = createGates();
let t: TestServer;
const owned: Record<'A' | 'B', Resources> = {} as never;

async function resourcesOf(app: 'A' | 'B'): Promise<Resources> {
  const key = t.keys[app];
  const call = (method: string, path: string, body?: unknown) =>
    t.call(method, `/apps/c${path}`, { key, body });
  const w = (await call('POST', '/workflows', { name: `w${app}`, draft: greeter })).body.id;
  const v = (await call('POST', `/workflows/${w}/versions`, {})).body.id;
  const r = (await call('POST', `/workflows/${w}/runs`, { input: { name: app } })).body.id;
  const hold = (
    await call('POST', '/workflows', { name: `hold${app}`, draft: { steps: [{ type: 'hold', key: 'h' }] } })
  ).body.id;
  const running = (
    await call('POST', `/workflows/${hold}/runs`, { workflow_version_id: 'draft', background: true })
  ).body.id;
  const test = (await call('POST', `/workflows/${w}/tests`, { name: 'test', input: { name: 'x' } })).body.id;
  const k = `${app.toLowerCase()}_only`;
  await call('POST', '/variables', { key: k, value: 'kept', secret: false });
  const e = (await call('POST', `/workflows/${w}/tests/expectations`, { name: `lib${app}`, script: 'true' }))
    .body.id;
  return { w, v, r, running, t: test, k, e };
}

/** The app's state as the owner sees it (what a cross-tenant request must never change). */
async function stateOf(app: 'A' | 'B') {
  const key = t.keys[app];
  const o = owned[app];
  const get = async (path: string) => (await t.call('GET', `/apps/c${path}`, { key })).body;
  const workflow = await get(`/workflows/${o.w}`);
  return {
    workflow: {
      name: workflow.name,
      steps: workflow.steps,
      enabled: workflow.enabled,
      latest: workflow.latest_version,
    },
    runs: (await get(`/workflows/${o.w}/runs`)).map((r: { id: string; status: string }) => [r.id, r.status]),
    running: (await t.weft.app(app === 'A' ? 'app_a' : 'app_b').runs.get(o.running)).status,
    test: (await get(`/workflows/${o.w}/tests/${o.t}`)).name,
    expectations: await get(`/workflows/${o.w}/tests/expectations`),
    variables: await get('/variables'),
  };
}

function fill(path: string, r: Resources): string {
  return path.replace(/\{(\w+)\}/g, (_, name: keyof Resources) => encodeURIComponent(r[name]));
}

const MISSING: Resources = {
  w: 'w-missing',
  v: 'v-missing',
  r: 'r-missing',
  running: 'r-missing',
  t: 't-missing',
  k: 'k_missing',
  e: 'e-missing',
};

function normalized(body: unknown, ids: Resources): string {
  let text = JSON.stringify(body);
  for (const value of Object.values(ids)) text = text.split(value).join('<id>');
  return text;
}

beforeAll(async () => {
  t = await startServer({ weft: { steps: { hold: gates.hold } }, server: { rateLimit: false } });
  owned.A = await resourcesOf('A');
  owned.B = await resourcesOf('B');
});
afterAll(() => t.close());

describe('tenancy', () => {
  it('another app’s resources are 404, worded like missing ones, and stay unchanged', async () => {
    const before = { A: await stateOf('A'), B: await stateOf('B') };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'A' | 'B'>('A', 'B'),
        fc.constantFrom('app_a', 'app_b', 'c', 'app_z'),
        fc.constantFrom(...ROUTES),
        async (keyApp, pathApp, [method, template, body]) => {
          const ownerApp = keyApp === 'A' ? 'B' : 'A';
          const key = t.keys[keyApp];
          const path = `/apps/${pathApp}${fill(template, owned[ownerApp])}`;
          const answer = await t.call(method, path, { key, body });
          expect(answer.status, `${method} ${path}`).toBe(404);
          expect(answer.body.code).toBe('NOT_FOUND');
          const control = await t.call(method, `/apps/${pathApp}${fill(template, MISSING)}`, { key, body });
          expect(control.status).toBe(404);
          expect(normalized(answer.body, owned[ownerApp])).toBe(normalized(control.body, MISSING));
        },
      ),
      { numRuns: fcRuns(150) },
    );
    expect({ A: await stateOf('A'), B: await stateOf('B') }).toEqual(before);
    expect(before.A.running).toBe('RUNNING');
  });

  it('a key’s own resources under another app’s id are 404 too', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), async ([method, template, body]) => {
        const answer = await t.call(method, `/apps/app_b${fill(template, owned.A)}`, { key: t.keys.A, body });
        expect(answer.status).toBe(404);
      }),
      { numRuns: fcRuns(40) },
    );
  });
});
