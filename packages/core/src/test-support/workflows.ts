/** Builders for workflow documents in tests. */
import type { Step, WorkflowVersionDraft } from '../model/types.js';

export function draft(
  steps: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): WorkflowVersionDraft {
  return { key: 'test', steps: steps as Step[], ...extra } as WorkflowVersionDraft;
}

/** A step of a host type (default "task") with the given destinations. */
export function task(
  key: string,
  destinations: string[] = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: 'task', key, destinations, ...extra };
}

export function code(
  key: string,
  expression: string,
  destinations: string[] = [],
  extra: Record<string, unknown> = {},
) {
  return { type: 'code', key, code: expression, destinations, ...extra };
}

/** A deferred promise, for handlers the test releases by hand. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
