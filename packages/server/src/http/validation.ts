import type { FastifySchemaValidationError } from 'fastify';
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

/**
 * The engine's parameter errors name the parameter and say what is wrong in English; the common forms
 * are mapped to catalogue reasons so that the detail reads in the reader's language.
 */
export function parameterReason(text: string): Message | string {
  let m: RegExpExecArray | null;
  if (/ must be a number$/.test(text)) return message('reasonNotNumber');
  if (/ must be an integer$/.test(text)) return message('reasonNotInteger');
  if ((m = / must be ≥ (.+)$/.exec(text))) return message('reasonBelow', { limit: m[1] });
  if ((m = / must be ≤ (.+)$/.exec(text))) return message('reasonAbove', { limit: m[1] });
  if (/ needs a value$/.test(text)) return message('reasonNeedsValue');
  if ((m = / must have (\d+) values$/.exec(text))) return message('reasonTupleLength', { count: m[1] });
  if (/ must be a tuple like /.test(text)) return message('reasonNotTuple');
  if (/ must be a string$/.test(text)) return message('reasonNotString');
  if ((m = / must be one of (.+)$/.exec(text))) return message('reasonOneOf', { values: m[1] });
  return text;
}
