// Server CPU for the benches: the ticks of a whole process group (master,
// workers, helpers), which other sessions on the machine disturb far less
// than they disturb throughput.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');

/** CPU ticks (utime + stime) of every process of a process group. */
function groupTicks(pgid) {
  let t = 0;
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) t += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return t;
}

/** Microseconds in a tick. */
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

module.exports = { groupTicks, TICK_US };
