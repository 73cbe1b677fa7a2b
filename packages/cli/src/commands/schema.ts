/** `weft schema`: the JSON Schema of the workflow document model. */
import { workflowJsonSchema } from '@weft/core';
import { EXIT } from '../errors.js';
import { writeLine } from '../output.js';
import type { Io } from './run.js';

export function schemaCommand(io: Io): number {
  writeLine(io.stdout, JSON.stringify(workflowJsonSchema, null, 2));
  return EXIT.OK;
}
