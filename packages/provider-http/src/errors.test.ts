import { ERROR_CODES } from '@weft/core';
import { describe, expect, it } from 'vitest';
import {
  codeForStatus,
  errorForStatus,
  errorForStreamError,
  finalizeError,
  isTransient,
  parseErrorBody,
  redactValue,
} from './errors.js';

describe('codeForStatus', () => {
  it('maps statuses to provider codes', () => {
    expect(codeForStatus(401)).toBe(ERROR_CODES.PROVIDER_AUTH);
    expect(codeForStatus(403)).toBe(ERROR_CODES.PROVIDER_AUTH);
    expect(codeForStatus(429)).toBe(ERROR_CODES.PROVIDER_RATE_LIMIT);
    for (const s of [400, 404, 413, 422]) expect(codeForStatus(s)).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    for (const s of [408, 500, 502, 503, 529])
      expect(codeForStatus(s)).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
  });
});

describe('parseErrorBody', () => {
  it('reads the OpenAI, Anthropic and other common shapes', () => {
    expect(
      parseErrorBody('{"error":{"message":"bad temp","type":"invalid_request_error","code":"x"}}'),
    ).toEqual({
      message: 'bad temp',
      type: 'invalid_request_error',
      code: 'x',
    });
    expect(
      parseErrorBody('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'),
    ).toMatchObject({ message: 'Overloaded', type: 'overloaded_error' });
    expect(parseErrorBody('{"error":"model not found"}').message).toBe('model not found');
    expect(parseErrorBody('{"detail":"nope"}').message).toBe('nope');
    expect(parseErrorBody('<html>Bad Gateway</html>').message).toBe('<html>Bad Gateway</html>');
    expect(parseErrorBody('').message).toBeUndefined();
    expect(parseErrorBody('x'.repeat(2000)).message!.length).toBeLessThan(600);
  });
});

describe('errors', () => {
  it('errorForStatus carries the provider message, status and transience', () => {
    const e = errorForStatus(
      'openai',
      400,
      '{"error":{"message":"Unknown model","type":"invalid_request_error"}}',
    );
    expect(e.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(e.message).toContain('Unknown model');
    expect(e.details).toMatchObject({ provider: 'openai', status: 400, type: 'invalid_request_error' });
    expect(isTransient(e)).toBe(false);
    expect(isTransient(errorForStatus('openai', 503, ''))).toBe(true);
    expect(errorForStatus('x', 302, '').message).toContain('redirect');
  });

  it('errorForStreamError classifies by type', () => {
    expect(errorForStreamError('a', { type: 'overloaded_error', message: 'busy' }).code).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(errorForStreamError('a', { type: 'rate_limit_error' }).code).toBe('PROVIDER_RATE_LIMIT');
    expect(errorForStreamError('a', { type: 'invalid_request_error' }).code).toBe('PROVIDER_BAD_REQUEST');
    expect(errorForStreamError('a', { type: 'authentication_error' }).code).toBe('PROVIDER_AUTH');
    expect(isTransient(errorForStreamError('a', { type: 'api_error' }))).toBe(true);
  });

  it('finalizeError redacts secrets from message and details and drops the cause', () => {
    const key = 'sk-test-SECRET-123456';
    const e = errorForStatus(
      'openai',
      401,
      JSON.stringify({ error: { message: `Incorrect API key ${key}`, code: key } }),
    );
    const final = finalizeError(e, 2, [key]);
    expect(final.details).toMatchObject({ attempts: 2, status: 401 });
    expect(JSON.stringify(final)).not.toContain(key);
    expect(final.message).toContain('[REDACTED]');
    expect(final.cause).toBeUndefined();
  });

  it('redactValue replaces secrets deep inside values and keys', () => {
    const key = 'secret-value';
    expect(redactValue({ a: [`x ${key} y`], [key]: 1, n: 2 }, [key])).toEqual({
      a: ['x [REDACTED] y'],
      '[REDACTED]': 1,
      n: 2,
    });
  });
});
