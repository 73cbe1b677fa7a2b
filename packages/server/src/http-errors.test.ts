/** Every failure becomes `{ status, message, code, errors? }` with the right HTTP status. */
import { ERROR_CODES, ValidationError, WeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { errorBody, HTTP_STATUS_OF, pointerPath } from './http-errors.js';

describe('errorBody', () => {
  it('maps each request-level Weft code to its status', () => {
    const expected: Record<string, number> = {
      INVALID_ARGUMENT: 400,
      INVALID_INPUT: 400,
      VALIDATION_FAILED: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      NOT_CANCELLABLE: 409,
      IMMUTABLE_VERSION: 409,
      LIMIT: 413,
      LIMIT_EXCEEDED: 413,
      RATE_LIMITED: 429,
    };
    expect(HTTP_STATUS_OF).toEqual(expected);
    for (const [code, status] of Object.entries(expected)) {
      const { body, internal } = errorBody(new WeftError(code, `m ${code}`));
      expect(body).toMatchObject({ status, code, message: `m ${code}` });
      expect(internal).toBe(false);
    }
  });

  it('lists a document’s problems (errors only) and an input’s, with paths', () => {
    const validation = new ValidationError([
      {
        severity: 'error',
        code: 'UNKNOWN_DESTINATION',
        path: '/steps/0/destinations/0',
        message: 'no such step',
      },
      { severity: 'warning', code: 'UNREACHABLE_STEP', path: '/steps/1', message: 'never runs' },
    ]);
    expect(errorBody(validation).body.errors).toEqual([
      {
        validation: 'UNKNOWN_DESTINATION',
        code: 'VALIDATION_FAILED',
        message: 'no such step',
        path: ['document', 'steps', '0', 'destinations', '0'],
      },
    ]);
    const input = new WeftError(ERROR_CODES.INVALID_INPUT, 'bad input', {
      details: { problems: [{ path: '/name', code: 'TYPE', message: 'must be a string' }] },
    });
    expect(errorBody(input).body.errors).toEqual([
      {
        validation: 'TYPE',
        code: 'INVALID_INPUT',
        message: 'must be a string',
        path: ['body', 'input', 'name'],
      },
    ]);
  });

  it('turns schema failures into one item per problem', () => {
    const { body } = errorBody({
      message: 'x',
      statusCode: 400,
      validationContext: 'body',
      validation: [
        { keyword: 'required', instancePath: '', params: { missingProperty: 'name' } },
        { keyword: 'additionalProperties', instancePath: '/draft', params: { additionalProperty: 'x' } },
        { keyword: 'type', instancePath: '/input', message: 'must be object' },
      ],
    });
    expect(body.status).toBe(400);
    expect(body.errors!.map((e) => [e.validation, e.path.join('.'), e.message])).toEqual([
      ['required', 'body.name', 'is required'],
      ['additionalProperties', 'body.draft.x', 'is not a known field (leave it out)'],
      ['type', 'body.input', 'must be object'],
    ]);
  });

  it('anything else is a 500 that reveals nothing of the error', () => {
    const { body, internal } = errorBody(new Error('secret detail at /srv/app.js:12'));
    expect(internal).toBe(true);
    expect(body).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(body.message).not.toContain('secret');
    expect(errorBody(null).body.status).toBe(500);
    expect(errorBody(new WeftError('STEP_FAILED', 'x')).body.status).toBe(500);
  });

  it('decodes JSON pointers', () => {
    expect(pointerPath('')).toEqual([]);
    expect(pointerPath('/a~1b/c~0d/0')).toEqual(['a/b', 'c~d', '0']);
  });
});
