export {
  BUILTIN_STEP_TYPES,
  CODE_LANGUAGES,
  DISPLAY_MODES,
  DraftSchema,
  HTTP_METHODS,
  INPUT_FIELD_TYPES,
  MAX_TOOL_ITERATIONS,
  MESSAGE_ROLES,
  RESPONSE_FORMATS,
  StepSchema,
  stepSchemas,
  TOOLS_MODES,
  VersionSchema,
} from './schema.js';
export type * from './types.js';
