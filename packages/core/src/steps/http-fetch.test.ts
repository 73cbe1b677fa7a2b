/**
 * Issue 11, items 8 and 9 for http_request: redirects followed by hand and re-checked on every hop,
 * resolved addresses checked, bodies bounded. Real loopback servers; no other network.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';
import { connectLookup, createHttpFetch, guardedFetch, isNonPublicAddress } from './http-fetch.js';

let server: Server;
let port: number;
let base: string;
const seen: Array<{ url: string; method: string; auth: string | undefined; body: string }> = [];

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({
    url: `${req.headers.host}${url.pathname}`,
    method: req.method ?? '',
    auth: req.headers.authorization,
    body,
  });
  const to = url.searchParams.get('to');
  switch (url.pathname) {
    case '/redirect':
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to ?? '/ok' }).end();
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop' }).end();
      return;
    case '/internal-secret':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"s3cr3t"}');
      return;
    case '/big':
      res
        .writeHead(200, { 'content-type': 'text/plain', 'content-length': String(2048) })
        .end('x'.repeat(2048));
      return;
    case '/big-chunked':
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
      res.end();
      return;
    case '/slow-redirect':
      setTimeout(() => res.writeHead(302, { location: '/slow-redirect' }).end(), 30);
      return;
    default:
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ path: url.pathname, method: req.method, body }));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const request = (url: string, extra: Partial<Parameters<ReturnType<typeof createHttpFetch>>[0]> = {}) => ({
  url,
  method: 'GET',
  headers: new Headers(),
  timeoutMs: 5_000,
  signal: new AbortController().signal,
  step_key: 'h',
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    return error as WeftError;
  }
  throw new Error('expected a failure');
}

describe('redirects', () => {
  it('re-checks http.allow on every hop: a 302 from an allowed host to localhost is refused', async () => {
    // Regression: fetch followed the redirect (redirect: "follow") and the step returned the secret.
    const engine = createEngine({ http: { allow: (url) => url.hostname === '127.0.0.1' } });
    const target = encodeURIComponent(`http://localhost:${port}/internal-secret`);
    const run = await engine.run(
      draft([{ type: 'http_request', key: 'h', url: `${base}/redirect?to=${target}` }]),
    );
    expect(run.status).toBe('FAILED');
    expect(run.output.h!.error).toMatchObject({
      code: 'HTTP_FORBIDDEN',
      details: { hop: 1, reason: 'allow' },
    });
    expect(JSON.stringify(run)).not.toContain('s3cr3t');
    expect(seen.some((s) => s.url.startsWith('localhost'))).toBe(false);
  });

  it('follows allowed redirects and answers with the final response', async () => {
    const fetch = createHttpFetch({ allow: () => true });
    const result = await fetch(request(`${base}/redirect?to=/final`));
    expect(result.status).toBe(200);
    expect(result.url.pathname).toBe('/final');
    expect(result.redirects.map((u) => u.pathname)).toEqual(['/final']);
  });

  it('stops after maxRedirects with LIMIT_EXCEEDED', async () => {
    const error = await failure(createHttpFetch({ maxRedirects: 3 })(request(`${base}/loop`)));
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.details).toMatchObject({ limit: 'maxRedirects', max: 3 });
  });

  it('303 turns a POST into a GET without its body; a cross-origin hop drops Authorization', async () => {
    seen.length = 0;
    const to = encodeURIComponent(`http://localhost:${port}/after`);
    const result = await createHttpFetch()(
      request(`${base}/redirect?status=303&to=${to}`, {
        method: 'POST',
        body: '{"a":1}',
        headers: new Headers({ authorization: 'Bearer tok', 'content-type': 'application/json' }),
      }),
    );
    expect(result.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', auth: 'Bearer tok', body: '{"a":1}' });
    expect(seen[1]).toMatchObject({ method: 'GET', auth: undefined, body: '' });
  });

  it('307 keeps the method and body', async () => {
    seen.length = 0;
    await createHttpFetch()(request(`${base}/redirect?status=307&to=/kept`, { method: 'PUT', body: 'b' }));
    expect(seen[1]).toMatchObject({ method: 'PUT', body: 'b' });
  });

  it('one deadline covers every hop', async () => {
    const error = await failure(
      createHttpFetch({ maxRedirects: 100 })(request(`${base}/slow-redirect`, { timeoutMs: 100 })),
    );
    expect(error.code).toBe('STEP_TIMEOUT');
  });
});

describe('resolved addresses', () => {
  it('allowPrivateNetwork: false refuses a name that resolves to a loopback or private address', async () => {
    const lookups: string[] = [];
    const fetch = createHttpFetch({
      allowPrivateNetwork: false,
      lookup: (host) => {
        lookups.push(host);
        return host === 'evil.example' ? ['10.0.0.5'] : ['93.184.216.34'];
      },
      fetch: (async () => new Response('public')) as typeof globalThis.fetch,
    });
    const error = await failure(fetch(request('http://evil.example/')));
    expect(error.code).toBe('HTTP_FORBIDDEN');
    expect(error.details).toMatchObject({ reason: 'private_address', hop: 0 });
    expect(error.message).toContain('10.0.0.5');
    const ok = await fetch(request('http://public.example/'));
    expect(new TextDecoder().decode(ok.body)).toBe('public');
    expect(lookups).toEqual(['evil.example', 'public.example']);
  });

  it('through the engine: localhost and 127.0.0.1 are refused, and so is a redirect to them', async () => {
    const engine = createEngine({ http: { allowPrivateNetwork: false } });
    for (const url of [
      `http://localhost:${port}/x`,
      `${base}/x`,
      `http://[::1]:${port}/x`,
      `http://[::ffff:127.0.0.1]:${port}/x`,
    ]) {
      const run = await engine.run(draft([{ type: 'http_request', key: 'h', url }]));
      expect(run.output.h!.error, url).toMatchObject({
        code: 'HTTP_FORBIDDEN',
        details: { reason: 'private_address' },
      });
    }
  });

  it('http.allow sees the addresses of every hop', async () => {
    const targets: Array<{ host: string; hop: number; addresses: readonly string[] }> = [];
    const fetch = createHttpFetch({
      allow: (url, target) => {
        targets.push({ host: url.hostname, hop: target.hop, addresses: target.addresses });
        return true;
      },
      lookup: () => ['127.0.0.1'],
    });
    await fetch(request(`${base}/redirect?to=${encodeURIComponent(`http://localhost:${port}/ok`)}`));
    expect(targets).toEqual([
      { host: '127.0.0.1', hop: 0, addresses: ['127.0.0.1'] },
      { host: 'localhost', hop: 1, addresses: ['127.0.0.1'] },
    ]);
  });

  it('classifies addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      'not-an-ip',
    ]) {
      expect(isNonPublicAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isNonPublicAddress(a), a).toBe(false);
    }
  });
});

/** A resolver stub answering each call with the next answer (the last one again once they run out). */
function answers(...list: string[][]): { lookup: (host: string) => string[]; hosts: string[] } {
  const hosts: string[] = [];
  return {
    hosts,
    lookup: (host) => {
      hosts.push(host);
      return list[Math.min(hosts.length - 1, list.length - 1)]!;
    },
  };
}

