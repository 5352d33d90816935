// Hook lines → the hook plan, validated at load (DEPARTURES D4): every line
// is parsed now — missing `:`, unknown action, bad arguments, unknown mount
// flag — so a bad config stops before any phase runs.
import * as path from 'node:path';
import type { Config, HookLine } from '../config/config';
import { configError, type Origin } from '../errors';
import type { ActionDef, ParseSite } from './actions/types';
import { actionsModule as actions } from './actions/door';
import { FAMILY_ORDER, PHASES, type Family } from '../phases';

export interface Hook {
  option: string; // the option it came from: hook-as-root, exec-pre-app ...
  phase: string;
  family: Family | 'call-args';
  action: ActionDef;
  parsed: unknown;
  args: string; // the text after `action:` (hidden from logs when private)
  private: boolean;
  origin: Origin;
  /** Registry hooks: undoes this hook when a later hook of the phase fails fatally. */
  rollback?: () => number | Promise<number>;
}

/** phase name → hooks in run order (hook chain, mount, umount, exec, call). */
export type HookPlan = ReadonlyMap<string, readonly Hook[]>;

/** Where plan lines are parsed: the cwd liege started in (relative paths
 * resolve from the config file's directory, or from there), and whether this
 * is the parse at load, which checks that named files exist. */
export interface PlanSite {
  startCwd: string;
  atLoad: boolean;
}

function siteOf(line: HookLine, at: PlanSite): ParseSite {
  const fromFile = line.origin.line > 0;
  const baseDir = fromFile ? path.dirname(path.resolve(at.startCwd, line.origin.file)) : at.startCwd;
  return { origin: line.origin, baseDir, atLoad: at.atLoad };
}

function parseArgs(action: ActionDef, args: string, line: HookLine, shown: string, at: PlanSite): unknown {
  try {
    return action.parse(args, siteOf(line, at));
  } catch (e) {
    if (typeof e !== 'string') throw e;
    throw configError('LIEGE_ERR_HOOK_ARGS', `bad arguments for hook action \`${action.name}\``, line.origin, shown, e);
  }
}

/** One hook line → a Hook, or a config error naming file:line. */
export function parseHookLine(line: HookLine, at: PlanSite = { startCwd: process.cwd(), atLoad: false }): Hook {
  const shown = line.origin.arg ?? `${line.option} = ${line.value}`;
  // a NUL would cut the command or path the kernel sees: the log would lie
  if (line.value.includes('\0')) throw configError('LIEGE_ERR_HOOK_SYNTAX', 'a NUL byte in a hook line', line.origin, JSON.stringify(line.value), 'a hook line without NUL bytes');
  const base = { option: line.option, phase: line.phase, family: line.family, origin: line.origin };
  if (line.family !== 'hook') {
    const name = line.family === 'call-args' ? 'call' : line.family;
    const action = line.family === 'call' || line.family === 'call-args' ? actions().shortcutCall : actions().findAction(name)!;
    return { ...base, action, parsed: parseArgs(action, line.value, line, shown, at), args: line.value, private: false };
  }
  let spec = line.value;
  const priv = spec.startsWith('!');
  if (priv) spec = spec.slice(1);
  const colon = spec.indexOf(':');
  if (colon < 0) throw configError('LIEGE_ERR_HOOK_SYNTAX', 'invalid hook syntax', line.origin, shown, '[!]ACTION:ARGS');
  const name = spec.slice(0, colon);
  const action = actions().findAction(name);
  if (!action) {
    const why = actions().UNSUPPORTED_ACTIONS[name];
    throw configError('LIEGE_ERR_HOOK_ACTION', why ? `hook action \`${name}\` is not supported: ${why}` : `unknown hook action \`${name}\``, line.origin, shown, 'a hook action of docs/hooks.md (exec, call, mount, write ...)');
  }
  return { ...base, action, parsed: parseArgs(action, spec.slice(colon + 1), line, shown, at), args: spec.slice(colon + 1), private: priv };
}

/** Every hook line of the config → the plan, phase by phase (the parse at
 * load: files that hooks name are checked too). */
export function buildPlan(config: Config): HookPlan {
  const at: PlanSite = { startCwd: process.cwd(), atLoad: true };
  // lines of false if-* blocks never run, but a typo there is still a typo
  for (const line of config.dormantHookLines) parseHookLine(line, { ...at, atLoad: false });
  return planFromLines(config.hookLines, at);
}

/** Hook lines → the plan; workers and vassal launchers re-parse the lines
 * they were given with the master's start cwd. */
export function planFromLines(lines: readonly HookLine[], at: PlanSite = { startCwd: process.cwd(), atLoad: false }): HookPlan {
  const plan = new Map<string, Hook[]>(PHASES.map((p) => [p.name, []]));
  const rank = (f: Hook['family']) => FAMILY_ORDER.indexOf(f === 'call-args' ? 'call' : f);
  // one pass (linear in the number of lines), then a stable sort by family:
  // config order inside a family
  for (const h of lines.map((l) => parseHookLine(l, at))) plan.get(h.phase)?.push(h);
  for (const hooks of plan.values()) hooks.sort((a, b) => rank(a.family) - rank(b.family));
  return plan;
}

/** How a hook is shown in logs and plans: `action:args`, or a mask. */
export function showHook(h: Hook): string {
  return h.private ? '--- PRIVATE HOOK ---' : `${h.action.name}:${h.args}`;
}
