/**
 * Generated workflows for the runtime's property tests (run/properties.test.ts, run/resume.test.ts):
 * random DAGs with conditionals, branches, loops, throw_on_error, failures, retries, spending and async
 * delays, as documents for a `probe` host step type (whose handler the tests define).
 */
import fc from 'fast-check';
import { draft } from './workflows.js';

export interface GenStep {
  key: string;
  destinations: string[];
  conditional: 'none' | 'true' | 'false';
  throwOnError: boolean;
  /** The handler fails on its first `failTimes` attempts. */
  failTimes: number;
  maxAttempts: number;
  /** setImmediate ticks the handler waits before answering. */
  delay: number;
  inputConnected: boolean;
  loop: number[] | null;
  spend: number;
  /** When set, the step is a branch: each target goes to its own destinations, a condition, or else. */
  branch: null | {
    own: string[];
    conditions: Array<{ key: string; value: boolean; order: number; targets: string[] }>;
    elseTargets: string[];
  };
}

export const genWorkflow = (options: { throwing: boolean }) =>
  fc.integer({ min: 1, max: 10 }).chain((n) =>
    fc
      .tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            targets: fc.subarray(Array.from({ length: n - i - 1 }, (_, k) => i + 1 + k)),
            conditional: fc.constantFrom('none', 'none', 'true', 'false') as fc.Arbitrary<
              GenStep['conditional']
            >,
            throwOnError: options.throwing ? fc.boolean() : fc.constant(false),
            failTimes: fc.constantFrom(0, 0, 0, 1, 2),
            maxAttempts: fc.constantFrom(1, 1, 2, 3),
            delay: fc.integer({ min: 0, max: 3 }),
            inputConnected: fc.boolean(),
            loop: fc.oneof(
              { arbitrary: fc.constant(null), weight: 3 },
              { arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 5 }), weight: 2 },
            ),
            spend: fc.constantFrom(0, 1, 2.5),
            branch: fc.oneof(
              { arbitrary: fc.constant(null), weight: 3 },
              {
                arbitrary: fc.record({
                  values: fc.tuple(fc.boolean(), fc.boolean()),
                  orders: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
                  groups: fc.array(fc.constantFrom('own', 'c1', 'c2', 'else'), {
                    minLength: n,
                    maxLength: n,
                  }),
                }),
                weight: 1,
              },
            ),
          }),
        ),
      )
      .map((raw): GenStep[] =>
        raw.map((r, i) => ({
          key: `s${i}`,
          destinations: r.targets.map((t) => `s${t}`),
          conditional: r.conditional,
          throwOnError: r.throwOnError,
          failTimes: r.failTimes,
          maxAttempts: r.maxAttempts,
          delay: r.delay,
          inputConnected: r.inputConnected,
          loop: r.branch === null ? r.loop : null,
          spend: r.spend,
          branch:
            r.branch === null
              ? null
              : {
                  own: r.targets.filter((_, k) => r.branch!.groups[k] === 'own').map((t) => `s${t}`),
                  conditions: (['c1', 'c2'] as const).map((key, c) => ({
                    key,
                    value: r.branch!.values[c]!,
                    order: r.branch!.orders[c]!,
                    targets: r.targets.filter((_, k) => r.branch!.groups[k] === key).map((t) => `s${t}`),
                  })),
                  elseTargets: r.targets.filter((_, k) => r.branch!.groups[k] === 'else').map((t) => `s${t}`),
                },
        })),
      ),
  );

export function toDocument(steps: GenStep[]) {
  return draft(
    steps.map((s) =>
      s.branch !== null
        ? {
            type: 'branch',
            key: s.key,
            destinations: s.branch.own,
            ...(s.conditional === 'none' ? {} : { conditional: s.conditional }),
            throw_on_error: s.throwOnError,
            ...(s.inputConnected ? { input_connected: true } : {}),
            conditions: Object.fromEntries(
              s.branch.conditions.map((c) => [
                c.key,
                { condition: String(c.value), order: c.order, destinations: c.targets },
              ]),
            ),
            else: s.branch.elseTargets,
          }
        : {
            type: 'probe',
            key: s.key,
            destinations: s.destinations,
            ...(s.conditional === 'none' ? {} : { conditional: s.conditional }),
            throw_on_error: s.throwOnError,
            ...(s.inputConnected ? { input_connected: true } : {}),
            ...(s.loop === null ? {} : { loop: JSON.stringify(s.loop) }),
            retry: { max_attempts: s.maxAttempts, interval_ms: 0 },
            fail_times: s.failTimes,
            delay: s.delay,
            spend: s.spend,
          },
    ),
  );
}
