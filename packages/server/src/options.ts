/** `createServer` options, their defaults, and the check that refuses a bad one by name. */
import { invalidArgument, type Weft } from '@weft/core';

export interface ServerOptions {
  /** The registry to serve (`createWeft({ store, providers, … })`). */
  weft: Weft;
  /** Largest request body, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Requests per API key per window; `false` turns rate limiting off. Default 1,000 per 10 s. */
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /**
   * A run that neither streams nor runs in the background answers when it ends — or after this long,
   * with the run as it stands (RUNNING), as `background: true` would. Default 300,000 ms (5 min).
   */
  runWaitMs?: number;
  /** Time to receive a whole request (headers and body). Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this long. Default 72,000 ms. */
  keepAliveTimeoutMs?: number;
  /** A stream sends a comment line this often so proxies keep it open. Default 15,000 ms; 0: never. */
  heartbeatMs?: number;
  /** Bytes a stream may queue for a slow client before it is closed (the run goes on). Default 8 MiB. */
  maxStreamBufferBytes?: number;
  /** Most items read to page and count a short list (workflows, versions, tests). Default 10,000. */
  maxListScan?: number;
  /** Serve the API reference UI at `/docs`. Default true. */
  docs?: boolean;
  /** Check every response against its route's schema and fail with 500 if it does not match (tests). */
  checkResponses?: boolean;
  /** Fastify's logger option (pino). Default false. */
  logger?: boolean | Record<string, unknown>;
  /** Trust `X-Forwarded-*` from a proxy in front (the client IP of unauthenticated limits). Default false. */
  trustProxy?: boolean;
}

export interface ResolvedOptions {
  weft: Weft;
  bodyLimit: number;
  rateLimit: { max: number; timeWindowMs: number } | false;
  runWaitMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  heartbeatMs: number;
  maxStreamBufferBytes: number;
  maxListScan: number;
  docs: boolean;
  checkResponses: boolean;
  logger: boolean | Record<string, unknown>;
  trustProxy: boolean;
}

function positiveInteger(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalidArgument(name, allowZero ? 'an integer ≥ 0' : 'a positive integer', value);
  }
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(name, 'true or false', value);
  return value;
}

export function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument('options', 'an object with `weft` (createWeft())', options);
  }
  const weft = options.weft;
  if (weft === null || typeof weft !== 'object' || typeof weft.app !== 'function') {
    throw invalidArgument('options.weft', 'a Weft registry (createWeft())', weft);
  }
  let rateLimit: ResolvedOptions['rateLimit'] = { max: 1_000, timeWindowMs: 10_000 };
  if (options.rateLimit === false) rateLimit = false;
  else if (options.rateLimit !== undefined) {
    const r = options.rateLimit;
    if (r === null || typeof r !== 'object') {
      throw invalidArgument('options.rateLimit', '{ max, timeWindowMs } or false', r);
    }
    rateLimit = {
      max: positiveInteger('options.rateLimit.max', r.max, 1_000),
      timeWindowMs: positiveInteger('options.rateLimit.timeWindowMs', r.timeWindowMs, 10_000),
    };
  }
  const logger = options.logger ?? false;
  if (typeof logger !== 'boolean' && (logger === null || typeof logger !== 'object')) {
    throw invalidArgument('options.logger', 'true, false or pino options', logger);
  }
  return {
    weft,
    bodyLimit: positiveInteger('options.bodyLimit', options.bodyLimit, 1024 * 1024),
    rateLimit,
    runWaitMs: positiveInteger('options.runWaitMs', options.runWaitMs, 300_000),
    requestTimeoutMs: positiveInteger('options.requestTimeoutMs', options.requestTimeoutMs, 30_000),
    keepAliveTimeoutMs: positiveInteger('options.keepAliveTimeoutMs', options.keepAliveTimeoutMs, 72_000),
    heartbeatMs: positiveInteger('options.heartbeatMs', options.heartbeatMs, 15_000, true),
    maxStreamBufferBytes: positiveInteger(
      'options.maxStreamBufferBytes',
      options.maxStreamBufferBytes,
      8 * 1024 * 1024,
    ),
    maxListScan: positiveInteger('options.maxListScan', options.maxListScan, 10_000),
    docs: flag('options.docs', options.docs, true),
    checkResponses: flag('options.checkResponses', options.checkResponses, false),
    logger,
    trustProxy: flag('options.trustProxy', options.trustProxy, false),
  };
}
