// Building bundle directories for the bundle tests: package.json, an app,
// meta/liege.ini and meta/hooks/<name> shell scripts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LIEGE, runLiege } from './helpers';

export interface AppSpec {
  version: string;
  ini?: string[]; // meta/liege.ini lines after [uwsgi]
  app?: string; // app.js
  hooks?: Record<string, string>; // name → sh script body
}

/** Writes a bundle tree under dir/src-<version> and returns its path. */
export function bundleDir(dir: string, name: string, spec: AppSpec): string {
  const root = path.join(dir, `src-${name}-${spec.version}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'meta', 'hooks'), { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name, version: spec.version }));
  fs.writeFileSync(path.join(root, 'app.js'), spec.app ?? `module.exports = (req, res) => res.end('${name} ${spec.version}\\n');\n`);
  fs.writeFileSync(path.join(root, 'meta', 'liege.ini'), ['[uwsgi]', ...(spec.ini ?? ['http-socket = 127.0.0.1:0', 'node-app = %(bundle)/app.js']), ''].join('\n'));
  for (const [h, body] of Object.entries(spec.hooks ?? {})) {
    fs.writeFileSync(path.join(root, 'meta', 'hooks', h), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return root;
}

/** liege pack → the archive path (throws with the output when it fails). */
export async function packBundle(dir: string, root: string): Promise<string> {
  const out = path.join(dir, `${path.basename(root)}.tar.gz`);
  const r = await runLiege(['pack', root, '-o', out]);
  if (r.exitCode !== 0) throw new Error(`pack failed: ${r.stderr}`);
  return out;
}

/** A bundle command with the state dir of the test. */
export function bundleCmd(state: string, args: string[], env: Record<string, string> = {}) {
  return runLiege(args, { env: { LIEGE_STATE_DIR: state, PATH: `${path.dirname(LIEGE)}:${process.env.PATH}`, ...env }, timeout: 90_000 });
}
