/** `service` steps: call the host's `services[type][action]` handler. */
import { ERROR_CODES, WeftError } from '../errors.js';
import type { ServiceCallConfig, ServiceRegistry, StepContext } from './types.js';

export function serviceStep(services: ServiceRegistry) {
  return (context: StepContext<{ service: ServiceCallConfig }>): unknown => {
    const { type, action } = context.config.service;
    const handler = services[type]?.[action];
    if (handler === undefined) {
      const known = Object.entries(services).flatMap(([t, actions]) =>
        Object.keys(actions).map((a) => `${t}.${a}`),
      );
      throw new WeftError(
        ERROR_CODES.HANDLER_NOT_FOUND,
        `No service handler for "${type}.${action}" (step "${context.step.key}"). ` +
          (known.length > 0 ? `Registered: ${known.join(', ')}.` : 'No services are registered.') +
          ' Register it with createEngine({ services: { [type]: { [action]: handler } } }).',
        { step_key: context.step.key, retryable: false },
      );
    }
    return handler(context);
  };
}
