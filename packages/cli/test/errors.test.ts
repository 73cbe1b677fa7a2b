/** Bad input: one clear message on stderr, exit 2, no stack trace unless --debug. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const TRIAGE = 'examples/support-triage/workflow.json';

function expectUsageError(r: { code: number | null; stderr: string }, message: string | RegExp): void {
  expect(r.code).toBe(2);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/); // no stack trace
}

describe('bad input exits 2 with one clear message', () => {
  it('a missing file', async () => {
    const r = await runCli(['run', 'examples/nope/workflow.json']);
    expectUsageError(r, 'weft: examples/nope/workflow.json: no such workflow (the file does not exist).');
  });

  it('invalid JSON, with line and column', async () => {
    const dir = tempDir({
      'broken.json': '{\n  "steps": [\n    { "type": "code", "key": "a" "code": "1" }\n  ]\n}\n',
    });
    const r = await runCli(['run', join(dir, 'broken.json')]);
    expectUsageError(r, `${join(dir, 'broken.json')}:3:34: invalid JSON: expected ',' or a closing bracket.`);
    expect(r.stderr).toContain('3 |     { "type": "code", "key": "a" "code": "1" }');
    expect(r.stderr).toMatch(/\| {34}\^/);
  });

  it('an invalid document, with its problems', async () => {
    const dir = tempDir({
      'bad.json': { steps: [{ type: 'code', key: 'a', code: '1', destinations: ['nowhere'] }] },
    });
    const r = await runCli(['run', join(dir, 'bad.json')]);
    expectUsageError(r, 'the workflow is invalid');
    expect(r.stderr).toContain(`${join(dir, 'bad.json')}: /steps/0/destinations/0 DANGLING_DESTINATION`);
  });

  it('a document that is not an object', async () => {
    const dir = tempDir({ 'list.json': [1, 2] });
    const r = await runCli(['run', join(dir, 'list.json')]);
    expectUsageError(r, 'expected a workflow document (a JSON object with "steps"), got an array.');
  });

  it('bad --input JSON, and an --input that is not an object', async () => {
    const bad = await runCli(['run', TRIAGE, '--input', '{"ticket_id": }']);
    expectUsageError(bad, '--input:1:15: invalid JSON: expected a value.');
    const notObject = await runCli(['run', TRIAGE, '--input', '[1]']);
    expectUsageError(notObject, '--input must be a JSON object');
    const missing = await runCli(['run', TRIAGE, '--input', '@/nonexistent/input.json']);
    expectUsageError(missing, '/nonexistent/input.json: no such input');
  });

  it('an input that does not match the input definition', async () => {
    const r = await runCli(['run', TRIAGE, '--input', '{"plan": "platinum"}']);
    expectUsageError(r, "The input does not match the workflow's input definition");
    expect(r.stderr).toContain('/plan');
  });

  it('an unknown provider', async () => {
    const r = await runCli(['run', TRIAGE, '--provider', 'mistral']);
    expectUsageError(
      r,
      "option '--provider <name>' argument 'mistral' is invalid. Allowed choices are scripted, openai, anthropic.",
    );
  });

  it('a real provider without its API key', async () => {
    const r = await runCli(['run', TRIAGE, '--provider', 'anthropic']);
    expectUsageError(r, '--provider anthropic needs ANTHROPIC_API_KEY in the environment.');
  });

  it('a bad --var, an unknown --from-step, an unknown option, an unknown command', async () => {
    expectUsageError(await runCli(['run', TRIAGE, '--var', 'novalue']), 'expected KEY=VALUE for --var');
    expectUsageError(await runCli(['run', TRIAGE, '--var', '1x=2']), '--var "1x=2": expected KEY=VALUE');
    expectUsageError(await runCli(['run', TRIAGE, '--from-step', 'nope']), 'nope');
    expectUsageError(await runCli(['run', TRIAGE, '--frobnicate']), "unknown option '--frobnicate'");
    expectUsageError(await runCli(['launch', TRIAGE]), "unknown command 'launch'");
    expectUsageError(await runCli(['run']), "missing required argument 'file'");
  });

  it('bad fixtures', async () => {
    const dir = tempDir({
      'typo.json': { replys: {} },
      'http.json': { http: { 'FETCH nowhere': {} } },
    });
    expectUsageError(await runCli(['run', TRIAGE, '--fixtures', join(dir, 'typo.json')]), 'fixtures.replys');
    expectUsageError(
      await runCli(['run', TRIAGE, '--fixtures', join(dir, 'http.json')]),
      'must be "<METHOD> <absolute url>"',
    );
    expectUsageError(
      await runCli(['run', TRIAGE, '--fixtures', join(dir, 'none.json')]),
      'no such fixtures file',
    );
  });

  it('--debug adds the stack trace', async () => {
    const r = await runCli(['run', 'examples/nope/workflow.json', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such workflow');
    expect(r.stderr).toMatch(/CliError: .*\n\s+at /);
  });

  it('no command prints the usage and exits 2; --help and --version exit 0', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: weft');
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['validate', 'run', 'test', 'graph', 'schema'])
      expect(help.stdout).toContain(command);
    const runHelp = await runCli(['run', '--help']);
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toContain('--from-step <key>');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
