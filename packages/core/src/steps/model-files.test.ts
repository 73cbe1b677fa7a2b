/**
 * `{{ input.FIELD:contents }}` / `{{ input.FIELD:images }}` and the file fields' `extract_contents` /
 * `extract_images` flags (docs/files.md): off, nothing; on, extracted once per run; arrays are every file;
 * `:images` of a non-image through the host's image extractor.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import type { ModelContentPart, ModelRequest, Provider } from '../providers/provider.js';
import { createEngine } from '../run/engine.js';
import type { EngineOptions } from '../run/options.js';
import { fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n', 'latin1');

function recorder(): Provider & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    name: 'fake',
    requests,
    async complete(request) {
      requests.push({ ...request, messages: structuredClone(request.messages) });
      return { message: 'ok', usage: { input_tokens: 1, output_tokens: 1 } } as never;
    },
  };
}

const model = (key: string, content: unknown, destinations: string[] = []) => ({
  type: 'model',
  key,
  provider: { provider: 'fake', model: 'm', messages: [{ role: 'user', content }] },
  destinations,
});

function docWith(fields: Record<string, unknown>, ...steps: Array<Record<string, unknown>>) {
  return draft([
    { type: 'input', key: 'start', input: fields, destinations: steps.map((s) => s.key as string) },
    ...steps,
  ]);
}

async function run(document: unknown, input: Record<string, unknown>, options: EngineOptions = {}) {
  const provider = recorder();
  const engine = createEngine({ providers: [provider], ...options });
  const result = await engine.run(document as never, { input });
  return { result, requests: provider.requests };
}

const textOf = (request: ModelRequest): string => {
  const content = request.messages[0]!.content;
  return typeof content === 'string'
    ? content
    : content
        .filter((p): p is ModelContentPart & { text: string } => p.type === 'text')
        .map((p) => p.text)
        .join('|');
};
const imagesOf = (request: ModelRequest) =>
  (Array.isArray(request.messages[0]!.content) ? request.messages[0]!.content : []).filter(
    (p) => p.type === 'image',
  );

describe('extract_contents / extract_images', () => {
  it('off (the default): :contents is empty text and :images adds no image, as on the platform', async () => {
    const document = docWith(
      { document: { type: 'file' }, photo: { type: 'file' } },
      model('m', [
        { type: 'text', text: 'Text: [{{ input.document:contents }}]' },
        { type: 'text', text: 'x {{ input.photo:images }}' },
      ]),
    );
    const { result, requests } = await run(document, {
      document: Buffer.from('secret plan'),
      photo: PNG,
    });
    expect(result.status).toBe('COMPLETED');
    expect(textOf(requests[0]!)).toBe('Text: []|x ');
    expect(imagesOf(requests[0]!)).toEqual([]);
  });

  it('on: the file is extracted once per run, however many steps ask for it', async () => {
    let calls = 0;
    const fileExtractors = {
      'application/pdf': (file: { bytes: Uint8Array }) => {
        calls++;
        return `pdf text (${file.bytes.length} bytes)`;
      },
    };
    const document = docWith(
      { document: { type: 'file', extract_contents: true } },
      model('a', 'A: {{ input.document:contents }}'),
      model('b', 'B: {{input.document:contents}} and again {{ input . document : contents }}'),
    );
    const { result, requests } = await run(document, { document: PDF }, { fileExtractors });
    expect(result.status).toBe('COMPLETED');
    expect(calls).toBe(1);
    const texts = requests.map(textOf).sort();
    expect(texts).toEqual([
      `A: pdf text (${PDF.length} bytes)`,
      `B: pdf text (${PDF.length} bytes) and again pdf text (${PDF.length} bytes)`,
    ]);
    // A second run extracts again (the cache is the run's).
    await run(document, { document: PDF }, { fileExtractors });
    expect(calls).toBe(2);
  });

  it('a failed extraction is not cached: a retry of the step extracts again', async () => {
    let calls = 0;
    const fileExtractors = {
      'application/pdf': () => {
        calls++;
        if (calls === 1) throw new Error('transient');
        return 'text';
      },
    };
    const step = {
      ...model('a', '{{ input.document:contents }}'),
      retry: { max_attempts: 2, interval_ms: 0 },
    };
    const document = docWith({ document: { type: 'file', extract_contents: true } }, step);
    const { result, requests } = await run(document, { document: PDF }, { fileExtractors });
    expect(result.status).toBe('COMPLETED');
    expect(calls).toBe(2);
    expect(textOf(requests[0]!)).toBe('text');
  });

  it('an array file field: :contents is every file’s text, :images every image, in order', async () => {
    const document = docWith(
      { docs: { type: 'file', array: true, extract_contents: true, extract_images: true } },
      model('m', [{ type: 'text', text: '{{ input.docs:contents }}' }]),
    );
    const { requests } = await run(document, {
      docs: [
        { data: Buffer.from('one'), type: 'text/plain', name: 'one.txt' },
        { data: Buffer.from('two').toString('base64'), type: 'text/plain' },
      ],
    });
    expect(textOf(requests[0]!)).toBe('one\n\ntwo');
    const withImages = docWith(
      { pics: { type: 'file', array: true, extract_images: true } },
      model('m', [{ type: 'text', text: 'see {{ input.pics:images }}' }]),
    );
    const { requests: r2 } = await run(withImages, { pics: [PNG, { data: PNG, type: 'image/png' }] });
    expect(imagesOf(r2[0]!)).toEqual([
      { type: 'image', data: PNG.toString('base64'), media_type: 'image/png' },
      { type: 'image', data: PNG.toString('base64'), media_type: 'image/png' },
    ]);
  });

  it('a path that is not a file field of the input definition is extracted on demand (no flag applies)', async () => {
    const document = draft([
      { type: 'input', key: 'start', destinations: ['m'] },
      model('m', 'T: {{ input.loose:contents }}'),
    ]);
    const { requests } = await run(document, { loose: 'data:text/plain;base64,aGk=' });
    expect(textOf(requests[0]!)).toBe('T: hi');
  });

  it(':images of a PDF goes through the image extractor for its type; without one UNSUPPORTED_FILE_TYPE', async () => {
    const document = docWith(
      { document: { type: 'file', extract_images: true } },
      model('m', [{ type: 'text', text: 'Look: {{ input.document:images }}' }]),
    );
    const without = await run(document, { document: PDF });
    expect(without.result.output.m!.error!.code).toBe(ERROR_CODES.UNSUPPORTED_FILE_TYPE);
    expect(without.result.output.m!.error!.message).toContain('fileImageExtractors');
    const { result, requests } = await run(
      document,
      { document: PDF },
      {
        fileImageExtractors: {
          'application/pdf': (file) => [
            { bytes: PNG, media_type: 'image/png' },
            { bytes: file.bytes.subarray(0, 4), media_type: 'image/jpeg' },
          ],
        },
      },
    );
    expect(result.status).toBe('COMPLETED');
    expect(imagesOf(requests[0]!)).toEqual([
      { type: 'image', data: PNG.toString('base64'), media_type: 'image/png' },
      { type: 'image', data: PDF.subarray(0, 4).toString('base64'), media_type: 'image/jpeg' },
    ]);
    const bad = await run(
      document,
      { document: PDF },
      { fileImageExtractors: { 'application/pdf': () => [{ bytes: 'nope' }] as never } },
    );
    expect(bad.result.output.m!.error!.code).toBe(ERROR_CODES.STEP_FAILED);
  });

  it('the platform file data object may carry a URL or raw text', async () => {
    const document = docWith(
      { a: { type: 'file', extract_contents: true }, b: { type: 'file', extract_contents: true } },
      model('m', '{{ input.a:contents }} / {{ input.b:contents }}'),
    );
    const { requests } = await run(document, {
      a: { data: 'data:text/plain;base64,aGVsbG8=', name: 'a.txt' },
      b: { data: '# raw markdown', type: 'text/markdown', encoding: 'raw' },
    });
    expect(textOf(requests[0]!)).toBe('hello / # raw markdown');
  });
});

describe('property: any file value, any flags — the run ends, the model step COMPLETED or failed with a coded error', () => {
  const bytes = fc.uint8Array({ maxLength: 48 });
  const fileValue = fc.oneof(
    bytes,
    bytes.map((b) => `data:;base64,${Buffer.from(b).toString('base64')}`),
    fc.string({ maxLength: 12 }),
    fc.record(
      {
        data: fc.oneof(bytes, fc.base64String({ maxLength: 24 }), fc.string({ maxLength: 8 })),
        type: fc.constantFrom(
          'image/png',
          'application/pdf',
          'text/plain',
          'text/html',
          'application/octet-stream',
        ),
        name: fc.constantFrom('a.txt', 'b.pdf', 'c.png', 'd'),
        encoding: fc.constantFrom('base64', 'raw'),
      },
      { requiredKeys: ['data'] },
    ),
    fc.constant(PDF),
    fc.constant(PNG),
  );
  const codes = new Set<string>(Object.values(ERROR_CODES));

  it('never throws out of run(), never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fileValue, fc.array(fileValue, { maxLength: 3 })),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('contents', 'images'),
        async (value, contents, images, mode) => {
          const array = Array.isArray(value);
          const document = docWith(
            { doc: { type: 'file', array, extract_contents: contents, extract_images: images } },
            model('m', [{ type: 'text', text: `x {{ input.doc:${mode} }}` }]),
          );
          let result: Awaited<ReturnType<typeof run>>['result'];
          try {
            ({ result } = await run(
              document,
              { doc: value },
              {
                fileImageExtractors: { 'application/pdf': () => [{ bytes: PNG, media_type: 'image/png' }] },
              },
            ));
          } catch (error) {
            // Only a refused input may throw, and only as INVALID_INPUT.
            expect((error as { code?: string }).code).toBe(ERROR_CODES.INVALID_INPUT);
            return;
          }
          const step = result.output.m!;
          if (step.status === 'FAILED') expect(codes.has(step.error!.code)).toBe(true);
          else expect(step.status).toBe('COMPLETED');
        },
      ),
      { numRuns: fcRuns(60) },
    );
  });
});
