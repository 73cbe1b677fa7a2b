import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, runCli, tempDir } from './helpers.js';

const TRIAGE = 'examples/support-triage/workflow.json';

describe('weft run', () => {
  it('dry-runs the triage example with the scripted provider and prints the result', async () => {
    const r = await runCli(['run', TRIAGE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Dry run');
    expect(r.stderr).toContain('examples/support-triage/workflow.fixtures.json');
    // without a terminal: one plain line per step event
    expect(r.stderr).toContain('▸ classify (model) started');
    expect(r.stderr).toContain('✔ route completed');
    expect(r.stderr).toContain('(→ billing)');
    expect(r.stderr).toMatch(/○ general_reply skipped/);
    expect(r.stdout).toMatch(/✔ COMPLETED in \S+ · 2 model calls/);
    expect(r.stdout).toMatch(/queue\s+billing/);
    expect(r.stdout).toMatch(/escalated\s+true/);
    expect(r.stdout).toContain('Hi Dana,');
  });

  it('dry-runs the reply-drafter example with no key: auto-filled fields and an automatically chosen model', async () => {
    const r = await runCli(['run', 'examples/reply-drafter/workflow.json', '-o', 'run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Dry run');
    const run = JSON.parse(r.stdout);
    expect(run.status).toBe('COMPLETED');
    expect(run.auto_filled).toEqual(['tone', 'language']);
    expect(run.input).toMatchObject({ customer: 'Camille Martin', tone: 'friendly', language: 'fr' });
    expect(run.result).toMatchObject({ tone: 'friendly', language: 'fr', model: 'openai/gpt-4.1-nano' });
    expect(run.usage.steps.$auto.calls[0]).toMatchObject({
      type: 'auto',
      provider: 'openai',
      model: 'gpt-4.1-nano',
    });
  });

  it('--output json prints the result as JSON, --output run the whole run', async () => {
    const json = await runCli(['run', TRIAGE, '--output', 'json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({
      ticket_id: 'T-1042',
      queue: 'billing',
      escalated: true,
      bug_report: null,
    });

    const run = await runCli(['run', TRIAGE, '-o', 'run']);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.status).toBe('COMPLETED');
    expect(parsed.output.route.output).toEqual({ selected: 'billing' });
    expect(parsed.workflow_version_draft.key).toBe('support-triage');
  });

  it('takes --input as JSON or @file, and --fixtures', async () => {
    const dir = tempDir({
      'ticket.json': {
        ticket_id: 'T-9',
        customer: 'Ada',
        plan: 'free',
        subject: 'How do I reset my password?',
        body: 'I forgot it.',
      },
      'fixtures.json': {
        replies: {
          classify: {
            category: 'question',
            priority: 'low',
            sentiment: 'neutral',
            summary: 'Password reset.',
          },
          general_reply: 'Use the "Forgot password" link.',
        },
      },
    });
    const fromFile = await runCli([
      'run',
      TRIAGE,
      '--input',
      `@${join(dir, 'ticket.json')}`,
      '--fixtures',
      join(dir, 'fixtures.json'),
      '-o',
      'json',
    ]);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({
      ticket_id: 'T-9',
      queue: 'support',
      escalated: false,
      reply_draft: 'Use the "Forgot password" link.',
    });
    expect(fromFile.stderr).toContain('--fixtures given');

    const inline = await runCli([
      'run',
      TRIAGE,
      '--input',
      '{"ticket_id": "T-10", "plan": "pro"}',
      '-o',
      'json',
    ]);
    expect(JSON.parse(inline.stdout)).toMatchObject({ ticket_id: 'T-10', queue: 'billing' });

    const stdin = await runCli(['run', TRIAGE, '--input', '@-', '-o', 'json'], {
      stdin: '{"ticket_id": "T-11"}',
    });
    expect(JSON.parse(stdin.stdout).ticket_id).toBe('T-11');
  });

  it('passes --var and --secret as $vars, redacting secrets from the run', async () => {
    const dir = tempDir({
      'wf.json': {
        steps: [{ type: 'code', key: 'greet', code: '$vars.greeting & ", token " & $vars.token & "!"' }],
      },
    });
    const r = await runCli([
      'run',
      join(dir, 'wf.json'),
      '--var',
      'greeting=Hello',
      '--secret',
      'token=s3cr3t',
      '-o',
      'run',
    ]);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.result).toBe('Hello, token [secret]!');
    expect(r.stdout).not.toContain('s3cr3t');
  });

  it('runs a published version document, carrying its metadata to the run', async () => {
    const dir = tempDir({
      'v3.json': {
        id: 'ver_123',
        app_id: 'app_1',
        workflow_id: 'wf_9',
        version: 3,
        notes: 'Third version',
        steps: [{ type: 'code', key: 'a', code: '"version " & $string(3)' }],
      },
    });
    const r = await runCli(['run', join(dir, 'v3.json'), '-o', 'run']);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      result: 'version 3',
      version: 3,
      workflow_id: 'wf_9',
      app_id: 'app_1',
    });
    expect(run.workflow_version).toMatchObject({ id: 'ver_123', notes: 'Third version' });
    expect(run.workflow_version_draft).toBeNull();
  });

  it('--from-step starts from one step only', async () => {
    const dir = tempDir({
      'wf.json': {
        steps: [
          { type: 'code', key: 'a', code: '"from a"', destinations: ['b'] },
          { type: 'code', key: 'b', code: '"b ran"' },
        ],
      },
    });
    const r = await runCli(['run', join(dir, 'wf.json'), '--from-step', 'b', '-o', 'run']);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.output.a.status).toBe('SKIPPED');
    expect(run.result).toBe('b ran');
  });

  it('--json prints the engine events as NDJSON, run.completed last', async () => {
    const r = await runCli(['run', 'examples/lead-enrichment/workflow.json', '--json']);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events[0]!.event).toBe('run.started');
    expect(events.at(-1)!.event).toBe('run.completed');
    expect(events.at(-1)!.run.status).toBe('COMPLETED');
    expect(events.filter((e) => e.event === 'loop.iteration')).toHaveLength(6);
    expect(events.filter((e) => e.event === 'usage')).toHaveLength(6);
    for (const e of events) {
      expect(typeof e.run_id).toBe('string');
      expect(typeof e.seq).toBe('number');
    }
    expect(r.stderr).toContain('COMPLETED');
  });

  it('exits 1 and prints the error when the run fails', async () => {
    const dir = tempDir({
      'wf.json': {
        steps: [
          { type: 'code', key: 'ok', code: '1', destinations: ['boom'] },
          { type: 'code', key: 'boom', code: '$error("the invoice total is negative")' },
        ],
      },
    });
    const r = await runCli(['run', join(dir, 'wf.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED');
    expect(r.stdout).toContain('the invoice total is negative');
    expect(r.stdout).toContain('(step boom)');
    expect(r.stderr).toContain('✖ boom failed');
  });

  it('runs the composition example, resolving the sub-workflow through weft.json', async () => {
    const r = await runCli(['run', 'examples/inbox-digest/workflow.json', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      triaged: 3,
      by_queue: { engineering: 1, billing: 1, support: 1 },
      replies_to_review: ['T-2002', 'T-2003'],
    });
  });

  it('finds sub-workflows in workflows/<id>.json, and fails the step clearly when none is found', async () => {
    const dir = tempDir({
      'main.json': {
        steps: [
          { type: 'workflow', key: 'child', workflow_id: 'double', input: { n: 21 }, destinations: ['done'] },
          { type: 'code', key: 'done', code: 'child.output' },
        ],
      },
      'workflows/double.json': { steps: [{ type: 'code', key: 'x', code: 'input.n * 2' }] },
      'missing.json': { steps: [{ type: 'workflow', key: 'child', workflow_id: 'nowhere' }] },
    });
    const ok = await runCli(['run', join(dir, 'main.json'), '-o', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toBe(42);

    const missing = await runCli(['run', join(dir, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('Sub-workflow "nowhere" was not found');
    expect(missing.stdout).toContain(join('workflows', 'nowhere.json'));
  });

  describe('the http_request example against a local server', () => {
    let server: Server;
    let url: string;
    const requests: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            page: { name: 'Local Status' },
            status: { indicator: 'major', description: 'Major Outage' },
            components: [
              { name: 'API', status: 'major_outage' },
              { name: 'Dashboard', status: 'operational' },
            ],
            incidents: [
              {
                name: 'API down',
                status: 'investigating',
                impact: 'critical',
                incident_updates: [{ body: 'Looking into it.' }],
              },
            ],
          }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/summary.json`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetches the real URL given as input and transforms the answer', async () => {
      const input = JSON.stringify({ status_url: url, watch: ['API', 'Dashboard'] });
      const r = await runCli(['run', 'examples/status-digest/workflow.json', '--input', input, '-o', 'json']);
      expect(r.code).toBe(0);
      expect(requests).toContain('GET /api/v2/summary.json');
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({
        page: 'Local Status',
        healthy: false,
        affected: [{ name: 'API', status: 'major_outage' }],
        alert: { channel: '#ops' },
      });
      expect(result.alert.text).toContain('API is major outage — incident: API down');
    });
  });
});
