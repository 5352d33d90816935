// vitest's global setup: this run's range of loopback ports for the tests'
// listeners (helpers.ts freePort: base + 1000 per vitest worker). Two runs
// on one machine (a full suite beside another worktree's single file) both
// took 21000+ before: each probed a port free, both bound it, and one run's
// etcd member answered the other's HTTP load (404s), or granted leases the
// other's cluster never knew. A run now holds its slot's first port open
// (the slot is taken while the run lives, the kernel frees it at any exit)
// and tells the workers its base in LIEGE_TEST_PORT_BASE. The slots stay
// below Linux's ephemeral range (32768+), above the ports fetch() refuses
// (its "bad ports": 6000, 6665–6669, 10080 …: a test on one failed at once)
// and outside 20000–27999, the range of runs without this setup.
import * as net from 'node:net';

const SLOTS = [11_000, 14_000, 17_000, 28_000]; // each: base .. base + 2999 (workers 1, 2)

function hold(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

export default async function setup(): Promise<(() => void) | undefined> {
  if (process.env.LIEGE_TEST_PORT_BASE) return undefined; // chosen by hand
  for (const base of SLOTS) {
    const s = await hold(base);
    if (!s) continue;
    s.unref();
    process.env.LIEGE_TEST_PORT_BASE = String(base);
    return () => s.close();
  }
  return undefined; // every slot taken: the old range
}
