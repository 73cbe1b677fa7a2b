/**
 * The run and step statuses, apart from the xstate lifecycles that move between them
 * (lifecycle/lifecycle.ts): public types import them from here, so that no xstate type reaches the
 * published declarations.
 */
export const RUN_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
