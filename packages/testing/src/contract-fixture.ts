/**
 * What each registry contract (durable runs, workers, a run cancelled elsewhere, run input) sets up per
 * test: the store handles it opened — destroyed after the test, last first — and the Wefts it created,
 * closed before them (50 ms each at most: a Weft whose worker waits on a held step closes slowly, and the
 * handles go anyway). Call it inside the contract's `describe`: it registers the `afterEach`.
 */
import { createWeft, type Weft, type WeftOptions, type WeftStore } from '@weft/core';
import { afterEach } from 'vitest';

/** How a contract gets its stores (the options every contract takes). */
export interface ContractStores {
  /** A new, empty store (called for each test). */
  create(): WeftStore | Promise<WeftStore>;
  /** A second handle on the database of `store` (another process). Default: the same object. */
  reopen?(store: WeftStore): WeftStore | Promise<WeftStore>;
  /** Releases a handle after its test. */
  destroy?(store: WeftStore): void | Promise<void>;
}

export interface ContractFixture {
  /** A new store, destroyed after the test. */
  open(): Promise<WeftStore>;
  /** Another handle on `store`'s database (the same object without `reopen`), destroyed after the test. */
  reopen(store: WeftStore): Promise<WeftStore>;
  /** `weft`, closed after the test. */
  track(weft: Weft): Weft;
  /** A Weft made with `options` (store errors not reported: contracts provoke them), closed after the test. */
  weft(options: WeftOptions): Weft;
}

export function contractFixture(options: ContractStores): ContractFixture {
  const handles: WeftStore[] = [];
  const wefts: Weft[] = [];
  afterEach(async () => {
    for (const weft of wefts.splice(0))
      await Promise.race([weft.close(), new Promise((r) => setTimeout(r, 50))]);
    for (const store of handles.splice(0).reverse()) await options.destroy?.(store);
  });
  const track = (weft: Weft): Weft => {
    wefts.push(weft);
    return weft;
  };
  return {
    async open() {
      const store = await options.create();
      handles.push(store);
      return store;
    },
    async reopen(store) {
      if (options.reopen === undefined) return store;
      const again = await options.reopen(store);
      if (again !== store) handles.push(again);
      return again;
    },
    track,
    weft: (opts) => track(createWeft({ onStoreError: () => undefined, ...opts })),
  };
}
