// `liege hooks ACTION`: see and validate the hook plan of a config without
// running anything (plan, check, list CONFIG), manage the hook registry
// (add, delete, list) and packaged hook-dir hooks (enable, disable).
import { PHASES } from '../phases';
import { formatOrigin } from '../errors';
import { REQUEST_KEY } from '../hooks/registry/plan';
import { hooksDbPath } from '../hooks/registry/store';
import { showHook, type HookPlan } from '../hooks/spec';
import { flagStr, parseFlags } from './hooks-args';
import { fullHelp, HOOKS_USAGE } from './hooks-help';
import { addCommand, deleteCommand, listRegistry, registryJson } from './hooks-registry-command';
import { disableCommand, enableCommand, formatDeployed, listDeployed } from './hooks-bundle-command';
import { loadAll } from './load-all';

const SOURCES: Record<string, string> = { 'hooks-db': 'registry', 'hook-dir': 'hook-dir', 'request-hooks': 'request-hooks' };

function rows(plan: HookPlan) {
  const phases = [...PHASES.map((p) => ({ name: p.name, fatal: p.fatal })), { name: REQUEST_KEY, fatal: true }];
  return phases.flatMap((p) =>
    (plan.get(p.name) ?? []).map((h, i) => ({ phase: p.name, order: i + 1, fatal: p.fatal, option: h.option, action: h.action.name, hook: showHook(h), at: formatOrigin(h.origin), source: SOURCES[h.option] ?? 'config' })),
  );
}

function configCommand(verb: string, args: string[], json: boolean): number {
  const { plan } = loadAll(args, 0);
  const all = rows(plan);
  if (verb === 'check') {
    process.stdout.write(json ? JSON.stringify({ ok: true, hooks: all.length }) + '\n' : `ok: ${all.length} hooks valid\n`);
    return 0;
  }
  if (json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
  else if (verb === 'list') for (const r of all) process.stdout.write(`${r.phase}\t${r.option}\t${r.hook}\t${r.at}\n`);
  else {
    let cur = '';
    for (const r of all) {
      if (r.phase !== cur) process.stdout.write(`${(cur = r.phase)}${r.phase === REQUEST_KEY ? ' (request hook modules, loaded by each worker)' : r.fatal ? '' : ' (non-fatal)'}:\n`);
      process.stdout.write(`  ${r.order}. ${r.hook}    (${r.option}, ${r.at})\n`);
    }
  }
  return 0;
}

const REGISTRY_FLAGS = ['--hooks-db', '--hook-dir', '--state'];

function registryOnly(args: readonly string[]): boolean {
  return args.every((a, i) => REGISTRY_FLAGS.includes(a.split('=')[0]!) || (REGISTRY_FLAGS.includes(args[i - 1]!) && !a.startsWith('--')));
}

export async function hooksCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  // `liege hooks add --help`: the usage, not a registration (nor, for plan, the config's --help flag)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HOOKS_USAGE);
    return 0;
  }
  const json = rest.includes('--output') && rest[rest.indexOf('--output') + 1] === 'json';
  const args = rest.filter((a, i) => a !== '--output' && rest[i - 1] !== '--output');
  switch (verb) {
    case 'add':
      return addCommand(rest);
    case 'delete':
      return deleteCommand(rest);
    case 'enable':
      return enableCommand(rest);
    case 'disable':
      return disableCommand(rest);
    case 'fullhelp':
      process.stdout.write(fullHelp());
      return 0;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HOOKS_USAGE);
      return 0;
    case 'plan':
    case 'check':
      return configCommand(verb, args, json);
    case 'list': {
      // only registry flags: the registry and the deployed hooks; else every hook of a config
      if (!registryOnly(args)) return configCommand(verb, args, json);
      const own = parseFlags(args, ['hooks-db', 'hook-dir', 'state'], HOOKS_USAGE);
      const db = hooksDbPath(flagStr(own, 'hooks-db'));
      const bundles = listDeployed(own);
      if (json) process.stdout.write(JSON.stringify({ ...registryJson(db), deployed: bundles }, null, 2) + '\n');
      else process.stdout.write(listRegistry(db) + formatDeployed(bundles));
      return 0;
    }
    default:
      process.stderr.write(`liege hooks: ${verb === undefined ? 'missing action' : `invalid action \`${verb}\``}\n${HOOKS_USAGE}`);
      return 100;
  }
}
