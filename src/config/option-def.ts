// The shape of one option declaration (config/options.ts and options/*.ts).
import type { Family } from '../phases';

/**
 * What the value is: `flag` takes no argument (getopt no_argument; in INI any
 * value, false/off/no/0 = false); `bool` takes a true/false argument; the
 * others take one argument of that shape.
 */
export type OptionType = 'flag' | 'bool' | 'string' | 'int' | 'addr' | 'tokens' | 'mode';

/** getopt's view: no_argument, required_argument, optional_argument. */
export type Arity = 'flag' | 'value' | 'optional';

export interface OptionDef {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly short?: string; // one letter: -p
  readonly type: OptionType;
  /** uWSGI optional_argument: `--name` alone or `--name=VALUE` (never the next argv). */
  readonly optional?: boolean;
  readonly repeatable?: boolean; // every value kept, in order (else the last wins)
  /** The value call sites get when the option is not set (cfg.int/str/bool). */
  readonly default?: string;
  readonly help: string;
  readonly group: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[]; // for 'tokens': the allowed words
  /** An 'addr' that may also be `=N`: the shared-socket of index N. */
  readonly sharedRef?: boolean;
  /** A check beyond the type: returns what was expected when `value` is bad. */
  readonly check?: (value: string) => string | undefined;
  /** A value accepted with a warning (a uWSGI meaning liege ignores): the warning text. */
  readonly warn?: (value: string) => string | undefined;
  /** How the loader treats it: expanded in place (ini), sets a placeholder,
   * opens/closes a logic block, or applied after the expansion passes. */
  readonly special?: 'include' | 'set' | 'set-placeholder' | 'inherit' | 'logic' | 'logic-end';
  /** A hook option: the phase and family it feeds. */
  readonly hook?: { readonly phase: string; readonly family: Family | 'call-args' };
  /** uWSGI option that liege accepts with a warning and ignores. */
  readonly ignored?: boolean;
}

/** The option's getopt arity, derived from its type. */
export function arityOf(o: OptionDef): Arity {
  if (o.type === 'flag') return 'flag';
  return o.optional ? 'optional' : 'value';
}
