/**
 * The runner behind each handle an engine made. Internal to @weft/core (the registry projects runs into
 * its store from their runners): kept out of engine.ts so that the public declarations of the engine
 * never reference the Runner (and, through it, xstate).
 */
import type { RunHandle } from './handle.js';
import type { Runner } from './runner.js';

export const RUNNERS = new WeakMap<RunHandle, Runner>();

/** The runner of a handle an engine made. */
export function runnerOf(handle: RunHandle): Runner | undefined {
  return RUNNERS.get(handle);
}
