/** The CLI's PDF extractor: the text of a real (minimal, hand-written) PDF, and a broken one refused. */

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { MAX_PDF_IMAGES, pdfImages, pdfText } from '../src/pdf.js';
import { minimalPdf, pdfWithImages, rgbPixels } from './pdf-fixtures.js';

describe('pdfText', () => {
  it('reads the text of a PDF', async () => {
    const text = await pdfText(
      { bytes: minimalPdf('Invoice INV-2291 total 329 USD'), media_type: 'application/pdf' },
      new AbortController().signal,
    );
    expect(text).toContain('Invoice INV-2291 total 329 USD');
  });

  it('a file that is not a PDF is an error, not a hang', async () => {
    await expect(
      pdfText(
        { bytes: Buffer.from('%PDF-1.7 garbage'), media_type: 'application/pdf' },
        new AbortController().signal,
      ),
    ).rejects.toThrow();
  });
});

describe('pdfImages', () => {
  const signal = new AbortController().signal;

  it('returns the images a PDF embeds as PNG, pixel for pixel, once per page', async () => {
    const pdf = pdfWithImages(2, [
      { width: 3, height: 2 },
      { width: 5, height: 4 },
    ]);
    const images = await pdfImages({ bytes: pdf, media_type: 'application/pdf' }, signal);
    expect(images.map((i) => [i.media_type, i.filename])).toEqual([
      ['image/png', 'page-1-image-1.png'],
      ['image/png', 'page-1-image-2.png'],
      ['image/png', 'page-2-image-3.png'],
      ['image/png', 'page-2-image-4.png'],
    ]);
    const png = PNG.sync.read(Buffer.from(images[1]!.bytes));
    expect([png.width, png.height]).toEqual([5, 4]);
    const rgb = rgbPixels(5, 4);
    for (let n = 0; n < 20; n++) {
      expect([...png.data.subarray(n * 4, n * 4 + 4)]).toEqual([
        rgb[n * 3],
        rgb[n * 3 + 1],
        rgb[n * 3 + 2],
        255,
      ]);
    }
  });

  it(`stops at ${MAX_PDF_IMAGES} images; a PDF without images gives none; a broken one is an error`, async () => {
    const many = pdfWithImages(12, [
      { width: 1, height: 1 },
      { width: 2, height: 1 },
    ]);
    expect(await pdfImages({ bytes: many, media_type: 'application/pdf' }, signal)).toHaveLength(
      MAX_PDF_IMAGES,
    );
    expect(
      await pdfImages({ bytes: minimalPdf('no images'), media_type: 'application/pdf' }, signal),
    ).toEqual([]);
    await expect(
      pdfImages({ bytes: Buffer.from('%PDF-1.7 garbage'), media_type: 'application/pdf' }, signal),
    ).rejects.toThrow();
  });
});
