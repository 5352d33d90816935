// A local mirror of every key under PREFIX/: a snapshot, then one watch
// stream resumed from the last applied revision + 1 after any disconnect, so
// no event is lost; an event at or below the applied revision is skipped, so
// none is applied twice. A watch cancelled by compaction resyncs from a new
// snapshot (the mirror is diffed, listeners see the keys that changed).
import type { Etcd3, IKeyValue, IWatchResponse } from 'etcd3';
import { log } from '../../log';

export interface Entry {
  value: string;
  mod: number; // mod revision
  lease: string; // '0' when none
}

/** The smallest key after every key starting with `p` (etcd's range_end for a prefix). */
export function prefixEnd(p: Buffer): Buffer {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export class PrefixMirror {
  readonly kv = new Map<string, Entry>(); // key without PREFIX/
  /** The last revision applied: the watch resumes at rev + 1. */
  rev = 0;
  connected = false;
  private gen = 0;
  private stream?: { end(): void; cancel?(): void };
  private stopped = false;
  private backoffMs = 100;

  constructor(
    private readonly client: Etcd3,
    private readonly root: string, // PREFIX/
    private readonly onChange: (keys: string[]) => void,
  ) {}

  /** Loads the snapshot (retrying until etcd answers), then watches. */
  async start(): Promise<void> {
    await this.resync();
  }

  /** Applies one watch response; returns the keys it changed. Pure enough to unit-test. */
  apply(res: Pick<IWatchResponse, 'events' | 'header'>): string[] {
    const changed: string[] = [];
    let top = this.rev;
    for (const ev of res.events ?? []) {
      const mod = Number(ev.kv.mod_revision);
      if (mod <= this.rev) continue; // already applied before a reconnect
      const key = this.rel(ev.kv);
      if (key === undefined) continue;
      if (ev.type === 'Delete') this.kv.delete(key);
      else this.kv.set(key, { value: ev.kv.value.toString(), mod, lease: String(ev.kv.lease ?? '0') });
      changed.push(key);
      if (mod > top) top = mod;
    }
    this.rev = top;
    return changed;
  }

  private rel(kv: IKeyValue): string | undefined {
    const k = kv.key.toString();
    return k.startsWith(this.root) ? k.slice(this.root.length) : undefined;
  }

  /** Full read at one revision; the mirror becomes it, listeners see the diff. */
  private async resync(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        const res = await this.client.getAll().prefix(this.root).exec();
        const fresh = new Map<string, Entry>();
        for (const kv of res.kvs) {
          const key = this.rel(kv);
          if (key !== undefined) fresh.set(key, { value: kv.value.toString(), mod: Number(kv.mod_revision), lease: String(kv.lease ?? '0') });
        }
        const changed = new Set<string>();
        for (const [k, e] of this.kv) if (fresh.get(k)?.mod !== e.mod) changed.add(k);
        for (const k of fresh.keys()) if (!this.kv.has(k)) changed.add(k);
        this.kv.clear();
        for (const [k, e] of fresh) this.kv.set(k, e);
        this.rev = Number(res.header.revision);
        this.open();
        if (changed.size > 0) this.onChange([...changed]);
        return;
      } catch (e) {
        log('emperor').warn({ error: (e as Error).message }, 'unable to read etcd, retrying');
        await new Promise((r) => setTimeout(r, this.nextBackoff()));
      }
    }
  }

  private nextBackoff(): number {
    const b = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    return b;
  }

  /** Drops the stream and opens a new one from rev + 1 (after a partition ends). */
  restart(): void {
    this.close();
    this.open();
  }

  private close(): void {
    this.gen++;
    this.connected = false;
    const s = this.stream;
    this.stream = undefined;
    try { s?.cancel?.(); s?.end(); } catch { /* already gone */ }
  }

  private open(): void {
    if (this.stopped) return;
    const gen = ++this.gen;
    const retry = (why: string) => {
      if (gen !== this.gen || this.stopped) return;
      this.close();
      log('emperor').warn({ error: why, resumeAt: this.rev + 1 }, 'etcd watch interrupted, resuming');
      setTimeout(() => { if (gen + 1 === this.gen && !this.stopped) this.open(); }, this.nextBackoff());
    };
    this.client.watchClient.watch().then((stream) => {
      if (gen !== this.gen || this.stopped) {
        stream.end();
        return;
      }
      this.stream = stream as unknown as { end(): void; cancel?(): void };
      stream.on('data', (res: IWatchResponse) => {
        if (gen !== this.gen) return;
        if (res.created && !res.canceled) {
          this.connected = true;
          this.backoffMs = 100;
          return;
        }
        if (res.canceled) {
          if (Number(res.compact_revision) > 0) {
            log('emperor').warn({ compacted: res.compact_revision }, 'etcd history compacted past the watch, resyncing');
            this.close();
            void this.resync();
          } else retry(`watch canceled: ${res.cancel_reason}`);
          return;
        }
        const changed = this.apply(res);
        if (changed.length > 0) this.onChange(changed);
      });
      stream.on('error', (e: Error) => retry(e.message));
      stream.on('end', () => retry('stream ended'));
      const key = Buffer.from(this.root);
      stream.write({ create_request: { key, range_end: prefixEnd(key), start_revision: this.rev + 1, progress_notify: true } });
    }, (e: Error) => retry(e.message));
  }

  stop(): void {
    this.stopped = true;
    this.close();
  }
}
