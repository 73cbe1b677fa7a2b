// @weft/server — the Workflows API over HTTP. Values first, then types.
export { authenticate, scopedApp } from './auth.js';
export type { ErrorBody, ErrorItem } from './http-errors.js';
export { errorBody, HTTP_STATUS_OF } from './http-errors.js';
export type { NewApiKey } from './keys.js';
export {
  API_KEY_PREFIX,
  APP_ID_PATTERN,
  checkAppId,
  createApiKey,
  hashApiKey,
  newApiKey,
  PLACEHOLDER_APP_ID,
} from './keys.js';
export type { ServerOptions } from './options.js';
export { createServer, SERVER_VERSION } from './server.js';
export type { ShutdownOptions, ShutdownReport } from './shutdown.js';
export { shutdown } from './shutdown.js';
export type { WireRun, WireStep } from './wire-runs.js';
export { toWireRun, toWireStep } from './wire-runs.js';
export type { WireExpectation, WireTest, WireTestsStats } from './wire-tests.js';
export { toWireTest } from './wire-tests.js';
export type { WireWorkflow } from './wire-workflows.js';
export { toWireWorkflow } from './wire-workflows.js';
