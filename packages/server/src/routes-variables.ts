/**
 * App variables: list, create, update many, rename or update one, delete. Secret values are
 * write-only: no answer ever contains one (runs see them; their records show `[secret]`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ERROR_CODES, type VariableView, WeftError } from '@weft/core';
import { pageOfArray, sendPage } from './pagination.js';
import { list, ok } from './responses.js';
import { clientOf, type RouteContext } from './route-context.js';
import { AppParams, PageQuery } from './schema-common.js';
import {
  CreateVariableBody,
  UpdateVariableBody,
  UpdateVariablesBody,
  VariableParams,
  WireVariableSchema,
} from './schema-variables.js';

function variableNotFound(key: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `Variable "${key}" was not found. List the app’s variables with GET /apps/{app_id}/variables.`,
    { details: { id: key }, retryable: false },
  );
}

export function variableRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Variables'];
    /** The stored variable, secret value included: only ever used to carry a value over, never answered. */
    const stored = async (appId: string, key: string) =>
      (await ctx.weft.store.listVariables(appId)).find((v) => v.key === key);

    app.get(
      '/variables',
      {
        schema: {
          tags,
          summary: 'Get App Variables',
          description: 'Sorted by key; secrets without their value.',
          params: AppParams,
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: list(WireVariableSchema, 'Variables.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        return sendPage(reply, pageOfArray(request.query, await client.variables.list()), (v) => v);
      },
    );

    app.post(
      '/variables',
      {
        schema: {
          tags,
          summary: 'Create App Variable',
          description: 'A new variable (409 if the key exists: update it with PATCH).',
          params: AppParams,
          body: CreateVariableBody,
          response: ok(WireVariableSchema, 'The variable.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { key, value, secret } = request.body;
        if ((await stored(client.app_id, key)) !== undefined) {
          throw new WeftError(
            ERROR_CODES.CONFLICT,
            `Variable "${key}" already exists: change it with PATCH /apps/{app_id}/variables/${key}.`,
            { details: { key }, retryable: false },
          );
        }
        return client.variables.set(key, value, { secret: secret ?? false });
      },
    );

    app.patch(
      '/variables',
      {
        schema: {
          tags,
          summary: 'Update App Variables',
          description:
            'Sets each variable (creating the missing ones); a value left out keeps the stored one. Answers every variable of the app.',
          params: AppParams,
          body: UpdateVariablesBody,
          response: ok(Type.Array(WireVariableSchema), 'The app’s variables.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const items = request.body;
        const current = new Map((await ctx.weft.store.listVariables(client.app_id)).map((v) => [v.key, v]));
        // Check everything before writing anything.
        items.forEach((item, i) => {
          if (item.value === undefined && !current.has(item.key)) {
            throw new WeftError(
              ERROR_CODES.INVALID_ARGUMENT,
              `Variable "${item.key}" does not exist yet: give its \`value\`.`,
              { details: { parameter: `${i}.value` } },
            );
          }
        });
        for (const item of items) {
          const old = current.get(item.key);
          await client.variables.set(item.key, item.value === undefined ? old!.value : item.value, {
            secret: item.secret ?? old?.secret ?? false,
          });
        }
        return client.variables.list();
      },
    );

    app.patch(
      '/variables/:key',
      {
        schema: {
          tags,
          summary: 'Rename App Variable',
          description: 'Renames (`key`), changes the value, or makes it secret or not.',
          params: VariableParams,
          body: UpdateVariableBody,
          response: ok(WireVariableSchema, 'The variable.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const old = await stored(client.app_id, request.params.key);
        if (old === undefined) throw variableNotFound(request.params.key);
        const body = request.body ?? {};
        const key = body.key ?? old.key;
        if (key !== old.key && (await stored(client.app_id, key)) !== undefined) {
          throw new WeftError(
            ERROR_CODES.CONFLICT,
            `Variable "${key}" already exists: delete it first, or choose another name.`,
            { details: { key }, retryable: false },
          );
        }
        const view: VariableView = await client.variables.set(
          key,
          body.value === undefined ? old.value : body.value,
          {
            secret: body.secret ?? old.secret,
          },
        );
        if (key !== old.key) await client.variables.delete(old.key);
        return view;
      },
    );

    app.delete(
      '/variables/:key',
      {
        schema: {
          tags,
          summary: 'Delete App Variable',
          params: VariableParams,
          response: ok(WireVariableSchema, 'The deleted variable.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const view = (await client.variables.list()).find((v) => v.key === request.params.key);
        if (view === undefined) throw variableNotFound(request.params.key);
        await client.variables.delete(view.key);
        return view;
      },
    );
  };
}
