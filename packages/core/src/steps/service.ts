/**
 * `service` steps: call `services[type][action]`. Weft ships the services that need no third-party account
 * (FILES over the app's files, SCHEDULER as a delay); the host's `createEngine({ services })` adds the
 * others and may replace any built-in action. Anything else — COLLECTIONS (Weft has no collections),
 * TOOLS, GOOGLE_*, GMAIL, SLACK, NOTION, … — fails with SERVICE_NOT_CONFIGURED saying how to register it.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import type { ServiceCallConfig, ServiceRegistry, StepContext } from './types.js';

/** Built-in actions first, the host's over them (action by action). */
export function mergeServices(builtins: ServiceRegistry, host: ServiceRegistry): ServiceRegistry {
  const out: ServiceRegistry = {};
  for (const [type, actions] of Object.entries(builtins)) out[type] = { ...actions };
  for (const [type, actions] of Object.entries(host)) out[type] = { ...(out[type] ?? {}), ...actions };
  return out;
}

const WHY: Record<string, string> = {
  COLLECTIONS: 'Weft has no collections, so it ships no COLLECTIONS service.',
  FILES:
    'Weft ships FILES.UPLOAD_FILE, DOWNLOAD_FILE, DELETE_FILE and EXTRACT_CONTENTS; this action needs document tooling it does not ship.',
};

export function serviceStep(services: ServiceRegistry) {
  return (context: StepContext<{ service: ServiceCallConfig }>): unknown => {
    const { type, action } = context.config.service;
    const handler =
      Object.hasOwn(services, type) && Object.hasOwn(services[type]!, action)
        ? services[type]![action]
        : undefined;
    if (handler === undefined) {
      const known = Object.entries(services).flatMap(([t, actions]) =>
        Object.keys(actions).map((a) => `${t}.${a}`),
      );
      const name = (s: string) => (/^[A-Za-z_$][\w$]*$/.test(s) ? s : JSON.stringify(s));
      throw new WeftError(
        ERROR_CODES.SERVICE_NOT_CONFIGURED,
        `Step "${context.step.key}" calls the service ${type}.${action}, which is not configured. ` +
          (WHY[type] === undefined ? '' : `${WHY[type]} `) +
          `Register a handler: createEngine({ services: { ${name(type)}: { ${name(action)}: async (ctx) => … } } }), ` +
          `or with the CLI, weft run --plugin ./handlers.mjs exporting \`services\`. ` +
          `Available: ${known.slice(0, 30).join(', ') || 'none'}.`,
        { step_key: context.step.key, details: { service: type, action }, retryable: false },
      );
    }
    return handler(context);
  };
}
