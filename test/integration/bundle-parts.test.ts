// The CLI bundle is split (scripts/parts.js): a master running an app
// loads main.bundle.js only; the emperor, the subcommands, the
// single-process server, the hook actions are separate bundles,
// loaded by the processes that run them (bin/liege's LIEGE_TRACE_BUNDLES
// names every bundle a process loaded).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, ROOT, runLiege, scratch, startLiege, until } from './helpers';
import { findOption } from '../../src/config/options';
import type { ResultPromise } from 'execa';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

/** The bundles each process loaded, by pid, in load order. */
function loaded(trace: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const text = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) {
    const [pid, name] = line.split(' ');
    out.set(Number(pid), [...(out.get(Number(pid)) ?? []), name!]);
  }
  return out;
}

async function stop(p: ResultPromise): Promise<void> {
  p.kill('SIGTERM');
  await p;
}

describe('the CLI bundle in parts', () => {
  it('a master running an app loads main.bundle.js only, and serves', async () => {
    const dir = scratch();
    const trace = path.join(dir, 'bundles');
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--disable-logging'], { cwd: dir, env: { LIEGE_TRACE_BUNDLES: trace } });
    started.push(p);
    await until(async () => (await get(port))?.status === 200);
    // a reload re-execs the master: the new image loads main only too
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (loaded(trace).get(p.pid!)?.length ?? 0) >= 2);
    await until(async () => (await get(port))?.status === 200);
    await stop(p);
    expect([...loaded(trace).entries()]).toEqual([[p.pid, ['main', 'main']]]);
  });

  it('the processes that need a part load it', async () => {
    const dir = scratch();
    const trace = path.join(dir, 'bundles');
    const env = { LIEGE_TRACE_BUNDLES: trace };
    const runs: [string[], string[]][] = [
      [['--version'], ['main']],
      [['hooks', 'plan', '--no-server', '--hook-asap', 'exec:true'], ['main', 'commands', 'actions']],
      // the hook actions are a part: loaded by the first hook line, not by a config without hooks
      [['--no-server', '--hook-asap', 'exec:true'], ['main', 'actions']],
      // uWSGI's option table is a text file read on the first undeclared name;
      // what to use instead of an ignored one, a part
      [['--no-server', '--cheaper', '2'], ['main', 'hints']],
      [['pack', '--help'], ['main', 'commands']],
    ];
    for (const [args, want] of runs) {
      fs.rmSync(trace, { force: true });
      const r = await runLiege(args, { cwd: dir, env });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect([...loaded(trace).values()], args.join(' ')).toEqual([want]);
    }
    // a single-process instance (no master) serves from the single part
    fs.rmSync(trace, { force: true });
    const port = await freePort();
    const single = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--disable-logging'], { cwd: dir, env });
    started.push(single);
    await until(async () => (await get(port))?.status === 200);
    await stop(single);
    expect(loaded(trace).get(single.pid!)).toEqual(['main', 'single']);
    // an emperor runs from the emperor part
    fs.rmSync(trace, { force: true });
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    const emperor = startLiege(['--emperor', vassals], { cwd: dir, env });
    started.push(emperor);
    await until(() => loaded(trace).get(emperor.pid!)?.includes('emperor'));
    await stop(emperor);
    expect(loaded(trace).get(emperor.pid!)).toEqual(['main', 'emperor']);
  });

  it('the options\' help texts are in the commands part only (main has the table without them)', async () => {
    const help = findOption('spare-workers')!.help;
    const bundle = (name: string) => fs.readFileSync(path.join(ROOT, 'dist', 'cli', `${name}.bundle.js`), 'utf8');
    expect(bundle('main')).not.toContain(help.slice(0, 40));
    expect(bundle('commands')).toContain(help.slice(0, 40));
    const r = await runLiege(['--help', 'spare-workers']);
    expect(r.stdout).toContain(help);
  });
});
