/**
 * `--plugin ./handlers.mjs`: a module of host step handlers and services, loaded into the engine so that a
 * document `weft validate` accepts also runs. The module exports `steps` (`{ [type]: (ctx) => output }`)
 * and/or `services` (`{ [TYPE]: { [ACTION]: (ctx) => output } }`), as named exports or on its default
 * export. Repeatable; later plugins win.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServiceRegistry, StepHandler } from '@weft/core';
import { CliError } from './errors.js';

export interface Plugins {
  steps: Record<string, StepHandler>;
  services: ServiceRegistry;
  /** The plugin files, as given. */
  files: string[];
}

export const NO_PLUGINS: Plugins = { steps: {}, services: {}, files: [] };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export async function loadPlugins(files: readonly string[]): Promise<Plugins> {
  const out: Plugins = { steps: {}, services: {}, files: [...files] };
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) throw new CliError(`--plugin ${file}: no such file.`);
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`--plugin ${file}: the module failed to load: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const source =
      isObject(module.default) && module.steps === undefined && module.services === undefined
        ? module.default
        : module;
    const { steps, services } = source as { steps?: unknown; services?: unknown };
    if (steps === undefined && services === undefined) {
      throw new CliError(
        `--plugin ${file}: the module exports neither \`steps\` nor \`services\`. Export steps = { my_type: async (ctx) => … } and/or services = { SLACK: { CHANNELS_SEND_MESSAGE: async (ctx) => … } }.`,
      );
    }
    if (steps !== undefined) {
      if (!isObject(steps))
        throw new CliError(`--plugin ${file}: \`steps\` must be an object of handler functions.`);
      for (const [type, handler] of Object.entries(steps)) {
        if (typeof handler !== 'function')
          throw new CliError(`--plugin ${file}: steps.${type} must be a function (ctx) => output.`);
        out.steps[type] = handler as StepHandler;
      }
    }
    if (services !== undefined) {
      if (!isObject(services))
        throw new CliError(`--plugin ${file}: \`services\` must be an object { TYPE: { ACTION: handler } }.`);
      for (const [type, actions] of Object.entries(services)) {
        if (!isObject(actions))
          throw new CliError(`--plugin ${file}: services.${type} must be an object { ACTION: handler }.`);
        for (const [action, handler] of Object.entries(actions)) {
          if (typeof handler !== 'function') {
            throw new CliError(
              `--plugin ${file}: services.${type}.${action} must be a function (ctx) => output.`,
            );
          }
          out.services[type] = { ...(out.services[type] ?? {}), [action]: handler as never };
        }
      }
    }
  }
  return out;
}
