import { describe, expect, it } from 'vitest';
import { downstreamKeys } from './downstream.js';

describe('downstreamKeys', () => {
  const doc = {
    steps: [
      { type: 'input', key: 'in', destinations: ['a'] },
      { type: 'code', key: 'a', code: '1', destinations: ['route'] },
      {
        type: 'branch',
        key: 'route',
        conditions: { yes: { condition: 'true', destinations: ['y'], order: 1 } },
        else: ['n'],
        destinations: ['always'],
      },
      { type: 'code', key: 'y', code: '1', destinations: ['join'] },
      { type: 'code', key: 'n', code: '1', destinations: ['join'] },
      { type: 'code', key: 'always', code: '1' },
      { type: 'code', key: 'join', code: '1' },
      { type: 'code', key: 'side', code: '1' },
    ],
  } as never;

  it('follows destinations, branch condition destinations and else, including the step itself', () => {
    expect([...downstreamKeys(doc, 'route')].sort()).toEqual(['always', 'join', 'n', 'route', 'y']);
    expect([...downstreamKeys(doc, 'y')].sort()).toEqual(['join', 'y']);
    expect([...downstreamKeys(doc, 'side')]).toEqual(['side']);
  });

  it('terminates on cycles', () => {
    const cyclic = {
      steps: [
        { type: 'code', key: 'a', code: '1', destinations: ['b'] },
        { type: 'code', key: 'b', code: '1', destinations: ['a'] },
      ],
    } as never;
    expect([...downstreamKeys(cyclic, 'a')].sort()).toEqual(['a', 'b']);
  });
});
