/** Argument parsing with one-line errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './files.ts';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

/**
 * `--target -1` and `--input x=-2` are values, not flags: node's parser calls a value that starts with "-"
 * ambiguous, so a negative number after an option that takes a value is joined to it (`--target=-1`, `-i-2`).
 */
function joinNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const takesValue = (arg: string) => {
    const long = arg.startsWith('--') ? arg.slice(2) : null;
    const name = long ?? Object.keys(options).find((k) => arg.length === 2 && options[k].short === arg[1]);
    return name !== undefined && options[name]?.type === 'string';
  };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i].startsWith('-') && !args[i].includes('=') && next !== undefined && /^-(\d|\.\d|\[)/.test(next) && takesValue(args[i])) {
      joined.push(args[i].startsWith('--') ? `${args[i]}=${next}` : `${args[i]}${next}`);
      i++;
    } else joined.push(args[i]);
  }
  return joined;
}

/** An integer option within a range, or a usage error naming it. */
export function intOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
