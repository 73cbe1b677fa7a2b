/**
 * Coarse deadlines on one shared timer: a foreground run request waits at most `runWaitMs` (minutes),
 * and arming a timer per request cost more than the rest of the wait bookkeeping. One unref'd interval
 * ticks while any deadline is pending (and one tick more); a deadline fires within `resolutionMs` after
 * it is due.
 */
export class Deadlines {
  readonly #resolutionMs: number;
  readonly #pending = new Map<number, { due: number; fire: () => void }>();
  #next = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(resolutionMs = 250) {
    this.#resolutionMs = resolutionMs;
  }

  /** Resolves (with null) once `ms` have passed, unless `cancel` is called first. */
  after(ms: number): { promise: Promise<null>; cancel(): void } {
    const id = this.#next++;
    let fire!: () => void;
    const promise = new Promise<null>((resolve) => {
      fire = () => resolve(null);
    });
    this.#pending.set(id, { due: Date.now() + ms, fire });
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
      this.#timer.unref();
    }
    return {
      promise,
      // The timer is stopped by the next tick that finds nothing pending, not here: under load,
      // re-arming it on every request cost more than letting it tick once more.
      cancel: () => {
        this.#pending.delete(id);
      },
    };
  }

  #tick(): void {
    const now = Date.now();
    for (const [id, entry] of this.#pending) {
      if (entry.due <= now) {
        this.#pending.delete(id);
        entry.fire();
      }
    }
    this.#stopIfIdle();
  }

  #stopIfIdle(): void {
    if (this.#pending.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
