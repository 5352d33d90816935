// The resolved config handed to hooks/ and master/: scalars (last value
// wins), lists (every value, in order) and hook lines, each with file:line.
// Reads take an OptionName (a typo does not compile) and fall back to the
// registry's default, so call sites never repeat it.
import type { Origin } from '../errors';
import type { Family } from '../phases';
import { findOption, type DefaultedOption, type OptionName } from './options';

export interface Setting {
  value: string;
  origin: Origin;
}

export interface HookLine {
  option: string; // hook-as-root, exec-pre-app ...
  phase: string;
  family: Family | 'call-args';
  value: string;
  origin: Origin;
}

// words, not a case-insensitive regexp: compiling one builds ICU case-folding
// sets (~64 KiB of the node binary's pages in a master, bench/README.md)
const FALSE = new Set(['false', 'off', 'no', '0']);

export class Config {
  constructor(
    private readonly scalars: Map<string, Setting>,
    private readonly lists: Map<string, Setting[]>,
    readonly hookLines: readonly HookLine[],
    /** Every (key, value) in application order, for --print-config. */
    readonly settings: ReadonlyArray<{ key: string } & Setting>,
    /** Hook lines inside false if-* blocks: syntax-checked, never run. */
    readonly dormantHookLines: readonly HookLine[] = [],
  ) {}

  has(name: OptionName): boolean {
    return this.scalars.has(name) || (this.lists.get(name)?.length ?? 0) > 0;
  }

  setting(name: OptionName): Setting | undefined {
    return this.scalars.get(name);
  }

  /** The value, else the registry default, else undefined. */
  str<N extends OptionName>(name: N): N extends DefaultedOption ? string : string | undefined;
  str(name: OptionName): string | undefined {
    return this.scalars.get(name)?.value ?? findOption(name)?.default;
  }

  /** uWSGI booleans: false/off/no/0 (any case) are false, anything else true. */
  bool(name: OptionName): boolean {
    const v = this.str(name);
    return v !== undefined && !FALSE.has(v.toLowerCase());
  }

  /** The value (validated at load), else the registry default, else 0 (uWSGI's zeroed globals). */
  int(name: OptionName): number {
    const v = this.str(name);
    return v === undefined ? 0 : parseInt(v, 10);
  }

  list(name: OptionName): readonly Setting[] {
    return this.lists.get(name) ?? [];
  }

  origin(name: OptionName): Origin | undefined {
    return this.scalars.get(name)?.origin;
  }
}
