/**
 * The plans of one engine: by document object first, then by content (docs/semantics.md, "Documents are
 * read once").
 *
 * - **By object** (a WeakMap): running the same document object again finds its plan without reading the
 *   document at all. A document object is read once, when it is first run or compiled: Weft treats it as
 *   immutable from then on, so changes made to that same object later are not seen — pass a new object
 *   (a copy) to run a changed document.
 * - **By content**, for an object not seen before, in two ways:
 *   1. against the CANDIDATES most recently used plans of the same *shape* (step count, first and last
 *      step keys): the object is walked against each plan's document as a token list (same-json.ts),
 *      which stops at the first difference and builds nothing — a document parsed per request costs a
 *      walk, not a serialisation (W1-fresh);
 *   2. else by its JSON text, computed once, in an LRU keyed by that text.
 *   Only a content found by neither is validated and compiled. A mutated copy differs from every plan's
 *   document, so it is compiled (and a mutated *seen* object is, as said, not read again).
 *
 * Bounds: at most `max` plans (default 256) and `maxBytes` (default 32 MiB) are kept by content, the least
 * recently used going first; the bytes are the JSON text's length (UTF-16 code units: bytes for ASCII),
 * plus 8 per token once a plan's token list is made (~10 tokens a step). A document whose text alone is
 * larger than `maxBytes` is not kept by content. Text and tokens cost ~130 bytes a step, under a fifth of
 * the plan they key.
 */

import {
  type CompileOptions,
  checkStepCount,
  compileWithHash,
  documentText,
  hashDocument,
  hashText,
} from './compile.js';
import type { Plan } from './plan.js';
import { type JsonTokens, jsonTokens, matchesTokens } from './same-json.js';

/** Plans of one shape compared by walking (the newest first); older ones are found by their text. */
const CANDIDATES = 3;

export const DEFAULT_PLAN_CACHE = { max: 256, maxBytes: 32 * 1024 * 1024 } as const;

interface Entry {
  readonly text: string;
  readonly plan: Plan;
  /** Its shape (see `shapeOf`), or null when it has none. */
  readonly shape: string | null;
  /** The plan's document as tokens (same-json.ts), made when it is first compared; null until then. */
  tokens: JsonTokens | null;
  /** What it counts against `maxBytes`: its text, and its tokens once made (8 bytes each). */
  bytes: number;
}

export class PlanCache {
  /** By JSON text, least recently used first (Map iteration order is insertion order). */
  readonly #plans = new Map<string, Entry>();
  /** By shape: the most recently used entries of each, newest first, at most CANDIDATES. */
  readonly #byShape = new Map<string, Entry[]>();
  /** Plans by document object. A plan evicted from the LRU stays reachable here while its object lives. */
  readonly #byObject = new WeakMap<object, Plan>();
  /** The most recently used entry (its recency needs no refresh). */
  #newest: Entry | null = null;
  #bytes = 0;
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #stepTypes: readonly string[];
  readonly #options: CompileOptions;

  constructor(options: CompileOptions & { max?: number; maxBytes?: number } = {}) {
    this.#max = options.max ?? DEFAULT_PLAN_CACHE.max;
    this.#maxBytes = options.maxBytes ?? DEFAULT_PLAN_CACHE.maxBytes;
    this.#stepTypes = [...(options.stepTypes ?? [])].sort();
    this.#options = options;
  }

  /** Plans kept by content. */
  get size(): number {
    return this.#plans.size;
  }

  /** The summed length of their JSON texts. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The plan for `document`, compiled at most once per distinct content while it is kept. */
  get(document: unknown): Plan {
    const isObject = document !== null && typeof document === 'object';
    if (isObject) {
      const known = this.#byObject.get(document);
      if (known !== undefined) return known;
    }
    const plan = this.#byContent(document);
    if (isObject) this.#byObject.set(document, plan);
    return plan;
  }

