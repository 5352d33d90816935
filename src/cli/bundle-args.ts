// Arguments of the bundle commands (pack, install, revert, remove, set, get,
// unset): positional words, and options of the registry's bundles group as
// --name VALUE / --name=VALUE, else LIEGE_<NAME> from the environment, else
// the registry default.
import type { BundleOpts } from '../bundle/install';
import { findOption } from '../config/options';
import { LiegeError } from '../errors';

export interface Parsed {
  words: string[];
  flags: Map<string, string>;
}

const usage = (text: string, expected: string) => new LiegeError('LIEGE_ERR_USAGE', 'bad command line', { text, expected });

/** `valued` flags take a value; `bare` flags do not. */
export function parseArgs(argv: string[], valued: string[], bare: string[] = []): Parsed {
  const words: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') { words.push(a); continue; }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    if (bare.includes(name) && eq < 0) { flags.set(name, 'true'); continue; }
    if (!valued.includes(name)) throw usage(a, `one of ${[...valued, ...bare].map((f) => `--${f}`).join(', ')}`);
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw usage(a, `a value after ${a}`);
    flags.set(name, v);
  }
  return { words, flags };
}

export const OPTION_FLAGS = ['state-dir', 'bundle-start-timeout', 'bundle-keep', 'bundle-hook-timeout'];

function option(p: Parsed, name: string): string {
  const env = process.env[`LIEGE_${name.toUpperCase().replace(/-/g, '_')}`];
  return p.flags.get(name) ?? env ?? findOption(name)!.default!;
}

function int(p: Parsed, name: string): number {
  const v = option(p, name);
  if (!/^\d+$/.test(v)) throw usage(`--${name} ${v}`, 'a whole number');
  return Number(v);
}

export function bundleOpts(p: Parsed): BundleOpts {
  return {
    stateDir: option(p, 'state-dir'),
    startTimeoutS: p.flags.has('no-wait') ? 0 : int(p, 'bundle-start-timeout'),
    keep: int(p, 'bundle-keep'),
    hookTimeoutS: int(p, 'bundle-hook-timeout'),
  };
}
