/** browser steps and the built-in FILES and SCHEDULER services, against a real loopback server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryFileStore } from '../files/memory.js';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';

const PAGE = `<!doctype html><html><head><title>Plans</title><style>p{color:red}</style>
<script>alert(1)</script></head><body><h1>Pricing</h1><p>Pro costs <b>$20</b>.</p>
<a href="https://example.com/buy">Buy</a></body></html>`;

describe('browser and services', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/page') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else if (req.url === '/notes.txt')
        res.writeHead(200, { 'content-type': 'text/plain' }).end('line one\nline two');
      else if (req.url === '/big')
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(11 * 1024 * 1024));
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('missing');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const service = (key: string, type: string, action: string, input?: unknown, extra = {}) => ({
    type: 'service',
    key,
    service: { type, action, ...(input === undefined ? {} : { input }) },
    ...extra,
  });

  it('browser fetches the page: the platform’s { ok, status, headers, body }; strip_html gives readable text', async () => {
    const run = await createEngine().run(
      draft([
        { type: 'browser', key: 'raw', url: `${base}/page` },
        { type: 'browser', key: 'text', url: `${base}/page`, strip_html: true },
        { type: 'browser', key: 'missing', url: `${base}/nope`, strip_html: true },
      ]),
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.output.raw!.output).toMatchObject({ ok: true, status: 200, body: PAGE, error: null });
    const text = (run.output.text!.output as { body: string }).body;
    expect(text).toContain('PRICING');
    expect(text).toContain('Pro costs $20.');
    expect(text).toContain('Buy [https://example.com/buy]');
    expect(text).not.toMatch(/alert|color:red|<p>/);
    expect(run.output.missing!.output).toMatchObject({ ok: false, status: 404, body: 'missing' });
  });

  it('browser goes through the http policy: http(s) only, the allow hook, bounded size', async () => {
    const engine = createEngine({ http: { allow: (url) => url.pathname !== '/page' } });
    const run = await engine.run(
      draft([
        { type: 'browser', key: 'refused', url: `${base}/page`, throw_on_error: false },
        { type: 'browser', key: 'file', url: 'file:///etc/passwd', throw_on_error: false },
        { type: 'browser', key: 'big', url: `${base}/big`, throw_on_error: false },
      ]),
    );
    expect(run.output.refused!.error).toMatchObject({ code: 'HTTP_FORBIDDEN' });
    expect(run.output.file!.error).toMatchObject({ code: 'HTTP_FORBIDDEN' });
    expect(run.output.big!.error).toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      details: { max_bytes: 10 * 1024 * 1024 },
    });
  });

  it('wait_for_selector is not honoured by the built-in browser: the step log says so', async () => {
    const run = await createEngine().run(
      draft([{ type: 'browser', key: 'b', url: `${base}/page`, wait_for_selector: '#plans' }]),
    );
    expect(run.output.b!.logs[0]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/was not waited for/),
    });
  });

  it('FILES: upload text or a URL, extract its contents, delete it; files belong to the run’s app', async () => {
    const files = new MemoryFileStore();
    const engine = createEngine({ files });
    const run = await engine.run(
      draft([
        service(
          'upload',
          'FILES',
          'UPLOAD_FILE',
          { file: 'hello {{ input.who }}', name: 'greeting.txt' },
          { destinations: ['read'] },
        ),
        service('download', 'FILES', 'DOWNLOAD_FILE', { file: `${base}/notes.txt` }),
        service(
          'read',
          'FILES',
          'EXTRACT_CONTENTS',
          { file: '{{ upload.output.file_url }}' },
          { destinations: ['remove'] },
        ),
        service('remove', 'FILES', 'DELETE_FILE', '{"file_id": "{{ upload.output.id }}"}'),
      ]),
      { input: { who: 'you' }, app_id: 'app_1' },
    );
    expect(run.status).toBe('COMPLETED');
    const uploaded = run.output.upload!.output as {
      id: string;
      file_size: number;
      file_mimetype: string;
      app_id: string;
    };
    expect(uploaded).toMatchObject({
      file_filename: 'greeting.txt',
      file_size: 9,
      file_mimetype: 'text/plain',
      app_id: 'app_1',
      storage: 'TEMPORARY',
    });
    expect(run.output.download!.output).toMatchObject({
      file_filename: 'notes.txt',
      file_mimetype: 'text/plain',
      file_size: 17,
    });
    expect(run.output.read!.output).toMatchObject({ contents: 'hello you' });
    expect(run.output.remove!.output).toEqual({ id: uploaded.id, deleted: true });
    expect(await files.get('app_1', uploaded.id)).toBeNull();
    const downloaded = (run.output.download!.output as { id: string }).id;
    expect(await files.get('another_app', downloaded)).toBeNull();
    expect((await files.get('app_1', downloaded))!.file.file_size).toBe(17);
  });

  it('FILES: an unknown file is NOT_FOUND; PDF tooling is SERVICE_NOT_CONFIGURED', async () => {
    const run = await createEngine().run(
      draft([
        service('gone', 'FILES', 'DELETE_FILE', { file_id: 'nope' }, { throw_on_error: false }),
        service('pdf', 'FILES', 'MARKDOWN_TO_PDF', { file: '# hi' }, { throw_on_error: false }),
      ]),
    );
    expect(run.output.gone!.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(run.output.pdf!.error).toMatchObject({
      code: 'SERVICE_NOT_CONFIGURED',
      details: { service: 'FILES', action: 'MARKDOWN_TO_PDF' },
    });
  });

  it('SCHEDULER: DELAY waits (and is cancellable); ON_SCHEDULE has fired when the run reaches it', async () => {
    const engine = createEngine();
    const run = await engine.run(
      draft([
        service('wait', 'SCHEDULER', 'DELAY', { milliseconds: 20 }),
        service('tick', 'SCHEDULER', 'ON_SCHEDULE', { schedule: '3600' }),
      ]),
    );
    expect(run.output.wait!.output).toMatchObject({ waited_ms: 20 });
    expect(run.output.tick!.output).toMatchObject({ schedule: '3600', timezone: null });
    const long = engine.start(draft([service('wait', 'SCHEDULER', 'DELAY', { seconds: 3600 })]));
    await new Promise((r) => setTimeout(r, 10));
    await long.cancel('enough');
    expect((await long.done).status).toBe('CANCELLED');
    const tooLong = await engine.run(draft([service('wait', 'SCHEDULER', 'DELAY', { seconds: 90_000 })]));
    expect(tooLong.output.wait!.error!.message).toMatch(/longer than the most/);
  });

  it('COLLECTIONS and third-party services are SERVICE_NOT_CONFIGURED, saying how to register them; host handlers win', async () => {
    const run = await createEngine().run(
      draft([
        service('col', 'COLLECTIONS', 'RECORDS_GET', {}, { throw_on_error: false }),
        service('slack', 'SLACK', 'CHANNELS_SEND_MESSAGE', {}, { throw_on_error: false }),
      ]),
    );
    expect(run.output.col!.error!.message).toMatch(/Weft has no collections/);
    expect(run.output.slack!.error).toMatchObject({ code: 'SERVICE_NOT_CONFIGURED' });
    expect(run.output.slack!.error!.message).toMatch(
      /createEngine\(\{ services: \{ SLACK: \{ CHANNELS_SEND_MESSAGE: .*--plugin/,
    );
    const custom = await createEngine({
      services: { FILES: { UPLOAD_FILE: () => 'mine' }, COLLECTIONS: { RECORDS_GET: () => ({ id: 'r1' }) } },
    }).run(
      draft([
        service('up', 'FILES', 'UPLOAD_FILE', { file: 'x' }),
        service('col', 'COLLECTIONS', 'RECORDS_GET'),
      ]),
    );
    expect(custom.output.up!.output).toBe('mine');
    expect(custom.output.col!.output).toEqual({ id: 'r1' });
  });
});
