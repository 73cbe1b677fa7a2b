/**
 * Time-ordered ids (RFC 9562 UUID version 7) — the registry's default for run, workflow and version ids.
 *
 * Why not `crypto.randomUUID` (version 4): a durable store keys its journal, step records and run
 * indexes by run id, and random ids scatter every run's inserts over the whole b-tree (each commit
 * rewrites a few random pages, and they split). Ids that grow with time land on the rightmost pages:
 * measured on SQLite, a 10-step run's commit writes about half the WAL frames (docs/performance.md).
 *
 * Layout: 48 bits of Unix milliseconds, the version (7), 12 bits of a counter that starts at a random
 * value below 2,048 in each new millisecond and counts up within it (ids of one process are strictly
 * increasing, even when the clock steps back: the last millisecond is kept until the clock passes it),
 * the variant, and 62 random bits (`crypto.randomFillSync`). So an id is unguessable to the extent of
 * its 62 random bits (plus the counter's start) — as much as a capability URL needs, a little less
 * than version 4's 122 — and it tells when it was made, to the millisecond.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn 8 per id from a pool refilled 4 KB at a time (one system call per 512 ids). */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

function randomStart(): number {
  if (poolAt + 2 > POOL.length) refill();
  const value = ((POOL[poolAt]! << 8) | POOL[poolAt + 1]!) & 0x7ff;
  poolAt += 2;
  return value;
}

function refill(): void {
  randomFillSync(POOL);
  poolAt = 0;
}

/**
 * A generator of UUID version 7 strings (lowercase hex, 8-4-4-4-12), each later than every one it made
 * before. Each generator keeps its own last millisecond and counter.
 */
export function uuidv7Generator(): (now?: number) => string {
  let lastMs = -1;
  let counter = 0;
  return (now: number = Date.now()): string => {
    if (now > lastMs) {
      lastMs = now;
      counter = randomStart();
    } else if (++counter > 0xfff) {
      // 2,048+ ids in one millisecond (or a clock that stepped back): borrow the next millisecond.
      lastMs += 1;
      counter = randomStart();
    }
    return format(lastMs, counter);
  };
}

const processIds = uuidv7Generator();

/** The registry's default id generator: one sequence per process, on the real clock. */
export function uuidv7(): string {
  return processIds();
}

function format(ms: number, counter: number): string {
  if (poolAt + 8 > POOL.length) refill();
  const r = poolAt;
  poolAt += 8;
  const high = Math.floor(ms / 0x10000); // the top 32 of the 48 bits
  const low = ms % 0x10000;
  return (
    HEX[(high >>> 24) & 0xff]! +
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    '-' +
    HEX[low >>> 8]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (POOL[r]! & 0x3f)]! +
    HEX[POOL[r + 1]!]! +
    '-' +
    HEX[POOL[r + 2]!]! +
    HEX[POOL[r + 3]!]! +
    HEX[POOL[r + 4]!]! +
    HEX[POOL[r + 5]!]! +
    HEX[POOL[r + 6]!]! +
    HEX[POOL[r + 7]!]!
  );
}
