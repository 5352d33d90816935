// What a worker holds beside the app (bench/README.md, session 16): Node's
// public `module` (which loads the ESM loader and source maps) and node:os
// are not loaded for a CommonJS app, and the ESM path that needs them
// (`import … from 'liege'` through module.register()) still works.
import type { ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function get(port: number): Promise<{ body: string; hooked: string | null } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
    return { body: await r.text(), hooked: r.headers.get('x-hooked') };
  } catch {
    return undefined;
  }
}

async function serve(name: string, file: string, text: string) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, file), text);
  const port = await freePort();
  const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(d, file), '--disable-logging'], { cwd: d });
  started.push(p);
  return until(() => get(port));
}

describe('worker image', () => {
  it('a CommonJS app: the worker has not loaded node:module (ESM loader, source maps) nor node:os', async () => {
    const r = await serve('cjs', 'app.js', 'module.exports = (req, res) => res.end(JSON.stringify(process.moduleLoadList));\n');
    const loaded = JSON.parse(r.body) as string[];
    expect(loaded).toContain('NativeModule http'); // the list is the worker's
    for (const m of ['NativeModule module', 'NativeModule internal/modules/esm/loader', 'NativeModule internal/source_map/source_map', 'NativeModule os']) {
      expect(loaded).not.toContain(m);
    }
  });

  it("an ES module app imports liege's API (module.register's resolve hook)", async () => {
    const app = "import { addHook } from 'liege';\naddHook('pre-route', (req, res) => { res.setHeader('x-hooked', 'yes'); });\nexport default (req, res) => res.end('esm');\n";
    const r = await serve('esm', 'app.mjs', app);
    expect(r).toEqual({ body: 'esm', hooked: 'yes' });
  });
});
