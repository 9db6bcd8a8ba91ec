/** A small flag parser: `--name value`, `--name=value`, boolean switches and repeatable flags. */
export interface ParsedFlags {
  positional: string[];
  flags: Record<string, string | boolean>;
  repeated: Record<string, string[]>;
}

export interface FlagSpec {
  string?: string[];
  boolean?: string[];
  repeat?: string[];
}

export class UsageError extends Error {}

/** Runs a parser of a flag's value, turning what it throws into a UsageError (the command's help is then shown). */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function parseFlags(argv: string[], spec: FlagSpec): ParsedFlags {
  const out: ParsedFlags = { positional: [], flags: {}, repeated: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const name = rawName;
    if (spec.boolean?.includes(name)) {
      out.flags[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const takesValue = spec.string?.includes(name) || spec.repeat?.includes(name);
    if (!takesValue) throw new UsageError(`Unknown option --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (spec.repeat?.includes(name)) (out.repeated[name] ??= []).push(value);
    else out.flags[name] = value;
  }
  return out;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  run(argv: string[]): Promise<number>;
}
