// The etcd monitor: emperors on many hosts share the vassals stored under
// PREFIX/vassals/ and each vassal runs on exactly one of them. An emperor
// holds a lease (etcd-lease.ts), registers under PREFIX/emperors/ID, and
// claims the vassals placement gives it (etcd-placement.ts: least loaded,
// rendezvous-hash ties) with a transaction creating PREFIX/owners/NAME bound
// to its lease. Its desired set is what it owns; when the lease cannot be
// confirmed any more the set becomes empty (the emperor stops those vassals)
// before the lease can expire and another emperor claim them. Handover
// (drain, SIGUSR2): the owner writes PREFIX/handover/NAME {from, to}; `to`
// starts a copy and, once it accepts, takes the owner key in a transaction;
// the old owner then no longer owns NAME and stops its copy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Config } from '../../config/config';
import type { Origin } from '../../errors';
import { log } from '../../log';
import { bundleConfig, bundleRef, fileStamp } from './etcd-bundle-ref';
import { connect, parseEtcdSpec, type EtcdAuth, type EtcdTarget } from './etcd-connect';
import { nameIn, parseEmperor, parseHandover, requiredTags, splitTags, type Handover, type RegisteredEmperor } from './etcd-keys';
import { LeaseKeeper, type LeaseStatus } from './etcd-lease';
import { PrefixMirror } from './etcd-mirror';
import { choose, loads, place } from './etcd-placement';
import type { DesiredSet, DesiredVassal, Monitor, VassalState } from './monitor';

export interface EtcdMonitorOptions {
  ttl: number;
  capacity: number;
  tags: string[];
  id: string;
  auth: EtcdAuth;
  dir?: string;
  /** Where `liege install` keeps bundles (vassals stored as `bundle:NAME`). */
  stateDir?: string;
}

/** The monitor's options from the emperor's config. */
export function etcdOptions(cfg: Config): EtcdMonitorOptions {
  return {
    ttl: cfg.int('emperor-etcd-ttl'),
    capacity: cfg.int('emperor-etcd-capacity'),
    tags: splitTags(cfg.list('emperor-etcd-tags').map((s) => s.value)),
    id: cfg.str('emperor-etcd-id') ?? `${os.hostname()}-${process.pid}`,
    auth: { user: cfg.str('emperor-etcd-user'), password: cfg.str('emperor-etcd-password'), cacert: cfg.str('emperor-etcd-cacert'), cert: cfg.str('emperor-etcd-cert'), key: cfg.str('emperor-etcd-key') },
    dir: cfg.str('emperor-etcd-dir'),
    stateDir: cfg.str('state-dir') ?? '/var/lib/liege',
  };
}

/** The monitor for one `emperor = etcd://…` value (a bad spec names its file:line). */
export function etcdMonitor(spec: string, cfg: Config, origin: Origin): EtcdMonitor {
  parseEtcdSpec(spec, origin);
  return new EtcdMonitor(spec, etcdOptions(cfg));
}

const TICK_MS = 1000; // retries failed claims and registrations
const HANDOVER_TIMEOUT_MS = 60_000;

/** One vassal as the cluster sees it (emperor-stats). */
export interface EtcdVassalStat {
  name: string;
  owner?: string;
  lease?: string;
  local: boolean;
}

export class EtcdMonitor implements Monitor {
  readonly target: EtcdTarget;
  readonly client: Etcd3;
  readonly lease: LeaseKeeper;
  private readonly mirror: PrefixMirror;
  private readonly root: string;
  private readonly dir: string;
  private update: (set: DesiredSet) => void = () => {};
  private pushed = '';
  private scheduled = false;
  private ticker?: NodeJS.Timeout;
  private claiming = new Set<string>();
  private registeredLease?: string;
  private registering = false;
  private draining = false;
  private settleUntil = 0;
  private written = new Map<string, number>(); // name → mod revision written to its file
  private states = new Map<string, VassalState>();
  private stopped = false;