/** What `connectLookup` hands the socket (or the error it refuses with). */
function lookupOf(
  addresses: string[],
  options: { all?: boolean; family?: number } = {},
): Promise<{ error: Error | null; address?: unknown; family?: number }> {
  return new Promise((resolve) =>
    connectLookup(() => addresses)(
      'name.test',
      options as never,
      ((error: Error | null, address?: unknown, family?: number) =>
        resolve({ error, address, family })) as never,
    ),
  );
}

describe('DNS rebinding: the address checked is the address connected to', () => {
  it('a name that resolves to a public address when checked and to 127.0.0.1 when connecting is refused', async () => {
    const dns = answers(['93.184.216.34'], ['127.0.0.1']);
    const fetch = createHttpFetch({ allowPrivateNetwork: false, lookup: dns.lookup });
    const before = seen.length;
    const error = await failure(fetch(request(`http://rebind.test:${port}/internal-secret`)));
    expect(error.code).toBe('HTTP_FORBIDDEN');
    expect(error.details).toMatchObject({ reason: 'private_address', hop: 0 });
    expect(error.message).toContain('rebind.test resolves to 127.0.0.1');
    expect(error.message).toContain('checked when connecting');
    expect(error.retryable).toBe(false);
    expect(dns.hosts).toEqual(['rebind.test', 'rebind.test']);
    expect(seen.length).toBe(before); // the loopback server was never reached
  });

  it('through the engine (http options), and when one address of several turns private', async () => {
    const dns = answers(['93.184.216.34'], ['93.184.216.34', '10.1.2.3']);
    const engine = createEngine({ http: { allowPrivateNetwork: false, lookup: dns.lookup } });
    const run = await engine.run(
      draft([{ type: 'http_request', key: 'h', url: `http://rebind.test:${port}/internal-secret` }]),
    );
    expect(run.output.h!.error).toMatchObject({
      code: 'HTTP_FORBIDDEN',
      details: { reason: 'private_address', hop: 0 },
    });
    expect(JSON.stringify(run)).not.toContain('s3cr3t');
  });

  it('a name with several addresses, one of them private, is refused before connecting', async () => {
    const dns = answers(['93.184.216.34', '192.168.1.7']);
    const fetch = createHttpFetch({ allowPrivateNetwork: false, lookup: dns.lookup });
    const error = await failure(fetch(request(`http://mixed.test:${port}/ok`)));
    expect(error).toMatchObject({ code: 'HTTP_FORBIDDEN', details: { reason: 'private_address' } });
    expect(error.message).toContain('192.168.1.7');
    expect(dns.hosts).toEqual(['mixed.test']);
  });

  it('the connection lookup refuses loopback, mapped, link-local and mixed answers, IPv6 forms included', async () => {
    for (const list of [
      ['::1'],
      ['::ffff:127.0.0.1'],
      ['::ffff:7f00:1'],
      ['fe80::1'],
      ['fd12::1'],
      ['169.254.169.254'],
      ['93.184.216.34', '::1'],
      ['2606:4700::1111', '10.0.0.1'],
    ]) {
      const { error } = await lookupOf(list);
      expect(error?.name, list.join(',')).toBe('AddressRefused');
    }
  });

  it('the connection lookup hands public addresses over in both of node:net forms, by family', async () => {
    expect(await lookupOf(['93.184.216.34'])).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(await lookupOf(['93.184.216.34', '2606:4700::1111'], { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ],
      family: undefined,
    });
    expect(await lookupOf(['93.184.216.34', '2606:4700::1111'], { family: 6 })).toMatchObject({
      address: '2606:4700::1111',
      family: 6,
    });
    expect((await lookupOf(['93.184.216.34'], { family: 6 })).error).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('a guarded connection on loopback: connects to the checked address, and refuses when the answer changes', async () => {
    // The engine's guard refuses every non-public address; here only 10.9.9.9, so that the connection
    // to the loopback server can be seen to go through the guarded lookup.
    const dns = answers(['127.0.0.1'], ['10.9.9.9']);
    const fetch = guardedFetch(dns.lookup, (a) => a === '10.9.9.9');
    const ok = await fetch(new URL(`http://first.test:${port}/ok`), { method: 'GET', redirect: 'manual' });
    expect(ok.status).toBe(200);
    expect(seen.at(-1)?.url).toBe(`first.test:${port}/ok`);
    await expect(
      fetch(new URL(`http://second.test:${port}/ok`), { method: 'GET', redirect: 'manual' }),
    ).rejects.toMatchObject({ cause: { name: 'AddressRefused', address: '10.9.9.9' } });
    expect(dns.hosts).toEqual(['first.test', 'second.test']);
  });
});

describe('response size', () => {
  it('refuses a body larger than maxResponseBytes, by Content-Length or as it streams', async () => {
    const fetch = createHttpFetch({ maxResponseBytes: 1024 });
    for (const path of ['/big', '/big-chunked']) {
      const error = await failure(fetch(request(`${base}${path}`)));
      expect(error.code).toBe('RESPONSE_TOO_LARGE');
      expect(error.retryable).toBe(false);
    }
    const engine = createEngine({ http: { maxResponseBytes: 1024 } });
    const run = await engine.run(draft([{ type: 'http_request', key: 'h', url: `${base}/big-chunked` }]));
    expect(run.output.h!.error).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(JSON.stringify(run).length).toBeLessThan(5_000);
  });
});
