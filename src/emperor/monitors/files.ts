// What the dir:// and glob:// monitors share: a periodic scan (every
// emperor-freq) plus file events (fs.watch, inotify) on the watched
// directories, each pushing the whole desired set when it changed. A
// directory that does not exist (yet) is warned about once and kept under
// watch: the emperor may start before the configs are deployed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from '../../log';
import type { DesiredSet, DesiredVassal, Monitor } from './monitor';

/** The config extensions liege reads (config/load.ts reads INI only). */
export const VASSAL_EXTENSIONS = ['.ini'];

// uWSGI's emperor runs these too (uwsgi_emperor_is_valid): a vassal
// directory migrated from uWSGI would lose them in silence (.js is left
// out: an app file beside the configs is no vassal)
const FOREIGN_VASSALS = ['.xml', '.yml', '.yaml', '.json'];

export interface FileMonitorOptions {
  freqMs: number;
  /** emperor-tyrant: each vassal carries its config file's owner. */
  tyrant: boolean;
  /** emperor-tyrant-nofollow: the owner of a symlink itself, not its target. */
  nofollow: boolean;
}

const SETTLE_MS = 20; // coalesce a burst of inotify events into one scan

export abstract class FileMonitor implements Monitor {
  private update?: (set: DesiredSet) => void;
  private last?: string; // the first scan always pushes, even an empty set
  private timer?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private missing = false;
  /** Configs skipped by the last scan and why (said once, not each scan). */
  private skipped = new Map<string, string>();

  constructor(readonly spec: string, protected readonly opts: FileMonitorOptions) {}

  /** The candidate config paths of one scan. */
  protected abstract list(): string[];
  /** The directories whose events trigger a scan. */
  protected abstract dirs(): string[];
  /** Where the vassals start (undefined: the emperor's cwd). */
  protected cwd(): string | undefined {
    return undefined;
  }

  start(update: (set: DesiredSet) => void): void {
    this.update = update;
    this.scan();
    this.timer = setInterval(() => this.scan(), this.opts.freqMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.settle);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.update = undefined;
  }

  /** Scan now; push the set only when it differs from the last one. */
  scan(): void {
    if (!this.update) return;
    this.watch();
    const set = new Map<string, DesiredVassal>();
    const skipped = new Map<string, string>();
    for (const f of this.list()) {
      if (FOREIGN_VASSALS.includes(path.extname(f))) skipped.set(path.resolve(f), `a uWSGI ${path.extname(f).slice(1)} config: liege reads INI only (write it as ${path.basename(f, path.extname(f))}.ini)`);
      if (!VASSAL_EXTENSIONS.includes(path.extname(f))) continue;
      const v = this.describe(path.resolve(f), skipped);
      if (v && !set.has(v.name)) set.set(v.name, v);
    }
    for (const [file, why] of skipped) {
      if (this.skipped.get(file) !== why) log('emperor').warn({ monitor: this.spec, config: file }, `vassal config skipped: ${why}`);
    }
    this.skipped = skipped;
    const key = [...set.values()].map((v) => `${v.name}\0${v.version}\0${v.owner?.uid}:${v.owner?.gid}`).join('\n');
    if (key === this.last) return;
    this.last = key;
    this.update(set);
  }

  /** The vassal of one config file; a file that is no vassal (a directory,
   * a dangling symlink, a symlink loop) goes into `skipped` with the reason:
   * under uWSGI it was left out in silence. */
  private describe(file: string, skipped: Map<string, string>): DesiredVassal | undefined {
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) return void skipped.set(file, st.isDirectory() ? 'a directory, not a file' : 'not a regular file');
      const own = this.opts.tyrant && this.opts.nofollow ? fs.lstatSync(file) : st;
      const owner = this.opts.tyrant ? { uid: own.uid, gid: own.gid } : undefined;
      return { name: file, config: file, version: String(st.mtimeMs), owner, cwd: this.cwd() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') skipped.set(file, 'a symlink loop');
      else if (code === 'ENOENT' && isSymlink(file)) skipped.set(file, `a dangling symlink (to ${readLink(file)})`);
      else if (code !== 'ENOENT') skipped.set(file, `unable to stat it: ${code ?? String(e)}`);
      return undefined; // (ENOENT: gone between the listing and the stat)
    }
  }

  private watch(): void {
    const dirs = this.dirs();
    const missing = dirs.filter((d) => !fs.existsSync(d));
    if (missing.length && !this.missing) log('emperor').warn({ monitor: this.spec, missing: missing.join(' ') }, 'vassal directory does not exist (yet), watching for it');
    if (!missing.length && this.missing) log('emperor').info({ monitor: this.spec }, 'vassal directory appeared');
    this.missing = missing.length > 0;
    for (const d of dirs) {
      if (this.watchers.has(d) || missing.includes(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, () => this.soon());
        w.on('error', () => { w.close(); this.watchers.delete(d); this.soon(); });
        this.watchers.set(d, w);
      } catch { /* not watchable: the periodic scan still sees it */ }
    }
    for (const [d, w] of this.watchers) {
      if (!dirs.includes(d) || missing.includes(d)) { w.close(); this.watchers.delete(d); }
    }
  }

  private soon(): void {
    if (this.settle) return;
    this.settle = setTimeout(() => { this.settle = undefined; this.scan(); }, SETTLE_MS);
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function readLink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '?';
  }
}