  constructor(readonly spec: string, private readonly opts: EtcdMonitorOptions) {
    this.target = parseEtcdSpec(spec)!;
    this.root = `${this.target.prefix}/`;
    this.client = connect(this.target, opts.auth, Math.max(500, Math.floor((opts.ttl * 1000) / 3)));
    this.lease = new LeaseKeeper(this.client, opts.ttl, (status, fresh) => this.leaseChanged(status, fresh));
    this.mirror = new PrefixMirror(this.client, this.root, () => this.schedule());
    this.dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'liege-etcd-'));
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A vassal stops itself after half a TTL without the emperor's heartbeat
   * (ipc/vassal.ts FENCE_ENV); heartbeats go only while the lease certainly
   * lives longer than that, so a frozen emperor's vassals begin to stop
   * before its lease can expire and another emperor claim them. */
  get fenceMs(): number {
    return Math.floor((this.opts.ttl * 1000) / 2);
  }

  mayRun(): boolean {
    return !this.stopped && this.lease.id !== undefined && this.lease.remainingMs() > this.fenceMs;
  }

  get id(): string {
    return this.opts.id;
  }

  async start(update: (set: DesiredSet) => void): Promise<void> {
    this.update = update;
    log('emperor').info({ id: this.id, etcd: this.target.hosts.join(','), prefix: this.target.prefix, ttl: this.opts.ttl }, 'joining the etcd cluster of emperors');
    process.on('SIGUSR2', this.onDrainSignal);
    this.lease.start();
    await this.mirror.start();
    this.ticker = setInterval(() => this.schedule(), TICK_MS);
    this.schedule();
  }

  // SIGUSR2 (or `liege etcd drain`, through PREFIX/drain/ID): hand every vassal over
  private readonly onDrainSignal = () => void this.drain();

  vassalState(name: string, state: VassalState): void {
    const n = name.replace(/^etcd:/, '');
    this.states.set(n, state);
    this.schedule();
  }

  private leaseChanged(status: LeaseStatus, fresh: boolean): void {
    if (fresh) {
      log('emperor').info({ id: this.id, lease: this.lease.id }, 'etcd lease granted');
      // let the other emperors' registrations arrive before placing vassals
      this.settleUntil = Date.now() + Math.min(1500, (this.opts.ttl * 1000) / 2);
    }
    if (status === 'valid' && !fresh) this.mirror.restart(); // resume the watch after a partition
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.recompute();
    });
  }

  /** The cluster as the mirror shows it. */
  private view() {
    const vassals = new Map<string, { text: string; mod: number; tags: string[] }>();
    const owners = new Map<string, { id: string; lease: string }>();
    const emperors = new Map<string, RegisteredEmperor>();
    const handovers = new Map<string, Handover>();
    for (const [key, e] of this.mirror.kv) {
      let n: string | undefined;
      if ((n = nameIn('vassals', key))) vassals.set(n, { text: e.value, mod: e.mod, tags: requiredTags(e.value) });
      else if ((n = nameIn('owners', key))) owners.set(n, { id: e.value, lease: e.lease });
      else if ((n = nameIn('emperors', key))) {
        const info = parseEmperor(e.value);
        if (info) emperors.set(n, info);
      } else if ((n = nameIn('handover', key))) {
        const h = parseHandover(e.value);
        if (h) handovers.set(n, h);
      }
    }
    const placement = { vassals: new Map([...vassals].map(([n, x]) => [n, x.tags])), owners: new Map([...owners].map(([n, o]) => [n, o.id])), emperors };
    return { vassals, owners, emperors, handovers, placement };
  }

  private recompute(): void {
    const leaseId = this.lease.id;
    if (this.lease.status !== 'valid' || leaseId === undefined) {
      this.push(new Map());
      return;
    }
    const v = this.view();
    if (this.registeredLease !== leaseId || !v.emperors.has(this.id)) this.register(leaseId);
    if (!this.draining && this.mirror.kv.has(`drain/${this.id}`)) void this.drain();
    const want = new Map<string, DesiredVassal>();
    for (const [n, vassal] of v.vassals) {
      const o = v.owners.get(n);
      const owner = o?.id;
      const h = v.handovers.get(n);
      // the key must be bound to the current lease: keys of a lost lease may
      // still be in the mirror when the new lease is granted
      const mine = owner === this.id && o?.lease === leaseId;
      const guest = h !== undefined && h.to === this.id && owner === h.from;
      if (mine || guest) want.set(`etcd:${n}`, this.materialise(n, vassal.text, vassal.mod));
      if (guest && this.states.get(n) === 'accepting') this.takeOver(n, h, leaseId);
    }
    // owner keys of deleted vassals are ours to drop
    for (const [n, o] of v.owners) if (o.id === this.id && !v.vassals.has(n)) void this.del(`owners/${n}`, o.id);
    this.push(want);
    if (Date.now() < this.settleUntil || this.draining) return;
    const plan = place(v.placement);
    for (const [n, id] of plan) if (id === this.id) this.claim(n, leaseId);
    // a copy started for a handover whose giver died: keep it (claim now)
    for (const n of want.keys()) {
      const name = n.slice(5);
      if (!v.owners.has(name) && !plan.has(name)) this.claim(name, leaseId);
    }
  }

  private materialise(name: string, text: string, mod: number): DesiredVassal {
    const bundle = bundleRef(text);
    if (bundle !== undefined) {
      // the recompute tick (1 s) notices a local install rewriting it
      const generated = bundleConfig(this.opts.stateDir ?? '/var/lib/liege', bundle);
      return { name: `etcd:${name}`, config: generated, version: `${mod}:${fileStamp(generated)}` };
    }
    const config = path.join(this.dir, `${name}.ini`);
    if (this.written.get(name) !== mod) {
      const tmp = `${config}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text, { mode: 0o600 });
      fs.renameSync(tmp, config);
      this.written.set(name, mod);
    }
    return { name: `etcd:${name}`, config, version: String(mod) };
  }

  private push(set: Map<string, DesiredVassal>): void {
    const sig = [...set.values()].map((d) => `${d.name}@${d.version}`).sort().join(' ');
    if (sig === this.pushed) return;
    this.pushed = sig;
    this.update(set);
  }

  private register(leaseId: string): void {
    if (this.registering) return;
    this.registering = true;
    const info: RegisteredEmperor = { host: os.hostname(), pid: process.pid, capacity: this.opts.capacity, tags: this.opts.tags, draining: this.draining };
    this.client.put(`${this.root}emperors/${this.id}`).value(JSON.stringify(info)).lease(leaseId).exec().then(
      () => { this.registeredLease = leaseId; },
      (e: Error) => log('emperor').warn({ error: e.message }, 'unable to register in etcd, retrying'),
    ).finally(() => { this.registering = false; });
  }

  private claim(name: string, leaseId: string): void {
    if (this.claiming.has(name)) return;
    this.claiming.add(name);
    const owner = `${this.root}owners/${name}`;
    this.client.if(owner, 'Create', '==', 0).and(`${this.root}vassals/${name}`, 'Create', '>', 0)
      .then(this.client.put(owner).value(this.id).lease(leaseId))
      .commit()
      .then(
        (r) => { if (r.succeeded) log('emperor').info({ vassal: name, lease: leaseId }, 'claimed vassal'); },
        (e: Error) => log('emperor').warn({ vassal: name, error: e.message }, 'unable to claim vassal'),
      )
      .finally(() => { this.claiming.delete(name); });
  }

  /** Our copy of a handed-over vassal accepts: take the owner key from the giver. */
  private takeOver(name: string, h: Handover, leaseId: string): void {
    if (this.claiming.has(name)) return;
    this.claiming.add(name);
    const owner = `${this.root}owners/${name}`;
    const hk = `${this.root}handover/${name}`;
    this.client.if(owner, 'Value', '==', h.from).and(hk, 'Create', '>', 0)
      .then(this.client.put(owner).value(this.id).lease(leaseId), this.client.delete().key(hk))
      .commit()
      .then(
        (r) => { if (r.succeeded) log('emperor').info({ vassal: name, from: h.from }, 'took over vassal'); },
        (e: Error) => log('emperor').warn({ vassal: name, error: e.message }, 'unable to take over vassal'),
      )
      .finally(() => { this.claiming.delete(name); });
  }

  private async del(key: string, ifValue: string): Promise<void> {
    const k = `${this.root}${key}`;
    try {
      await this.client.if(k, 'Value', '==', ifValue).then(this.client.delete().key(k)).commit();
    } catch { /* retried on the next tick */ }
  }

  /** Hands every owned vassal over to other emperors, one at a time. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.registeredLease = undefined; // re-register as draining
    this.schedule();
    const l = log('emperor');
    l.info({ id: this.id }, 'draining: handing vassals over to other emperors');
    for (;;) {
      if (this.stopped) return;
      const v = this.view();
      const mine = [...v.owners].filter(([n, o]) => o.id === this.id && v.vassals.has(n)).map(([n]) => n).sort();
      if (mine.length === 0) break;
      const name = mine[0]!;
      const load = loads(v.placement);
      const to = choose(name, v.vassals.get(name)!.tags, v.emperors, load, this.id);
      if (to === undefined) {
        l.warn({ vassal: name }, 'no other emperor can take this vassal; retrying');
        await sleep(TICK_MS);
        continue;
      }
      const done = await this.handOver(name, to);
      if (!done) l.warn({ vassal: name, to }, 'handover timed out; trying again');
    }
    l.info({ id: this.id }, 'drained: no vassal left here');
    await this.client.delete().key(`${this.root}drain/${this.id}`).exec().catch(() => undefined);
  }

  private async handOver(name: string, to: string): Promise<boolean> {
    const leaseId = this.lease.id;
    if (leaseId === undefined) return false;
    const hk = `${this.root}handover/${name}`;
    try {
      await this.client.put(hk).value(JSON.stringify({ from: this.id, to })).lease(leaseId).exec();
    } catch {
      await sleep(TICK_MS);
      return false;
    }
    log('emperor').info({ vassal: name, to }, 'handing vassal over');
    const end = Date.now() + HANDOVER_TIMEOUT_MS;
    while (Date.now() < end && !this.stopped) {
      const v = this.view();
      const owner = v.owners.get(name)?.id;
      if (owner !== this.id) return true;
      const h = v.handovers.get(name);
      if (v.emperors.get(to) === undefined || (h && h.to !== to)) break; // the taker died
      await sleep(100);
    }
    await this.del(`handover/${name}`, JSON.stringify({ from: this.id, to }));
    return false;
  }

  /** emperor-stats: the cluster as this emperor sees it — live emperors, and every vassal's owner and lease. */
  stats(): { id: string; lease?: string; lease_remaining_ms: number; lease_status: LeaseStatus; draining: boolean; emperors: Record<string, unknown>[]; vassals: EtcdVassalStat[] } {
    const v = this.view();
    const load = loads(v.placement);
    const emperors = [...v.emperors].sort().map(([id, e]) => ({ id, host: e.host, pid: e.pid, capacity: e.capacity, tags: e.tags, draining: e.draining === true, vassals: load.get(id) ?? 0 }));
    const vassals = [...v.vassals.keys()].sort().map((name) => {
      const o = v.owners.get(name);
      return { name, owner: o?.id, lease: o?.lease, local: o?.id === this.id };
    });
    return { id: this.id, lease: this.lease.id, lease_remaining_ms: Math.max(0, this.lease.remainingMs()), lease_status: this.lease.status, draining: this.draining, emperors, vassals };
  }

  /** emperor-stats fields of one local vassal: its owner (this emperor, or the giver of a handover) and lease. */
  vassalInfo(name: string): Record<string, string | number> {
    const o = this.mirror.kv.get(`owners/${name.replace(/^etcd:/, '')}`);
    return { etcd_owner: o?.value ?? '', etcd_lease: o?.lease ?? '' };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    process.off('SIGUSR2', this.onDrainSignal);
    this.mirror.stop();
    await this.lease.stop(true); // a clean exit releases every claim at once
    this.client.close();
    if (this.opts.dir === undefined) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
