#!/usr/bin/env node
'use strict';
// A chaos run of liege's master under load (see bench/lib/chaos.js): faults
// at seeded random moments, then SIGTERM; prints the requests by endpoint
// and outcome, the faults injected, the faults without a log line, what was
// left behind. Exit 1 when a request failed unexplained, the master died,
// a fault was not logged or something was left.
//
//   node bench/chaos.js [--seed N] [--seconds 60] [--app handler|naive|express] [--port 19700] [--verbose]
const { runChaos } = require('./lib/chaos');

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) args[k] = true;
  else { args[k] = v; i++; }
}

async function main() {
  const seed = Number(args.seed ?? Date.now() % 100000);
  const r = await runChaos({
    seed,
    port: Number(args.port ?? 19700),
    durationMs: Number(args.seconds ?? 60) * 1000,
    app: args.app ?? 'handler',
    log: (l) => console.error(l),
  });
  if (args.verbose) console.error(r.log.join('\n'));
  console.log(`\nchaos run: seed ${r.seed}, ${r.app} app, ${r.requests} requests`);
  console.log('| endpoint and outcome | requests |\n|---|---|');
  for (const [k, n] of Object.entries(r.byCause).sort()) console.log(`| ${k} | ${n} |`);
  console.log(`\nfaults injected: ${Object.entries(r.injected).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (!r.survived) console.log(`the master exited at ${r.exitAt}, before the SIGTERM`);
  console.log(`master survived every fault: ${r.survived}; exit ${JSON.stringify(r.exit && { code: r.exit.code, signal: r.exit.signal })} ${Math.round(r.stopMs)} ms after SIGTERM`);
  console.log(`processes seen in its tree: ${r.processesSeen}; left at its exit: [${r.leftNow}], 1 s later: [${r.leftLater}]; port free: ${r.portFree}`);
  for (const u of r.unexplained) console.log(`unexplained: ${u.at} ${u.path} ${u.why} after ${u.took} ms (connection to pid ${u.knownPid || '?'})`);
  for (const u of r.unlogged) console.log(`not logged: ${u}`);
  const bad = r.unexplained.length || !r.survived || r.unlogged.length || r.leftLater.length || !r.portFree || r.exit?.code !== 0;
  process.exit(bad ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
