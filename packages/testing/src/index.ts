// @weft/testing — deterministic providers, fixtures, a fake clock and a recording HTTP server. Values first, then types.
import { fixturesToOptions, fromFixtures } from './fixtures.js';
import { scriptedProvider as createScripted } from './scripted.js';

/** A deterministic Provider; `scriptedProvider.fromFixtures(json)` builds one from a fixtures document. */
export const scriptedProvider: typeof createScripted & { fromFixtures: typeof fromFixtures } = Object.assign(
  createScripted,
  { fromFixtures },
);

export type { ScriptedChoices } from './auto.js';
export { placeholder, SCRIPTED_CATALOGUE, scriptedAutoModel } from './auto.js';
export type { FakeClock } from './clock.js';
export { createFakeClock, FAKE_CLOCK_START } from './clock.js';
export type { ScriptedFixtures } from './fixtures.js';
export type { MockHandler, MockServer, RecordedRequest } from './mock-server.js';
export { sendJson, startMockServer, startSse } from './mock-server.js';
export type {
  ResolvedReply,
  ScriptedErrorReply,
  ScriptedReply,
  ScriptedReplyFn,
  ScriptedRequest,
  ScriptedResponseReply,
  ScriptedSequenceReply,
} from './reply.js';
export { scriptedError, sequence } from './reply.js';
export type { ReplySource, ScriptedMatcher, ScriptedProvider, ScriptedProviderOptions } from './scripted.js';
export { echoReply } from './scripted.js';
export { estimateTokens, messageText, splitWords } from './text.js';
export { fixturesToOptions, fromFixtures };
