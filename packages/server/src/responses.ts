/** Response schemas of the routes: the success shape, and the error body for every 4xx/5xx. */
import { type TSchema, Type } from '@sinclair/typebox';
import { ErrorBodySchema } from './schema-common.js';

const errors = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };

// Typed `unknown` on purpose: handlers return the wire types (wire-*.ts); `checkResponses` checks them
// against these schemas at run time, in the tests.
export function ok<T extends TSchema>(schema: T, description: string): unknown {
  return { 200: { ...schema, description }, ...errors };
}

/** A list: a plain JSON array; the pagination headers say where it stands. */
export function list<T extends TSchema>(item: T, description: string): unknown {
  return {
    200: Type.Array(item, {
      description: `${description} Headers: pagination-page, pagination-take, pagination-count (all pages together).`,
    }),
    ...errors,
  };
}

/** A run route that can also stream (`stream: true`). */
export function runOrStream<T extends TSchema>(schema: T, description: string): unknown {
  return {
    200: {
      description,
      content: {
        'application/json': { schema },
        'text/event-stream': {
          schema: Type.String({
            description:
              'With `stream: true`: events `run` (the run), `step` (a step record when it changes), `chunk` (model text as it arrives), then `run` (the final run); `error` if the run could not be stored.',
          }),
        },
      },
    },
    ...errors,
  };
}
