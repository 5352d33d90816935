// js: hooks end to end: the docs/hooks.md example as written, CommonJS and
// ESM, default and named exports, strict order with the other actions,
// the fatal policy (throw, reject, false, non-zero), checks at load.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runLiege, scratch, writeIni } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const trace = (name: string) => {
  const f = write(name, '');
  fs.chmodSync(f, 0o666);
  return f;
};

/** The fenced blocks of one language in the js: section of docs/hooks.md. */
function docBlocks(lang: string): string[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'hooks.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## JavaScript hooks'), doc.indexOf('\n## ', doc.indexOf('## JavaScript hooks') + 5));
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('js: hooks', () => {
  it('the docs/hooks.md example runs as written', async () => {
    const [ini] = docBlocks('ini');
    const [js] = docBlocks('js');
    expect(ini).toContain('js:./setup.js');
    const sub = path.join(dir, 'doc-example');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'app.ini'), ini!);
    fs.writeFileSync(path.join(sub, 'setup.js'), js!);
    // started from elsewhere: relative module paths resolve from the config's directory
    const r = await runLiege(['--ini', path.join(sub, 'app.ini')], { cwd: '/' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/preparing in as-user as uid 0 \(pid \d+\)/);
    expect(r.stderr).toMatch(/hook ran phase=pre-app action=js hook=js:.\/setup.js#checkEnv .*outcome=ok/);
  });

  it('awaits CommonJS and ESM functions in strict order with the other hooks, with their context', async () => {
    const t = trace('order.trace');
    write('order.cjs', `const fs = require('fs');
module.exports = async (ctx) => { await new Promise((r) => setTimeout(r, 100)); fs.appendFileSync(${JSON.stringify(t)}, 'cjs ' + JSON.stringify({ phase: ctx.phase, pid: ctx.pid, config: ctx.config, line: ctx.hook.line, uid: ctx.uid }) + '\\n'); };
module.exports.named = (ctx) => { fs.appendFileSync(${JSON.stringify(t)}, 'named ' + ctx.phase + '\\n'); return true; };`);
    write('order.mjs', `import * as fs from 'node:fs';
export default async (ctx) => { await new Promise((r) => setTimeout(r, 100)); fs.appendFileSync(${JSON.stringify(t)}, 'esm ' + ctx.phase + '\\n'); };
export async function later(ctx) { fs.appendFileSync(${JSON.stringify(t)}, 'later ' + ctx.phase + '\\n'); return 0; }`);
    const ini = writeIni(dir, [
      'no-server = true', 'uid = nobody', 'gid = nogroup',
      `hook-asap = exec:echo before >> ${t}`,
      'hook-asap = js:order.cjs',
      `hook-asap = exec:echo after >> ${t}`,
      'hook-as-user = js:./order.mjs',
      'hook-post-app = js:order.mjs#later',
      'hook-as-user-atexit = js:order.cjs#named',
    ], 'order.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = fs.readFileSync(t, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['before', 'cjs', 'after', 'esm', 'later', 'named']);
    const ctx = JSON.parse(lines[1]!.slice(4)) as { phase: string; pid: number; config: string; line: number; uid: number };
    expect(ctx).toMatchObject({ phase: 'asap', config: ini, line: 6, uid: 0 });
    expect(lines.slice(3)).toEqual(['esm as-user', 'later post-app', 'named as-user-atexit']);
    // the hook ran in the liege process itself
    expect(r.stderr).toContain(`liege[${ctx.pid}] hooks: hook ran phase=asap action=js`);
  });

  it.each([
    ['throws', 'module.exports = () => { throw new Error("no database"); };', /error="no database"/],
    ['rejects', 'module.exports = async () => { await null; throw new Error("late no"); };', /error="late no"/],
    ['returns false', 'module.exports = () => false;', /error="returned false"/],
    ['returns 3', 'module.exports = async () => 3;', /error="returned 3"/],
    ['has no such function', 'module.exports = { notAFunction: 1 };', /has no function as its default export/],
  ])('a function that %s fails a fatal phase: the rest is skipped, atexit runs, exit 1', async (name, code, why) => {
    const t = trace(`fatal-${name.replace(/\W/g, '')}.trace`);
    const mod = write(`fatal-${name.replace(/\W/g, '')}.js`, code);
    const r = await runLiege(['--no-server', '--hook-pre-app', `js:${mod}`, '--hook-post-app', `exec:echo post-app >> ${t}`, '--hook-as-user-atexit', `exec:echo atexit >> ${t}`], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain('FATAL hook failed');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });

  it('a failing js: hook in a non-fatal phase is logged and the next hook runs', async () => {
    const t = trace('nonfatal.trace');
    const mod = write('nonfatal.js', 'module.exports = () => { throw new Error("ignored"); };');
    const r = await runLiege(['--no-server', '--hook-as-user-atexit', `js:${mod}`, '--hook-as-user-atexit', `exec:echo next >> ${t}`], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/hook failed \(non-fatal phase\).*error=ignored/);
    expect(fs.readFileSync(t, 'utf8')).toBe('next\n');
  });

  it.each([
    ['js:', /expected a module path/],
    ['js:./missing.js', /expected an existing module file \(.*missing\.js is not one\)/],
    ['js:./setup.py', /expected a module path ending in \.js, \.cjs or \.mjs/],
    ['js:./ok.js#1bad', /expected an export name after #/],
    ['js:./ok.js#a-b', /expected an export name after #/],
  ])('`%s` is refused at load with file:line, before any hook runs', async (hook, why) => {
    write('ok.js', 'module.exports = () => {};');
    const t = trace('refused.trace');
    const ini = writeIni(dir, ['no-server = true', `hook-asap = exec:echo ran >> ${t}`, `hook-as-user = ${hook}`], 'refused.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused.ini:4: bad arguments for hook action `js`');
    expect(r.stderr).toMatch(why);
    expect(fs.readFileSync(t, 'utf8')).toBe('');
  });
});
