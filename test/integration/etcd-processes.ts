// What actually runs, read from /proc: the etcd emperor tests give each
// vassal a unique `attach-daemon = sleep N`, so a vassal copy is a sleep
// process and the emperor running it is its ancestor.
import { processes } from './helpers';

export interface Copy {
  pid: number;
  emperor?: number; // the pid of the emperor it descends from
}

/** sleep N → its copies (pid and emperor), for N in `wanted`. */
export function copies(wanted: ReadonlySet<number>, emperors: readonly number[]): Map<number, Copy[]> {
  const all = processes();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const out = new Map<number, Copy[]>();
  for (const p of all) {
    if (p.argv.length !== 2 || !p.argv[0]!.endsWith('sleep')) continue;
    const n = Number(p.argv[1]);
    if (!wanted.has(n)) continue;
    let up = byPid.get(p.ppid);
    while (up && !emperors.includes(up.pid)) up = byPid.get(up.ppid);
    const list = out.get(n) ?? [];
    list.push({ pid: p.pid, emperor: up?.pid });
    out.set(n, list);
  }
  return out;
}

/** Samples copies every `everyMs` and records, per vassal, the longest time two copies ran at once. */
export class OverlapWatch {
  private since = new Map<number, number>();
  readonly longest = new Map<number, number>();
  private timer: NodeJS.Timeout;

  constructor(wanted: ReadonlySet<number>, everyMs = 50) {
    this.timer = setInterval(() => {
      const now = Date.now();
      const c = copies(wanted, []);
      for (const n of wanted) {
        const twice = (c.get(n)?.length ?? 0) > 1;
        const s = this.since.get(n);
        if (twice && s === undefined) this.since.set(n, now);
        if (!twice && s !== undefined) this.since.delete(n);
        if (twice) this.longest.set(n, Math.max(this.longest.get(n) ?? 0, now - (s ?? now)));
      }
    }, everyMs);
  }

  max(): number {
    return Math.max(0, ...this.longest.values());
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
