/**
 * The policy-checked fetch behind `http_request` (and the `browser` step): every request a document makes
 * goes through here. Redirects are followed by hand, at most `maxRedirects` hops, and the host's policy is
 * checked again on every hop — the URL with `http.allow`, and the address the name resolves to when the
 * policy needs it (`allowPrivateNetwork: false` refuses loopback, private, link-local and other
 * non-public addresses; `allow(url, target)` sees `target.addresses`). The body is read up to
 * `maxResponseBytes`; one deadline covers every hop and the body. Every failure is a coded WeftError.
 *
 * DNS rebinding: with `allowPrivateNetwork: false` and the built-in fetch, the connection itself is
 * guarded too. Every request goes through an undici `Agent` whose `connect.lookup` resolves the name with
 * the policy's resolver, checks every address and hands the socket only addresses that passed: the address
 * that is checked is the address that is connected to, on every hop, however differently a DNS server
 * answers the second time. A host that passes its own `fetch` gets the check before each hop only
 * (docs/security.md).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Agent } from 'undici';
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import type { HttpOptions, HttpTarget } from '../run/options.js';

export const DEFAULT_MAX_REDIRECTS = 5;
/** 10 MB: larger than any JSON API answer a workflow should carry in its run record. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface HttpFetchRequest {
  url: string;
  method: string;
  headers: Headers;
  /** Re-sent as it is on a 307/308 redirect (a string, form fields or form data: never a stream). */
  body?: string | URLSearchParams | FormData | undefined;
  /** At most this many bytes of the body, below the engine's `http.maxResponseBytes`. */
  maxBytes?: number;
  /** The whole exchange — every hop and the body — must end within this. null: no deadline of our own. */
  timeoutMs: number | null;
  /** The step's signal: cancellation and the step's own `timeout_ms`. */
  signal: AbortSignal;
  /** For messages and `WeftError.step_key`. */
  step_key: string;
}

export interface HttpFetchResult {
  /** The URL that answered (after redirects). */
  url: URL;
  status: number;
  statusText: string;
  headers: Headers;
  body: Uint8Array;
  /** Each URL redirected to, in order. */
  redirects: URL[];
}

export type HttpFetch = (request: HttpFetchRequest) => Promise<HttpFetchResult>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers a cross-origin redirect must not carry along (the fetch standard drops Authorization). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

/** A fetched resource, as `browser` steps and the FILES service read one. */
export interface FetchedResource {
  ok: boolean;
  status: number;
  statusText: string;
  /** The final URL (after redirects). */
  url: string;
  headers: Record<string, string>;
  /** The media type of the content-type header, lower-cased, without parameters ("" when none). */
  mediaType: string;
  bytes: Uint8Array;
}

export interface FetchRequest {
  step_key: string;
  url: string;
  signal: AbortSignal;
  /** Past this many bytes (or the engine's `http.maxResponseBytes`) the fetch fails with RESPONSE_TOO_LARGE. */
  maxBytes: number;
  /** False when the step has its own `timeout_ms` (the engine enforces that one). */
  useHttpTimeout: boolean;
}

export type PolicyFetch = (request: FetchRequest) => Promise<FetchedResource>;

/**
 * A GET through the engine's policy-checked fetch: the one call site of `browser` steps and the FILES
 * service (redirects, addresses, `http.allow` and the size limit all apply).
 */
