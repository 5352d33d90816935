// What the master tells systemd (READY=1, STATUS=, RELOADING=1), the emperor
// and the command that daemonized it about whether the instance serves.
import { tellDaemonReady } from '../../ipc/daemon';
import { FROM_VASSAL, reloadQueued } from '../../ipc/vassal';
import { log } from '../../log';
import { shrinkHeapSoon } from '../../os/heap';
import { reloading as reloadingFields, sdNotifyReported } from '../../os/notify';
import type { Master } from './context';

/** sd_notify, with a warning when it fails (and a line when it works again). */
export const sdNotify = (fields: Record<string, string | number>) => sdNotifyReported(fields, (err) => {
  if (err) log('master').warn({ error: err.message }, 'unable to notify systemd (said again once it works)');
  else log('master').info('systemd notified again');
});

/** The STATUS= line: how many workers serve, on what. */
export function status(m: Master): string {
  const n = m.workers.acceptingCount();
  const how = n === m.count ? `${n}` : `${n} of ${m.count}`;
  if (!m.run.sockets.length) return `serving with ${how} workers`;
  return `serving with ${how} workers on ${m.run.sockets.map((s) => s.addr).join(', ')}`;
}

/** The instance serves: every slot accepts, or a reload is done. The
 * emperor is told how (not when one more reload follows at once:
 * `tellEmperor` false, or queued; that one answers). */
export function ready(m: Master, tellEmperor = true): void {
  tellDaemonReady();
  if (tellEmperor && !reloadQueued(m.events)) m.emperor?.tell(m.said.failedReload ? FROM_VASSAL.reloadFailed : FROM_VASSAL.accepting);
  m.said.failedReload = false;
  m.said.ready = true;
  m.said.status = status(m);
  sdNotify({ READY: 1, STATUS: m.said.status });
  shrinkHeapSoon(true);
}

/** A new STATUS= when the count of serving workers changed (not while a
 * reload or a stop says its own). */
export function statusChanged(m: Master): void {
  if (!m.said.ready || m.reload.reloading || m.stopping || status(m) === m.said.status) return;
  m.said.status = status(m);
  sdNotify({ STATUS: m.said.status });
}

/** A reload refused (its config does not load): a Type=notify-reload unit
 * sent the SIGHUP and waits for RELOADING=1 then READY=1 (before, until
 * its timeout); under Type=notify it is a moment in "reloading". Not
 * while a reload runs: its own READY=1 ends it. */
export function refusedToSystemd(m: Master, code: string): void {
  if (m.reload.reloading) return;
  m.emperor?.tell(FROM_VASSAL.reloadFailed);
  sdNotify(reloadingFields());
  sdNotify({ READY: 1, STATUS: `reload refused (${code}), the running generation is ${status(m)}` });
}

/** A new generation's worker died before accepting (the app no longer
 * loads): the reload goes on retrying, but systemd, which holds a unit
 * in "reloading" from RELOADING=1 to the next READY=1 (`systemctl reload`
 * waits, then fails at its timeout), hears now that the running
 * generation serves. Said once per image; a fix's reload re-execs. */
export function reloadFailing(m: Master): void {
  if (m.reload.reloading !== 'reload' || m.stopping || m.said.failing) return;
  m.said.failing = true;
  m.emperor?.tell(FROM_VASSAL.reloadFailed);
  sdNotify({ READY: 1, STATUS: `reload failing (the new generation's workers die before accepting), the running generation is ${status(m)}` });
}
