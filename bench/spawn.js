#!/usr/bin/env node
// Per-exec cost of the hook runner's two paths against Node's own: the
// startup path (native vfork + execve + waitpid in the thread), the running
// loop path (native vfork + execve, a thread waits, the status comes back
// on the loop), and child_process.spawnSync / spawn. Each round runs every
// method for N execs of /bin/true, in a shuffled order (a burst of noise on
// a shared VM hits all of them alike); medians over the rounds.
// Usage: node bench/spawn.js   Env: N=100 ROUNDS=10
'use strict';
const cp = require('child_process');
const path = require('path');
const native = require(path.join(__dirname, '..', 'native', 'build', 'Release', 'liege_native.node'));

const N = Number(process.env.N || 100);
const ROUNDS = Number(process.env.ROUNDS || 10);

const METHODS = {
  'native spawnWait (startup)': async () => { for (let i = 0; i < N; i++) native.spawnWait('/bin/true', ['true']); },
  'native spawnAsync (loop)': async () => { for (let i = 0; i < N; i++) await new Promise((r) => native.spawnAsync('/bin/true', ['true'], null, r)); },
  'child_process.spawnSync': async () => { for (let i = 0; i < N; i++) cp.spawnSync('/bin/true', [], { stdio: 'inherit' }); },
  'child_process.spawn': async () => { for (let i = 0; i < N; i++) await new Promise((r) => cp.spawn('/bin/true', [], { stdio: 'inherit' }).on('exit', r)); },
};

async function main() {
  const times = Object.fromEntries(Object.keys(METHODS).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const k of Object.keys(METHODS).sort(() => Math.random() - 0.5)) {
      const t0 = process.hrtime.bigint();
      await METHODS[k]();
      if (r > 0) times[k].push(Number(process.hrtime.bigint() - t0) / 1e6 / N); // round 0 warms up
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const base = med(times['native spawnWait (startup)']);
  console.log(`ms per exec of /bin/true, median of ${ROUNDS} interleaved rounds of ${N}; node ${process.version}`);
  console.log('| method | ms/exec | × startup path |\n|---|---|---|');
  for (const [k, v] of Object.entries(times)) console.log(`| ${k} | ${med(v).toFixed(3)} | ${(med(v) / base).toFixed(2)} |`);
}

main();
