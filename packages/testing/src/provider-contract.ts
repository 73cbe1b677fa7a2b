/**
 * What every provider package promises its direct callers, as a vitest suite each provider runs
 * (`describeProviderRequests('openai', (baseURL) => openai({ apiKey: 'k', baseURL }))`): a malformed
 * `ModelRequest` is a rejection with INVALID_ARGUMENT naming the field — never a synchronous throw — and
 * nothing is sent.
 */
import type { ModelRequest, Provider } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { startMockServer } from './mock-server.js';

export function describeProviderRequests(name: string, create: (baseURL: string) => Provider): void {
  describe(`${name} provider: a malformed request`, () => {
    it('rejects with INVALID_ARGUMENT naming the field, and never throws synchronously', async () => {
      let requests = 0;
      const server = await startMockServer((_req, res) => {
        requests++;
        res.statusCode = 500;
        res.end();
      });
      try {
        const provider = create(server.url);
        for (const [request, parameter] of [
          [null, 'request'],
          [{ model: 'm', messages: 5 }, 'request.messages'],
          [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'request.messages[0].content'],
        ] as const) {
          let pending: Promise<unknown> | undefined;
          expect(() => {
            pending = provider.complete(request as unknown as ModelRequest);
          }).not.toThrow();
          await expect(pending).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter } });
        }
        expect(requests).toBe(0);
      } finally {
        await server.close();
      }
    });
  });
}