export function policyFetch(fetch: HttpFetch, timeoutMs: number): PolicyFetch {
  return async ({ step_key, url, signal, maxBytes, useHttpTimeout }) => {
    const response = await fetch({
      url,
      method: 'GET',
      headers: new Headers(),
      maxBytes,
      timeoutMs: useHttpTimeout ? timeoutMs : null,
      signal,
      step_key,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return {
      ok: response.status >= 200 && response.status < 300,
      status: response.status,
      statusText: response.statusText,
      url: response.url.href,
      headers,
      mediaType: (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
      bytes: response.body,
    };
  };
}

/** The fetch every `http_request` (and `browser`) step of an engine uses. */
export function createHttpFetch(options: HttpOptions = {}): HttpFetch {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const privateNetwork = options.allowPrivateNetwork ?? true;
  const resolve = options.lookup ?? defaultLookup;
  const fetchImpl = options.fetch ?? (privateNetwork ? globalFetch : guardedFetch(resolve));
  // Resolving costs a DNS query: only when the policy looks at addresses.
  const needsAddresses = !privateNetwork || options.allow !== undefined;

  return async (request) => {
    const key = request.step_key;
    const deadline = request.timeoutMs === null ? null : AbortSignal.timeout(request.timeoutMs);
    const signal = deadline === null ? request.signal : AbortSignal.any([request.signal, deadline]);
    const failure = (error: unknown, url: URL): WeftError => {
      if (request.signal.aborted)
        return new CancelledError(`Step "${key}": the request was aborted.`, { step_key: key });
      if (deadline?.aborted) {
        return new WeftError(
          ERROR_CODES.STEP_TIMEOUT,
          `Step "${key}": ${request.method} ${where(url)} timed out after ${request.timeoutMs} ms (redirects and body included).`,
          { step_key: key, details: { timeout_ms: request.timeoutMs } },
        );
      }
      if (error instanceof WeftError) return error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${key}": ${request.method} ${where(url)} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
        { step_key: key, details: { url: where(url) }, retryable: true },
      );
    };

    let url = parseUrl(request.url, key);
    let method = request.method;
    let body = request.body;
    const headers = new Headers(request.headers);
    const redirects: URL[] = [];
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        await checkPolicy(url, hop, key);
        response = await fetchImpl(url, { method, headers, body, signal, redirect: 'manual' });
      } catch (error) {
        const refused = refusedAt(error);
        if (refused !== undefined) {
          throw forbidden(
            key,
            url,
            hop,
            `${refused.host} resolves to ${refused.address}, a loopback, private or otherwise non-public address (http.allowPrivateNetwork is false; checked when connecting)`,
            'private_address',
          );
        }
        throw failure(error, url);
      }
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) {
        let bytes: Uint8Array;
        try {
          bytes = await readBody(response, Math.min(maxBytes, request.maxBytes ?? maxBytes), key, url);
        } catch (error) {
          throw failure(error, url);
        }
        return {
          url,
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
          body: bytes,
          redirects,
        };
      }
      await response.body?.cancel().catch(() => {});
      if (hop >= maxRedirects) {
        throw new WeftError(
          ERROR_CODES.LIMIT_EXCEEDED,
          `Step "${key}": ${request.method} ${where(request.url)} was redirected more than ${maxRedirects} times (http.maxRedirects).`,
          { step_key: key, details: { limit: 'maxRedirects', max: maxRedirects }, retryable: false },
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new WeftError(
          ERROR_CODES.STEP_FAILED,
          `Step "${key}": ${where(url)} redirected to a location that is not a URL.`,
          { step_key: key, details: { url: where(url) }, retryable: false },
        );
      }
      // The fetch standard's rules: 303 (and 301/302 after a POST) become a GET without a body.
      if (
        response.status === 303
          ? method !== 'HEAD'
          : (response.status === 301 || response.status === 302) && method === 'POST'
      ) {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) headers.delete(name);
      }
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      redirects.push(next);
      url = next;
    }
  };

  async function checkPolicy(url: URL, hop: number, key: string): Promise<void> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw forbidden(
        key,
        url,
        hop,
        `only http and https URLs can be requested, got ${url.protocol}`,
        'protocol',
      );
    }
    if (!needsAddresses) return;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = [...(await resolve(host))];
      } catch (error) {
        throw new WeftError(
          ERROR_CODES.STEP_FAILED,
          `${prefix(key, hop)}the host ${host} could not be resolved (${describe(error)}).`,
          {
            step_key: key,
            details: { url: where(url), hop },
            retryable: true,
          },
        );
      }
    }
    if (!privateNetwork) {
      const blocked = addresses.find(isNonPublicAddress);
      if (blocked !== undefined) {
        throw forbidden(
          key,
          url,
          hop,
          `${host} resolves to ${blocked}, a loopback, private or otherwise non-public address (http.allowPrivateNetwork is false)`,
          'private_address',
        );
      }
    }
    if (options.allow !== undefined) {
      const target: HttpTarget = { hop, addresses };
      if (!(await options.allow(url, target))) {
        throw forbidden(key, url, hop, `the host does not allow requests to ${where(url)}`, 'allow');
      }
    }
  }
}

function prefix(key: string, hop: number): string {
  return `Step "${key}": ${hop === 0 ? '' : `after redirect ${hop}, `}`;
}

function forbidden(key: string, url: URL, hop: number, why: string, reason: string): WeftError {
  return new WeftError(ERROR_CODES.HTTP_FORBIDDEN, `${prefix(key, hop)}${why}.`, {
    step_key: key,
    details: { url: where(url), hop, reason },
    retryable: false,
  });
}

function parseUrl(text: string, key: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new WeftError(
      ERROR_CODES.STEP_FAILED,
      `Step "${key}": the url ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)} is not an absolute URL (after templates were resolved).`,
      { step_key: key, details: { field: 'url' }, retryable: false },
    );
  }
}

/**
 * `origin + pathname`, never the query or fragment (they often carry keys); a `…` marks that something
 * was left out, so that secret redaction treats the end as a cut (run/redaction.ts).
 */
