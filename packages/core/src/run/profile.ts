/**
 * What the runner and the scheduler work out once per engine and plan (and share across its runs): the
 * handler of each step, the per-step settings `decide` needs, and the bound behind skipping the run's cap.
 */
import type { Plan } from '../compile/plan.js';
import type { EngineCore, HandlerEntry } from './engine-core.js';
import { resolveRetry } from './retry.js';
import type { RunSettings } from './state.js';

export interface PlanProfile {
  /**
   * An upper bound on the executions of one run in flight at once (each holding a slot of the run's
   * cap): steps running together lie on distinct chains of the plan's chain cover, a step holds one slot
   * at a time (its attempts are sequential; waiting between them holds none), and a loop at most its
   * loop cap. Infinity when a step takes no slot itself (a `workflow` step: its child run's executions
   * count against this run's cap).
   */
  readonly maxParallel: number;
  /** By step index: its handler (undefined when none is registered for its type). */
  readonly handlers: ReadonlyArray<HandlerEntry | undefined>;
  readonly settings: RunSettings;
}

const PROFILES = new WeakMap<EngineCore, WeakMap<Plan, PlanProfile>>();

export function profileOf(core: EngineCore, plan: Plan): PlanProfile {
  let byPlan = PROFILES.get(core);
  if (byPlan === undefined) {
    byPlan = new WeakMap();
    PROFILES.set(core, byPlan);
  }
  let profile = byPlan.get(plan);
  if (profile === undefined) {
    profile = buildProfile(core, plan);
    byPlan.set(plan, profile);
  }
  return profile;
}

function buildProfile(core: EngineCore, plan: Plan): PlanProfile {
  const widest = new Array<number>(plan.chains).fill(0);
  let bound = 0;
  const steps = plan.steps;
  const handlers: Array<HandlerEntry | undefined> = [];
  const retry = [];
  const timeoutMs: Array<number | undefined> = [];
  const loopCap: number[] = [];
  const missing: boolean[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const entry = core.handlerFor(s.type);
    handlers.push(entry);
    missing.push(entry === undefined);
    if (entry?.slots === false) bound = Number.POSITIVE_INFINITY;
    const cap = Math.max(1, s.maxConcurrency ?? core.limits.loopConcurrency);
    loopCap.push(cap);
    const w = s.loop === null ? 1 : cap;
    if (w > widest[s.chain]!) widest[s.chain] = w;
    retry.push(resolveRetry(core.retry, s.retry));
    timeoutMs.push(s.timeoutMs ?? core.limits.stepTimeoutMs);
  }
  if (bound === 0) for (const w of widest) bound += w;
  return {
    maxParallel: bound,
    handlers,
    settings: {
      retry,
      timeoutMs,
      loopCap,
      missing,
      cancelGraceMs: core.limits.cancelGraceMs,
      maxCredits: core.limits.maxCredits,
    },
  };
}
