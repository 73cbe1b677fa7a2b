/** The default FileStore: files in memory, bounded in count and in total bytes. */
import { randomUUID } from 'node:crypto';
import { ERROR_CODES, WeftError } from '../errors.js';
import { type AppFile, FILE_URL_SCHEME, type FileStore, type NewFile } from './types.js';

export interface MemoryFileStoreOptions {
  /** Total bytes kept across every app. Default 256 MiB. */
  maxBytes?: number;
  /** Files kept across every app. Default 10,000. */
  maxFiles?: number;
  ids?: () => string;
  now?: () => number;
}

export class MemoryFileStore implements FileStore {
  readonly #files = new Map<string, { file: AppFile; data: Uint8Array }>();
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #ids: () => string;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: MemoryFileStoreOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.#maxFiles = options.maxFiles ?? 10_000;
    this.#ids = options.ids ?? randomUUID;
    this.#now = options.now ?? Date.now;
  }

  async put(input: NewFile): Promise<AppFile> {
    const size = input.data.byteLength;
    if (this.#bytes + size > this.#maxBytes || this.#files.size >= this.#maxFiles) {
      throw new WeftError(
        ERROR_CODES.LIMIT,
        `The file store is full (${this.#files.size} files, ${this.#bytes} bytes; at most ${this.#maxFiles} files and ${this.#maxBytes} bytes). Delete files (FILES.DELETE_FILE) or give createEngine({ files }) a store of your own.`,
        { details: { files: this.#files.size, bytes: this.#bytes }, retryable: false },
      );
    }
    const id = this.#ids();
    const file: AppFile = {
      id,
      file_id: id,
      file_filename: input.name,
      file_size: size,
      file_mimetype: input.mime_type,
      file_url: `${FILE_URL_SCHEME}${id}`,
      file_status: 'PROCESSED',
      storage: input.storage,
      visibility: input.visibility,
      app_id: input.app_id,
      created_at: new Date(this.#now()).toISOString(),
    };
    this.#files.set(id, { file, data: input.data.slice() });
    this.#bytes += size;
    return { ...file };
  }

  async get(appId: string | null, id: string) {
    const entry = this.#files.get(id);
    if (entry === undefined || entry.file.app_id !== appId) return null;
    return { file: { ...entry.file }, data: entry.data.slice() };
  }

  async delete(appId: string | null, id: string): Promise<boolean> {
    const entry = this.#files.get(id);
    if (entry === undefined || entry.file.app_id !== appId) return false;
    this.#files.delete(id);
    this.#bytes -= entry.data.byteLength;
    return true;
  }
}
