// A real 3-member etcd cluster on loopback for the etcd emperor tests:
// Debian's etcd-server (/usr/bin/etcd), free client and peer ports, data in a
// scratch dir, every member killed by pid at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, scratch } from './helpers';

export const ETCD = process.env.LIEGE_TEST_ETCD ?? '/usr/bin/etcd';

export interface Member {
  name: string;
  client: number;
  peer: number;
  dataDir: string;
  proc?: ChildProcess;
}

export class EtcdCluster {
  readonly dir = scratch();
  readonly members: Member[] = [];
  private token = `liege-test-${process.pid}-${Date.now()}`;

  /** Client endpoints, host:port, comma separated. */
  get endpoints(): string {
    return this.members.map((m) => `127.0.0.1:${m.client}`).join(',');
  }

  async start(size = 3): Promise<void> {
    for (let i = 0; i < size; i++) {
      const name = `m${i + 1}`;
      this.members.push({ name, client: await freePort(), peer: await freePort(), dataDir: path.join(this.dir, name) });
    }
    for (const m of this.members) this.startMember(m, 'new');
    await this.waitHealthy();
  }

  startMember(m: Member, state: 'new' | 'existing' = 'existing'): void {
    const initial = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peer}`).join(',');
    const log = fs.openSync(path.join(this.dir, `${m.name}.log`), 'a');
    m.proc = spawn(ETCD, [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.client}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initial,
      '--initial-cluster-state', state,
      '--initial-cluster-token', this.token,
      '--heartbeat-interval', '100',
      '--election-timeout', '1000',
      '--logger', 'zap',
      '--log-level', 'warn',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
  }

  /** SIGKILL, resolved once the member is reaped (its data dir lock released). */
  async kill(m: Member): Promise<void> {
    const p = m.proc;
    m.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    try { p.kill('SIGKILL'); } catch { /* gone */ }
    await gone;
  }

  /** The member that is not the raft leader (killing it costs no election). */
  async follower(): Promise<Member> {
    const out = JSON.parse(await this.ctl('endpoint', 'status', '-w', 'json')) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
    const f = out.find((e) => e.Status.header.member_id !== e.Status.leader)!;
    return this.members.find((m) => f.Endpoint.endsWith(`:${m.client}`))!;
  }

  /** etcdctl against the cluster; stdout. */
  async ctl(...args: string[]): Promise<string> {
    const { execa } = await import('execa');
    const r = await execa('etcdctl', ['--endpoints', this.endpoints, '--dial-timeout', '2s', '--command-timeout', '5s', ...args], { env: { ETCDCTL_API: '3' }, reject: false });
    if (r.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async waitHealthy(ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        await this.ctl('put', '/liege-test-health', 'ok');
        return;
      } catch (e) {
        if (Date.now() > end) throw new Error(`etcd cluster did not become healthy: ${(e as Error).message}\n${this.logs()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  logs(): string {
    return this.members.map((m) => { try { return fs.readFileSync(path.join(this.dir, `${m.name}.log`), 'utf8').slice(-2000); } catch { return ''; } }).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
