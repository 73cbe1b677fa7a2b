/** Ctrl-C during a run: the first cancels it cleanly, a second one exits at once (130). */
import { EXIT } from './errors.js';

export interface InterruptActions {
  /** Cancels the run (it still ends normally and is printed). */
  cancel(reason: string): void;
  /** Tells the user what is happening. */
  note(message: string): void;
  /** Exits the process now. */
  exit(code: number): void;
}

/** A signal listener: SIGINT/SIGTERM cancel the run the first time, exit with 130 the second. */
export function interruptHandler(actions: InterruptActions): (signal: NodeJS.Signals) => void {
  let count = 0;
  return (signal) => {
    count++;
    if (count === 1) {
      actions.note(
        signal === 'SIGINT' ? 'Cancelling… (press Ctrl-C again to exit now)' : `Cancelling (${signal})…`,
      );
      actions.cancel(`Cancelled by ${signal === 'SIGINT' ? 'Ctrl-C' : signal}.`);
      return;
    }
    actions.note('Interrupted again: exiting now.');
    actions.exit(EXIT.INTERRUPTED);
  };
}

/** Installs `listener` for SIGINT and SIGTERM until the returned function is called. */
export function onInterrupt(listener: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}
