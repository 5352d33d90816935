// Flags of the `liege hooks` subcommands: `--name VALUE`, `--name=VALUE`,
// or a bare `--name` (true when no value follows: the next word starts
// with `--`, or there is none). Words without `--` are positional.
import { LiegeError } from '../errors';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** `bools` never take the next word as their value (only `--name=false`). */
export function parseFlags(argv: readonly string[], known: readonly string[], usage: string, bools: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!known.includes(name)) throw new LiegeError('LIEGE_ERR_USAGE', `unknown flag \`${a}\``, { expected: usage, exitCode: 100 });
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (!bools.includes(name) && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(name, argv[++i]!);
    else flags.set(name, true);
  }
  return { positional, flags };
}

/** A flag's value as a string (a bare flag is "true"). */
export function flagStr(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return v === true ? 'true' : v;
}
