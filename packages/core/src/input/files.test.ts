/**
 * File values in run inputs (input/files.ts, docs/files.md): bytes become `{ data: base64, type, name? }`
 * before the run keeps its input, with caps; binary data anywhere else is INVALID_INPUT at its pointer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, WeftError } from '../errors.js';
import { createWeft } from '../registry/weft.js';
import { createEngine } from '../run/engine.js';
import type { JournalEntry } from '../run/journal.js';
import { fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import { inputDefinitions } from './check.js';
import { INPUT_PROBLEM_CODES } from './fields.js';
import { binaryProblems, copyRunInput, MAX_INPUT_FILE_BYTES, normalizeFileInputs } from './files.js';

const PDF = Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n', 'latin1');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

const doc = draft(
  [
    {
      type: 'input',
      key: 'start',
      input: {
        document: { type: 'file', optional: true },
        pages: { type: 'file', array: true, optional: true },
        meta: { type: 'object', optional: true, fields: { scan: { type: 'file', optional: true } } },
        note: { type: 'string', optional: true },
      },
    },
  ],
  {},
);

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    expect((error as WeftError).code).toBe(ERROR_CODES.INVALID_INPUT);
    return (
      (error as WeftError).details as { problems: Array<{ code: string; path: string; message: string }> }
    ).problems;
  }
  throw new Error('expected INVALID_INPUT');
};

describe('file values given as bytes', () => {
  it('a Buffer or Uint8Array becomes { data: base64, type } with the type sniffed from the magic bytes', () => {
    const out = copyRunInput(doc, {
      document: PDF,
      pages: [new Uint8Array(PNG), Buffer.from('plain words\n')],
      meta: { scan: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) },
      note: 'kept',
    });
    expect(out).toEqual({
      document: { data: PDF.toString('base64'), type: 'application/pdf' },
      pages: [
        { data: PNG.toString('base64'), type: 'image/png' },
        { data: Buffer.from('plain words\n').toString('base64'), type: 'text/plain' },
      ],
      meta: { scan: { data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]).toString('base64'), type: 'image/jpeg' } },
      note: 'kept',
    });
    // JSON all the way: what a store writes and a resume reads back is the same value.
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('bytes nobody can name are application/octet-stream; a subarray is read from its offset', () => {
    const backing = Buffer.from([1, 2, 0, 0, 0x25, 0x50, 0x44, 0x46, 0x2d]);
    const out = copyRunInput(doc, { document: backing.subarray(0, 4), pages: [backing.subarray(4)] });
    expect(out.document).toEqual({
      data: Buffer.from([1, 2, 0, 0]).toString('base64'),
      type: 'application/octet-stream',
    });
    expect(out.pages).toEqual([{ data: Buffer.from('%PDF-').toString('base64'), type: 'application/pdf' }]);
  });

  it('the platform file data object { data, type, name } (and media_type / filename) keeps the caller’s type and name', () => {
    const out = copyRunInput(doc, {
      document: { data: PNG, type: 'Image/PNG', name: 'scan.png' },
      pages: [
        { data: PDF, media_type: 'application/pdf', filename: 'a.pdf' },
        { data: 'aGk=', type: 'text/plain' },
      ],
    });
    expect(out.document).toEqual({ data: PNG.toString('base64'), type: 'image/png', name: 'scan.png' });
    expect(out.pages).toEqual([
      { data: PDF.toString('base64'), type: 'application/pdf', name: 'a.pdf' },
      { data: 'aGk=', type: 'text/plain' },
    ]);
  });

  it('the caller’s input is not changed, and an input without bytes is copied as it was', () => {
    const input = { document: PDF, note: 'x' };
    copyRunInput(doc, input);
    expect(input.document).toBe(PDF);
    expect(copyRunInput(doc, { document: 'https://example.com/a.pdf' })).toEqual({
      document: 'https://example.com/a.pdf',
    });
  });

  it('a file over 20 MiB is INVALID_INPUT naming the field and the cap; so is a data: URL over it', () => {
    const big = new Uint8Array(MAX_INPUT_FILE_BYTES + 1);
    const [problem] = problemsOf(() => copyRunInput(doc, { pages: [PNG, big] }));
    expect(problem).toMatchObject({ code: INPUT_PROBLEM_CODES.FILE_TOO_LARGE, path: '/pages/1' });
    expect(problem!.message).toContain('pages.1');
    expect(problem!.message).toContain(String(MAX_INPUT_FILE_BYTES));
    const url = `data:application/pdf;base64,${'A'.repeat(Math.ceil((MAX_INPUT_FILE_BYTES * 4) / 3) + 8)}`;
    expect(problemsOf(() => copyRunInput(doc, { document: url }))[0]).toMatchObject({
      code: INPUT_PROBLEM_CODES.FILE_TOO_LARGE,
      path: '/document',
    });
  });

  it('all files of one input together are capped at 50 MiB', () => {
    const file = new Uint8Array(MAX_INPUT_FILE_BYTES);
    const problems = problemsOf(() => copyRunInput(doc, { pages: [file, file, file] }));
    expect(problems).toEqual([
      expect.objectContaining({ code: INPUT_PROBLEM_CODES.FILE_TOO_LARGE, path: '/pages/2' }),
    ]);
  });

  it('a bad type, name or encoding of a file data object is a problem at its pointer', () => {
    expect(problemsOf(() => copyRunInput(doc, { document: { data: PNG, type: 'png' } }))[0]).toMatchObject({
      code: INPUT_PROBLEM_CODES.TYPE,
      path: '/document/type',
    });
    expect(problemsOf(() => copyRunInput(doc, { document: { data: PNG, name: '' } }))[0]).toMatchObject({
      path: '/document/name',
    });
    expect(
      problemsOf(() => copyRunInput(doc, { document: { data: 'x', encoding: 'hex' } }))[0],
    ).toMatchObject({
      code: INPUT_PROBLEM_CODES.OPTION,
      path: '/document/encoding',
    });
    expect(problemsOf(() => copyRunInput(doc, { document: { data: new Float64Array(2) } }))[0]).toMatchObject(
      {
        path: '/document/data',
      },
    );
  });

  it('binary data outside a file field is INVALID_INPUT with its JSON pointer', () => {
    expect(problemsOf(() => copyRunInput(doc, { note: PNG }))).toEqual([
      expect.objectContaining({ code: INPUT_PROBLEM_CODES.BINARY, path: '/note' }),
    ]);
    expect(problemsOf(() => copyRunInput(doc, { extra: { deep: [1, new ArrayBuffer(2)] } }))).toEqual([
      expect.objectContaining({ code: INPUT_PROBLEM_CODES.BINARY, path: '/extra/deep/1' }),
    ]);
    expect(problemsOf(() => copyRunInput(doc, { document: new Uint16Array(2) }))).toEqual([
      expect.objectContaining({ code: INPUT_PROBLEM_CODES.BINARY, path: '/document' }),
    ]);
    expect(binaryProblems({ a: 'text', b: [1, { c: null }] })).toEqual([]);
  });

  it('engine.run: a Buffer reaches the run as its JSON form, and INVALID_INPUT starts nothing', async () => {
    const engine = createEngine();
    const run = await engine.run(doc, { input: { document: PDF } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input.document).toEqual({ data: PDF.toString('base64'), type: 'application/pdf' });
    expect(run.output.start!.output).toMatchObject({ document: { type: 'application/pdf' } });
    expect(() => engine.start(doc, { input: { note: PDF } })).toThrow(
      expect.objectContaining({ code: ERROR_CODES.INVALID_INPUT }),
    );
  });

  it('the journal holds JSON, and a resume from it sees the same file', async () => {
    const entries: JournalEntry[] = [];
    const engine = createEngine();
    const first = await engine.run(doc, {
      input: { document: PNG },
      journal: { append: (batch) => void entries.push(...JSON.parse(JSON.stringify(batch))) },
    });
    const resumed = await engine.resume(doc, entries.slice(0, 1)).done;
    expect(resumed.input).toEqual(first.input);
    expect(resumed.output.start!.output).toEqual(first.output.start!.output);
  });

  it('through the registry (a store keeps the input): the run record holds the JSON form', async () => {
    const weft = createWeft();
    const app = weft.app('app_a');
    const workflow = await app.workflows.create({ name: 'files', draft: doc });
    await app.versions.publish(workflow.id);
    const run = await app.runs.run(workflow.id, { input: { document: PDF, pages: [PNG] } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({
      document: { data: PDF.toString('base64'), type: 'application/pdf' },
      pages: [{ data: PNG.toString('base64'), type: 'image/png' }],
    });
    await expect(app.runs.run(workflow.id, { input: { note: PNG } })).rejects.toMatchObject({
      code: ERROR_CODES.INVALID_INPUT,
    });
    await weft.close();
  });
});

describe('property: any value in any field is a result or a coded error, never a crash', () => {
  const bytes = fc
    .tuple(fc.uint8Array({ maxLength: 64 }), fc.boolean())
    .map(([b, asBuffer]) => (asBuffer ? Buffer.from(b) : b));
  const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      bytes,
      fc.constant(new ArrayBuffer(3)),
      fc.constant(new Float32Array(2)),
      fc.string({ maxLength: 12 }),
      fc.constant('data:text/plain;base64,aGk='),
      fc.integer(),
      fc.constant(null),
      fc.record(
        {
          data: fc.oneof(bytes, fc.string({ maxLength: 8 }), fc.integer()),
          type: fc.oneof(fc.constant('image/png'), fc.string({ maxLength: 8 })),
          name: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
          encoding: fc.constantFrom('base64', 'raw', 'hex'),
        },
        { requiredKeys: [] },
      ),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3 }),
    ),
  })).value;

  it('copyRunInput / engine.start: JSON out, or INVALID_INPUT / INVALID_ARGUMENT', () => {
    const sites = inputDefinitions(doc);
    const engine = createEngine();
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('document', 'pages', 'meta', 'note', 'other'), anyValue),
        (input) => {
          expect(() => normalizeFileInputs(sites, input)).not.toThrow();
          let copy: Record<string, unknown>;
          try {
            copy = copyRunInput(doc, input);
          } catch (error) {
            expect(error).toBeInstanceOf(WeftError);
            expect([ERROR_CODES.INVALID_INPUT, ERROR_CODES.INVALID_ARGUMENT]).toContain(
              (error as WeftError).code,
            );
            return;
          }
          // What is kept is JSON: no bytes survive.
          expect(JSON.parse(JSON.stringify(copy))).toEqual(copy);
          expect(binaryProblems(copy)).toEqual([]);
          try {
            engine.start(doc, { input }).cancel();
          } catch (error) {
            expect(error).toBeInstanceOf(WeftError);
          }
        },
      ),
      { numRuns: fcRuns(200) },
    );
  });
});
