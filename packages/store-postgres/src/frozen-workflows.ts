/**
 * The frozen workflows of `getFrozenWorkflow` (`FrozenWorkflowReads` in `@weft/core/store`): per workflow
 * id, the deep-frozen object parsed from a stored text, with that text. Several processes share the
 * database, so an entry is never trusted on its own: the store sends the entry's text with the read, and
 * PostgreSQL compares it in full with the stored one (postgres-store.ts) — the same object is handed out
 * only for the same stored text.
 *
 * Bounded like the other stores' caches (least recently read go first): at most MAX_FROZEN_WORKFLOWS
 * entries and MAX_FROZEN_WORKFLOW_CHARS characters of stored text; a text longer than that alone is
 * frozen but not kept.
 */
import type { Workflow } from '@weft/core';
import { deepFreeze, MAX_FROZEN_WORKFLOWS } from '@weft/core/store';

/** At most this many characters of stored text (the sum over entries) are kept per store. */
export const MAX_FROZEN_WORKFLOW_CHARS = 16 * 1024 * 1024;

/** A stored text and the deep-frozen workflow parsed from it. */
export interface FrozenWorkflow {
  readonly body: string;
  readonly workflow: Workflow;
}

export class FrozenWorkflows {
  /** Least recently read first (a Map keeps insertion order; a read moves its entry to the end). */
  readonly #entries = new Map<string, FrozenWorkflow>();
  #chars = 0;
  readonly #maxEntries: number;
  readonly #maxChars: number;

  constructor(maxEntries = MAX_FROZEN_WORKFLOWS, maxChars = MAX_FROZEN_WORKFLOW_CHARS) {
    this.#maxEntries = maxEntries;
    this.#maxChars = maxChars;
  }

  /** Entries kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Characters of stored text kept now. */
  get chars(): number {
    return this.#chars;
  }

  /** Ids kept, least recently read first (for tests). */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** The entry of `id`: what to compare the stored text with. Not yet known to be current. */
  candidate(id: string): FrozenWorkflow | undefined {
    return this.#entries.get(id);
  }

  /**
   * The stored text was found to be `entry.body` (the candidate the read compared with): its workflow.
   * The entry becomes the most recently read, unless a read that finished meanwhile replaced it.
   */
  same(id: string, entry: FrozenWorkflow): Workflow {
    if (this.#entries.get(id) === entry) {
      this.#entries.delete(id);
      this.#entries.set(id, entry);
    }
    return entry.workflow;
  }

  /**
   * The stored text is `body`: its workflow, deep-frozen — the kept one when the text is the same (a read
   * that compared with no entry, or with an older one), else parsed anew and kept in place of the old.
   */
  stored(id: string, body: string): Workflow {
    const old = this.#entries.get(id);
    if (old !== undefined && old.body === body) return this.same(id, old);
    const workflow = deepFreeze(JSON.parse(body) as Workflow);
    this.delete(id);
    if (body.length <= this.#maxChars) {
      while (
        this.#entries.size > 0 &&
        (this.#entries.size >= this.#maxEntries || this.#chars + body.length > this.#maxChars)
      ) {
        this.delete(this.#entries.keys().next().value!);
      }
      this.#entries.set(id, { body, workflow });
      this.#chars += body.length;
    }
    return workflow;
  }

  /** Forgets `id` (no such workflow any more). */
  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#chars -= entry.body.length;
  }
}
