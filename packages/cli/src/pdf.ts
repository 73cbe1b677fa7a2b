/**
 * The CLI's PDF extractors: text (`createEngine({ fileExtractors })`) for `{{ input.FIELD:contents }}` and
 * embedded images (`fileImageExtractors`) for `{{ input.FIELD:images }}` of a PDF in `weft run` / `weft test`. pdfjs-dist 4.x (the 4.x line runs on Node 20; 5+ needs Node 22) is an
 * optional peer dependency — it pulls a native canvas binary, which most users of the CLI never need — loaded
 * on first use, with eval off; at most MAX_PAGES pages and MAX_CHARS characters are read. Without it a PDF
 * is UNSUPPORTED_FILE_TYPE, saying what to install.
 */
import { ERROR_CODES, type FileData, WeftError } from '@weft/core';
import { PNG } from 'pngjs';

const MAX_PAGES = 500;
const MAX_CHARS = 1_000_000;

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

async function loadPdfJs(what: string): Promise<PdfJs> {
  try {
    return await import('pdfjs-dist/legacy/build/pdf.mjs');
  } catch {
    throw new WeftError(
      ERROR_CODES.UNSUPPORTED_FILE_TYPE,
      `Reading the ${what} of a PDF needs pdfjs-dist 4.x next to weft: npm install pdfjs-dist@4.`,
      { details: { media_type: 'application/pdf' }, retryable: false },
    );
  }
}

function open(pdfjs: PdfJs, file: FileData) {
  return pdfjs.getDocument({
    data: new Uint8Array(file.bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    // Decoded images come back as pixels (no OffscreenCanvas / ImageBitmap in Node).
    isOffscreenCanvasSupported: false,
    verbosity: 0,
  });
}

export async function pdfText(file: FileData, signal: AbortSignal): Promise<string> {
  const pdfjs = await loadPdfJs('text');
  const task = open(pdfjs, file);
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

/** `:images` of a PDF: its pages are read up to this one (later pages are not looked at). */
export const MAX_IMAGE_PAGES = 50;
/** At most this many images are returned, in page order. */
export const MAX_PDF_IMAGES = 20;
/** An image over this many pixels is skipped (a 4096 × 4096 scan fits). */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/** All returned images together (PNG bytes): past it, no more are added. */
export const MAX_PDF_IMAGE_BYTES = 20 * 1024 * 1024;
/** Waiting for pdf.js to hand over one decoded image. */
const IMAGE_WAIT_MS = 10_000;

/** pdf.js's decoded image: pixels of kind 1 (1 bit grey), 2 (RGB) or 3 (RGBA), rows top to bottom. */
interface PdfImage {
  width: number;
  height: number;
  kind?: number;
  data?: Uint8Array | Uint8ClampedArray;
}

/**
 * The images a PDF embeds (image XObjects and inline images drawn by its pages), each as PNG: Weft renders
 * no pages (that needs a canvas), so a scanned page is its scan and vector drawings and text are not
 * images. At most MAX_IMAGE_PAGES pages, MAX_PDF_IMAGES images, MAX_IMAGE_PIXELS pixels each (larger ones
 * skipped) and MAX_PDF_IMAGE_BYTES in all; an image drawn twice on a page is returned once.
 */
export async function pdfImages(file: FileData, signal: AbortSignal): Promise<FileData[]> {
  const pdfjs = await loadPdfJs('images');
  const task = open(pdfjs, file);
  const onAbort = () => void task.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  const { OPS } = pdfjs;
  const paints = new Set<number>([
    OPS.paintImageXObject,
    OPS.paintImageXObjectRepeat,
    OPS.paintInlineImageXObject,
  ]);
  try {
    const doc = await task.promise;
    const out: FileData[] = [];
    let bytes = 0;
    for (let p = 1; p <= Math.min(doc.numPages, MAX_IMAGE_PAGES) && out.length < MAX_PDF_IMAGES; p++) {
      signal.throwIfAborted();
      const page = await doc.getPage(p);
      const ops = await page.getOperatorList();
      const seen = new Set<string>();
      for (let i = 0; i < ops.fnArray.length && out.length < MAX_PDF_IMAGES; i++) {
        if (!paints.has(ops.fnArray[i]!)) continue;
        const arg = (ops.argsArray[i] as unknown[] | undefined)?.[0];
        let image: PdfImage | null;
        if (typeof arg === 'string') {
          if (seen.has(arg)) continue;
          seen.add(arg);
          image = await objectOf(arg.startsWith('g_') ? page.commonObjs : page.objs, arg);
        } else {
          image = (arg as PdfImage | undefined) ?? null;
        }
        const png = image === null ? null : toPng(image);
        if (png === null) continue;
        if (bytes + png.length > MAX_PDF_IMAGE_BYTES) return out;
        bytes += png.length;
        out.push({ bytes: png, media_type: 'image/png', filename: `page-${p}-image-${out.length + 1}.png` });
      }
      page.cleanup();
    }
    return out;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await task.destroy();
  }
}

/** A decoded image object, once pdf.js has it (null when it never comes). */
function objectOf(
  objs: { get(id: string, callback: (value: unknown) => void): unknown },
  id: string,
): Promise<PdfImage | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), IMAGE_WAIT_MS);
    timer.unref();
    try {
      objs.get(id, (value) => {
        clearTimeout(timer);
        resolve((value as PdfImage | null) ?? null);
      });
    } catch {
      clearTimeout(timer);
      resolve(null);
    }
  });
}

/** pdf.js pixels as a PNG file, or null for what it is not (an ImageBitmap, an odd size). */
function toPng(image: PdfImage): Buffer | null {
  const { width, height, kind, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return null;
  if (width * height > MAX_IMAGE_PIXELS || data === undefined) return null;
  const rgba = Buffer.alloc(width * height * 4);
  if (kind === 3 && data.length >= width * height * 4) {
    rgba.set(data.subarray(0, width * height * 4));
  } else if (kind === 2 && data.length >= width * height * 3) {
    for (let px = 0; px < width * height; px++) {
      rgba[px * 4] = data[px * 3]!;
      rgba[px * 4 + 1] = data[px * 3 + 1]!;
      rgba[px * 4 + 2] = data[px * 3 + 2]!;
      rgba[px * 4 + 3] = 255;
    }
  } else if (kind === 1) {
    // One bit per pixel, each row padded to a whole byte; 1 is white.
    const rowBytes = (width + 7) >> 3;
    if (data.length < rowBytes * height) return null;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const on = (data[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
        const px = (y * width + x) * 4;
        rgba.fill(on ? 255 : 0, px, px + 3);
        rgba[px + 3] = 255;
      }
    }
  } else {
    return null;
  }
  const png = new PNG({ width, height });
  png.data = rgba;
  return PNG.sync.write(png);
}
