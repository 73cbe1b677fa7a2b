/**
 * Every event a run emits, for the observed variant of W1 (a listener on each): one list for the suite
 * (workloads.ts) and the paired probe (pair.ts). No imports, so pair.ts, which loads the core it is given,
 * loads no other core through it.
 */
export const OBSERVED_EVENTS = [
  'run.started',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'step.started',
  'step.completed',
  'step.skipped',
  'step.failed',
  'step.cancelled',
  'step.retrying',
  'loop.started',
  'loop.iteration',
  'usage',
  'log',
] as const;
