/** TypeScript types of the document model, derived from the TypeBox schema (model/schema.ts). */
import type { Static } from '@sinclair/typebox';
import type {
  AutoSchema,
  BranchConditionSchema,
  BranchStepSchema,
  BrowserStepSchema,
  CodeStepSchema,
  CreatedBySchema,
  CustomStepSchema,
  DraftSchema,
  HttpRequestStepSchema,
  InputFieldSchema,
  InputOptionsSchema,
  InputStepSchema,
  MessageSchema,
  ModelConfigSchema,
  ModelStepSchema,
  NoteStepSchema,
  RetrySchema,
  ServiceConfigSchema,
  ServiceStepSchema,
  ToolCallSchema,
  ToolObjectSchema,
  VersionSchema,
  WorkflowStepSchema,
} from './schema.js';

export type Auto = Static<typeof AutoSchema>;
export type RetryPolicy = Static<typeof RetrySchema>;
export type InputField = Static<typeof InputFieldSchema>;
export type Message = Static<typeof MessageSchema>;
/** A tool of a model step written as an object (`provider.tools[]`). */
export type ToolObject = Static<typeof ToolObjectSchema>;
/** A tool call of an assistant message, as the platform writes it. */
export type ToolCall = Static<typeof ToolCallSchema>;
export type ModelConfig = Static<typeof ModelConfigSchema>;
export type BranchCondition = Static<typeof BranchConditionSchema>;
export type ServiceConfig = Static<typeof ServiceConfigSchema>;
export type InputOptions = Static<typeof InputOptionsSchema>;
export type CreatedBy = Static<typeof CreatedBySchema>;

export type NoteStep = Static<typeof NoteStepSchema>;
export type InputStep = Static<typeof InputStepSchema>;
export type BranchStep = Static<typeof BranchStepSchema>;
export type CodeStep = Static<typeof CodeStepSchema>;
export type ModelStep = Static<typeof ModelStepSchema>;
export type HttpRequestStep = Static<typeof HttpRequestStepSchema>;
export type WorkflowStep = Static<typeof WorkflowStepSchema>;
export type ServiceStep = Static<typeof ServiceStepSchema>;
export type BrowserStep = Static<typeof BrowserStepSchema>;
/** A step of a host-registered type; its own fields are kept as they are. */
export type CustomStep = Static<typeof CustomStepSchema> & Record<string, unknown>;

export type Step =
  | NoteStep
  | InputStep
  | BranchStep
  | CodeStep
  | ModelStep
  | HttpRequestStep
  | WorkflowStep
  | ServiceStep
  | BrowserStep
  | CustomStep;

/** Fields every step has. */
export type StepBase = Static<typeof CustomStepSchema>;

export type WorkflowVersionDraft = Static<typeof DraftSchema>;
export type WorkflowVersion = Static<typeof VersionSchema>;
/** What the engine runs: a published version or a draft. */
export type VersionDocument = WorkflowVersionDraft | WorkflowVersion;
