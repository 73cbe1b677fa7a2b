/**
 * The runner behind each handle an engine made. Internal to @weft/core (the registry projects runs into
 * its store from their runners): kept out of engine.ts so that the public declarations of the engine
 * never reference the Runner (and, through it, xstate).
 */
import { EngineRunHandle } from './engine-handle.js';
import type { RunHandle } from './handle.js';
import type { Runner } from './runner.js';

/** The runner of a handle an engine made (a field of the handle: no WeakMap, see engine-handle.ts). */
export function runnerOf(handle: RunHandle): Runner | undefined {
  return handle !== null && typeof handle === 'object' ? EngineRunHandle.runnerOf(handle) : undefined;
}
