/**
 * The built-in `SCHEDULER` service. DELAY waits (`seconds`, `milliseconds`, or `until` an ISO time; at most
 * MAX_DELAY_MS, cancellable). ON_SCHEDULE is the platform's trigger: Weft starts no runs by itself (the host
 * does), so when a run reaches it the schedule has fired; it outputs `{ schedule, timezone, fired_at }`.
 */
import { CancelledError } from '../errors.js';
import { serviceError, serviceInput } from './service-files.js';
import type { ServiceHandler } from './types.js';

/** The longest DELAY: one day. */
export const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

export function schedulerService(now: () => number): Record<string, ServiceHandler> {
  return {
    async DELAY(context) {
      const input = serviceInput(context);
      let ms: number;
      if (input.until !== undefined && input.until !== null) {
        const at = typeof input.until === 'string' ? Date.parse(input.until) : Number.NaN;
        if (Number.isNaN(at))
          throw serviceError(context, 'until', '`until` must be an ISO 8601 date and time.');
        ms = Math.max(0, at - now());
      } else {
        const seconds = input.seconds ?? 0;
        const milliseconds = input.milliseconds ?? 0;
        if (
          typeof seconds !== 'number' ||
          typeof milliseconds !== 'number' ||
          !(seconds >= 0) ||
          !(milliseconds >= 0)
        ) {
          throw serviceError(context, 'seconds', '`seconds` and `milliseconds` must be numbers ≥ 0.');
        }
        ms = seconds * 1000 + milliseconds;
      }
      if (ms > MAX_DELAY_MS) {
        throw serviceError(
          context,
          'seconds',
          `a delay of ${ms} ms is longer than the most, ${MAX_DELAY_MS} ms (one day). Schedule a new run instead.`,
        );
      }
      await new Promise<void>((resolve, reject) => {
        if (context.signal.aborted) return reject(new CancelledError('The delay was cancelled.'));
        const timer = setTimeout(() => {
          context.signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clearTimeout(timer);
          reject(new CancelledError('The delay was cancelled.'));
        };
        context.signal.addEventListener('abort', onAbort, { once: true });
      });
      return { waited_ms: ms, until: new Date(now()).toISOString() };
    },
    ON_SCHEDULE(context) {
      const input = serviceInput(context);
      context.log('info', 'ON_SCHEDULE: Weft starts no runs by itself; this run was started by its host.');
      return {
        schedule: input.schedule ?? null,
        timezone: input.timezone ?? null,
        fired_at: new Date(now()).toISOString(),
      };
    },
  };
}
