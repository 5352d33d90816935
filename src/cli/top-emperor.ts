// `liege top` on an emperor's stats (emperor-stats = ADDR): one line per
// vassal (pid, status, born, last_mod, respawns, loyal, ready, accepting,
// and for etcd vassals their owner and lease), then for an etcd emperor the
// cluster as it sees it: its lease, the live emperors with their load, and
// every vassal's owner and lease.

export interface EmperorVassal {
  id: string; pid: number; status?: string; born: number; last_mod: number; respawns: number;
  loyal: number; ready: number; accepting: number; etcd_owner?: string; etcd_lease?: string;
}
interface ClusterEmperor { id: string; host: string; pid: number; capacity: number; tags: string[]; draining: boolean; vassals: number }
interface Cluster {
  spec: string; id: string; lease?: string; lease_remaining_ms: number; lease_status: string; draining: boolean;
  emperors: ClusterEmperor[]; vassals: { name: string; owner?: string; lease?: string }[];
}
export interface EmperorStats { pid: number; version: string; emperor: string[]; vassals: EmperorVassal[]; monitors?: Cluster[]; blacklist?: unknown[] }

/** Whether a stats document is an emperor's (vassals, no workers). */
export function isEmperorStats(s: object): s is EmperorStats {
  return Array.isArray((s as EmperorStats).vassals) && !('workers' in s);
}

/** "3m12s" since `t` (s), "-" for 0. */
function age(t: number, now: number): string {
  if (!t) return '-';
  const s = Math.max(0, now - t);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h`;
}

const yes = (n: number) => (n ? 'yes' : 'no');

/** Rows as columns padded to their widest cell. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** One frame of the emperor view. */
export function emperorFrame(s: EmperorStats, now = Math.floor(Date.now() / 1000)): string {
  const counts = new Map<string, number>();
  for (const v of s.vassals) counts.set(v.status ?? '?', (counts.get(v.status ?? '?') ?? 0) + 1);
  const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  const etcd = s.vassals.some((v) => v.etcd_owner !== undefined);
  const lines = [
    `liege emperor pid ${s.pid} - ${s.emperor.join(' ')}`,
    `vassals: ${s.vassals.length}${summary ? ` (${summary})` : ''}`,
    '',
  ];
  const head = ['VASSAL', 'PID', 'STATUS', 'BORN', 'LAST_MOD', 'RESPAWNS', 'LOYAL', 'READY', 'ACCEPTING', ...(etcd ? ['OWNER', 'LEASE'] : [])];
  const rows = s.vassals.map((v) => [
    v.id, String(v.pid || '-'), v.status ?? '', age(v.born, now), age(v.last_mod, now), String(v.respawns),
    yes(v.loyal), yes(v.ready), yes(v.accepting), ...(etcd ? [v.etcd_owner || '-', v.etcd_lease || '-'] : []),
  ]);
  lines.push(...table([head, ...rows]));
  for (const c of s.monitors ?? []) lines.push('', ...clusterLines(c));
  return lines.join('\n') + '\n';
}

/** The etcd cluster as one emperor sees it. */
function clusterLines(c: Cluster): string[] {
  const lease = c.lease ? `lease ${c.lease} (${c.lease_status}, ${(c.lease_remaining_ms / 1000).toFixed(1)} s certain)` : `no lease (${c.lease_status})`;
  const out = [`cluster ${c.spec} - this emperor ${c.id}, ${lease}${c.draining ? ', draining' : ''}`, ''];
  out.push(...table([
    ['EMPEROR', 'HOST', 'PID', 'VASSALS', 'CAPACITY', 'TAGS'],
    ...c.emperors.map((e) => [`${e.id}${e.id === c.id ? '*' : ''}`, e.host, String(e.pid), String(e.vassals), e.capacity ? String(e.capacity) : 'unlimited', `${e.tags.join(',') || '-'}${e.draining ? ' draining' : ''}`]),
  ]));
  out.push('');
  out.push(...table([['CLUSTER VASSAL', 'OWNER', 'LEASE'], ...c.vassals.map((v) => [v.name, v.owner ?? '(unowned)', v.lease ?? '-'])]));
  return out;
}
