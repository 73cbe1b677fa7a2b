export interface TestPostgres {
  /** postgres://user:password@127.0.0.1:port/postgres */
  url: string;
  version: string;
  /** The server's (postmaster's) process id; undefined for WEFT_TEST_DATABASE_URL. */
  pid: number | undefined;
  /** Stops the server and deletes its data (a no-op for WEFT_TEST_DATABASE_URL). */
  stop(): Promise<void>;
}

export function startTestPostgres(options?: {
  fast?: boolean;
  timeoutMs?: number;
  /** More server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number>;
}): Promise<TestPostgres>;
