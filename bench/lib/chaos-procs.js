// The process tree of a chaos run, from /proc: its children now, every
// process it ever had (pid + start time, so a reused pid is not taken for a
// leftover), and which of them are still there.
'use strict';
const fs = require('fs');

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), state: f[0], start: f[19] };
  } catch {
    return undefined;
  }
}

function all() {
  const out = [];
  for (const p of fs.readdirSync('/proc')) if (/^\d+$/.test(p)) { const s = stat(Number(p)); if (s) out.push(s); }
  return out;
}

/** The descendants of `root` (not root itself). */
function descendants(root) {
  const procs = all();
  const found = [];
  const frontier = [root];
  while (frontier.length) {
    const parent = frontier.pop();
    for (const p of procs) if (p.ppid === parent) { found.push(p); frontier.push(p.pid); }
  }
  return found;
}

const children = (root) => all().filter((p) => p.ppid === root && p.state !== 'Z').map((p) => p.pid);

/** Samples root's tree every `ms` until stop(); seen maps pid → start time. */
function trackTree(root, ms = 100) {
  const seen = new Map([[root, stat(root)?.start]]);
  const timer = setInterval(() => { for (const p of descendants(root)) seen.set(p.pid, p.start); }, ms);
  return {
    seen,
    stop: () => clearInterval(timer),
    /** The tracked processes that still run (same pid, same start time; a
     * zombie is dead, its reaping init's once its parent exited). */
    left: () => [...seen].filter(([pid, start]) => { const s = stat(pid); return s && s.start === start && s.state !== 'Z'; }).map(([pid]) => pid),
  };
}

/** The soft and hard open file limits of a process. */
function nofile(pid) {
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The lowest descriptor number a process has free (the next it opens). */
function lowestFreeFd(pid) {
  const open = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
  let fd = 0;
  while (open.has(fd)) fd++;
  return fd;
}

module.exports = { children, descendants, trackTree, nofile, lowestFreeFd, stat };