  #byContent(document: unknown): Plan {
    checkStepCount(document, this.#options.maxSteps);
    const shape = shapeOf(document);
    if (shape !== null) {
      const candidates = this.#byShape.get(shape);
      if (candidates !== undefined) {
        for (let c = 0; c < candidates.length; c++) {
          const entry = candidates[c]!;
          if (entry.tokens === null) {
            // Made on the first new object of its shape: a plan only ever run from one object needs none.
            entry.tokens = jsonTokens(entry.plan.document);
            entry.bytes += entry.tokens.length * 8;
            this.#bytes += entry.tokens.length * 8;
          }
          if (matchesTokens(document, entry.tokens)) {
            this.#use(entry);
            this.#trim();
            return entry.plan;
          }
        }
      }
    }
    const text = documentText(document);
    if (text === null) {
      return compileWithHash(
        document,
        hashDocument(document, this.#options.language),
        this.#stepTypes,
        this.#options,
      );
    }
    const cached = this.#plans.get(text);
    if (cached !== undefined) {
      this.#use(cached);
      return cached.plan;
    }
    const plan = compileWithHash(
      document,
      hashText(text, this.#options.language),
      this.#stepTypes,
      this.#options,
    );
    if (text.length > this.#maxBytes || this.#max < 1) return plan;
    const entry: Entry = { text, plan, shape, tokens: null, bytes: text.length };
    this.#plans.set(text, entry);
    this.#bytes += text.length;
    this.#newest = entry;
    this.#toFront(entry);
    this.#trim();
    return plan;
  }

  /** Evicts the least recently used plans while the cache is over a bound (never the newest one). */
  #trim(): void {
    while (this.#plans.size > this.#max || (this.#bytes > this.#maxBytes && this.#plans.size > 1)) {
      this.#evict(this.#plans.values().next().value!);
    }
  }

  /** Marks `entry` the most recently used. */
  #use(entry: Entry): void {
    if (entry === this.#newest) return;
    this.#plans.delete(entry.text);
    this.#plans.set(entry.text, entry);
    this.#newest = entry;
    this.#toFront(entry);
  }

  /** Puts `entry` first among the candidates of its shape. */
  #toFront(entry: Entry): void {
    if (entry.shape === null) return;
    let candidates = this.#byShape.get(entry.shape);
    if (candidates === undefined) {
      candidates = [];
      this.#byShape.set(entry.shape, candidates);
    }
    const at = candidates.indexOf(entry);
    if (at === 0) return;
    if (at > 0) candidates.splice(at, 1);
    candidates.unshift(entry);
    if (candidates.length > CANDIDATES) candidates.length = CANDIDATES;
  }

  #evict(entry: Entry): void {
    this.#plans.delete(entry.text);
    this.#bytes -= entry.bytes;
    if (this.#newest === entry) this.#newest = null;
    if (entry.shape === null) return;
    const candidates = this.#byShape.get(entry.shape);
    if (candidates === undefined) return;
    const at = candidates.indexOf(entry);
    if (at >= 0) candidates.splice(at, 1);
    if (candidates.length === 0) this.#byShape.delete(entry.shape);
  }
}

/**
 * What a document object must share with a plan's to be compared with it: its step count and the keys of
 * its first and last steps. Null when it has no such shape (not an object, no steps, a key that is not a
 * string, a getter that throws): then only its text can find its plan.
 */
function shapeOf(document: unknown): string | null {
  try {
    const steps = (document as { steps?: unknown } | null)?.steps;
    if (!Array.isArray(steps) || steps.length === 0) return null;
    const first = (steps[0] as { key?: unknown } | null)?.key;
    const last = (steps[steps.length - 1] as { key?: unknown } | null)?.key;
    if (typeof first !== 'string' || typeof last !== 'string') return null;
    return `${steps.length}\0${first}\0${last}`;
  } catch {
    return null;
  }
}
