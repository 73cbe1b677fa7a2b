import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './mutex.js';

describe('KeyedMutex', () => {
  it('runs calls with the same key one at a time, in call order; other keys run alongside', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (key: string, name: string, ms: number) =>
      mutex.run(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        return name;
      });
    const results = await Promise.all([task('k', 'a', 10), task('k', 'b', 1), task('other', 'c', 1)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log.indexOf('end a')).toBeLessThan(log.indexOf('start b'));
    expect(log.indexOf('start c')).toBeLessThan(log.indexOf('end a'));
    expect(mutex.size).toBe(0);
  });

  it('releases the key when the holder throws', async () => {
    const mutex = new KeyedMutex();
    await expect(
      mutex.run('k', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await mutex.run('k', () => 1)).toBe(1);
    expect(mutex.size).toBe(0);
  });
});
