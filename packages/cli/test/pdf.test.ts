/** The CLI's PDF extractor: the text of a real (minimal, hand-written) PDF, and a broken one refused. */
import { describe, expect, it } from 'vitest';
import { pdfText } from '../src/pdf.js';

/** A one-page PDF showing `text` in Helvetica, with a correct cross-reference table. */
export function minimalPdf(text: string): Buffer {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
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
