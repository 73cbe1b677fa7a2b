export { autoProblems } from './auto.js';
export type { ProblemCode } from './codes.js';
export { PROBLEM_CODES, PROBLEM_SEVERITY, VALIDATION_LIMITS } from './codes.js';
export type { ValidateOptions, ValidationResult } from './validate.js';
export { validateVersion } from './validate.js';
