/** The CLI and platform documents: plugins, honest result printing, replay from a saved run, warnings. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, weft } from './helpers.js';

const PLUGIN = `
export const steps = { shout: (ctx) => String(ctx.config.text).toUpperCase() };
export const services = { SLACK: { POST: (ctx) => ({ sent: ctx.config.service.input.text }) } };
`;

const hosted = {
  steps: [
    { type: 'input', key: 'start', input: { text: { type: 'string' } }, destinations: ['loud', 'notify'] },
    { type: 'shout', key: 'loud', text: '{{ input.text }}' },
    {
      type: 'service',
      key: 'notify',
      service: { type: 'SLACK', action: 'POST', input: { text: '{{ input.text }}' } },
    },
  ],
};

describe('weft and the platform’s documents', () => {
  it('--plugin loads host step types (validate) and steps and services (run); without it the failure says how', async () => {
    const dir = tempDir({ 'handlers.mjs': PLUGIN, 'flow.json': hosted });
    const flow = join(dir, 'flow.json');
    const plugin = join(dir, 'handlers.mjs');
    expect((await weft(['validate', flow])).stdout).toContain('UNKNOWN_STEP_TYPE');
    const valid = await weft(['validate', flow, '--plugin', plugin]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('✔ valid');
    const run = await weft(['run', flow, '--plugin', plugin, '--input', '{"text": "hi"}', '-o', 'run']);
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.output.loud.output).toBe('HI');
    expect(parsed.output.notify.output).toEqual({ sent: 'hi' });

    const service = tempDir({
      'flow.json': { steps: [{ ...hosted.steps[0], destinations: ['notify'] }, hosted.steps[2]] },
    });
    const failed = await weft(['run', join(service, 'flow.json'), '--input', '{"text": "hi"}']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('SERVICE_NOT_CONFIGURED (step notify)');
    expect(failed.stdout).toContain('hint: load services with --plugin ./handlers.mjs');
    const bad = tempDir({ 'empty.mjs': 'export const x = 1;', 'flow.json': hosted });
    const refused = await weft(['run', join(bad, 'flow.json'), '--plugin', join(bad, 'empty.mjs')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exports none of `steps`, `services` and `tools`');
  });

  it('a failed run prints its error and says when there is no result', async () => {
    const dir = tempDir({
      'flow.json': {
        steps: [
          { type: 'input', key: 'start', destinations: ['call'] },
          { type: 'http_request', key: 'call', url: 'ftp://example.com/x' },
        ],
      },
    });
    const r = await weft(['run', join(dir, 'flow.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('HTTP_FORBIDDEN (step call)');
    expect(r.stdout).toContain('no result (no code step completed)');
    expect(r.stdout).not.toContain('result:');
  });

  it('--from-step warns without --from-run; with a saved run it reuses the upstream outputs', async () => {
    const dir = tempDir({
      'flow.json': {
        steps: [
          { type: 'input', key: 'start', input: { n: { type: 'number' } }, destinations: ['double'] },
          { type: 'code', key: 'double', code: 'input.n * 2', destinations: ['report'] },
          { type: 'code', key: 'report', code: '"double is " & $string(double.output)' },
        ],
      },
    });
    const flow = join(dir, 'flow.json');
    const first = await weft(['run', flow, '--input', '{"n": 21}', '-o', 'run']);
    expect(first.code).toBe(0);
    writeFileSync(join(dir, 'run.json'), first.stdout);

    const cold = await weft(['run', flow, '--from-step', 'report', '--input', '{"n": 21}', '-o', 'json']);
    expect(cold.stderr).toContain('warning: --from-step report without --from-run');
    expect(JSON.parse(cold.stdout)).toBe('double is null');

    const warm = await weft([
      'run',
      flow,
      '--from-step',
      'report',
      '--from-run',
      join(dir, 'run.json'),
      '-o',
      'run',
    ]);
    expect(warm.code).toBe(0);
    expect(warm.stderr).not.toContain('warning: --from-step');
    const replay = JSON.parse(warm.stdout);
    expect(replay.result).toBe('double is 42');
    expect(replay.replay_of).toBe(JSON.parse(first.stdout).id);
    expect(replay.output.double).toEqual(JSON.parse(first.stdout).output.double);
  });

  it('a code step returning $ prints (no circular structure)', async () => {
    const dir = tempDir({
      'flow.json': {
        steps: [
          { type: 'input', key: 'start', destinations: ['all'] },
          { type: 'code', key: 'all', code: '$' },
        ],
      },
    });
    const r = await weft(['run', join(dir, 'flow.json'), '--input', '{"a": 1}', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ input: { a: 1 }, start: { status: 'COMPLETED' } });
  });

  it('validate prints UNSUPPORTED_FIELD warnings and still says valid', async () => {
    const dir = tempDir({
      'flow.json': {
        steps: [
          {
            type: 'browser',
            key: 'page',
            input_connected: true,
            url: 'https://example.com',
            wait_for_selector: '#x',
          },
        ],
      },
    });
    const r = await weft(['validate', join(dir, 'flow.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning /steps/0/wait_for_selector UNSUPPORTED_FIELD');
    expect(r.stdout).toContain('✔ valid (1 warning)');
  });
});
