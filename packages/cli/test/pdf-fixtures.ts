/** PDFs written by hand for the tests: text, and pages that draw uncompressed RGB images. */

/** A one-page PDF showing `text` in Helvetica, with a correct cross-reference table. */
export function minimalPdf(text: string): Buffer {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]);
}

/** The pixels of a `width` × `height` RGB image: pixel n is (n, 2n, 255 − n). */
export function rgbPixels(width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let n = 0; n < width * height; n++) out.set([n & 255, (2 * n) & 255, 255 - (n & 255)], n * 3);
  return out;
}

/**
 * PDF pages that each draw `images` RGB image XObjects (uncompressed, 8 bits per component) — drawn twice
 * on a page, to check it is returned once — and some text.
 */
export function pdfWithImages(pages: number, images: Array<{ width: number; height: number }>): Buffer {
  const objects: string[] = ['<< /Type /Catalog /Pages 2 0 R >>', ''];
  const imageIds: number[] = [];
  for (const { width, height } of images) {
    const pixels = rgbPixels(width, height).toString('latin1');
    objects.push(
      `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${pixels.length} >>\nstream\n${pixels}\nendstream`,
    );
    imageIds.push(objects.length);
  }
  const xobjects = imageIds.map((id, i) => `/Im${i} ${id} 0 R`).join(' ');
  const draw = imageIds.map((_, i) => `q 100 0 0 100 ${72 + i * 110} 500 cm /Im${i} Do Q`).join(' ');
  const content = `${draw} ${draw} BT /F1 12 Tf 72 720 Td (Scanned form) Tj ET`;
  objects.push(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  const contentId = objects.length;
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const fontId = objects.length;
  const kids: string[] = [];
  for (let p = 0; p < pages; p++) {
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${contentId} 0 R /Resources << /XObject << ${xobjects} >> /Font << /F1 ${fontId} 0 R >> >> >>`,
    );
    kids.push(`${objects.length} 0 R`);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`;
  return pdfOf(objects);
}

/** Numbered objects into a PDF file with a correct cross-reference table (latin1: bytes as they are). */
function pdfOf(objects: string[]): Buffer {
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
