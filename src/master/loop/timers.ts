// The master's timers: a tick every second (recycling policies, silence,
// spares, stalls) and systemd's watchdog ping. They only push events.
import { log } from '../../log';
import { startWatchdog } from '../../os/watchdog';
import { StallClock } from '../stall';
import type { Master } from './context';

export function startTimers(m: Master): void {
  // measured in the timer's callback: it runs before the loop reads the
  // heartbeats that piled up while the master did not run (stall.ts)
  const clock = new StallClock(1000);
  m.timers.tick = setInterval(() => m.events.push({ type: 'tick', lateMs: clock.lateBy(Date.now()) }), 1000);
  // (said once: by the first image, not again at every reload)
  const warn = m.run.handover ? undefined : (msg: string) => log('master').warn(msg);
  m.timers.watchdog = startWatchdog(() => m.events.push({ type: 'watchdog' }), warn);
}

export function stopTimers(m: Master): void {
  clearInterval(m.timers.tick);
  if (m.timers.watchdog) clearInterval(m.timers.watchdog);
}
