/** The handle `engine.start` returns. */
import type { SafeEmitter, WeftEventName, WeftListener } from '../events/events.js';
import type { Run } from './types.js';

export type RunHandleEvents = SafeEmitter;

export interface CancelResult {
  /** False when the run had already ended (cancelling it was a no-op). */
  cancelled: boolean;
  status: Run['status'];
  message: string;
}

export interface RunHandle {
  readonly id: string;
  /** Resolves with the final run once it has ended and every handler has settled. Never rejects. */
  readonly done: Promise<Run>;
  /** The run as it stands now. */
  snapshot(): Run;
  on<K extends WeftEventName>(event: K, listener: WeftListener<K>): RunHandle;
  off<K extends WeftEventName>(event: K, listener?: WeftListener<K>): RunHandle;
  /** Cancels the run and resolves once it has ended. A finished run answers `{ cancelled: false }`. */
  cancel(reason?: string): Promise<CancelResult>;
}
