/**
 * Request validation and (optionally) response checking with Ajv. Bodies are validated as they are
 * (no type coercion: `"5"` is not a number); query strings and path parameters are coerced, since
 * everything in a URL is a string. Every problem is reported (`allErrors`), not only the first.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';

const common = { allErrors: true, removeAdditional: false, useDefaults: false, strict: false } as const;

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    const validate: ValidateFunction = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    if (httpPart !== 'body') return validate;
    // A route whose body is optional gets `{}` when none is sent (the platform's SDK sends none).
    const check = (data: unknown) => {
      const ok = validate(data ?? {});
      check.errors = validate.errors;
      return ok;
    };
    check.errors = null as ValidateFunction['errors'];
    return check;
  };
}

/** Response checkers are shared by every server of the process: many routes answer the same schema. */
const responseAjv = new Ajv({ ...common, coerceTypes: false });
const responseCheckers = new Map<string, ValidateFunction>();

function responseChecker(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = responseCheckers.get(key);
  if (validate === undefined) {
    validate = responseAjv.compile(JSON.parse(key) as object);
    responseCheckers.set(key, validate);
  }
  return validate;
}

/** JSON.stringify, or with `check`, JSON.stringify after checking the payload against its schema. */
export function serializerCompiler(check: boolean): FastifySerializerCompiler<unknown> {
  return ({ schema, method, url, httpStatus }) => {
    if (!check) return (data) => JSON.stringify(data);
    const validate = responseChecker(schema);
    return (data) => {
      // Through JSON first: what is checked is what the client receives.
      const text = JSON.stringify(data);
      if (!validate(JSON.parse(text))) {
        throw new Error(
          `The ${httpStatus} response of ${method} ${url} does not match its schema: ${responseAjv.errorsText(validate.errors)}`,
        );
      }
      return text;
    };
  };
}
