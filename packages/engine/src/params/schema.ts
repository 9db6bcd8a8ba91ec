/**
 * Parameter schemas: one source of truth for the API (GET /algorithms), validation of
 * `override_params`, the docs' parameter tables and the engine's defaults.
 */
export type ParamType = 'int' | 'float' | 'tuple' | 'str';
export type ParamValue = number | number[] | string | null;
export type ParamValues = Record<string, ParamValue>;

export interface Bilingual {
  en: string;
  ja: string;
}

export interface ParameterSpec {
  /** Stable `algorithm_parameter_id`; never reused. */
  id: number;
  name: string;
  type: ParamType;
  /** Default; null means "chosen automatically" (e.g. threshold from validation). */
  default: ParamValue;
  /** Bounds of the value, or of each element of a tuple. */
  min?: number;
  max?: number;
  /** Tuple length. */
  length?: number;
  /** Element type of a tuple. */
  elementType?: 'int' | 'float';
  /** Allowed values of a `str` parameter. */
  options?: string[];
  /** AutoTune candidates: when the user leaves the parameter out, one is chosen by validation. */
  autoTune: ParamValue[] | null;
  /** True when it shapes training; false when it only affects prediction (changeable without retraining). */
  modelParameter: boolean;
  description: Bilingual;
  /** Effect on time and accuracy, for the algorithm guide. */
  effect?: Bilingual;
}

/** Human-readable range, as the API's `range` field and the docs show it. */
export function describeRange(spec: ParameterSpec): string {
  if (spec.options) return spec.options.join(' | ');
  const lo = spec.min ?? '-∞';
  const hi = spec.max ?? '∞';
  const interval = `[${lo}, ${hi}${spec.max === undefined ? ')' : ']'}`;
  if (spec.type === 'tuple') return `(${Array.from({ length: spec.length ?? 2 }, () => spec.elementType ?? 'int').join(', ')}), each in ${interval}`;
  return `${spec.type} in ${interval}`;
}

/** The wire form of a value: strings, as the original's `value` field. */
export function formatParamValue(value: ParamValue): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** What is wrong with a parameter's value, as data: the server words it in the reader's language. */
export type ParameterProblem =
  | { kind: 'unknown' }
  | { kind: 'notNumber' }
  | { kind: 'notInteger' }
  | { kind: 'below'; limit: number }
  | { kind: 'above'; limit: number }
  | { kind: 'needsValue' }
  | { kind: 'notTuple' }
  | { kind: 'tupleLength'; count: number }
  | { kind: 'notString' }
  | { kind: 'oneOf'; values: readonly string[] };

function describeProblem(problem: ParameterProblem): string {
  switch (problem.kind) {
    case 'unknown': return 'is not a parameter of this algorithm';
    case 'notNumber': return 'must be a number';
    case 'notInteger': return 'must be an integer';
    case 'below': return `must be ≥ ${problem.limit}`;
    case 'above': return `must be ≤ ${problem.limit}`;
    case 'needsValue': return 'needs a value';
    case 'notTuple': return 'must be a tuple like [8, 8]';
    case 'tupleLength': return `must have ${problem.count} values`;
    case 'notString': return 'must be a string';
    case 'oneOf': return `must be one of ${problem.values.join(', ')}`;
  }
}

export class ParameterError extends Error {
  readonly parameter: string;
  readonly problem: ParameterProblem;
  constructor(parameter: string, problem: ParameterProblem) {
    super(`${parameter} ${describeProblem(problem)}`);
    this.name = 'ParameterError';
    this.parameter = parameter;
    this.problem = problem;
  }
}

function checkNumber(spec: ParameterSpec, value: number, integer: boolean): number {
  if (!Number.isFinite(value)) throw new ParameterError(spec.name, { kind: 'notNumber' });
  if (integer && !Number.isInteger(value)) throw new ParameterError(spec.name, { kind: 'notInteger' });
  if (spec.min !== undefined && value < spec.min) throw new ParameterError(spec.name, { kind: 'below', limit: spec.min });
  if (spec.max !== undefined && value > spec.max) throw new ParameterError(spec.name, { kind: 'above', limit: spec.max });
  return value;
}

