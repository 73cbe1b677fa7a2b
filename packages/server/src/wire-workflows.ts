/**
 * Weft's workflow → the platform's WorkflowSchema: the draft's document fields at the top level (for
 * another app's discoverable workflow, whose draft is private: the latest version's), the latest
 * published version as `version`, `enabled` for not archived, and the fields Weft has no notion of
 * (tags, templates) empty.
 */
import type { DiscoverableWorkflow, PublishedVersion, VersionDocument, Workflow } from '@weft/core';
import { toWireVersion } from './wire-documents.js';
import type { WireTestsStats } from './wire-tests.js';

export interface WireWorkflow {
  id: string;
  name: string;
  description: string | null;
  app: { id: string; name: string; verified: boolean };
  version: PublishedVersion | null;
  tags: never[];
  tests_stats: WireTestsStats | null;
  template_id: null;
  runs_count: number;
  retention: Workflow['retention'];
  enabled: boolean;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  key: string | null;
  input: Record<string, unknown>;
  input_default: Record<string, unknown> | null;
  input_options: Record<string, unknown> | null;
  steps: unknown[];
  app_id: string;
  discoverable: boolean;
  archived_at: string | null;
  latest_version: number | null;
  draft?: VersionDocument;
}

export interface WorkflowExtras {
  latest: PublishedVersion | null;
  runsCount: number;
  testsStats: WireTestsStats | null;
}

export function toWireWorkflow(
  workflow: Workflow | DiscoverableWorkflow,
  extras: WorkflowExtras,
): WireWorkflow {
  const draft = 'draft' in workflow ? workflow.draft : undefined;
  const document: VersionDocument | null = draft ?? extras.latest;
  return {
    id: workflow.id,
    name: workflow.name,
    description: workflow.description,
    app: { id: workflow.app_id, name: workflow.app_id, verified: false },
    version: extras.latest === null ? null : toWireVersion(extras.latest),
    tags: [],
    tests_stats: extras.testsStats,
    template_id: null,
    runs_count: extras.runsCount,
    retention: workflow.retention,
    enabled: workflow.archived_at === null,
    deleted: false,
    created_at: workflow.created_at,
    updated_at: workflow.updated_at,
    key: document?.key ?? null,
    input: (document?.input as Record<string, unknown> | undefined) ?? {},
    input_default: (document?.input_default as Record<string, unknown> | undefined) ?? null,
    input_options: (document?.input_options as Record<string, unknown> | undefined) ?? null,
    steps: document?.steps ?? [],
    app_id: workflow.app_id,
    discoverable: workflow.discoverable,
    archived_at: workflow.archived_at,
    latest_version: workflow.latest_version,
    ...(draft === undefined ? {} : { draft }),
  };
}
