import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('fires due deadlines, not cancelled ones, and stops ticking when none is pending', async () => {
    const deadlines = new Deadlines(5);
    const fired: string[] = [];
    const a = deadlines.after(10);
    const b = deadlines.after(10);
    const c = deadlines.after(10_000);
    void a.promise.then(() => fired.push('a'));
    void b.promise.then(() => fired.push('b'));
    b.cancel();
    await a.promise;
    expect(fired).toEqual(['a']);
    c.cancel();
    // A new deadline after every other was settled arms the timer again.
    expect(await deadlines.after(1).promise).toBeNull();
  });
});
