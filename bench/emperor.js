#!/usr/bin/env node
'use strict';
// Emperor scale, liege beside the bare-Node floor and uWSGI's emperor in one
// run: ../shared/bench/07-emperor.js (V vassal INIs that each bind a unix
// socket, drop to nobody and run one as-user hook) for V = 10, 50, 100,
// interleaved per V; then the liege emperor's idle CPU with 100 vassals.
//
//   node bench/emperor.js [--vassals 10,50,100] [--runs 1] [--liege bin/liege] [--anchors DIR]
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const anchors = path.resolve(arg('anchors', path.join(__dirname, '..', '..', 'shared', 'bench')));
const liege = path.resolve(arg('liege', path.join(__dirname, '..', 'bin', 'liege')));
const sizes = arg('vassals', '10,50,100').split(',');
const only = arg('programs', 'liege,floor,uwsgi').split(',');
const runs = arg('runs', '1');
const progs = Object.fromEntries(Object.entries({ liege, floor: `node ${anchors}/apps/floor-emperor.js`, uwsgi: 'uwsgi' }).filter(([k]) => only.includes(k)));

const results = {};
for (const v of sizes) {
  for (const [name, prog] of Object.entries(progs)) {
    const out = `emperor-${name}-${v}.json`;
    execFileSync(process.execPath, [path.join(anchors, '07-emperor.js'), '--prog', prog, '--vassals', v, '--runs', runs, '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    const r = JSON.parse(fs.readFileSync(path.join(anchors, 'results', out), 'utf8')).results[v];
    results[`${name} ${v}`] = { readyMs: r.ready.median, procs: r.procs, pssPerVassal: (r.totalPssMiB - r.emperorPssMiB) / Number(v), emperorPss: r.emperorPssMiB };
  }
}

console.log('| V | program | all ready ms | ratio vs floor | processes | PSS per vassal MiB | ratio vs floor |\n|---|---|---|---|---|---|---|');
for (const v of sizes) {
  const floor = results[`floor ${v}`];
  for (const name of Object.keys(progs)) {
    const r = results[`${name} ${v}`];
    const ms = (x) => (x === null || Number.isNaN(x) ? 'timeout (60 s)' : x.toFixed(0)); // 07-emperor.js gives up after 60 s
    console.log(`| ${v} | ${name} | ${ms(r.readyMs)} | ${(r.readyMs / floor.readyMs).toFixed(2)} | ${r.procs} | ${r.pssPerVassal.toFixed(2)} | ${(r.pssPerVassal / floor.pssPerVassal).toFixed(2)} |`);
  }
}

// idle CPU of the liege emperor with 100 vassals (ticks of the emperor process over 20 s)
async function idleCpu() {
  const root = '/tmp/bench-emperor-idle';
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(`${root}/vassals`, { recursive: true });
  fs.mkdirSync(`${root}/sock`, { recursive: true });
  fs.chmodSync(`${root}/sock`, 0o777);
  for (let i = 0; i < 100; i++) fs.writeFileSync(`${root}/vassals/v${i}.ini`, `[uwsgi]\nuid = nobody\ngid = nogroup\nsocket = ${root}/sock/%n.sock\n`);
  const emp = spawn(process.execPath, [liege, '--emperor', `${root}/vassals`], { stdio: 'ignore', detached: true });
  const ticks = () => { const f = fs.readFileSync(`/proc/${emp.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
  await new Promise((r) => setTimeout(r, 30_000)); // all up, settled
  const t0 = ticks();
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, 20_000));
  const cpu = ((ticks() - t0) * 10) / (Date.now() - w0); // 100 ticks a second
  process.kill(emp.pid, 'SIGTERM');
  await new Promise((r) => emp.on('exit', r));
  fs.rmSync(root, { recursive: true, force: true });
  console.log(`\nliege emperor idle with 100 vassals: ${(cpu * 100).toFixed(2)} % of a core`);
}
if (!process.argv.includes('--no-idle')) void idleCpu();
