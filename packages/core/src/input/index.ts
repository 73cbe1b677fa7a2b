export type { InputCheckOptions, InputFieldSite } from './check.js';
export {
  assertValidInput,
  INPUT_PROBLEM_CODES,
  inputDefinitions,
  inputProblems,
  invalidInput,
} from './check.js';
export type { FieldDefinition } from './fields.js';
export { MAX_FIELD_DEPTH, MAX_INPUT_PROBLEMS, typeMismatch } from './fields.js';
export { copyRunInput, MAX_INPUT_FILE_BYTES, MAX_INPUT_FILES_BYTES } from './files.js';
