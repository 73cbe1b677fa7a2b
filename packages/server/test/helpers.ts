/** Test support: a server on 127.0.0.1 (port 0) over a fresh registry, two apps with a key each. */
import { createWeft, type Weft, type WeftOptions } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../src/keys.js';
import type { ServerOptions } from '../src/options.js';
import { createServer } from '../src/server.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  url: string;
  weft: Weft;
  server: FastifyInstance;
  keys: { A: string; B: string };
  /** `path` is under /apps/<app>; `key` defaults to A's. */
  call<T = any>(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

export async function startServer(
  options: { weft?: WeftOptions; server?: Omit<ServerOptions, 'weft'> } = {},
): Promise<TestServer> {
  const weft = createWeft(options.weft);
  const server = await createServer({ weft, checkResponses: true, docs: false, ...options.server });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  const keys = {
    A: (await createApiKey(weft.store, 'app_a', { name: 'tests' })).key,
    B: (await createApiKey(weft.store, 'app_b', { name: 'tests' })).key,
  };
  return {
    url,
    weft,
    server,
    keys,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const key = o.key === undefined ? keys.A : o.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (o.raw !== undefined) body = o.raw;
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      if ((response.headers.get('content-type') ?? '').includes('application/json'))
        parsed = JSON.parse(text);
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    async close() {
      await server.close();
      await weft.close();
    },
  };
}
