export { MemoryFileStore, type MemoryFileStoreOptions } from './memory.js';
export type { AppFile, FileStorage, FileStore, FileVisibility, NewFile } from './types.js';
export { FILE_STORAGES, FILE_URL_SCHEME, FILE_VISIBILITIES } from './types.js';
