// A loopback TCP proxy the tests can cut (test/fixtures/tcp-proxy.js, in its
// own process so that a busy test process never stalls the traffic):
// `block()` stops forwarding and swallows new connections (a network
// partition between one client and etcd), `heal()` forwards again.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES } from './helpers';

export class TcpProxy {
  private child?: ChildProcess;
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<number> {
    this.child = fork(path.join(FIXTURES, 'tcp-proxy.js'), [String(this.target)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.port = await new Promise<number>((resolve) => this.child!.once('message', (m: { port: number }) => resolve(m.port)));
    return this.port;
  }

  private send(what: 'block' | 'heal'): Promise<void> {
    return new Promise((resolve) => {
      this.child!.once('message', () => resolve());
      this.child!.send(what);
    });
  }

  block(): Promise<void> {
    return this.send('block');
  }

  heal(): Promise<void> {
    return this.send('heal');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
}
