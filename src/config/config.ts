// The resolved config handed to hooks/ and master/: scalars (last value
// wins), lists (every value, in order) and hook lines, each with file:line.
import type { Origin } from '../errors';
import type { Family } from '../phases';

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

const FALSE = /^(false|off|no|0)$/i;

export class Config {
  constructor(
    private readonly scalars: Map<string, Setting>,
    private readonly lists: Map<string, Setting[]>,
    readonly hookLines: readonly HookLine[],
    /** Every (key, value) in application order, for --print-config. */
    readonly settings: ReadonlyArray<{ key: string } & Setting>,
  ) {}

  has(name: string): boolean {
    return this.scalars.has(name) || (this.lists.get(name)?.length ?? 0) > 0;
  }

  setting(name: string): Setting | undefined {
    return this.scalars.get(name);
  }

  str(name: string): string | undefined {
    return this.scalars.get(name)?.value;
  }

  /** uWSGI booleans: false/off/no/0 (any case) are false, anything else true. */
  bool(name: string): boolean {
    const v = this.scalars.get(name);
    return v !== undefined && !FALSE.test(v.value);
  }

  int(name: string, dflt: number): number {
    const v = this.scalars.get(name);
    return v === undefined ? dflt : parseInt(v.value, 10);
  }

  list(name: string): readonly Setting[] {
    return this.lists.get(name) ?? [];
  }

  origin(name: string): Origin | undefined {
    return this.scalars.get(name)?.origin;
  }
}
