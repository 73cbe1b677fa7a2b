/** Per-app variables: runs see them as `$vars`; secret values are never returned and are redacted from runs. */
import { invalidArgument } from '../errors.js';
import { checkedCopy } from '../json-data.js';
import type { AppVariable } from '../store/types.js';
import type { VariablesApi, VariableView } from './client.js';
import type { RegistryContext } from './context.js';
import { checkOptions, notFound } from './errors.js';

export function variableView(variable: AppVariable): VariableView {
  const view: VariableView = {
    key: variable.key,
    secret: variable.secret,
    created_at: variable.created_at,
    updated_at: variable.updated_at,
  };
  if (!variable.secret) view.value = variable.value;
  return view;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw invalidArgument('key', 'an identifier (letters, digits and _, not starting with a digit)', key);
  }
  return key;
}

export function variablesApi(ctx: RegistryContext, appId: string): VariablesApi {
  return {
    async set(key, value, options = {}) {
      checkKey(key);
      if (value === undefined) throw invalidArgument('value', 'a JSON value', value);
      checkOptions(options, 'options');
      const secret = options.secret ?? false;
      if (typeof secret !== 'boolean') throw invalidArgument('secret', 'true or false', secret);
      const now = ctx.now();
      const existing = (await ctx.store.listVariables(appId)).find((v) => v.key === key);
      const variable: AppVariable = {
        key,
        value: checkedCopy(value, 'value'),
        secret,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await ctx.store.setVariable(appId, variable);
      return variableView(variable);
    },

    async list() {
      return (await ctx.store.listVariables(appId)).map(variableView);
    },

    async delete(key) {
      checkKey(key);
      if (!(await ctx.store.deleteVariable(appId, key))) {
        throw notFound('Variable', key, 'List the app’s variables with variables.list.');
      }
    },
  };
}
