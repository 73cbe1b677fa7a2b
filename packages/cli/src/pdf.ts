/**
 * The CLI's PDF text extractor (`createEngine({ fileExtractors })`): `{{ input.FIELD:contents }}` of a PDF
 * in `weft run` / `weft test`. pdfjs-dist 4.x (the 4.x line runs on Node 20; 5+ needs Node 22) is an
 * optional peer dependency — it pulls a native canvas binary, which most users of the CLI never need — loaded
 * on first use, with eval off; at most MAX_PAGES pages and MAX_CHARS characters are read. Without it a PDF
 * is UNSUPPORTED_FILE_TYPE, saying what to install.
 */
import { ERROR_CODES, type FileData, WeftError } from '@weft/core';

const MAX_PAGES = 500;
const MAX_CHARS = 1_000_000;

export async function pdfText(file: FileData, signal: AbortSignal): Promise<string> {
  let pdfjs: typeof import('pdfjs-dist/legacy/build/pdf.mjs');
  try {
    pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  } catch {
    throw new WeftError(
      ERROR_CODES.UNSUPPORTED_FILE_TYPE,
      'Reading the text of a PDF needs pdfjs-dist 4.x next to weft: npm install pdfjs-dist@4.',
      { details: { media_type: 'application/pdf' }, retryable: false },
    );
  }
  const task = pdfjs.getDocument({
    data: new Uint8Array(file.bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  });
  const onAbort = () => void task.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const doc = await task.promise;
    const pages: string[] = [];
    let length = 0;
    for (let p = 1; p <= Math.min(doc.numPages, MAX_PAGES) && length < MAX_CHARS; p++) {
      signal.throwIfAborted();
      const content = await (await doc.getPage(p)).getTextContent();
      let text = '';
      for (const item of content.items) {
        if ('str' in item) text += item.str + (item.hasEOL ? '\n' : '');
      }
      pages.push(text.trim());
      length += text.length;
    }
    return pages.join('\n\n').slice(0, MAX_CHARS);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await task.destroy();
  }
}
