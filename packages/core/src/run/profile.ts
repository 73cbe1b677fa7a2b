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
  /**
   * The per-run cap of this plan's runs (docs/semantics.md, rule 10): `concurrency.run` when the engine
   * was given one; otherwise its default raised to the widest loop's `max_concurrency`, up to
   * `concurrency.engine` — a loop's own cap is not clipped by a default.
   */
  readonly runCap: number;
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
  const loopRequested: number[] = [];
  const missing: boolean[] = [];
  let widestLoop = 0;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const requested = Math.max(1, s.maxConcurrency ?? core.limits.loopConcurrency);
    loopRequested.push(requested);
    if (s.loop !== null && requested > widestLoop) widestLoop = requested;
  }
  const runCap = core.runConcurrencyExplicit
    ? core.runConcurrency
    : Math.min(core.engineConcurrency, Math.max(core.runConcurrency, widestLoop));
  const loopCap = clipLoops(loopRequested, runCap, core.engineConcurrency);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const entry = core.handlerFor(s.type);
    handlers.push(entry);
    missing.push(entry === undefined);
    if (entry?.slots === false) bound = Number.POSITIVE_INFINITY;
    const w = s.loop === null ? 1 : loopCap[i]!;
    if (w > widest[s.chain]!) widest[s.chain] = w;
    retry.push(resolveRetry(core.retry, s.retry));
    timeoutMs.push(s.timeoutMs ?? core.limits.stepTimeoutMs);
  }
  if (bound === 0) for (const w of widest) bound += w;
  return {
    maxParallel: bound,
    runCap,
    handlers,
    settings: {
      retry,
      timeoutMs,
      loopCap,
      loopRequested,
      missing,
      cancelGraceMs: core.limits.cancelGraceMs,
      maxCredits: core.limits.maxCredits,
    },
  };
}

/** Each loop's cap as applied: what it asked for, at most the run's cap and the engine's. */
function clipLoops(requested: readonly number[], runCap: number, engineCap: number): number[] {
  const cap = Math.min(runCap, engineCap);
  return requested.map((r) => Math.min(r, cap));
}

/**
 * The settings of a run whose cap is lower than its plan's (a sub-workflow run shares its parent's
 * cap): its loops clipped to it. The profile's own settings when nothing changes.
 */
export function settingsUnder(profile: PlanProfile, runCap: number): RunSettings {
  if (runCap >= profile.runCap) return profile.settings;
  const { settings } = profile;
  return { ...settings, loopCap: settings.loopCap.map((c) => Math.min(c, runCap)) };
}
