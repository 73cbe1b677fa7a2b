/**
 * Documents on the wire: the platform's versions and drafts always carry `key`, `input`,
 * `input_default` and `input_options` (null when unset); Weft stores only what the document has.
 */
import type { PublishedVersion, WorkflowVersionDraft } from '@weft/core';

export interface DocumentFields {
  key: string | null;
  input: Record<string, unknown>;
  input_default: Record<string, unknown> | null;
  input_options: Record<string, unknown> | null;
}

export function toWireDocument<T extends WorkflowVersionDraft>(document: T): T & DocumentFields {
  return {
    ...document,
    key: document.key ?? null,
    input: (document.input as Record<string, unknown> | undefined) ?? {},
    input_default: (document.input_default as Record<string, unknown> | null | undefined) ?? null,
    input_options: (document.input_options as Record<string, unknown> | null | undefined) ?? null,
  };
}

export function toWireVersion(version: PublishedVersion): PublishedVersion & DocumentFields {
  return toWireDocument(version);
}
