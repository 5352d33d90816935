// What every hook action declares: how to check its arguments at load time
// (throw a string saying what was expected) and how to run them.
import type { Origin } from '../../errors';

/** What a running hook may consult: settings from the config. Plain data:
 * it travels to workers and vassal launchers as JSON. */
export interface HookContext {
  binsh: string; // first executable `binsh`, default /bin/sh
  waitFsTimeout: number; // seconds
  waitSocketTimeout: number; // seconds
  startCwd?: string; // the cwd liege started in (relative js: paths, see ParseSite)
  configFile?: string; // absolute path of the main config file, when there is one
  /** What a fatal hook failure does here, as the runner logs it (default
   * uWSGI's "destroying instance"): a reload's phases fail the reload, a
   * worker's failure is the master's to judge. */
  fatalOutcome?: string;
}

/** Where a hook line is parsed. */
export interface ParseSite {
  origin: Origin;
  /** Relative paths resolve here: the directory of the config file that
   * holds the line, or the start cwd for the command line and env. */
  baseDir: string;
  /** The first parse, in the process that loaded the config: check that
   * files exist. Workers and vassal launchers re-parse without it. */
  atLoad: boolean;
}

/** How the runner runs one hook. */
export interface HookRun {
  phase: string;
  /** A startup phase: exec may block the thread (fast vfork + waitpid).
   * False where an event loop is running: exec is awaited. */
  blocking: boolean;
  /** Extra environment for the exec- shortcuts (UWSGI_VASSAL_* of exec-as-emperor). */
  env?: Record<string, string>;
  origin: Origin;
}

/** Thrown by the `exit` action: end the instance with this status. */
export class ExitRequest {
  constructor(readonly status: number) {}
}

export interface ActionDef<P = unknown> {
  name: string;
  aliases?: string[];
  /** Checks and parses args at load time; throws a string: what was expected. */
  parse(args: string, site: ParseSite): P;
  /** Runs; returns (or resolves to) 0 on success, non-zero (or throws) on failure. */
  run(parsed: P, ctx: HookContext, how: HookRun): number | Promise<number>;
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
