/**
 * File directives in templates: `{{ input.document:contents }}` (the file's extracted text) and
 * `{{ input.photo:images }}` (its image parts), the platform's syntax for file inputs in model messages.
 * JSONata has no such syntax, so a segment that is a plain path followed by `:contents` or `:images` is
 * rewritten, before it is parsed, into an object constructor — a *file marker* — that the `model` step
 * recognises and resolves (steps/model-files.ts):
 * `{"<marker key>": input.document, "path": "input.document", "mode": "contents"}` (the path tells the step
 * which input field the file came from, for its `extract_contents` / `extract_images` flags).
 * The marker key carries a random nonce drawn once per process, so no input text can forge a marker.
 */
import { randomBytes } from 'node:crypto';

/** The marker's key: `$weft_file_<nonce>`. */
export const FILE_MARKER_KEY = `$weft_file_${randomBytes(9).toString('hex')}`;

export const FILE_MODES = ['contents', 'images'] as const;
export type FileMode = (typeof FILE_MODES)[number];

/** A path (`input.document`, `steps.upload.output.file`, `` `a b`.c ``) followed by `:contents` or `:images`. */
const DIRECTIVE =
  /^\s*((?:[A-Za-z_$][\w$]*|`[^`]+`)(?:\s*\.\s*(?:[A-Za-z_$][\w$]*|`[^`]+`))*)\s*:\s*(contents|images)\s*$/;

/** The segment's source with a file directive rewritten into a file marker, or the source unchanged. */
export function rewriteFileDirective(source: string): string {
  if (!source.includes(':')) return source;
  const match = DIRECTIVE.exec(source);
  if (match === null) return source;
  const path = match[1]!.replace(/\s*\.\s*/g, '.').trim();
  return `{${JSON.stringify(FILE_MARKER_KEY)}: ${match[1]}, "path": ${JSON.stringify(path)}, "mode": ${JSON.stringify(match[2])}}`;
}

/** A resolved marker found in a string: where it is and what it holds. */
export interface FileMarker {
  start: number;
  end: number;
  value: unknown;
  /** The path the template named (`input.document`), spaces around its dots removed. */
  path: string;
  mode: FileMode;
}

const MAX_MARKERS = 32;

/**
 * The file markers in a rendered string (a template's value written into text is its JSON: the marker as
 * `JSON.stringify` writes it). At most 32 per string.
 */
export function findFileMarkers(text: string): FileMarker[] {
  const out: FileMarker[] = [];
  const open = `{${JSON.stringify(FILE_MARKER_KEY)}:`;
  let from = 0;
  while (out.length < MAX_MARKERS) {
    const start = text.indexOf(open, from);
    if (start < 0) break;
    // The value is JSON: the marker ends at the first closing suffix after which the whole parses (at most
    // 64 tries, so hostile text cannot make this quadratic).
    let found: FileMarker | null = null;
    const ends: Array<{ end: number; mode: FileMode }> = [];
    for (const mode of FILE_MODES) {
      const close = `,"mode":"${mode}"}`;
      for (
        let end = text.indexOf(close, start);
        end >= 0 && ends.length < 128;
        end = text.indexOf(close, end + 1)
      ) {
        ends.push({ end: end + close.length, mode });
      }
    }
    ends.sort((a, b) => a.end - b.end);
    for (const { end, mode } of ends.slice(0, 64)) {
      try {
        const parsed = JSON.parse(text.slice(start, end)) as Record<string, unknown>;
        const path = typeof parsed.path === 'string' ? parsed.path : '';
        found = { start, end, value: parsed[FILE_MARKER_KEY], path, mode };
        break;
      } catch {
        // not this one
      }
    }
    if (found === null) {
      from = start + open.length;
      continue;
    }
    out.push(found);
    from = found.end;
  }
  return out;
}
