/**
 * Secret redaction by value. A secret must not leave the engine in any form a step or a server could have
 * turned it into, so each secret is looked for as:
 *
 * - itself, and JSON-escaped once and twice (`$string({"p": $vars.pw})`, a body quoted in an error);
 * - URL-encoded: `encodeURIComponent`, `encodeURI`, a URL path's and a form's encoding; a host name
 *   (URLs lowercase their host; matching ignores case for secrets of 4 characters or more);
 * - base64 and base64url, at each of the three byte alignments (inside `Basic user:secret` too);
 * - a prefix of 8 characters or more left by a truncation: followed by `…` or at the end of a string.
 *
 * Numbers equal to (or containing) a secret are replaced too. Secrets shorter than 4 characters are only
 * looked for as themselves and JSON-escaped (any more would mangle ordinary text). `DeltaRedactor` does the
 * same for a stream of text deltas, holding back a tail that could be the start of a secret.
 */

export const SECRET_PLACEHOLDER = '[secret]';

/** Below this length a secret is only matched exactly (its encodings and case variants would be noise). */
export const MIN_ENCODED_SECRET = 4;
/** Truncated prefixes of at least this many characters are redacted. */
export const MIN_SECRET_PREFIX = 8;

export interface SecretMatcher {
  /** `text` with every form of every secret replaced by the placeholder. */
  text(text: string): string;
  /** Whether a number must be replaced (its digits are, or contain, a secret). */
  number(value: number): boolean;
  /** Every exact form, for DeltaRedactor's hold-back. */
  readonly forms: readonly string[];
  /** Lowercased forms matched ignoring case. */
  readonly caseless: readonly string[];
}

const ELLIPSIS = '…';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The substrings of base64(x) that depend only on the bytes of `secret`, for x = k zero bytes + secret. */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const first = Math.ceil(k / 3);
    const last = Math.floor((k + bytes.length) / 3);
    for (const encoding of ['base64', 'base64url'] as const) {
      const encoded = padded.toString(encoding);
      if (k === 0) out.push(encoded);
      const inner = encoded.slice(4 * first, 4 * last);
      if (inner.length >= MIN_ENCODED_SECRET) out.push(inner);
    }
  }
  return out;
}

