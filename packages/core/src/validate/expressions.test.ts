import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanTemplate } from '../expressions/template.js';
import { fcRuns } from '../test-support/fc.js';
import { ExpressionChecker } from './expressions.js';

const limits = { maxExpressionLength: 100_000, maxExpressionWork: 1e12, expressionParseCost: 300 };

describe('ExpressionChecker', () => {
  it('parses once per distinct source', () => {
    const checker = new ExpressionChecker({ ...limits, maxExpressionWork: 310 });
    expect(checker.parse('1 + 1').kind).toBe('ok');
    expect(checker.parse('1 + 1').kind).toBe('ok');
    expect(checker.parse('2 + 2').kind).toBe('budget');
    expect(checker.exhausted).toBe(true);
  });

  it('too long, too deep', () => {
    const checker = new ExpressionChecker({ ...limits, maxExpressionLength: 10 });
    expect(checker.parse('1'.repeat(11))).toEqual({ kind: 'too-long', length: 11 });
    expect(new ExpressionChecker(limits).parse(`${'('.repeat(20_000)}1${')'.repeat(20_000)}`).kind).toBe(
      'too-deep',
    );
  });

  const pieces = ['{{', '}}', ' ', 'a', '1', '+', '(', ')', '"', '{', '}', 'x.y', '$', ':', ',', '[', ']'];
  const template = fc.array(fc.constantFrom(...pieces), { maxLength: 14 }).map((p) => p.join(''));

  it('property: a template is ok, or fails at the same position, exactly as scanTemplate says', () => {
    fc.assert(
      fc.property(template, (text) => {
        const mine = new ExpressionChecker(limits).template(text);
        const theirs = scanTemplate(text);
        if (theirs.ok) {
          expect(mine).toEqual({ kind: 'ok' });
        } else {
          expect(mine).toMatchObject({
            kind: 'syntax',
            position: theirs.error.position,
            start: theirs.segment.start,
          });
        }
      }),
      { numRuns: fcRuns(500) },
    );
  });
});
