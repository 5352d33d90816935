// The monitor interface: where the emperor learns which vassals should run.
// A monitor (dir, glob, etcd …) pushes its whole desired set whenever it
// changes; the emperor's reconcile loop spawns, reloads and stops vassals to
// match the union of every monitor's set. Adding a source of vassals is one
// new file here, never an edit across the emperor.

/** One vassal a monitor wants running. */
export interface DesiredVassal {
  /** Unique among all monitors: the config path for file monitors, `etcd:NAME` for etcd. */
  name: string;
  /** The config file the vassal is started with (`liege --ini <config>`). */
  config: string;
  /** Changes whenever the vassal must reload (file mtime, etcd mod revision). */
  version: string;
  /** Tyrant mode: the owner the vassal runs as. */
  owner?: { uid: number; gid: number };
  /** The directory the vassal starts in (dir monitor: the watched one, as
   * uWSGI's, so `node-app = app.js` is beside the config); else the emperor's. */
  cwd?: string;
}

export type DesiredSet = ReadonlyMap<string, DesiredVassal>;

/** What the emperor tells a monitor about the vassals it owns (etcd uses it for handover). */
export type VassalState = 'spawned' | 'accepting' | 'stopped' | 'failed';

export interface Monitor {
  /** A label for logs and stats: `dir:///etc/liege/vassals`, `etcd://…`. */
  readonly spec: string;
  /** Start watching; `update` gets the monitor's whole desired set on every change. */
  start(update: (set: DesiredSet) => void): void | Promise<void>;
  /** Optional feedback from the emperor about one of this monitor's vassals. */
  vassalState?(name: string, state: VassalState): void;
  /** Optional extra emperor-stats fields for one of its vassals (etcd: owner, lease). */
  vassalInfo?(name: string): Record<string, string | number>;
  /** Optional emperor-stats section of the monitor (etcd: the cluster's emperors and owners). */
  stats?(): Record<string, unknown>;
  /** Optional self-fencing (etcd): ms a vassal of this monitor runs on
   * without word from the emperor before it stops itself. */
  readonly fenceMs?: number;
  /** With fenceMs: whether this emperor's claims certainly last fenceMs
   * more; only then does it send heartbeats or spawn. */
  mayRun?(): boolean;
  /** Stop watching and release what the monitor holds (leases, watchers). */
  stop(): Promise<void>;
}
