import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSSEText, SSEDecoder } from './sse.js';

describe('SSEDecoder', () => {
  it('reads named events, data lines, comments and ids', () => {
    const text =
      ': keep-alive\n' +
      'event: message_start\n' +
      'data: {"a":1}\n' +
      '\n' +
      'id: 7\n' +
      'data: line one\n' +
      'data:line two\n' +
      '\n' +
      'data: [DONE]\n\n';
    expect(parseSSEText(text)).toEqual([
      { event: 'message_start', data: '{"a":1}', id: undefined },
      { event: undefined, data: 'line one\nline two', id: '7' },
      { event: undefined, data: '[DONE]', id: '7' },
    ]);
  });

  it('accepts CRLF and CR line endings and a leading BOM', () => {
    expect(parseSSEText('\uFEFFdata: a\r\n\r\ndata: b\r\rdata: c\n\n').map((e) => e.data)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('skips events without data and dispatches a last event left without a blank line', () => {
    expect(parseSSEText('event: ping\n\ndata: x').map((e) => e.data)).toEqual(['x']);
  });

  it('gives the same events however the text is split into chunks', () => {
    const event = fc.record({
      event: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'ping'), { nil: undefined }),
      data: fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', '"', ' ', 'é', '😀', ':') }), {
        minLength: 1,
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 8 }),
        (events, eol, cuts) => {
          const text = events
            .map(
              (e) =>
                (e.event === undefined ? '' : `event: ${e.event}${eol}`) +
                e.data.map((d) => `data: ${d}${eol}`).join('') +
                eol,
            )
            .join('');
          const whole = parseSSEText(text);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const decoder = new SSEDecoder();
          const pieces: string[] = [];
          let last = 0;
          for (const p of points) {
            pieces.push(text.slice(last, p));
            last = p;
          }
          pieces.push(text.slice(last));
          const split = [...pieces.flatMap((p) => decoder.push(p)), ...decoder.end()];
          expect(split).toEqual(whole);
          expect(whole.map((e) => e.data)).toEqual(events.map((e) => e.data.join('\n')));
          expect(whole.map((e) => e.event)).toEqual(events.map((e) => e.event));
        },
      ),
    );
  });
});
