/**
 * The app's files, as the `FILES` service sees them: the minimal concept Weft needs to run the platform's
 * `FILES` actions. A file belongs to an app (a run's `app_id`; `null` for runs of a bare engine), has
 * bytes, a name and a MIME type, and is addressed by id. Field names follow the platform's AppFileSchema.
 * The host plugs its own store in with `createEngine({ files })`; the default keeps files in memory.
 */
export const FILE_STORAGES = ['PERSISTENT', 'TEMPORARY'] as const;
export type FileStorage = (typeof FILE_STORAGES)[number];
export const FILE_VISIBILITIES = ['PRIVATE', 'PUBLIC'] as const;
export type FileVisibility = (typeof FILE_VISIBILITIES)[number];

/** A file as a step output shows it (no bytes). */
export interface AppFile {
  id: string;
  /** The same id (the platform has a separate storage id; Weft's store has one id). */
  file_id: string;
  file_filename: string;
  file_size: number;
  file_mimetype: string;
  /** `weft-file://<id>`: a reference other steps can pass back as `file` (Weft serves no URLs itself). */
  file_url: string;
  file_status: 'PROCESSED';
  storage: FileStorage;
  visibility: FileVisibility;
  app_id: string | null;
  created_at: string;
}

export interface NewFile {
  app_id: string | null;
  name: string;
  mime_type: string;
  data: Uint8Array;
  storage: FileStorage;
  visibility: FileVisibility;
}

/** Where the `FILES` service keeps files. Every method is scoped to an app. */
export interface FileStore {
  put(file: NewFile): Promise<AppFile>;
  /** Null when the app has no such file. */
  get(appId: string | null, id: string): Promise<{ file: AppFile; data: Uint8Array } | null>;
  /** False when the app had no such file. */
  delete(appId: string | null, id: string): Promise<boolean>;
}

export const FILE_URL_SCHEME = 'weft-file://';
