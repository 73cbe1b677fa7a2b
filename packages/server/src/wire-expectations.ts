/** The expectation library's mapping: Weft's `WorkflowExpectation` ↔ the platform's WorkflowExpectationSchema. */
import type { WorkflowExpectation } from '@weft/core';

export interface WireLibraryExpectation {
  id: string;
  name: string;
  script: string;
  created_at: string | null;
  updated_at: string | null;
}

export function toWireLibraryExpectation(e: WorkflowExpectation): WireLibraryExpectation {
  return { id: e.id, name: e.name, script: e.script, created_at: e.created_at, updated_at: e.updated_at };
}
