/**
 * A file's media type from its first bytes (PDF, PNG, JPEG, GIF, WebP), then from its name's extension,
 * then — for bytes that are valid UTF-8 without control characters — `text/plain`; otherwise
 * `application/octet-stream`. Used wherever a file arrives without a trustworthy type: raw bytes in a run
 * input (input/files.ts), a file in a model message with no or a generic type (steps/model-files.ts).
 */

const EXTENSIONS: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** Only this many leading bytes are read to decide whether a file is text (keeps sniffing O(1)). */
const TEXT_SNIFF_BYTES = 4096;

const latin1 = (bytes: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...bytes.subarray(from, to));

/** The type the magic bytes say, or null. */
export function magicType(bytes: Uint8Array): string | null {
  if (latin1(bytes, 0, 5) === '%PDF-') return 'application/pdf';
  if (bytes[0] === 0x89 && latin1(bytes, 1, 4) === 'PNG') return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (latin1(bytes, 0, 4) === 'GIF8') return 'image/gif';
  if (latin1(bytes, 0, 4) === 'RIFF' && latin1(bytes, 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/**
 * Whether the first TEXT_SNIFF_BYTES bytes are UTF-8 text: they decode (a multi-byte character cut at the
 * window's end is allowed) and hold no control character but tab, line feed, form feed and carriage return.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  const head = bytes.subarray(0, TEXT_SNIFF_BYTES);
  let text: string;
  try {
    // A fresh decoder each time: `stream` keeps state in the decoder between calls.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, {
      stream: bytes.length > TEXT_SNIFF_BYTES,
    });
  } catch {
    return false;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 0x7f) return false;
  }
  return true;
}

/** The media type by the file name's extension, or null. */
export function extensionType(filename: string | undefined): string | null {
  const at = filename?.lastIndexOf('.') ?? -1;
  if (filename === undefined || at < 0) return null;
  return EXTENSIONS[filename.slice(at + 1).toLowerCase()] ?? null;
}

/** Magic bytes first, then the extension, then UTF-8 text, else `application/octet-stream`. */
export function sniffMediaType(bytes: Uint8Array, filename?: string): string {
  return (
    magicType(bytes) ??
    extensionType(filename) ??
    (looksLikeText(bytes) ? 'text/plain' : 'application/octet-stream')
  );
}