/**
 * Parses a value given as the wire gives it (a string like "50", "[8, 8]", "(8,8)", or JSON numbers/arrays)
 * and checks it against the spec. Throws ParameterError naming the parameter.
 */
export function parseParamValue(spec: ParameterSpec, raw: unknown): ParamValue {
  if (raw === null || raw === undefined || raw === '' || raw === 'null' || raw === 'None') {
    if (spec.default === null) return null;
    throw new ParameterError(spec.name, { kind: 'needsValue' });
  }
  switch (spec.type) {
    case 'int':
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      return checkNumber(spec, n, spec.type === 'int');
    }
    case 'tuple': {
      let items: unknown[];
      if (Array.isArray(raw)) items = raw;
      else if (typeof raw === 'string') {
        const inner = raw.trim().replace(/^[[(]/, '').replace(/[\])]$/, '');
        items = inner.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
      } else if (typeof raw === 'number') items = [raw, raw];
      else throw new ParameterError(spec.name, { kind: 'notTuple' });
      const length = spec.length ?? 2;
      if (items.length !== length) throw new ParameterError(spec.name, { kind: 'tupleLength', count: length });
      // Only numbers and numeric strings: Number(null) and Number(true) would slip through as 0 and 1.
      const element = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
      return items.map((v) => checkNumber(spec, element(v), (spec.elementType ?? 'int') === 'int'));
    }
    case 'str': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new ParameterError(spec.name, { kind: 'notString' });
      const s = String(raw);
      if (spec.options && !spec.options.includes(s)) throw new ParameterError(spec.name, { kind: 'oneOf', values: spec.options });
      return s;
    }
  }
}

export interface ResolvedParams {
  values: ParamValues;
  /** Parameters the user left out that have AutoTune candidates. */
  autoTune: string[];
}

/**
 * Applies overrides (by name) to the defaults. Unknown names and bad values are collected and thrown
 * together, so an API answer can name every bad parameter at once.
 */
export function resolveParams(specs: ParameterSpec[], overrides: Record<string, unknown>): ResolvedParams {
  const values: ParamValues = {};
  const errors: ParameterError[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const name of Object.keys(overrides)) {
    if (!byName.has(name)) errors.push(new ParameterError(name, { kind: 'unknown' }));
  }
  const autoTune: string[] = [];
  for (const spec of specs) {
    if (Object.prototype.hasOwnProperty.call(overrides, spec.name)) {
      try {
        values[spec.name] = parseParamValue(spec, overrides[spec.name]);
      } catch (error) {
        errors.push(error as ParameterError);
      }
    } else {
      values[spec.name] = spec.default;
      if (spec.autoTune && spec.autoTune.length > 1) autoTune.push(spec.name);
    }
  }
  if (errors.length > 0) throw new ParameterErrors(errors);
  return { values, autoTune };
}

export class ParameterErrors extends Error {
  readonly errors: ParameterError[];
  constructor(errors: ParameterError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ParameterErrors';
    this.errors = errors;
  }
}

// Typed readers for algorithms: a spec guarantees the type, these only narrow it.
export function num(values: ParamValues, name: string): number {
  const v = values[name];
  if (typeof v !== 'number') throw new Error(`parameter ${name} is not a number`);
  return v;
}
export function pair(values: ParamValues, name: string): [number, number] {
  const v = values[name];
  if (!Array.isArray(v) || v.length < 2) throw new Error(`parameter ${name} is not a pair`);
  return [v[0], v[1]];
}
export function str(values: ParamValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`parameter ${name} is not a string`);
  return v;
}
export function optionalNum(values: ParamValues, name: string): number | null {
  const v = values[name];
  return typeof v === 'number' ? v : null;
}
