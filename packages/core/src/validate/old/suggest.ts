/**
 * "Did you mean …?": the closest candidate by edit distance. Bounded so that hostile documents (100,000
 * keys, megabyte-long strings) cannot make it slow: long words are never compared, the distance computation
 * gives up past the threshold, and a `SuggestBudget` caps the total work of one validation.
 */

/** Words longer than this get no suggestion and are never suggested. */
const MAX_WORD_LENGTH = 64;

/** Total distance-matrix cells one validation may spend on suggestions; past it, no more suggestions. */
export class SuggestBudget {
  remaining: number;
  constructor(cells = 4_000_000) {
    this.remaining = cells;
  }
}

/**
 * Suggestions from a fixed set of candidates (e.g. the step keys of a document): an exact case-insensitive
 * match first, else the candidate with the smallest edit distance within max(1, ⌊length/3⌋) for words of 3
 * characters or more (ties: the first candidate). `undefined` when none is close.
 */
export class Suggester {
  readonly #candidates: string[] = [];
  readonly #byLowerCase = new Map<string, string>();
  readonly #budget: SuggestBudget;

  constructor(candidates: Iterable<string>, budget: SuggestBudget = new SuggestBudget()) {
    this.#budget = budget;
    for (const candidate of candidates) {
      if (candidate.length > MAX_WORD_LENGTH) continue;
      this.#candidates.push(candidate);
      const lower = candidate.toLowerCase();
      if (!this.#byLowerCase.has(lower)) this.#byLowerCase.set(lower, candidate);
    }
  }

  closest(word: string): string | undefined {
    if (word.length === 0 || word.length > MAX_WORD_LENGTH) return undefined;
    const same = this.#byLowerCase.get(word.toLowerCase());
    if (same !== undefined && same !== word) return same;
    // Short words get only case-insensitive matches: one edit away from "x" is every one-letter key.
    const threshold = word.length < 3 ? 0 : Math.max(1, Math.floor(word.length / 3));
    let best: string | undefined;
    let bestDistance = threshold + 1;
    for (const candidate of this.#candidates) {
      if (candidate === word || Math.abs(candidate.length - word.length) >= bestDistance) continue;
      const cost = word.length * candidate.length;
      if (this.#budget.remaining < cost) break;
      this.#budget.remaining -= cost;
      const d = editDistance(word, candidate, bestDistance - 1);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best;
  }
}

/** The closest of a few candidates (enum values, step types); see `Suggester`. */
export function closest(
  word: string,
  candidates: Iterable<string>,
  budget?: SuggestBudget,
): string | undefined {
  return new Suggester(candidates, budget).closest(word);
}

/**
 * Edit distance between `a` and `b` counting insertions, deletions, substitutions and transpositions of
 * two adjacent characters ("modle" → "model" is 1), or `max + 1` as soon as it must exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const width = b.length + 1;
  let before = new Array<number>(width).fill(0);
  let previous = new Array<number>(width);
  let current = new Array<number>(width);
  for (let j = 0; j < width; j++) previous[j] = j;
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j < width; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (
        i > 1 &&
        j > 1 &&
        a.charCodeAt(i - 1) === b.charCodeAt(j - 2) &&
        a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
      ) {
        value = Math.min(value, before[j - 2]! + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    // A transposition reaches back two rows, so give up only when both rows are past `max`.
    if (rowMin > max && previousMin > max) return max + 1;
    previousMin = rowMin;
    [before, previous, current] = [previous, current, before];
  }
  const distance = previous[b.length]!;
  return distance > max ? max + 1 : distance;
}
