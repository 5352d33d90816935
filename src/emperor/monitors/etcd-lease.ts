// The emperor's etcd lease, kept alive by hand so that the emperor always
// knows until when its claims are certainly still valid: a keepalive sent at
// t and answered with TTL s proves the lease lives until at least t + TTL
// (the server renewed it after t). Keepalives go every quarter TTL; when the
// proof would run out within a quarter TTL — three windows in a row without
// an answer — the lease is
// "fenced": the monitor stops its vassals at once, before the server can let
// the lease expire and another emperor claim them. A lease the server no
// longer knows is "lost": a new one is granted after the connection is back.
import type { Etcd3 } from 'etcd3';
import { log } from '../../log';

export type LeaseStatus = 'pending' | 'valid' | 'fenced';

export class LeaseKeeper {
  /** The current lease id (decimal string), undefined until granted / after a loss. */
  id?: string;
  /** Local time until which the lease certainly lives. */
  confirmedUntil = 0;
  status: LeaseStatus = 'pending';
  private timer?: NodeJS.Timeout;
  private checker?: NodeJS.Timeout;
  private inFlight = false;
  private stopped = false;

  constructor(
    private readonly client: Etcd3,
    readonly ttl: number,
    private readonly onChange: (status: LeaseStatus, newLease: boolean) => void,
  ) {}

  get intervalMs(): number {
    return Math.max(200, Math.floor((this.ttl * 1000) / 4));
  }

  /** ms of certain validity left (negative: the proof ran out). */
  remainingMs(now = Date.now()): number {
    return this.confirmedUntil - now;
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.checker = setInterval(() => this.check(), 100);
    void this.beat();
  }

  private async beat(): Promise<void> {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    try {
      // a stream to a dead member fails at once and the next try picks
      // another member: retry until the lease is about to be fenced
      const until = Math.max(Date.now() + this.intervalMs, this.confirmedUntil - this.intervalMs);
      for (;;) {
        const sent = Date.now();
        const deadline = Math.min(until, sent + 2 * this.intervalMs);
        try {
          await this.attempt(sent, deadline);
          return;
        } catch (e) {
          if (this.stopped || Date.now() + 50 >= until) {
            log('emperor').warn({ error: (e as Error).message }, 'etcd lease keepalive failed');
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      this.inFlight = false;
    }
  }

  private async attempt(sent: number, deadline: number): Promise<void> {
    if (this.id === undefined) {
      const res = await this.client.leaseClient.leaseGrant({ TTL: this.ttl }, { deadline });
      if (this.stopped) return;
      this.id = String(res.ID);
      this.confirm(sent, Number(res.TTL), true);
      return;
    }
    const ttl = await this.keepaliveOnce(this.id, deadline);
    if (this.stopped) return;
    if (ttl > 0) this.confirm(sent, ttl, false);
    else this.lost();
  }

  private confirm(sent: number, ttl: number, fresh: boolean): void {
    this.confirmedUntil = sent + ttl * 1000;
    const was = this.status;
    if (this.valid()) this.status = 'valid';
    if (fresh || was !== this.status) this.onChange(this.status, fresh);
  }

  private lost(): void {
    log('emperor').warn({ lease: this.id }, 'etcd lease expired; its vassals are released');
    this.id = undefined;
    this.confirmedUntil = 0;
    this.check();
  }

  private valid(now = Date.now()): boolean {
    return this.remainingMs(now) > this.intervalMs;
  }

  private check(): void {
    if (this.status === 'valid' && !this.valid()) {
      this.status = 'fenced';
      // (a lost lease has no proof left to count down: before, its
      // remainingMs was minus the epoch, -1.8e12)
      if (this.confirmedUntil === 0) log('emperor').warn({ lease: this.id }, 'etcd lease lost: stopping local vassals');
      else log('emperor').warn({ lease: this.id, remainingMs: this.remainingMs() }, 'etcd unreachable: lease not confirmed, stopping local vassals');
      this.onChange('fenced', false);
    }
  }

  /** One keepalive on a short-lived stream; the TTL the server answers (0: lease gone). */
  private async keepaliveOnce(id: string, deadline: number): Promise<number> {
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline });
    try {
      return await new Promise<number>((resolve, reject) => {
        stream.on('data', (res) => resolve(Number(res.TTL)));
        stream.on('error', reject);
        stream.on('end', () => reject(new Error('keepalive stream ended')));
        stream.write({ ID: id });
      });
    } finally {
      stream.end();
    }
  }

  /** Stops keeping the lease; revokes it when `revoke` (a clean exit releases at once). */
  async stop(revoke: boolean): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.checker);
    if (revoke && this.id !== undefined) {
      try {
        await this.client.leaseClient.leaseRevoke({ ID: this.id }, { deadline: Date.now() + 2000 });
      } catch { /* unreachable: the lease expires by itself */ }
    }
  }
}
