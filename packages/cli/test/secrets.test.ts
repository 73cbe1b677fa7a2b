/** Issue 11, item 5: `weft run --secret` never prints the secret, an encoding of it, or a prefix of it. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, weft } from './helpers.js';

const SECRET = 'Sk-Live-0123456789abcdefghijklmnopqrstuvwxyz';

function leaks(text: string): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const form of [SECRET, JSON.stringify(SECRET).slice(1, -1), encodeURIComponent(SECRET)]) {
    if (lower.includes(form.toLowerCase())) found.push(form);
  }
  if (text.includes(Buffer.from(SECRET).toString('base64'))) found.push('base64');
  for (let n = 8; n < SECRET.length; n++) {
    if (lower.includes(SECRET.slice(0, n).toLowerCase())) {
      found.push(`prefix ${SECRET.slice(0, n)}`);
      break;
    }
  }
  return found;
}

describe('weft run --secret', () => {
  const dir = tempDir({
    'wf.json': {
      steps: [
        { type: 'input', key: 'in', destinations: ['a', 'b', 'c', 'd', 'e'] },
        { type: 'code', key: 'a', code: '$number($vars.key)', throw_on_error: false },
        {
          type: 'code',
          key: 'b',
          code: '[$vars.key, $string({"k": $vars.key}), $lowercase($vars.key), $base64encode($vars.key)]',
        },
        // Port 1 on loopback refuses the connection: no network, an error quoting the URL.
        {
          type: 'http_request',
          key: 'c',
          url: 'http://127.0.0.1:1/{{$vars.key}}?q={{$vars.key}}',
          throw_on_error: false,
        },
        { type: 'code', key: 'd', code: '$error($vars.key & $vars.key & $vars.key)', throw_on_error: false },
        { type: 'code', key: 'e', code: '$substring($vars.key, 0, 20)' },
      ],
    },
  });
  const args = ['run', join(dir, 'wf.json'), '--secret', `key=${SECRET}`];

  it('-o run, -o json, --json and the human summary print none of it', async () => {
    for (const extra of [['-o', 'run'], ['-o', 'json'], ['--json'], []]) {
      const r = await weft([...args, ...extra]);
      expect(r.stdout.length, extra.join(' ')).toBeGreaterThan(0);
      expect(leaks(r.stdout), `stdout of ${extra.join(' ')}`).toEqual([]);
      expect(leaks(r.stderr), `stderr of ${extra.join(' ')}`).toEqual([]);
    }
  });
});
