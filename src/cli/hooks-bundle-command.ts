// `liege hooks enable BUNDLE EVENT` / `disable NAME EVENT`: packaged hooks
// deployed into a hook dir (hooks/dir-bundles.ts).
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { disableBundle, enableBundle, listBundles as deployed, stateDir, type Deployed } from '../hooks/dir-bundles';
import { flagStr, parseFlags, type ParsedArgs } from './hooks-args';

const USAGE = 'liege hooks enable BUNDLE.tar.gz EVENT --hook-dir DIR [--state DIR] | disable NAME EVENT --hook-dir DIR [--state DIR]';
const FLAGS = ['hook-dir', 'state', 'output'];

function parse(argv: string[]): { p: ParsedArgs; a: string; event: string; dir: string; state: string } {
  const p = parseFlags(argv, FLAGS, USAGE);
  const [a, event, extra] = p.positional;
  const dir = flagStr(p, 'hook-dir') ?? process.env.LIEGE_HOOK_DIR;
  if (!a || !event || extra !== undefined || !dir) throw new LiegeError('LIEGE_ERR_USAGE', !dir ? 'missing --hook-dir DIR (or LIEGE_HOOK_DIR)' : 'bad arguments', { text: argv.join(' '), expected: USAGE, exitCode: 100 });
  return { p, a, event, dir: path.resolve(dir), state: stateDir(flagStr(p, 'state')) };
}

export function enableCommand(argv: string[]): number {
  const { p, a, event, dir, state } = parse(argv);
  const d = enableBundle(path.resolve(a), event, dir, state);
  process.stdout.write(flagStr(p, 'output') === 'json' ? JSON.stringify(d) + '\n' : `enabled ${d.name} ${d.version} for ${event}: ${d.links.join(' ')}\n`);
  return 0;
}

export function disableCommand(argv: string[]): number {
  const { p, a, event, dir, state } = parse(argv);
  const links = disableBundle(a, event, dir, state);
  process.stdout.write(flagStr(p, 'output') === 'json' ? JSON.stringify({ name: a, event, removed: links }) + '\n' : `disabled ${a} for ${event}${links.length ? `: removed ${links.join(' ')}` : ''}\n`);
  return 0;
}

/** The deployed hooks (for `liege hooks list`). */
export function listDeployed(p: ParsedArgs): Deployed[] {
  const dir = flagStr(p, 'hook-dir') ?? process.env.LIEGE_HOOK_DIR;
  return deployed(dir ? path.resolve(dir) : undefined, stateDir(flagStr(p, 'state')));
}

export function formatDeployed(list: readonly Deployed[]): string {
  if (!list.length) return '';
  return ['deployed hooks:', ...list.map((d) => `  ${d.event}: ${d.name} ${d.version}${d.links.length ? `  → ${d.links.join(' ')}` : ''}`)].join('\n') + '\n';
}
