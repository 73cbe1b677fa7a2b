/**
 * Store notices: an optional part of a store that wakes the processes sharing it (docs/durability.md —
 * Notices). Postgres sends them with LISTEN/NOTIFY; the memory store in-process; SQLite has none (its
 * processes poll).
 *
 * A notice is a hint to look at the store now, never a fact to act on without reading: notices can be
 * lost (a listening connection that drops misses what was sent meanwhile), repeated or late. So every
 * consumer also polls, at the pace it can afford to be late (the lease, for recovery), and a listener
 * gets `run_id: null` whenever it may have missed notices — once listening has started (a store that
 * listens on a connection of its own starts asynchronously) and after every reconnection: rescan then.
 */
import { invalidArgument } from '../errors.js';

/**
 * - `run.pending`: a live run has no owner — inserted without a lease, or released: a worker may claim it.
 *   (A lease that merely expires sends nothing: no write happens. Poll `listRecoverableRuns` for those.)
 * - `run.cancel`: someone asked for the run to be cancelled; sent only by `notify` (whoever executes the
 *   run stops it).
 * - `run.ended`: the run's status went from live to COMPLETED, FAILED or CANCELLED, by any write.
 */
export const NOTICE_TOPICS = ['run.pending', 'run.cancel', 'run.ended'] as const;
export type NoticeTopic = (typeof NOTICE_TOPICS)[number];

export interface StoreNotice {
  topic: NoticeTopic;
  /** The run; null when notices of this topic may have been missed: look at the store now. */
  run_id: string | null;
}

export type NoticeListener = (notice: StoreNotice) => void;

/** What a store with notices adds to a `WeftStore`. */
export interface StoreNotices {
  /**
   * Calls `listener` with every notice of `topic` from now on — sent by this process or any other
   * sharing the store — until the returned function is called.
   */
  subscribe(topic: NoticeTopic, listener: NoticeListener): () => void;
  /** Sends a notice to every subscriber of `topic`, in every process sharing the store. */
  notify(topic: NoticeTopic, runId: string): Promise<void>;
}

/** Notice payloads are small (Postgres allows 8,000 bytes): longer run ids get no notice. */
export const MAX_NOTICE_RUN_ID = 1000;

export function hasNotices<S extends object>(store: S): store is S & StoreNotices {
  const candidate = store as Partial<StoreNotices>;
  return typeof candidate.subscribe === 'function' && typeof candidate.notify === 'function';
}

export function checkTopic(topic: unknown, parameter = 'topic'): NoticeTopic {
  if (!NOTICE_TOPICS.includes(topic as NoticeTopic)) {
    throw invalidArgument(parameter, `one of ${NOTICE_TOPICS.map((t) => `"${t}"`).join(', ')}`, topic);
  }
  return topic as NoticeTopic;
}

export function checkNoticeRunId(runId: unknown, parameter = 'runId'): string {
  if (typeof runId !== 'string' || runId === '' || runId.length > MAX_NOTICE_RUN_ID) {
    throw invalidArgument(parameter, `a non-empty string of at most ${MAX_NOTICE_RUN_ID} characters`, runId);
  }
  return runId;
}

/**
 * The subscribers of one store, by topic. A listener that throws stops neither the others nor the write
 * that sent the notice, nor the process (a notice is a hint; a server must not die of a listener's bug):
 * its error becomes a process warning (`WEFT_NOTICE_LISTENER`), so it is seen, not swallowed.
 */
export class NoticeHub {
  readonly #listeners = new Map<NoticeTopic, Set<NoticeListener>>();

  subscribe(topic: NoticeTopic, listener: NoticeListener): () => void {
    checkTopic(topic);
    if (typeof listener !== 'function') throw invalidArgument('listener', 'a function', listener);
    let set = this.#listeners.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    // A wrapper per subscription: the same function subscribed twice is called twice, unsubscribed once each.
    const entry: NoticeListener = (notice) => listener(notice);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** How many listeners `topic` has (all topics when omitted). */
  size(topic?: NoticeTopic): number {
    if (topic !== undefined) return this.#listeners.get(topic)?.size ?? 0;
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }

  /** The topics that have listeners. */
  topics(): NoticeTopic[] {
    return [...this.#listeners].filter(([, set]) => set.size > 0).map(([topic]) => topic);
  }

  emit(topic: NoticeTopic, runId: string | null): void {
    const set = this.#listeners.get(topic);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        listener({ topic, run_id: runId });
      } catch (error) {
        // emitWarning ignores its options when given an Error: the code goes on a warning of our own,
        // with the listener's error as its cause.
        const reason = error instanceof Error ? error.message : String(error);
        const warning = Object.assign(
          new Error(`A ${topic} notice listener threw: ${reason}`, { cause: error }),
          { name: 'WeftNoticeListenerWarning', code: 'WEFT_NOTICE_LISTENER' },
        );
        process.emitWarning(warning);
      }
    }
  }
}
