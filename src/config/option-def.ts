// The shape of one option declaration (config/options.ts and options/*.ts).
import type { Family } from '../phases';

export type OptionType = 'flag' | 'string' | 'int' | 'addr' | 'tokens';

export interface OptionDef {
  name: string;
  aliases?: string[];
  short?: string; // one letter: -p
  type: OptionType;
  repeatable?: boolean; // every value kept, in order (else the last wins)
  default?: string;
  help: string;
  group: string;
  min?: number;
  max?: number;
  choices?: readonly string[]; // for 'tokens': the allowed words
  /** How the loader treats it: expanded in place (ini), sets a placeholder,
   * opens/closes a logic block, or applied after the expansion passes. */
  special?: 'include' | 'set' | 'set-placeholder' | 'inherit' | 'logic' | 'logic-end';
  /** A hook option: the phase and family it feeds. */
  hook?: { phase: string; family: Family | 'call-args' };
  /** uWSGI option that liege accepts with a warning and ignores. */
  ignored?: boolean;
}

