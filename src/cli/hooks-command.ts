// `liege hooks list|plan|check CONFIG-OPTIONS`: see and validate the hook
// plan of a config without running anything.
import { PHASES } from '../phases';
import { showHook } from '../hooks/spec';
import { loadAll } from './load-all';

export async function hooksCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const json = rest.includes('--output') && rest[rest.indexOf('--output') + 1] === 'json';
  const args = rest.filter((a, i) => a !== '--output' && rest[i - 1] !== '--output');
  if (!verb || !['list', 'plan', 'check'].includes(verb)) {
    process.stderr.write('usage: liege hooks list|plan|check [--output json] CONFIG-OPTIONS...\n');
    return 100;
  }
  const { plan } = loadAll(args, 0);
  if (verb === 'check') {
    const n = [...plan.values()].reduce((a, h) => a + h.length, 0);
    process.stdout.write(json ? JSON.stringify({ ok: true, hooks: n }) + '\n' : `ok: ${n} hooks valid\n`);
    return 0;
  }
  const rows = PHASES.flatMap((p) => (plan.get(p.name) ?? []).map((h, i) => ({ phase: p.name, order: i + 1, fatal: p.fatal, option: h.option, action: h.action.name, hook: showHook(h), at: `${h.origin.file}:${h.origin.line}` })));
  if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else if (verb === 'list') for (const r of rows) process.stdout.write(`${r.phase}\t${r.option}\t${r.hook}\t${r.at}\n`);
  else {
    let cur = '';
    for (const r of rows) {
      if (r.phase !== cur) process.stdout.write(`${(cur = r.phase)}${r.fatal ? '' : ' (non-fatal)'}:\n`);
      process.stdout.write(`  ${r.order}. ${r.hook}    (${r.option}, ${r.at})\n`);
    }
  }
  return 0;
}
