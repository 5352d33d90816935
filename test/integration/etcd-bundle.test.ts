// A bundle as an etcd vassal: `liege etcd put URL NAME bundle:BUNDLE`
// stores a reference; the owning emperor runs the bundle installed on its
// host (<state-dir>/bundles/BUNDLE.ini), follows a local `liege install` of
// a new version (its wait for "accepting" succeeds), and stops it on rm.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { freePort, get, killGroup, runLiege, scratch, startLiege, until } from './helpers';
import { bundleCmd, bundleDir, packBundle } from './bundle-helpers';
import { EtcdCluster } from './etcd-cluster';

const dir = scratch();
const cluster = new EtcdCluster();
const started: ResultPromise[] = [];
beforeAll(async () => { await cluster.start(1); });
afterAll(async () => {
  for (const p of started) killGroup(p);
  await cluster.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('bundles as etcd vassals', () => {
  it('runs the installed bundle a key refers to, follows a local install, stops on rm', async () => {
    const state = path.join(dir, 'state');
    fs.mkdirSync(path.join(state, 'bundles'), { recursive: true });
    const port = await freePort();
    const url = `etcd://${cluster.endpoints}/b`;
    const ini = [`http-socket = 127.0.0.1:${port}`, 'node-app = %(bundle)/app.js', 'uid = nobody', 'gid = nogroup'];
    const version = async (v: string) => packBundle(dir, bundleDir(dir, 'shop', { version: v, ini }));

    const emperor = startLiege(['--emperor', url, '--emperor-etcd-ttl', '3', '--emperor-etcd-id', 'e1', '--emperor-etcd-dir', path.join(dir, 'etcd-e1')], { env: { LIEGE_STATE_DIR: state } });
    started.push(emperor);

    // the reference first: the owner cannot start a bundle not installed yet
    let r = await runLiege(['etcd', 'put', url, 'shop', 'bundle:shop']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await cluster.ctl('get', '--print-value-only', 'b/vassals/shop')).toBe('bundle:shop\n');
    await new Promise((res) => setTimeout(res, 3000)); // claimed, tried, failed
    expect(await get(port)).toBeUndefined();

    // installed on the host: the emperor starts it, install's wait succeeds
    r = await bundleCmd(state, ['install', await version('1.0.0'), '--bundle-start-timeout', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await until(() => get(port), 30_000)).body).toBe('shop 1.0.0\n');

    // a new version installed on the host: the emperor reloads the vassal,
    // and install's wait for the new generation to accept succeeds
    r = await bundleCmd(state, ['install', await version('2.0.0'), '--bundle-start-timeout', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await until(async () => ((await get(port))?.body === 'shop 2.0.0\n' ? true : undefined), 30_000))).toBe(true);

    // a bad reference is refused before anything is stored
    r = await runLiege(['etcd', 'put', url, 'other', 'bundle:../x']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad bundle reference/);
    expect(await cluster.ctl('get', '--print-value-only', 'b/vassals/other')).toBe('');

    r = await runLiege(['etcd', 'rm', url, 'shop']);
    expect(r.exitCode, r.stderr).toBe(0);
    await until(async () => ((await get(port)) === undefined ? true : undefined), 30_000);
    process.kill(emperor.pid!, 'SIGTERM');
    const res = await emperor;
    expect(res.exitCode).toBe(0);
    // the failed start before the install said why
    expect(res.stderr).toMatch(/bundles\/shop\.ini/);
  }, 120_000);
});
