// The command line as getopt_long reads it for uWSGI: a flag (no_argument)
// never takes the next argument, an optional_argument option takes only
// `--name=VALUE`, any other option `--name VALUE`, `--name=VALUE`, `-p 4` or
// `-p4`; short flags cluster (`-MT`). Each option keeps the argument(s) as
// typed, so an error quotes `-p abc`, not `processes = abc`.
import * as fs from 'node:fs';
import { configError, type Origin } from '../errors';
import { arityOf, findOption, findShort, suggestOption, type OptionDef } from './options';

export interface ArgvOption {
  def: OptionDef;
  name: string; // as typed (an alias stays an alias) or the short's option
  value: string;
  typed: string; // the argument(s) as typed: `-p 4`, `--master`
}

const CLI: Origin = { file: 'command line', line: 0 };

/** argv → options in order and the bare arguments (config files). */
export function parseArgv(argv: readonly string[]): { options: ArgvOption[]; bare: string[] } {
  const options: ArgvOption[] = [];
  const bare: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      bare.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') bare.push(a);
    else if (a.startsWith('--')) i = long(argv, i, options);
    else i = short(argv, i, options);
  }
  return { options, bare };
}

function unknown(typed: string, shown: string, suggestion: string | undefined) {
  return configError('LIEGE_ERR_UNKNOWN_OPTION', `unknown option ${shown}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`, { ...CLI, arg: typed }, typed, 'an option of `liege --help`');
}

function needsValue(typed: string, shown: string) {
  return configError('LIEGE_ERR_USAGE', `option ${shown} needs a value`, { ...CLI, arg: typed }, typed, 'a value after it');
}

// --name, --name=value, --name value; returns the index of the last argv used
function long(argv: readonly string[], i: number, out: ArgvOption[]): number {
  const a = argv[i]!;
  const eq = a.indexOf('=');
  const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
  const def = findOption(name);
  if (!def) throw unknown(a, `--${name}`, suggestOption(name));
  if (eq >= 0) {
    out.push({ def, name, value: a.slice(eq + 1), typed: a });
    return i;
  }
  const arity = arityOf(def);
  if (arity === 'flag') out.push({ def, name, value: 'true', typed: a });
  else if (arity === 'optional') {
    // getopt's optional_argument: `--chmod-socket 660` leaves 660 a config
    // file (uWSGI's trap); one that does not exist is said here, with why
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-') && !fs.existsSync(next)) {
      throw configError('LIEGE_ERR_USAGE', `--${name} takes its value only as --${name}=VALUE (an argument after it is a config file, and there is no file ${next})`, { ...CLI, arg: `${a} ${next}` }, `${a} ${next}`, `--${name}=${next}`);
    }
    out.push({ def, name, value: '', typed: a });
  } else {
    if (i + 1 >= argv.length) throw needsValue(a, `--${name}`);
    out.push({ def, name, value: argv[i + 1]!, typed: `${a} ${argv[i + 1]}` });
    return i + 1;
  }
  return i;
}

// -M, -p 4, -p4, -MTp4
function short(argv: readonly string[], i: number, out: ArgvOption[]): number {
  const a = argv[i]!;
  for (let j = 1; j < a.length; j++) {
    const def = findShort(a[j]!);
    if (!def) throw unknown(a, `-${a[j]}`, undefined);
    const arity = arityOf(def);
    if (arity === 'flag') {
      out.push({ def, name: def.name, value: 'true', typed: a });
      continue;
    }
    const rest = a.slice(j + 1);
    if (rest !== '' || arity === 'optional') {
      out.push({ def, name: def.name, value: rest, typed: a });
      return i;
    }
    if (i + 1 >= argv.length) throw needsValue(a, `-${a[j]}`);
    out.push({ def, name: def.name, value: argv[i + 1]!, typed: `${a} ${argv[i + 1]}` });
    return i + 1;
  }
  return i;
}
