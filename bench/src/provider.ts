/**
 * W6's provider: @weft/testing's scripted provider with a simulated latency, wrapped to count the calls
 * in flight so that the suite can check the engine's provider cap.
 */
import type { ModelRequest, ModelResponse, Provider } from '@weft/core';
import { scriptedProvider } from '@weft/testing';

export interface CountingProvider extends Provider {
  readonly stats: { calls: number; inFlight: number; peak: number };
  /** Forgets the scripted provider's record of calls (it keeps every request). */
  reset(): void;
}

export function countedScriptedProvider(latencyMs: number, name = 'scripted'): CountingProvider {
  const inner = scriptedProvider({ name, latencyMs });
  const stats = { calls: 0, inFlight: 0, peak: 0 };
  return {
    name,
    stats,
    reset: () => inner.reset(),
    async complete(request: ModelRequest): Promise<ModelResponse> {
      stats.calls++;
      if (++stats.inFlight > stats.peak) stats.peak = stats.inFlight;
      try {
        return await inner.complete(request);
      } finally {
        stats.inFlight--;
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
