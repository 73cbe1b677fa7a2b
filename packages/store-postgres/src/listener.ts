/**
 * The store's listening connection: while anyone subscribes, one connection of the pool is held and
 * `LISTEN`s on the schema's channel; every notice on it goes to the subscribers. When the connection
 * drops (a restart, a network cut, a ping that goes unanswered) it is replaced, with a growing pause
 * between attempts (100 ms doubling to 5 s), for as long as there are subscribers. Notices sent while it
 * was away are lost — PostgreSQL keeps none for a session that is not listening — so, once listening
 * (again), every subscribed topic gets a `run_id: null` notice: look at the store now.
 *
 * Payloads are parsed as untrusted input: anyone who can connect can NOTIFY on the channel. A payload that
 * is not `{ "topic": <a notice topic>, "run_id": <a string> }` is dropped.
 */
import { MAX_NOTICE_RUN_ID, NOTICE_TOPICS, type NoticeHub, type NoticeTopic } from '@weft/core/store';
import type pg from 'pg';

export interface ListenerOptions {
  pool: pg.Pool;
  /** The channel (the schema's name). */
  channel: string;
  hub: NoticeHub;
  /** How often the idle connection is checked with a query; default 30 s. */
  pingMs?: number;
  /** How long a ping may take before the connection is replaced; default 10 s. */
  pingTimeoutMs?: number;
}

const MIN_PAUSE_MS = 100;
const MAX_PAUSE_MS = 5000;

export function parseNotice(payload: unknown): { topic: NoticeTopic; run_id: string } | null {
  if (typeof payload !== 'string' || payload.length > 8000) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const { topic, run_id: runId } = value as { topic?: unknown; run_id?: unknown };
  if (!NOTICE_TOPICS.includes(topic as NoticeTopic)) return null;
  if (typeof runId !== 'string' || runId === '' || runId.length > MAX_NOTICE_RUN_ID) return null;
  return { topic: topic as NoticeTopic, run_id: runId };
}

export class Listener {
  readonly #options: Required<ListenerOptions>;
  #client: pg.PoolClient | null = null;
  #connecting = false;
  #stopped = true;
  #timer: NodeJS.Timeout | null = null;
  #ping: NodeJS.Timeout | null = null;
  #pause = MIN_PAUSE_MS;
  /** Times the connection was (re-)established: for tests and diagnostics. */
  connections = 0;
  /** The last reason the connection was lost or could not be made. */
  lastError: unknown = null;

  constructor(options: ListenerOptions) {
    this.#options = { pingMs: 30_000, pingTimeoutMs: 10_000, ...options };
  }

  get listening(): boolean {
    return this.#client !== null;
  }

  /** Starts listening (idempotent). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#pause = MIN_PAUSE_MS;
    void this.#connect();
  }

  /** Stops listening and gives the connection back. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimers();
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    try {
      await client.query(`UNLISTEN ${quote(this.#options.channel)}`);
      detach(client);
      client.release();
    } catch (error) {
      detach(client);
      client.release(error instanceof Error ? error : true);
    }
  }

  #clearTimers(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#ping !== null) clearInterval(this.#ping);
    this.#timer = null;
    this.#ping = null;
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#connecting || this.#client !== null) return;
    this.#connecting = true;
    let client: pg.PoolClient | null = null;
    try {
      client = await this.#options.pool.connect();
      const held = client;
      const onError = (error: Error) => this.#lost(held, error);
      const onEnd = () => this.#lost(held, new Error('Connection terminated'));
      const onNotification = (message: pg.Notification) => {
        if (message.channel !== this.#options.channel) return;
        const notice = parseNotice(message.payload);
        if (notice !== null) this.#options.hub.emit(notice.topic, notice.run_id);
      };
      held.on('error', onError);
      held.on('end', onEnd);
      held.on('notification', onNotification);
      // Only ours are removed when the connection goes back to the pool (it is reused: listeners of
      // every earlier listening period would pile up on it).
      LISTENERS.set(held, () => {
        held.off('error', onError);
        held.off('end', onEnd);
        held.off('notification', onNotification);
      });
      await client.query(`LISTEN ${quote(this.#options.channel)}`);
    } catch (error) {
      this.#connecting = false;
      this.lastError = error;
      if (client !== null) {
        detach(client);
        client.release(error instanceof Error ? error : true);
      }
      this.#retry();
      return;
    }
    this.#connecting = false;
    if (this.#stopped) {
      detach(client);
      client.release(true);
      return;
    }
    this.#client = client;
    this.connections++;
    this.#pause = MIN_PAUSE_MS;
    this.#ping = setInterval(() => void this.#check(client), this.#options.pingMs);
    this.#ping.unref();
    // Whatever was sent before now was missed: every subscriber rescans.
    for (const topic of this.#options.hub.topics()) this.#options.hub.emit(topic, null);
  }

  /** A ping: a connection that does not answer in time is replaced. */
  async #check(client: pg.PoolClient): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('The listening connection did not answer a ping')),
            this.#options.pingTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      this.#lost(client, error);
    } finally {
      clearTimeout(timer);
    }
  }

  #lost(client: pg.PoolClient, error: unknown): void {
    if (this.#client !== client) return;
    this.lastError = error;
    this.#client = null;
    this.#clearTimers();
    detach(client);
    client.release(error instanceof Error ? error : true);
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, this.#pause);
    this.#timer.unref();
    this.#pause = Math.min(MAX_PAUSE_MS, this.#pause * 2);
  }
}

function quote(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

/** The listeners a listening period put on a pooled connection, to take them off again. */
const LISTENERS = new WeakMap<pg.PoolClient, () => void>();

function detach(client: pg.PoolClient): void {
  LISTENERS.get(client)?.();
  LISTENERS.delete(client);
}
