// What every hook action declares: how to check its arguments at load time
// (throw a string saying what was expected) and how to run them.

/** What a running hook may consult: settings from the config. */
export interface HookContext {
  binsh: string; // first executable `binsh`, default /bin/sh
  waitFsTimeout: number; // seconds
  waitSocketTimeout: number; // seconds
}

/** Thrown by the `exit` action: end the instance with this status. */
export class ExitRequest {
  constructor(readonly status: number) {}
}

export interface ActionDef<P = unknown> {
  name: string;
  aliases?: string[];
  /** Checks and parses args at load time; throws a string: what was expected. */
  parse(args: string): P;
  /** Runs; returns 0 on success, non-zero (or throws) on failure. */
  run(parsed: P, ctx: HookContext): number;
  doc: string;
  example: string;
}

export function defineAction<P>(a: ActionDef<P>): ActionDef<unknown> {
  return a as ActionDef<unknown>;
}

/** Splits "first rest of the text" at the first space. */
export function splitFirst(args: string): [string, string | undefined] {
  const sp = args.indexOf(' ');
  return sp < 0 ? [args, undefined] : [args.slice(0, sp), args.slice(sp + 1)];
}

export function needArg(args: string, what: string): string {
  if (args.trim() === '') throw what;
  return args;
}
