// The training form is generated from an algorithm's parameter schema: these functions read the schema's
// loosely typed parts (range, AutoTune candidates) and check what a person typed, before the server does.
import type { AlgorithmParameter, ParameterOverride } from '@kensa/sdk';

export interface Range {
  min: number | null;
  max: number | null;
}

/** Reads `range` in the forms a schema may give it: `[min, max]`, `{min, max}`, JSON text, or prose with an interval. */
export function parseRange(range: unknown): Range | null {
  let value = range;
  if (typeof value === 'string') {
    // Prose such as "int in [1, 1000000]", "(int, int), each in [2, 256]" or "float in [0, ∞)".
    const interval = /[[(]\s*(-?[\d.]+(?:[eE][-+]?\d+)?|-∞)\s*,\s*(-?[\d.]+(?:[eE][-+]?\d+)?|∞)\s*[\])]/.exec(value);
    if (interval) return { min: interval[1] === '-∞' ? null : Number(interval[1]), max: interval[2] === '∞' ? null : Number(interval[2]) };
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (Array.isArray(value) && value.length === 2) return { min: num(value[0]), max: num(value[1]) };
  if (value && typeof value === 'object' && ('min' in value || 'max' in value)) {
    const r = value as { min?: unknown; max?: unknown };
    return { min: num(r.min), max: num(r.max) };
  }
  return null;
}

export function describeRange(range: Range | null): string | null {
  if (!range || (range.min === null && range.max === null)) return null;
  if (range.max === null) return `≥ ${range.min}`;
  if (range.min === null) return `≤ ${range.max}`;
  return `${range.min} – ${range.max}`;
}

/** The default as a person types it: tuples without brackets (`16, 16`). */
export function displayValue(value: string | null): string {
  if (value === null || value === 'null' || value === 'None') return '';
  return value.replace(/^\s*[[(]\s*|\s*[\])]\s*$/g, '');
}

export type ParameterProblem = 'invalidNumber' | 'outOfRange' | 'invalidTuple' | null;

export function checkValue(parameter: AlgorithmParameter, text: string): ParameterProblem {
  const trimmed = text.trim();
  if (trimmed === '') return null; // empty: the server's default
  const range = parseRange(parameter.range);
  const inRange = (n: number) => !range || ((range.min === null || n >= range.min) && (range.max === null || n <= range.max));
  if (parameter.data_type === 'int' || parameter.data_type === 'float') {
    const pattern = parameter.data_type === 'int' ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
    if (!pattern.test(trimmed)) return 'invalidNumber';
    return inRange(Number(trimmed)) ? null : 'outOfRange';
  }
  if (parameter.data_type === 'tuple') {
    const parts = trimmed.replace(/^[[(]|[\])]$/g, '').split(/\s*[,x]\s*/);
    if (parts.length < 1 || parts.some((p) => !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(p.trim()))) return 'invalidTuple';
    return parts.every((p) => inRange(Number(p))) ? null : 'outOfRange';
  }
  return null;
}

export function hasAutoTune(parameter: AlgorithmParameter): boolean {
  return Array.isArray(parameter.auto_tune) && parameter.auto_tune.length > 0;
}

export interface ParameterChoice {
  text: string;
  autoTune: boolean;
}

/**
 * What to send: a parameter under AutoTune is left out (the server picks among its candidates); any other is
 * sent when the person changed it, or when it can be tuned but the person fixed it (else it would be tuned).
 */
export function overridesFor(parameters: readonly AlgorithmParameter[], choices: Record<number, ParameterChoice>): ParameterOverride[] {
  const overrides: ParameterOverride[] = [];
  for (const parameter of parameters) {
    const choice = choices[parameter.algorithm_parameter_id];
    if (!choice || choice.autoTune) continue;
    const text = choice.text.trim();
    if (text === '') continue;
    const changed = text !== displayValue(parameter.value);
    if (!changed && !hasAutoTune(parameter)) continue;
    const value = parameter.data_type === 'tuple' ? `[${text.replace(/^[[(]|[\])]$/g, '').split(/\s*[,x]\s*/).join(', ')}]` : text;
    overrides.push({ algorithm_parameter_id: parameter.algorithm_parameter_id, value });
  }
  return overrides;
}