function urlForms(secret: string): string[] {
  const out = [encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
  try {
    out.push(encodeURI(secret));
  } catch {
    // a lone surrogate: encodeURI throws, and nothing can have produced that form
  }
  // As the WHATWG URL parser writes it when it starts in a path, a query or a fragment (its `?` and `#`
  // switching component on the way, each with its own percent-encoding; a path's "\" becoming "/").
  for (const start of ['http://h/', 'http://h/?', 'http://h/#']) {
    try {
      out.push(new URL(start + secret).href.slice(start.length));
    } catch {
      // not a URL part
    }
  }
  // A host name only when the whole secret is one (a "/", "\\", "?", "#", "@" or ":" would end the host
  // early, and the part before it is not the secret).
  if (!/[/\\?#@:]/.test(secret)) {
    try {
      out.push(new URL(`http://${secret}/`).hostname);
    } catch {
      // not a host name
    }
  }
  // A form much shorter than the secret (dot segments collapsed, a host cut short) would match noise.
  return out.filter((form) => form.length >= Math.max(MIN_ENCODED_SECRET, secret.length / 2));
}

/** Every exact form of `secret` (see the module comment). */
export function secretForms(secret: string): { exact: string[]; caseless: string[] } {
  const exact = new Set([secret, jsonEscaped(secret), jsonEscaped(jsonEscaped(secret))]);
  const caseless = new Set<string>();
  if (secret.length >= MIN_ENCODED_SECRET) {
    // URL forms of the JSON-escaped secret too: a URL path turns the escaping backslash into "/".
    const url = [...urlForms(secret), ...urlForms(jsonEscaped(secret))];
    for (const form of [...exact, ...url]) caseless.add(form.toLowerCase());
    for (const form of base64Forms(secret)) exact.add(form);
  }
  for (const form of exact) if (form === '') exact.delete(form);
  for (const form of caseless) if (form === '') caseless.delete(form);
  return { exact: [...exact], caseless: [...caseless] };
}

export function compileSecrets(secrets: readonly string[]): SecretMatcher {
  const exact = new Set<string>();
  const caseless = new Set<string>();
  /** Forms a truncation may have cut: every form (lowercased when it is matched ignoring case). */
  const cuttable: Array<{ form: string; caseless: boolean }> = [];
  for (const secret of secrets) {
    if (secret === '') continue;
    const forms = secretForms(secret);
    for (const f of forms.exact) exact.add(f);
    for (const f of forms.caseless) caseless.add(f);
  }
  for (const form of exact) if (form.length > MIN_SECRET_PREFIX) cuttable.push({ form, caseless: false });
  for (const form of caseless) if (form.length > MIN_SECRET_PREFIX) cuttable.push({ form, caseless: true });
  const byLength = (a: string, b: string) => b.length - a.length;
  const alternatives = (list: Iterable<string>) => [...list].sort(byLength).map(escapeRegExp).join('|');
  const exactRe = exact.size === 0 ? null : new RegExp(alternatives(exact), 'g');
  const caselessRe = caseless.size === 0 ? null : new RegExp(alternatives(caseless), 'gi');
  const heads = cuttable.map((c) => ({ ...c, head: c.form.slice(0, MIN_SECRET_PREFIX) }));
  // Numbers: one whose digits are a secret, or contain a secret of MIN_ENCODED_SECRET characters or more.
  const exactSecrets = new Set(secrets);
  const digitForms = [...exact].filter((f) => f.length >= MIN_ENCODED_SECRET && /^[-+.\deE]+$/.test(f));

  const cutPrefixes = (text: string): string => {
    // Where a truncation may have cut a secret: before each `…`, and at the end.
    let out = text;
    for (const { form, head, caseless } of heads) {
      // Lowercasing keeps positions only when it keeps the length (it does for almost all text).
      let subject = caseless ? out.toLowerCase() : out;
      if (subject.length !== out.length) continue;
      let from = out.length;
      for (;;) {
        const at = subject.lastIndexOf(head, from);
        if (at < 0) break;
        let end = at + head.length;
        while (end < subject.length && end - at < form.length && subject[end] === form[end - at]) end++;
        if (end - at < form.length && (end === out.length || out.startsWith(ELLIPSIS, end))) {
          out = out.slice(0, at) + SECRET_PLACEHOLDER + out.slice(end);
          subject = caseless ? out.toLowerCase() : out;
        }
        if (at === 0) break;
        from = at - 1;
      }
    }
    return out;
  };

  const text = (input: string): string => {
    let out = input;
    // Caseless first: it holds the long forms (a JSON secret's URL encoding) that a shorter exact form
    // inside them (a number leaf) would otherwise break up.
    if (caselessRe !== null) out = out.replace(caselessRe, SECRET_PLACEHOLDER);
    if (exactRe !== null) out = out.replace(exactRe, SECRET_PLACEHOLDER);
    return heads.length === 0 ? out : cutPrefixes(out);
  };
  return {
    text,
    number: (value) => {
      const digits = String(value);
      return exactSecrets.has(digits) || digitForms.some((f) => digits.includes(f));
    },
    forms: [...exact],
    caseless: [...caseless],
  };
}

/** Matchers by the identity of the secrets array (a run keeps one), then by content. */
const BY_ARRAY = new WeakMap<readonly string[], SecretMatcher>();
const BY_CONTENT = new Map<string, SecretMatcher>();

export function matcherFor(secrets: readonly string[]): SecretMatcher {
  let matcher = BY_ARRAY.get(secrets);
  if (matcher !== undefined) return matcher;
  const key = secrets.join('\u0000');
  matcher = BY_CONTENT.get(key);
  if (matcher === undefined) {
    matcher = compileSecrets(secrets);
    BY_CONTENT.set(key, matcher);
    if (BY_CONTENT.size > 64) BY_CONTENT.delete(BY_CONTENT.keys().next().value!);
  }
  BY_ARRAY.set(secrets, matcher);
  return matcher;
}

/**
 * Redacts a stream of text (model deltas) as it goes: what it passes on never holds a secret, even one
 * split across deltas, because a tail that could be the start of a secret is held back until the next
 * delta (or `flush`) shows what it is.
 */
export class DeltaRedactor {
  readonly #matcher: SecretMatcher;
  readonly #emit: (text: string) => void;
  #pending = '';
  #automata: Automaton[] | null = null;

  constructor(secrets: readonly string[], emit: (text: string) => void) {
    this.#matcher = matcherFor(secrets);
    this.#emit = emit;
  }

  push(delta: string): void {
    const text = this.#pending + delta;
    // Held back: the longest tail that could still become a secret, and every complete secret that would
    // span the cut (moving the cut back may make another one span it: repeat until none does). Then no
    // secret of the whole stream spans a cut, so redacting each piece alone redacts the stream.
    let cut = text.length - this.#heldBack(text);
    const lower = text.toLowerCase();
    for (let moved = true; moved && cut > 0; ) {
      moved = false;
      for (const form of this.#matcher.forms) {
        const at = spanning(text, form, cut);
        if (at >= 0) [cut, moved] = [at, true];
      }
      if (lower.length !== text.length) continue;
      for (const form of this.#matcher.caseless) {
        const at = spanning(lower, form, cut);
        if (at >= 0) [cut, moved] = [at, true];
      }
    }
    this.#pending = text.slice(cut);
    if (cut > 0) this.#emit(this.#matcher.text(text.slice(0, cut)));
  }

  /** Passes on what is held back (the stream has ended). */
  flush(): void {
    const rest = this.#pending;
    this.#pending = '';
    if (rest !== '') this.#emit(this.#matcher.text(rest));
  }

  /**
   * The longest tail of `text` that is a proper prefix of a secret's form: KMP, linear in the text and the
   * form. The pending text is scanned again on each delta, so a long secret arriving a character at a
   * time costs its length squared: about 1 ms a delta while a 3,000-character secret is pending
   * (redaction.test.ts's long-key case, timed on the shared 2-core test machine).
   */
  #heldBack(text: string): number {
    this.#automata ??= [
      ...this.#matcher.forms.map((form) => automaton(form, false)),
      ...this.#matcher.caseless.map((form) => automaton(form, true)),
    ];
    let keep = 0;
    let lower: string | null = null;
    for (const a of this.#automata) {
      if (a.caseless) {
        lower ??= text.toLowerCase();
        if (lower.length !== text.length) continue;
      }
      const n = partialMatchAtEnd(a, a.caseless ? lower! : text);
      if (n > keep) keep = n;
    }
    return keep;
  }
}