function where(url: URL | string): string {
  if (typeof url === 'string') {
    try {
      return where(new URL(url));
    } catch {
      return '(invalid URL)';
    }
  }
  const shown = `${url.origin}${url.pathname}`;
  // An empty query or fragment ("…/x?") still cuts the URL where a secret may go on.
  return url.href.length > shown.length ? `${shown}…` : shown;
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

const globalFetch: typeof fetch = (url, init) => globalThis.fetch(url, init);

/** A connection refused by the guard of `connectLookup`: the name resolved to a non-public address. */
class AddressRefused extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a non-public address`);
    this.name = 'AddressRefused';
  }
}

/** The refusal behind a failed fetch (undici wraps the connection's error as `cause`), if that is what it is. */
function refusedAt(error: unknown): AddressRefused | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    if (e instanceof AddressRefused) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The `lookup` of a guarded connection (node:net's signature, both forms: one address, or `all`): resolves
 * with `resolve`, refuses the connection when any address is not public, else hands the socket the
 * addresses of the requested family. Exported for its tests.
 */
export function connectLookup(
  resolve: (hostname: string) => Promise<readonly string[]> | readonly string[],
  refuse: (address: string) => boolean = isNonPublicAddress,
): LookupFunction {
  return (hostname, options, callback) => {
    const done = callback as (error: Error | null, address?: unknown, family?: number) => void;
    Promise.resolve()
      .then(() => resolve(hostname))
      .then((answer) => {
        const all = [...answer];
        const blocked = all.find(refuse);
        if (blocked !== undefined) throw new AddressRefused(hostname, blocked);
        const family = typeof options.family === 'number' ? options.family : 0;
        const usable = all.filter((a) => family === 0 || isIP(a) === family);
        if (usable.length === 0) {
          throw Object.assign(new Error(`${hostname} has no ${family === 0 ? '' : `IPv${family} `}address`), {
            code: 'ENOTFOUND',
          });
        }
        if (options.all === true)
          done(
            null,
            usable.map((address) => ({ address, family: isIP(address) })),
          );
        else done(null, usable[0], isIP(usable[0]!));
      })
      .catch((error: unknown) => done(error instanceof Error ? error : new Error(String(error))));
  };
}

/**
 * undici's fetch through an Agent whose connections are guarded by `connectLookup` (one Agent per engine,
 * created on the first request). An IP address in the URL is connected to without a lookup: the policy
 * check before the hop has checked it already. `refuse` is for tests: the engine's is isNonPublicAddress.
 */
export function guardedFetch(
  resolve: (hostname: string) => Promise<readonly string[]> | readonly string[],
  refuse: (address: string) => boolean = isNonPublicAddress,
): typeof fetch {
  // undici is loaded on the first request, not at import: it is ~5 MB of heap that every full GC of an
  // app that never runs an `http` step would otherwise trace (measured: 20.5 → 16.1 MB after a W1-obs run).
  let undici: Promise<typeof import('undici')> | undefined;
  let agent: Agent | undefined;
  return (async (url: URL, init: RequestInit) => {
    undici ??= import('undici');
    const { Agent, fetch: undiciFetch } = await undici;
    agent ??= new Agent({ connect: { lookup: connectLookup(resolve, refuse) } });
    return undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
  }) as unknown as typeof fetch;
}

async function defaultLookup(hostname: string): Promise<string[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** Reads the body, refusing more than `max` bytes (by Content-Length first, then as it streams in). */
async function readBody(response: Response, max: number, key: string, url: URL): Promise<Uint8Array> {
  const tooLarge = () =>
    new WeftError(
      ERROR_CODES.RESPONSE_TOO_LARGE,
      `Step "${key}": the response of ${where(url)} is larger than ${max.toLocaleString('en-US')} bytes, the most this step reads (http.maxResponseBytes); reading stopped there.`,
      { step_key: key, details: { url: where(url), max_bytes: max }, retryable: false },
    );
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Addresses that are not on the public internet (IANA special-purpose registries, v4 and v6). */
const NON_PUBLIC = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(net, prefix, 'ipv4');
  }
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ] as const) {
    list.addSubnet(net, prefix, 'ipv6');
  }
  return list;
})();

/** True for loopback, private, link-local, CGNAT, documentation, multicast and reserved addresses. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse
  const embedded = embeddedIPv4(address);
  if (embedded !== null) return NON_PUBLIC.check(embedded, 'ipv4');
  return NON_PUBLIC.check(address, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIPv4(address: string): string | null {
  const groups = expandIPv6(address);
  if (groups === null) return null;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  const compat = groups.slice(0, 6).every((g) => g === 0) && (groups[6]! !== 0 || groups[7]! > 1);
  if (!mapped && !nat64 && !compat) return null;
  return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
}

function expandIPv6(address: string): number[] | null {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A trailing dotted IPv4 part becomes two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  const groups = [...left, ...new Array<string>(missing).fill('0'), ...right].map((g) =>
    Number.parseInt(g, 16),
  );
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}
