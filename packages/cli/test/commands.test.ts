import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const EXAMPLES = [
  'support-triage',
  'lead-enrichment',
  'status-digest',
  'inbox-digest',
  'invoice-check',
  'support-agent',
  'reply-drafter',
];

describe('weft test', () => {
  it.each(EXAMPLES)('the %s example passes its tests', async (name) => {
    const r = await runCli(['test', `examples/${name}/workflow.json`]);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('✖');
  });

  it('runs the support agent with its --plugin refund tool (the plugin’s tool wins over the fixture)', async () => {
    const r = await runCli([
      'run',
      'examples/support-agent/workflow.json',
      '--plugin',
      'examples/support-agent/tools.mjs',
      '-o',
      'run',
    ]);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.output.agent.output.tool_results[1].output).toEqual({
      refund_id: 're_A-1042',
      order_id: 'A-1042',
      amount: 329,
      status: 'succeeded',
    });
    expect(run.output.lookup_order.calls).toHaveLength(1);
  });

  it('prints each expectation, ends with "N passed, N failed" and exits 1 on a failure', async () => {
    const dir = tempDir({
      'double.json': {
        tests: [
          {
            name: 'doubles 21',
            input: { n: 21 },
            step_key: 'double',
            expectations: [
              { key: 'answer', name: 'is 42', script: 'result = 42' },
              { key: 'step', name: 'the step completed', script: 'step.status = "COMPLETED"' },
            ],
          },
          {
            name: 'a wrong expectation',
            input: { n: 1 },
            expectations: [{ key: 'x', name: 'is 3', script: 'result = 3' }],
          },
        ],
        steps: [{ type: 'code', key: 'double', code: 'input.n * 2' }],
      },
    });
    const r = await runCli(['test', join(dir, 'double.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✔ doubles 21');
    expect(r.stdout).toContain('    ✔ is 42');
    expect(r.stdout).toContain('    ✔ the step completed');
    expect(r.stdout).toContain('✖ a wrong expectation');
    expect(r.stdout).toContain('    ✖ is 3 — The expectation is false: result = 3');
    expect(r.stdout).toContain('    result: 2');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('accepts the tests file itself, and --json', async () => {
    const r = await runCli(['test', 'examples/status-digest/workflow.tests.json', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ passed: 3, failed: 0 });
    expect(report.tests[0].expectations[0]).toMatchObject({ status: 'PASSED' });
  });

  it('a tests file’s expectation library: tests reference it by expectation_id; an unknown id is exit 2', async () => {
    const dir = tempDir({
      'double.json': { steps: [{ type: 'code', key: 'double', code: 'input.n * 2' }] },
      'double.tests.json': {
        expectations: [
          { id: 'is-42', name: 'is 42', script: 'result = 42' },
          { id: 'completed', name: 'completed', script: 'status = "COMPLETED"' },
        ],
        tests: [
          {
            name: 'doubles 21',
            input: { n: 21 },
            expectations: [
              { key: 'answer', expectation_id: 'is-42' },
              { key: 'done', name: 'run completed', expectation_id: 'completed' },
            ],
          },
          { name: 'doubles 1', input: { n: 1 }, expectations: [{ key: 'answer', expectation_id: 'is-42' }] },
        ],
      },
      'bad.json': { steps: [{ type: 'code', key: 'a', code: '1' }] },
      'bad.tests.json': {
        expectations: [{ id: 'x', name: 'x', script: 'true' }],
        tests: [{ name: 't', expectations: [{ key: 'k', expectation_id: 'nope' }] }],
      },
      'broken.json': { steps: [{ type: 'code', key: 'a', code: '1' }] },
      'broken.tests.json': {
        expectations: [{ id: 'x', name: 'x', script: 'result = (' }],
        tests: [{ name: 't' }],
      },
    });
    const r = await runCli(['test', join(dir, 'double.json'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(report.tests[0].expectations).toEqual([
      expect.objectContaining({ key: 'answer', name: 'is 42', expectation_id: 'is-42', status: 'PASSED' }),
      expect.objectContaining({
        key: 'done',
        name: 'run completed',
        expectation_id: 'completed',
        status: 'PASSED',
      }),
    ]);
    expect(report.tests[1].expectations[0]).toMatchObject({
      expectation_id: 'is-42',
      script: 'result = 42',
      status: 'FAILED',
      output: false,
    });
    const bad = await runCli(['test', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expectations[0].expectation_id "nope"');
    const broken = await runCli(['test', join(dir, 'broken.json')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/expectations\[0\]: .*does not parse/);
  });

  it('a workflow without tests, or with a malformed test, is bad input (exit 2)', async () => {
    const dir = tempDir({
      'none.json': { steps: [{ type: 'code', key: 'a', code: '1' }] },
      'bad.json': { steps: [{ type: 'code', key: 'a', code: '1' }] },
      'bad.tests.json': { tests: [{ name: 'x', expectations: [{ key: 'k', script: '1 +' }] }] },
    });
    const none = await runCli(['test', join(dir, 'none.json')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no tests found');
    const bad = await runCli(['test', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tests[0]');
    expect(bad.stderr).toContain('does not parse');
  });
});

describe('weft validate', () => {
  it('reports the examples as valid (exit 0)', async () => {
    const files = EXAMPLES.map((name) => `examples/${name}/workflow.json`);
    const r = await runCli(['validate', ...files]);
    expect(r.code).toBe(0);
    for (const file of files) expect(r.stdout).toContain(`${file}: ✔ valid`);
  });

  it('reports every problem of every file and exits 1 on errors', async () => {
    const dir = tempDir({
      'one.json': {
        steps: [
          { type: 'code', key: 'a', code: '1', destinations: ['nowhere'] },
          { type: 'code', key: 'a', code: '2' },
        ],
      },
      'two.json': { steps: [{ type: 'branch', key: 'b', conditions: {}, else: ['ghost'] }] },
      'ok.json': { steps: [{ type: 'code', key: 'a', code: '1' }] },
    });
    const r = await runCli(['validate', join(dir, 'one.json'), join(dir, 'two.json'), join(dir, 'ok.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${join(dir, 'one.json')}: /steps/0/destinations/0 DANGLING_DESTINATION`);
    expect(r.stdout).toMatch(new RegExp(`${join(dir, 'one.json')}: /steps/1\\S* DUPLICATE`));
    expect(r.stdout).toContain(`${join(dir, 'two.json')}: /steps/0/else/0 DANGLING_DESTINATION`);
    expect(r.stdout).toContain(`${join(dir, 'one.json')}: ✖ invalid`);
    expect(r.stdout).toContain(`${join(dir, 'ok.json')}: ✔ valid`);
  });

  it('warns (AUTO_UNSERVED) when a version relies on auto that no provider weft run would use can serve', async () => {
    const step = (provider: string) => ({
      steps: [
        {
          type: 'model',
          key: 'm',
          provider: { provider, model: 'auto', messages: [{ role: 'user', content: 'Hi' }] },
        },
      ],
    });
    const dir = tempDir({ 'ollama.json': step('ollama'), 'openai.json': step('openai') });
    // A dry run offers the openai and anthropic catalogues: openai is served, a local server is not.
    const dry = await runCli(['validate', join(dir, 'ollama.json'), join(dir, 'openai.json')]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`${join(dir, 'ollama.json')}: warning /steps/0/provider AUTO_UNSERVED`);
    expect(dry.stdout).toContain(`${join(dir, 'ollama.json')}: ✔ valid (1 warning)`);
    expect(dry.stdout).toContain(`${join(dir, 'openai.json')}: ✔ valid`);
    expect(dry.stdout).not.toContain(`${join(dir, 'openai.json')}: /steps`);
    // With only an Anthropic key, `weft run` would have no openai provider.
    const live = await runCli(['validate', join(dir, 'openai.json')], {
      env: { ANTHROPIC_API_KEY: 'sk-ant-x' },
    });
    expect(live.stdout).toContain('AUTO_UNSERVED');
    expect(live.stdout).toContain('"openai" is not among them');
  });

  it('--json prints a report per file', async () => {
    const dir = tempDir({
      'one.json': { steps: [{ type: 'code', key: 'a', code: '1', destinations: ['x'] }] },
    });
    const r = await runCli([
      'validate',
      '--json',
      join(dir, 'one.json'),
      'examples/support-triage/workflow.json',
    ]);
    expect(r.code).toBe(1);
    const reports = JSON.parse(r.stdout);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ ok: false, error: null });
    expect(reports[0].problems[0]).toMatchObject({ severity: 'error', code: 'DANGLING_DESTINATION' });
    expect(reports[1]).toMatchObject({ ok: true });
  });

  it('a missing or unparsable file is bad input (exit 2), the other files are still reported', async () => {
    const dir = tempDir({ 'broken.json': '{ "steps": [' });
    const r = await runCli([
      'validate',
      join(dir, 'broken.json'),
      join(dir, 'missing.json'),
      'examples/lead-enrichment/workflow.json',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${join(dir, 'broken.json')}:1:13: invalid JSON`);
    expect(r.stdout).toContain(`${join(dir, 'missing.json')}: no such workflow`);
    expect(r.stdout).toContain('examples/lead-enrichment/workflow.json: ✔ valid');
  });
});

describe('weft graph', () => {
  it('draws the step graph as Mermaid, branch edges labelled', async () => {
    const r = await runCli(['graph', 'examples/support-triage/workflow.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^flowchart TD$/m);
    expect(r.stdout).toContain('s2{{"route<br/>branch"}}');
    expect(r.stdout).toContain('s2 -->|billing| s3');
    expect(r.stdout).toContain('s2 -->|else| s5');
    expect(r.stdout).toContain('escalate<br/>code · ? conditional');
    expect(r.stdout).not.toContain('about'); // notes do not run
  });

  it('--format dot, and --run marks each step with its status', async () => {
    const dir = tempDir({});
    const run = await runCli(['run', 'examples/support-triage/workflow.json', '-o', 'run']);
    const runFile = join(dir, 'run.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(runFile, run.stdout);
    const r = await runCli([
      'graph',
      'examples/support-triage/workflow.json',
      '--format',
      'dot',
      '--run',
      runFile,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph workflow \{/);
    expect(r.stdout).toContain('"route" -> "billing_reply" [label="billing"];');
    expect(r.stdout).toContain('"route" -> "general_reply" [label="else", style=dashed];');
    expect(r.stdout).toMatch(
      /"billing_reply" \[label="billing_reply\\nmodel\\nCOMPLETED".*fillcolor="#dcfce7"/,
    );
    expect(r.stdout).toMatch(/"general_reply" \[label="general_reply\\nmodel\\nSKIPPED"/);

    const events = await runCli(['run', 'examples/support-triage/workflow.json', '--json']);
    writeFileSync(join(dir, 'events.ndjson'), events.stdout);
    const mermaid = await runCli([
      'graph',
      'examples/support-triage/workflow.json',
      '--run',
      join(dir, 'events.ndjson'),
    ]);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toContain('class s0,s1,s2,s3,s6,s7 completed');
    expect(mermaid.stdout).toContain('class s4,s5 skipped');
  });

  it('a run file that is not a run is bad input', async () => {
    const dir = tempDir({ 'x.json': { hello: 1 } });
    const r = await runCli(['graph', 'examples/support-triage/workflow.json', '--run', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected a run');
  });
});

describe('weft schema', () => {
  it('prints the JSON Schema of the document model', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(typeof schema).toBe('object');
    expect(JSON.stringify(schema)).toContain('destinations');
  });
});