interface Automaton {
  form: string;
  caseless: boolean;
  /** The prefix function of `form`: fail[i] is the longest proper prefix of form[0..i] that is also its suffix. */
  fail: Int32Array;
}

function automaton(form: string, caseless: boolean): Automaton {
  const fail = new Int32Array(form.length);
  for (let i = 1, k = 0; i < form.length; i++) {
    while (k > 0 && form[i] !== form[k]) k = fail[k - 1]!;
    if (form[i] === form[k]) k++;
    fail[i] = k;
  }
  return { form, caseless, fail };
}

/** The length of the longest suffix of `text` that is a proper prefix of the automaton's form. */
function partialMatchAtEnd(a: Automaton, text: string): number {
  const { form, fail } = a;
  let q = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    while (q > 0 && (q === form.length || form[q] !== ch)) q = fail[q - 1]!;
    if (form[q] === ch) q++;
  }
  // A whole form at the end is complete, but its tail may start the next occurrence: keep that much.
  return q === form.length ? fail[q - 1]! : q;
}

/** Where an occurrence of `form` that spans `cut` (starts before it, ends after it) starts; else -1. */
function spanning(text: string, form: string, cut: number): number {
  const at = text.indexOf(form, Math.max(0, cut - form.length + 1));
  return at >= 0 && at < cut && at + form.length > cut ? at : -1;
}
