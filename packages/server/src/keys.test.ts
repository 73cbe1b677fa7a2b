/** API keys and options: what is made, what is kept, what is refused. */
import { createWeft, MemoryStore } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { authenticate, scopedApp } from './auth.js';
import { checkAppId, createApiKey, hashApiKey, newApiKey } from './keys.js';
import { resolveOptions } from './options.js';

describe('API keys', () => {
  it('are random, prefixed, and stored as their SHA-256 only', async () => {
    const store = new MemoryStore();
    const a = await createApiKey(store, 'shop', { name: 'ci' });
    const b = newApiKey('shop');
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^weft_[A-Za-z0-9_-]{43}$/);
    expect(a.record).toMatchObject({ app_id: 'shop', name: 'ci', hash: hashApiKey(a.key) });
    expect(JSON.stringify(await store.listApiKeys('shop'))).not.toContain(a.key);
    expect((await authenticate(store, `Bearer ${a.key}`)).id).toBe(a.record.id);
    await expect(authenticate(store, `Bearer ${b.key}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuse app ids that are not path-safe, and "c"', () => {
    for (const bad of ['', 'c', 'a/b', 'x'.repeat(129), 'é', 5])
      expect(() => checkAppId(bad)).toThrow(/appId/);
    expect(checkAppId('shop_1.eu-west~2')).toBe('shop_1.eu-west~2');
  });

  it('scope: the key’s app or "c"; anything else is NOT_FOUND', () => {
    const key = newApiKey('shop').record;
    expect(scopedApp(key, 'c')).toBe('shop');
    expect(scopedApp(key, 'shop')).toBe('shop');
    expect(() => scopedApp(key, 'other')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('options', () => {
  it('have defaults and refuse bad values by name', () => {
    const weft = createWeft();
    expect(resolveOptions({ weft })).toMatchObject({
      bodyLimit: 1024 * 1024,
      rateLimit: { max: 1000, timeWindowMs: 10_000 },
      runWaitMs: 300_000,
      docs: true,
      checkResponses: false,
    });
    expect(resolveOptions({ weft, rateLimit: false }).rateLimit).toBe(false);
    expect(() => resolveOptions({} as never)).toThrow(/options\.weft/);
    expect(() => resolveOptions({ weft, bodyLimit: -1 })).toThrow(/options\.bodyLimit/);
    expect(() => resolveOptions({ weft, rateLimit: { max: 0, timeWindowMs: 1 } })).toThrow(/rateLimit\.max/);
    expect(() => resolveOptions({ weft, docs: 'yes' as never })).toThrow(/options\.docs/);
    expect(() => resolveOptions(null as never)).toThrow(/options/);
  });
});
