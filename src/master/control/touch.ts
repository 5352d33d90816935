// touch-reload, touch-workers-reload, touch-chain-reload, touch-logreopen,
// touch-exec: the mtime of each file is compared once a second (uWSGI's
// master cycle); a change (not the first sight) triggers the command.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { log } from '../../log';

export interface TouchSpec {
  file: string;
  command?: string; // a master command name
  exec?: string; // touch-exec: a shell command
}

export class TouchWatcher {
  private readonly mtimes = new Map<TouchSpec, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly specs: TouchSpec[], private readonly command: (name: string) => void, private readonly binsh = '/bin/sh') {}

  /** `seen`: the mtimes the previous image last saw (a reload): a file
   * touched while the master re-exec'd is a change, not the first sight. */
  start(seen: Record<string, number> = {}): void {
    if (!this.specs.length) return;
    for (const s of this.specs) this.mtimes.set(s, seen[s.file] ?? mtime(s.file));
    this.timer = setInterval(() => this.check(), 1000);
    this.timer.unref();
  }

  private check(): void {
    for (const s of this.specs) {
      const m = mtime(s.file);
      if (m === this.mtimes.get(s)) continue;
      this.mtimes.set(s, m);
      if (m === 0) continue; // removed: nothing to do
      log('master').info({ file: s.file, command: s.command ?? s.exec }, 'touched');
      if (s.command) this.command(s.command);
      if (s.exec) spawn(this.binsh, ['-c', s.exec], { stdio: ['ignore', 'inherit', 'inherit'] }).on('error', () => undefined);
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

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
