// Options of the emperor and its vassals.
import type { OptionDef } from '../option-def';

export const EMPEROR_OPTIONS = [
  // ---- etcd emperor (helper 12: src/emperor/monitors/etcd*.ts) ----
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
