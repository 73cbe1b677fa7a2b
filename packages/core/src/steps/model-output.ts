/** A `model` step's output (docs/steps.md, `model`): the platform's fields. */

/** A tool call as the output records it: `name` as the document names the tool. */
export interface ModelToolCallOutput {
  id: string;
  name: string;
  input: unknown;
}

/** A tool call's result: its output, or `{ error: { code, message } }` when it failed. */
export interface ModelToolResultOutput {
  id: string;
  name: string;
  output: unknown;
}

export interface ModelOutput {
  provider: string;
  model: string;
  message: unknown;
  tool_calls: ModelToolCallOutput[];
  tool_results: ModelToolResultOutput[];
  refusal?: string;
  raw?: unknown;
}
