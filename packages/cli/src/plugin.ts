/**
 * `--plugin ./handlers.mjs`: a module of host step handlers, services and tools, loaded into the engine so
 * that a document `weft validate` accepts also runs. The module exports `steps` (`{ [type]: (ctx) => output }`),
 * `services` (`{ [TYPE]: { [ACTION]: (ctx) => output } }`) and/or `tools` (`{ [NAME]: { description?,
 * input?, handler(args, ctx) } }`, the external tools model steps call as `external:NAME`), as named exports
 * or on its default export. Repeatable; later plugins win.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServiceRegistry, StepHandler, ToolRegistry } from '@weft/core';
import { CliError } from './errors.js';

export interface Plugins {
  steps: Record<string, StepHandler>;
  services: ServiceRegistry;
  tools: ToolRegistry;
  /** The plugin files, as given. */
  files: string[];
}

export const NO_PLUGINS: Plugins = { steps: {}, services: {}, tools: {}, files: [] };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export async function loadPlugins(files: readonly string[]): Promise<Plugins> {
  const out: Plugins = { steps: {}, services: {}, tools: {}, files: [...files] };
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
      isObject(module.default) &&
      module.steps === undefined &&
      module.services === undefined &&
      module.tools === undefined
        ? module.default
        : module;
    const { steps, services, tools } = source as { steps?: unknown; services?: unknown; tools?: unknown };
    if (steps === undefined && services === undefined && tools === undefined) {
      throw new CliError(
        `--plugin ${file}: the module exports none of \`steps\`, \`services\` and \`tools\`. Export steps = { my_type: async (ctx) => … }, services = { SLACK: { CHANNELS_SEND_MESSAGE: async (ctx) => … } } and/or tools = { refund: { description, input, handler: async (args, ctx) => … } }.`,
      );
    }
    if (tools !== undefined) {
      if (!isObject(tools))
        throw new CliError(
          `--plugin ${file}: \`tools\` must be an object { NAME: { description?, input?, handler } }.`,
        );
      for (const [name, tool] of Object.entries(tools)) {
        if (!isObject(tool) || typeof tool.handler !== 'function') {
          throw new CliError(
            `--plugin ${file}: tools.${name} must be an object with a handler(args, ctx) function.`,
          );
        }
        out.tools[name] = tool as never;
      }
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
