import type { FastifySchemaValidationError } from 'fastify';
import type { ParameterProblem } from '@kensa/engine';
import { message, type Message } from '../i18n/index.ts';

/** A request-schema failure (ajv) as a catalogue message, so that validation details are bilingual too. */
export function validationMessage(error: FastifySchemaValidationError, context: string): Message {
  const path = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : context;
  const params = error.params as Record<string, unknown>;
  const field = (name: string) => (path === context ? name : `${path}.${name}`);
  switch (error.keyword) {
    case 'type': return message('fieldType', { field: path, type: String(params.type) });
    case 'required': return message('fieldRequired', { field: field(String(params.missingProperty)) });
    case 'enum': return message('fieldEnum', { field: path, values: (params.allowedValues as unknown[]).map(String).join(', ') });
    case 'minimum': case 'minLength': case 'minItems': case 'minProperties':
      return message('fieldAtLeast', { field: path, limit: String(params.limit) });
    case 'maximum': case 'maxLength': case 'maxItems': case 'maxProperties':
      return message('fieldAtMost', { field: path, limit: String(params.limit) });
    case 'pattern': return message('fieldPattern', { field: path });
    case 'additionalProperties': return message('fieldUnknown', { field: field(String(params.additionalProperty)) });
    default: return message('fieldInvalid', { field: path });
  }
}

/** The engine's parameter problem in the reader's language. */
export function parameterReason(problem: ParameterProblem): Message {
  switch (problem.kind) {
    case 'unknown': return message('reasonUnknown');
    case 'notNumber': return message('reasonNotNumber');
    case 'notInteger': return message('reasonNotInteger');
    case 'below': return message('reasonBelow', { limit: String(problem.limit) });
    case 'above': return message('reasonAbove', { limit: String(problem.limit) });
    case 'needsValue': return message('reasonNeedsValue');
    case 'notTuple': return message('reasonNotTuple');
    case 'tupleLength': return message('reasonTupleLength', { count: String(problem.count) });
    case 'notString': return message('reasonNotString');
    case 'oneOf': return message('reasonOneOf', { values: problem.values.join(', ') });
  }
}
