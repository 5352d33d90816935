// touch-reload, touch-workers-reload, touch-chain-reload, touch-logreopen,
// touch-exec: the mtime of each file is compared once a second (uWSGI's
// master cycle); a change (not the first sight) triggers the command.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from '../../log';

export interface TouchSpec {
  file: string;
  command?: string; // a master command name
  exec?: string; // touch-exec: a shell command
}

export class TouchWatcher {
  private readonly mtimes = new Map<TouchSpec, number>();
  private timer?: NodeJS.Timeout;
  /** Files that could not be looked at, and why (said once per reason). */
  private readonly unseen = new Map<TouchSpec, string>();

  constructor(private readonly specs: TouchSpec[], private readonly command: (name: string) => void, private readonly binsh = '/bin/sh') {}

  /** `seen`: the mtimes the previous image last saw (a reload): a file
   * touched while the master re-exec'd is a change, not the first sight. */
  start(seen: Record<string, number> = {}): void {
    if (!this.specs.length) return;
    for (const s of this.specs) this.mtimes.set(s, seen[s.file] ?? this.mtime(s));
    this.timer = setInterval(() => this.check(), 1000);
    this.timer.unref();
  }

  private check(): void {
    for (const s of this.specs) {
      const m = this.mtime(s);
      if (m === this.mtimes.get(s)) continue;
      this.mtimes.set(s, m);
      if (m === 0) continue; // removed: nothing to do
      log('master').info({ file: s.file, command: s.command ?? s.exec }, 'touched');
      if (s.command) this.command(s.command);
      if (s.exec) spawn(this.binsh, ['-c', s.exec], { stdio: ['ignore', 'inherit', 'inherit'] }).on('error', () => undefined);
    }
  }

  /** The file's mtime, 0 when it is not there. A file the master may not
   * look at (a directory the dropped user cannot enter) is said once: it
   * would never fire (before: in silence). */
  private mtime(s: TouchSpec): number {
    try {
      const m = fs.statSync(s.file).mtimeMs;
      this.unseen.delete(s);
      return m;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && this.unseen.get(s) !== code) {
        const uid = process.getuid?.();
        const why = (code === 'EACCES' || code === 'EPERM') && uid !== 0 ? ` (the master looks at it as uid ${uid} since the privilege drop: let that user enter ${path.dirname(path.resolve(s.file))})` : '';
        log('master').warn({ file: s.file, errno: code }, `unable to look at the touch file ${s.file}: ${code}${why}; a touch is not seen until it can`);
      }
      this.unseen.set(s, code);
      return 0;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The mtimes seen last, by file (for the next image). */
  seen(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [s, m] of this.mtimes) out[s.file] = m;
    return out;
  }
}


