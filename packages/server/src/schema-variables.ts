/** App variables on the wire: a secret's value is never answered. */
import { Type } from '@sinclair/typebox';
import { AppParams, Timestamp } from './schema-common.js';

const Key = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  description: 'Letters, digits and _, not starting with a digit (runs read it as $vars.<key>).',
});

export const WireVariableSchema = Type.Object(
  {
    key: Type.String(),
    value: Type.Optional(Type.Unknown({ description: 'Absent for secrets: they are write-only.' })),
    secret: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CreateVariableBody = Type.Object(
  {
    key: Key,
    value: Type.Unknown({ description: 'Any JSON value (the platform sends strings).' }),
    secret: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const VariableItem = Type.Object(
  {
    key: Key,
    value: Type.Optional(Type.Unknown()),
    secret: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UpdateVariablesBody = Type.Array(VariableItem, { maxItems: 500 });

export const UpdateVariableBody = Type.Object(
  {
    key: Type.Optional(Key),
    value: Type.Optional(Type.Unknown()),
    secret: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const VariableParams = Type.Object({
  ...AppParams.properties,
  key: Type.String({ minLength: 1, maxLength: 200 }),
});
