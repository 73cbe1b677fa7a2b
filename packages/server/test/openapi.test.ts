/** GET /openapi.json: built from the route schemas, with every operation of the seed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedText } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

/** The seed's Workflows operations, with the method and path the platform's SDK uses for each. */
const SEED_OPERATIONS = [
  ['Discover Workflows', 'get', '/apps/{app_id}/workflows/discover'],
  ['Get Discoverable Workflow', 'get', '/apps/{app_id}/workflows/discover/{workflow_id}'],
  [
    'Get Discoverable Workflow Version',
    'get',
    '/apps/{app_id}/workflows/discover/{workflow_id}/versions/{version_id_or_version_number}',
  ],
  ['Run Discoverable Workflow', 'post', '/apps/{app_id}/workflows/discover/{workflow_id}/runs'],
  [
    'Cancel a Discoverable Workflow Run',
    'post',
    '/apps/{app_id}/workflows/discover/{workflow_id}/runs/{run_id}/cancel',
  ],
  ['Get Workflows', 'get', '/apps/{app_id}/workflows'],
  ['Get a Workflow', 'get', '/apps/{app_id}/workflows/{workflow_id}'],
  ['Get Workflow Runs', 'get', '/apps/{app_id}/workflows/{workflow_id}/runs'],
  ['Run a Workflow', 'post', '/apps/{app_id}/workflows/{workflow_id}/runs'],
  ['Get a Workflow Run', 'get', '/apps/{app_id}/workflows/{workflow_id}/runs/{run_id}'],
  ['Replay a Workflow Run', 'post', '/apps/{app_id}/workflows/{workflow_id}/runs/{run_id}/replay'],
  ['Cancel a Workflow Run', 'post', '/apps/{app_id}/workflows/{workflow_id}/runs/{run_id}/cancel'],
  [
    'Update Run Data Retention Configuration',
    'patch',
    '/apps/{app_id}/workflows/{workflow_id}/runs/{run_id}/retention',
  ],
  ['Get Workflow Versions', 'get', '/apps/{app_id}/workflows/{workflow_id}/versions'],
  [
    'Get a Workflow Version',
    'get',
    '/apps/{app_id}/workflows/{workflow_id}/versions/{version_id_or_version_number}',
  ],
] as const;

/** The Tests and Variables sections of the seed (their paths from the platform's API types). */
const OTHER_OPERATIONS = [
  ['get', '/apps/{app_id}/workflows/{workflow_id}/tests'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests'],
  ['get', '/apps/{app_id}/workflows/{workflow_id}/tests/stats'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests/runs'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests/cancel'],
  ['get', '/apps/{app_id}/workflows/{workflow_id}/tests/{test_id}'],
  ['patch', '/apps/{app_id}/workflows/{workflow_id}/tests/{test_id}'],
  ['delete', '/apps/{app_id}/workflows/{workflow_id}/tests/{test_id}'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests/{test_id}/runs'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests/{test_id}/cancel'],
  ['get', '/apps/{app_id}/workflows/{workflow_id}/tests/expectations'],
  ['post', '/apps/{app_id}/workflows/{workflow_id}/tests/expectations'],
  ['get', '/apps/{app_id}/workflows/{workflow_id}/tests/expectations/{expectation_id}'],
  ['patch', '/apps/{app_id}/workflows/{workflow_id}/tests/expectations/{expectation_id}'],
  ['delete', '/apps/{app_id}/workflows/{workflow_id}/tests/expectations/{expectation_id}'],
  ['get', '/apps/{app_id}/variables'],
  ['post', '/apps/{app_id}/variables'],
  ['patch', '/apps/{app_id}/variables'],
  ['patch', '/apps/{app_id}/variables/{key}'],
  ['delete', '/apps/{app_id}/variables/{key}'],
] as const;

let t: TestServer;
let spec: any;
beforeAll(async () => {
  t = await startServer({ server: { docs: true } });
  spec = (await t.call('GET', '/openapi.json', { key: null })).body;
});
afterAll(() => t.close());

describe('OpenAPI', () => {
  it('has every operation the seed lists, under its name, with its method and path', () => {
    const seed = seedText();
    for (const [name, method, path] of SEED_OPERATIONS) {
      expect(seed, name).toContain(`${method.toUpperCase()}${name}`);
      expect(spec.paths[path]?.[method]?.summary, `${method} ${path}`).toBe(name);
    }
    expect(seed).toContain('/\napps\n/\n{app_id}\n/\nworkflows\n/\ndiscover\n/\n{workflow_id}\n/\nruns');
  });

  it('has the Tests and Variables routes', () => {
    for (const [method, path] of OTHER_OPERATIONS)
      expect(spec.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });

  it('names the expectation library’s operations as the platform does', () => {
    const path = '/apps/{app_id}/workflows/{workflow_id}/tests/expectations';
    expect(spec.paths[path].get.summary).toBe('Get Tests Expectations');
    expect(spec.paths[path].post.summary).toBe('Create a Test Expectation');
    expect(spec.paths[`${path}/{expectation_id}`].get.summary).toBe('Get Test Expectation');
    expect(spec.paths[`${path}/{expectation_id}`].patch.summary).toBe('Update Test Expectation');
    expect(spec.paths[`${path}/{expectation_id}`].delete.summary).toBe('Delete Test Expectation');
    expect(spec.paths[path].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['search', 'page', 'take']),
    );
  });

  it('declares bearer auth, query parameters and request bodies from the same schemas that validate', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const list = spec.paths['/apps/{app_id}/workflows/{workflow_id}/runs'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['page', 'take', 'status', 'origin', 'app_id', 'workflow_id']),
    );
    const run = spec.paths['/apps/{app_id}/workflows/{workflow_id}/runs'].post;
    const body = run.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining([
        'input',
        'stream',
        'background',
        'workflow_version_id',
        'from_step_key',
        'retention',
      ]),
    );
    expect(Object.keys(run.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
    expect(run.responses['200'].content['application/json'].schema.properties.error_code).toBeDefined();
  });

  it('renders at /docs', async () => {
    const response = await fetch(`${t.url}/docs/`, { redirect: 'follow' });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/swagger/i);
  });

  it('checkResponses (on in every test here) turns a response that breaks its schema into a 500', async () => {
    const { createWeft } = await import('@weft/core');
    const { createServer } = await import('../src/server.js');
    const server = await createServer({ weft: createWeft(), checkResponses: true, docs: false });
    server.get(
      '/broken',
      {
        schema: {
          response: { 200: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } },
        },
      },
      async () => ({ b: 1 }),
    );
    const answer = await server.inject({ method: 'GET', url: '/broken' });
    expect(answer.statusCode).toBe(500);
    await server.close();
  });
});
