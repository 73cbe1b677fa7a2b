/**
 * `createServer({ weft })`: the Workflows API over HTTP on Fastify — the platform's paths, methods,
 * bodies and wire shapes, served from a `createWeft()` registry (any store). Every `/apps/{app_id}/…`
 * route needs an API key of that app (auth.ts) and is rate-limited per key; `GET /openapi.json` is the
 * OpenAPI document built from the same schemas that validate requests, rendered at `/docs`.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ERROR_CODES, WeftError } from '@weft/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { authenticate, scopedApp } from './auth.js';
import { Deadlines } from './deadlines.js';
import { errorBody } from './http-errors.js';
import { type ResolvedOptions, resolveOptions, type ServerOptions } from './options.js';
import type { RouteContext } from './route-context.js';
import { discoverRoutes } from './routes-discover.js';
import { expectationRoutes } from './routes-expectations.js';
import { runRoutes } from './routes-runs.js';
import { testRoutes } from './routes-tests.js';
import { variableRoutes } from './routes-variables.js';
import { workflowRoutes } from './routes-workflows.js';
import { serializerCompiler, validatorCompiler } from './validators.js';

const NoQuery = Type.Object({}, { additionalProperties: false });

export const SERVER_VERSION = '0.1.0';

const DESCRIPTION = `The Workflows API of a hosted AI-workflow platform, served by Weft from its registry.

Authenticate with \`Authorization: Bearer <key>\` (\`weft keys create --app <app>\`). A key acts for one
app: \`{app_id}\` is that app, or \`c\` for "the key's app". Lists take \`page\` and \`take\` and answer a
JSON array with \`pagination-page\`, \`pagination-take\` and \`pagination-count\` headers. Errors answer
\`{ status, message, code, errors? }\`. See docs/server.md.`;

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const o: ResolvedOptions = resolveOptions(options);
  const app = Fastify({
    logger: o.logger,
    bodyLimit: o.bodyLimit,
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    trustProxy: o.trustProxy,
    exposeHeadRoutes: false,
    // Path parameters (ids) up to 200 characters; longer is 414.
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler());
  app.setSerializerCompiler(serializerCompiler(o.checkResponses));

  // JSON bodies with prototype-poisoning keys are refused; an empty body with a JSON content type is
  // no body (clients send one on bodiless POSTs such as cancel).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) done(null, undefined);
    else json(request, body as string, done);
  });

  app.setErrorHandler((error, request, reply) => {
    const { body, internal } = errorBody(error);
    if (internal) request.log.error({ err: error }, 'request failed');
    if (reply.sent || reply.raw.headersSent) return;
    void reply.code(body.status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      status: 404,
      code: ERROR_CODES.NOT_FOUND,
      message: `There is no route ${request.method} ${request.url.split('?')[0]}: GET /openapi.json lists them (and /docs shows them).`,
    });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Weft — Workflows API', version: SERVER_VERSION, description: DESCRIPTION },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key of the app.' },
        },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'Workflows', description: 'Workflows, drafts and versions.' },
        { name: 'Runs', description: 'Running workflows and reading, replaying, cancelling runs.' },
        { name: 'Discover', description: 'Other apps’ discoverable workflows.' },
        { name: 'Tests', description: 'A workflow’s tests.' },
        { name: 'Variables', description: 'App variables ($vars); secrets are write-only.' },
      ],
    },
  });
  if (o.docs) await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  const ctx: RouteContext = { weft: o.weft, options: o, deadlines: new Deadlines() };
  await app.register(
    async (apps) => {
      apps.decorateRequest('apiKey', null);
      // A route without query parameters refuses any (nothing sent is silently ignored).
      apps.addHook('onRoute', (route) => {
        route.schema ??= {};
        route.schema.querystring ??= NoQuery;
      });
      apps.addHook('onRequest', async (request) => {
        const key = await authenticate(o.weft.store, request.headers.authorization);
        request.apiKey = key;
        // Another app in the path is answered like a missing resource, before anything else runs.
        scopedApp(key, (request.params as { app_id: string }).app_id);
      });
      if (o.rateLimit !== false) {
        await apps.register(rateLimit, {
          max: o.rateLimit.max,
          timeWindow: o.rateLimit.timeWindowMs,
          hook: 'preParsing',
          // Only a refused request carries the limit headers (and retry-after): setting three headers on
          // every answer cost more than the rest of the limiter.
          addHeadersOnExceeding: {
            'x-ratelimit-limit': false,
            'x-ratelimit-remaining': false,
            'x-ratelimit-reset': false,
          },
          keyGenerator: (request) => request.apiKey?.id ?? request.ip,
          errorResponseBuilder: (_request, context) =>
            new WeftError(
              ERROR_CODES.RATE_LIMITED,
              `This API key made more than ${context.max} requests in ${o.rateLimit === false ? 0 : o.rateLimit.timeWindowMs / 1000} s: retry in ${context.after}.`,
              { retryable: true },
            ),
        });
      }
      // Static segments first (find-my-way prefers them anyway): /workflows/discover is not a workflow id.
      await apps.register(discoverRoutes(ctx));
      await apps.register(workflowRoutes(ctx));
      await apps.register(runRoutes(ctx));
      await apps.register(expectationRoutes(ctx));
      await apps.register(testRoutes(ctx));
      await apps.register(variableRoutes(ctx));
    },
    { prefix: '/apps/:app_id' },
  );
  return app;
}
