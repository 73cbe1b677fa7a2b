/** `weft run --file FIELD=PATH` (src/input-files.ts, docs/cli.md "File inputs"). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputFile } from '../src/input-files.js';
import { runCli, tempDir } from './helpers.js';
import { minimalPdf, pdfWithImages } from './pdf-fixtures.js';

const WORKFLOW = {
  key: 'files',
  input: {
    document: { type: 'file', extract_contents: true, extract_images: true },
    pages: { type: 'file', array: true, optional: true },
  },
  steps: [
    { type: 'input', key: 'start', destinations: ['describe', 'read'] },
    {
      type: 'code',
      key: 'describe',
      code: '{ "type": input.document.type, "name": input.document.name, "pages": $count(input.pages) }',
    },
    {
      type: 'model',
      key: 'read',
      provider: {
        provider: 'scripted',
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Read {{ input.document:contents }} {{ input.document:images }}' },
            ],
          },
        ],
      },
    },
  ],
};

function project(files: Record<string, unknown> = {}) {
  const dir = tempDir({
    'files.json': WORKFLOW,
    'files.fixtures.json': { replies: { read: 'done' } },
    ...files,
  });
  writeFileSync(join(dir, 'contract.pdf'), pdfWithImages(1, [{ width: 2, height: 2 }]));
  writeFileSync(join(dir, 'notes.txt'), 'plain notes\n');
  return dir;
}

describe('weft run --file', () => {
  it('reads the file into its field: type sniffed, name kept; PDF text and images reach the model step', async () => {
    const dir = project();
    const r = await runCli(
      [
        'run',
        'files.json',
        '--file',
        'document=contract.pdf',
        '--file',
        'pages=notes.txt',
        '--file',
        `pages=${join(dir, 'notes.txt')}`,
        '-o',
        'run',
        '--store',
        'memory',
      ],
      { cwd: dir },
    );
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.output.describe.output).toEqual({ type: 'application/pdf', name: 'contract.pdf', pages: 2 });
    expect(run.output.read.status).toBe('COMPLETED');
    expect(run.input.pages[0]).toEqual({
      data: Buffer.from('plain notes\n').toString('base64'),
      type: 'text/plain',
      name: 'notes.txt',
    });
  });

  it('is refused clearly: no file, a directory, a FIFO, a field given twice, FIELD=PATH malformed, too large', async () => {
    const dir = project();
    const missing = await runCli(['run', 'files.json', '--file', 'document=nope.pdf'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--file document=nope.pdf: cannot read the file: no such file.');
    mkdirSync(join(dir, 'folder'));
    const folder = await runCli(['run', 'files.json', '--file', 'document=folder'], { cwd: dir });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('is a directory; a file input is read from a regular file only.');
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    symlinkSync(join(dir, 'pipe'), join(dir, 'link.pdf'));
    // A symbolic link to a FIFO: refused without blocking on the open.
    const fifo = await runCli(['run', 'files.json', '--file', 'document=link.pdf'], { cwd: dir });
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toContain('is a FIFO');
    const twice = await runCli(
      ['run', 'files.json', '--file', 'document=contract.pdf', '--file', 'document=notes.txt'],
      { cwd: dir },
    );
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is not an array file field');
    const both = await runCli(
      [
        'run',
        'files.json',
        '--input',
        '{"document": "https://x.y/a.pdf"}',
        '--file',
        'document=contract.pdf',
      ],
      { cwd: dir },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('is given by --input too');
    const malformed = await runCli(['run', 'files.json', '--file', '=contract.pdf'], { cwd: dir });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('expected FIELD=PATH');
    expect(() => readInputFile('document', join(dir, 'contract.pdf'), 10)).toThrow(
      /--file document=.*contract\.pdf: the file is larger than 10 bytes/,
    );
    expect(readInputFile('document', join(dir, 'notes.txt'), 12).toString()).toBe('plain notes\n');
  });

  it('without the flags, :contents and :images of the field are empty and the run still completes', async () => {
    const dir = project();
    const plain = {
      ...WORKFLOW,
      input: { document: { type: 'file' }, pages: { type: 'file', array: true, optional: true } },
    };
    writeFileSync(join(dir, 'plain.json'), JSON.stringify(plain));
    writeFileSync(join(dir, 'plain.fixtures.json'), JSON.stringify({ replies: { read: 'done' } }));
    writeFileSync(join(dir, 'text.pdf'), minimalPdf('hello'));
    const r = await runCli(
      ['run', 'plain.json', '--file', 'document=text.pdf', '-o', 'run', '--store', 'memory'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).output.read.status).toBe('COMPLETED');
  });
});
