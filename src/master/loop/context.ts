// What the master loop's steps and handlers share, in one place: the parts
// runLoop sets up once, and the little state that changes as the instance
// reloads and stops. Every handler takes it as its first argument.
import type { EventQueue } from '../../event-queue';
import type { EmperorLink } from '../../ipc/vassal';
import type { Listening } from '../../os/signal-route';
import type { Control } from '../control/index';
import type { StatsSource } from '../control/stats';
import type { Daemons } from '../daemons';
import type { Workers } from '../workers';
import type { MasterEnd, MasterEvent } from './events';
import type { MasterRun, MasterSettings } from './settings';

export interface Master {
  run: MasterRun;
  settings: MasterSettings; // (run.settings)
  events: EventQueue<MasterEvent>;
  workers: Workers;
  count: number; // processes: the slots
  daemons?: Daemons; // absent in the fallback
  emperor?: EmperorLink; // a vassal's link to its emperor
  listening: Listening; // the loop's signal listeners
  stats: StatsSource;
  control?: Control; // stats, metrics, fifos, touch files
  fallback: boolean; // the previous generation serves on: this image's reload failed
  generation: number;
  started: number; // workers that reached accepting
  stopping: boolean;
  reload: ReloadState;
  said: Said;
  timers: { tick?: NodeJS.Timeout; watchdog?: NodeJS.Timeout };
}

/** The reload under way: none, a new generation coming up ('reload'), or a
 * 'workers reload' / 'chain reload' walking the slots (reload-steps.ts).
 * (The fallback is no reload: the previous generation just keeps serving.) */
export interface ReloadState {
  reloading?: string;
  pending: boolean; // one more reload asked while this one runs
  walk?: Walk;
}

/** A workers or chain reload under way: the slots it has still to see, in
 * order, and the start mark of its request (reload-steps.ts). */
export interface Walk {
  mark: number;
  todo: number[];
  oneAtATime: boolean; // a chain
}

/** What systemd and the emperor were told (readiness.ts). */
export interface Said {
  ready: boolean; // READY=1 (after a reload it comes when the reload is done)
  status: string; // the last STATUS=
  failing: boolean; // "reload failing", said once per image
  // the emperor hears how its reload ended at the next READY: accepting
  // (this generation serves) or reloadFailed (the previous one does: the
  // fallback, or a reload abandoned)
  failedReload: boolean;
}

/** A loop handler: an end of the master, or undefined to go on. `arg` is a
 * command's argument (`kill-worker:3`). */
export type Handler = (m: Master, e: MasterEvent, arg?: string) => Promise<MasterEnd | undefined> | MasterEnd | undefined;

/** A handler table: handler name (events.ts: commandOf) → handler. */
export type Handlers = Record<string, Handler>;
