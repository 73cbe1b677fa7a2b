/**
 * The tools of a `model` step (`provider.tools`), read the one way the validator and the compiler share:
 * each entry names a step of the same version (a **step tool**, run as that step with `input` bound to the
 * call's arguments) or a tool registered on the engine (an **external tool**: `external:NAME`, or a bare
 * name or tool object that is no step key). On the wire a tool is called by its `wire` name — the step key,
 * or NAME without `external:` — which providers restrict to `[a-zA-Z0-9_-]{1,64}`.
 */

/** What providers accept as a tool name (OpenAI's and Anthropic's rule). */
export const TOOL_WIRE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const EXTERNAL_PREFIX = 'external:';

export const TOOL_KINDS = { STEP: 'step', EXTERNAL: 'external' } as const;
export type ToolKind = (typeof TOOL_KINDS)[keyof typeof TOOL_KINDS];

/** One entry of `provider.tools`, resolved. */
export interface ToolReference {
  /** The name as the document writes it (`LOOKUP`, `external:refund`): what `tool_calls[].name` records. */
  name: string;
  /** The name the model sees and calls. */
  wire: string;
  kind: ToolKind;
  /** The step key (step tool) or the engine's tool name (external tool). */
  target: string;
  /** The tool object's `description`, if it has one. */
  description: string | undefined;
  /** The tool object's `input` definition, if it has one. */
  input: Record<string, unknown> | undefined;
}

/** Why an entry could not be resolved (the validator words the problem). */
export type ToolReadFailure =
  | { problem: 'not_a_tool' }
  | { problem: 'unknown'; name: string }
  | { problem: 'wire_name'; name: string; wire: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Resolves one `provider.tools` entry: `external:NAME` is an external tool; another name is a step tool
 * when a step has that key, else an external tool when the engine has one by that name.
 */
export function readTool(
  entry: unknown,
  stepKeys: { has(key: string): boolean },
  engineTools: { has(name: string): boolean },
): ToolReference | ToolReadFailure {
  const object = isObject(entry) ? entry : null;
  const name = object === null ? entry : object.name;
  if (typeof name !== 'string' || name === '') return { problem: 'not_a_tool' };
  const description = typeof object?.description === 'string' ? object.description : undefined;
  const input = isObject(object?.input) ? object.input : undefined;
  let kind: ToolKind;
  let target: string;
  if (name.startsWith(EXTERNAL_PREFIX)) {
    kind = TOOL_KINDS.EXTERNAL;
    target = name.slice(EXTERNAL_PREFIX.length);
    if (!engineTools.has(target)) return { problem: 'unknown', name };
  } else if (stepKeys.has(name)) {
    kind = TOOL_KINDS.STEP;
    target = name;
  } else if (engineTools.has(name)) {
    kind = TOOL_KINDS.EXTERNAL;
    target = name;
  } else {
    return { problem: 'unknown', name };
  }
  if (!TOOL_WIRE_NAME.test(target)) return { problem: 'wire_name', name, wire: target };
  return { name, wire: target, kind, target, description, input };
}

export function isToolReference(value: ToolReference | ToolReadFailure): value is ToolReference {
  return (value as ToolReference).kind !== undefined;
}
