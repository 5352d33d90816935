// Options of the emperor and its vassals (../shared/spec/uwsgi-reference.md, Emperor).
import type { OptionDef } from '../option-def';

export const EMPEROR_OPTIONS = [
  { name: 'emperor', type: 'string', repeatable: true, group: 'emperor', help: 'run vassal configs from a directory (dir://DIR or DIR) or a glob (glob://PATTERN or PATTERN); file events plus a scan every emperor-freq s' },
  // setInterval fires at once for delays above 2^31-1 ms: bounded to a day
  { name: 'emperor-freq', type: 'int', min: 1, max: 86_400, default: '3', group: 'emperor', help: 'seconds between full scans of the vassal configs (file events trigger a scan at once)' },
  { name: 'vassals-start-hook', type: 'string', group: 'emperor', help: 'program run (no shell) in each vassal before it starts, with the config path as argument' },
  { name: 'vassals-stop-hook', type: 'string', group: 'emperor', help: 'program run (no shell, not awaited) by the emperor when a vassal is removed, with the config path as argument' },
  { name: 'emperor-throttle', type: 'int', min: 0, max: 86_400_000, default: '1000', group: 'emperor', help: 'milliseconds added to the respawn delay of a vassal each time it dies before it was loyal' },
  { name: 'emperor-max-throttle', type: 'int', min: 0, max: 86_400_000, default: '180000', group: 'emperor', help: 'cap of the respawn delay (ms); touch the config or send SIGURG to the emperor to respawn a throttled vassal now' },
  { name: 'emperor-loyal-after', type: 'int', min: 0, max: 86_400, default: '30', group: 'emperor', help: 'seconds a vassal must live to be loyal (its throttle is forgotten)' },
  // below systemd's default TimeoutStartSec= (90 s), which bounds a
  // Type=notify-reload unit's reload too: the emperor says who hangs first
  { name: 'emperor-reload-timeout', type: 'int', min: 1, max: 86_400, default: '60', group: 'emperor', help: 'seconds the emperor\'s reload (SIGHUP) waits for its vassals to serve again before it reports READY=1 to systemd anyway, naming those still reloading' },
  { name: 'emperor-spawn-concurrency', type: 'int', min: 1, max: 4096, default: '16', group: 'emperor', help: 'most vassals starting at once (spawned, not ready yet); the others wait their turn' },
  { name: 'reload-mercy', type: 'int', min: 0, max: 86_400, default: '30', group: 'emperor', help: 'seconds a stop waits for vassals, and at most for a draining worker, before SIGKILL; when set, for attached daemons too (3 s otherwise)' },
  { name: 'emperor-tyrant', type: 'flag', group: 'emperor', help: 'run each vassal as the owner (uid/gid) of its config file; root-owned configs are refused; an owner change stops the vassal' },
  { name: 'emperor-tyrant-nofollow', type: 'flag', group: 'emperor', help: 'with emperor-tyrant: the owner of a symlinked config is the symlink\'s, not its target\'s' },
  { name: 'emperor-pidfile', type: 'string', group: 'emperor', help: 'write the emperor\'s pid here' },
  { name: 'emperor-stats', aliases: ['emperor-stats-server'], type: 'addr', group: 'emperor', help: 'serve the emperor\'s stats (uWSGI\'s JSON: vassals with pid, born, last_mod, respawns, loyal, ready, accepting) on HOST:PORT or a unix path' },
  { name: 'emperor-required-heartbeat', type: 'int', min: 1, max: 86_400, default: '30', group: 'emperor', help: 'seconds a vassal that sends heartbeats may stay silent before it is killed and respawned' },
  { name: 'heartbeat', type: 'int', min: 1, max: 86_400, group: 'emperor', help: 'in a vassal: send a heartbeat to the emperor every N seconds' },
  { name: 'vassals-include', type: 'string', repeatable: true, group: 'emperor', help: 'a config every vassal includes after its own (--include)' },
  { name: 'vassals-include-before', type: 'string', repeatable: true, group: 'emperor', help: 'a config every vassal includes before its own' },
  { name: 'vassals-inherit', type: 'string', repeatable: true, group: 'emperor', help: 'a config every vassal inherits after its own (--inherit: its values unexpanded)' },
  { name: 'vassals-inherit-before', type: 'string', repeatable: true, group: 'emperor', help: 'a config every vassal inherits before its own' },
  { name: 'vassal-set', aliases: ['vassals-set'], type: 'string', repeatable: true, group: 'emperor', help: 'KEY=VALUE set in every vassal (--set before its config)' },
  { name: 'emperor-on-demand-extension', aliases: ['emperor-on-demand-ext'], type: 'string', group: 'emperor', help: 'on-demand vassals: the socket address is read from CONFIG + this extension; the emperor binds it and spawns the vassal on the first connection' },
  { name: 'emperor-on-demand-directory', aliases: ['emperor-on-demand-dir'], type: 'string', group: 'emperor', help: 'on-demand vassals: the socket is DIR/NAME.socket (NAME = the config name without extension)' },
  { name: 'emperor-on-demand-exec', type: 'string', group: 'emperor', help: 'on-demand vassals: the socket address is the first line a command prints, run as `/bin/sh -c "CMD CONFIG"` (CONFIG = the vassal config path; no output: an ordinary vassal)' },
  // broodlord needs zerg instances (attach to another instance's sockets), which liege does not have
  { name: 'emperor-broodlord', type: 'int', group: 'emperor', warn: () => 'not implemented by liege, ignored: broodlord spawns zerg instances that attach to a vassal\'s sockets, and liege has no zerg mode (use more workers, spare-workers or on-demand vassals)', help: 'uWSGI broodlord mode (zergs on a vassal\'s SOS): not implemented, accepted with a warning' },
  { name: 'vassal-sos', type: 'int', group: 'emperor', warn: () => 'not implemented by liege, ignored: the emperor has no broodlord mode to answer an SOS', help: 'uWSGI: ask the broodlord emperor for reinforcements: not implemented, accepted with a warning' },
  { name: 'vassal-sos-backlog', type: 'int', group: 'emperor', warn: () => 'not implemented by liege, ignored: the emperor has no broodlord mode to answer an SOS', help: 'uWSGI: ask for reinforcements when the backlog is this long: not implemented, accepted with a warning' },
  // ---- etcd emperor (src/emperor/monitors/etcd*.ts) ----
  { name: 'emperor-etcd-ttl', type: 'int', min: 1, max: 3600, default: '10', group: 'emperor', help: 'seconds of the etcd lease an emperor holds its vassals with; a dead emperor\'s vassals move within this time + 1 s' },
  { name: 'emperor-etcd-capacity', type: 'int', min: 0, default: '0', group: 'emperor', help: 'most etcd vassals this emperor runs (0: no limit)' },
  { name: 'emperor-etcd-tags', type: 'string', repeatable: true, group: 'emperor', help: 'host tags of this emperor (comma separated); a vassal with emperor-etcd-require-tags runs only where all its tags are' },
  { name: 'emperor-etcd-require-tags', type: 'string', repeatable: true, group: 'emperor', help: 'in a vassal config stored in etcd: the host tags (comma separated) an emperor needs to run it' },
  { name: 'emperor-etcd-id', type: 'string', group: 'emperor', help: 'this emperor\'s name in etcd (default HOSTNAME-PID)' },
  { name: 'emperor-etcd-user', type: 'string', group: 'emperor', help: 'etcd user name (with emperor-etcd-password)' },
  { name: 'emperor-etcd-password', type: 'string', group: 'emperor', help: 'etcd password' },
  { name: 'emperor-etcd-cacert', type: 'string', group: 'emperor', help: 'CA certificate (PEM) to verify the etcd servers: turns TLS on' },
  { name: 'emperor-etcd-cert', type: 'string', group: 'emperor', help: 'client certificate (PEM) for etcd TLS' },
  { name: 'emperor-etcd-key', type: 'string', group: 'emperor', help: 'client private key (PEM) for etcd TLS' },
  { name: 'emperor-etcd-dir', type: 'string', group: 'emperor', help: 'where the emperor writes the configs of its etcd vassals (default: a private dir under the temp dir)' },
  // ---- end of the etcd emperor block ----
] as const satisfies readonly OptionDef[];
