// The configure hook with a ctl channel: it sees the proposed settings
// through `liege ctl get` (and may adjust them with `ctl set`/`unset`);
// exit 0 accepts — the caller then writes them atomically — anything else
// refuses them all.
import { LiegeError } from '../errors';
import { openCtl } from './ctl';
import { describeResult, hookPath, instanceIds, runBundleHook, type HookRun } from './hooks';
import type { Settings } from './settings';

/** Runs configure on `proposed`; resolves to the settings to apply. */
export async function configure(r: Omit<HookRun, 'settings'>, current: Settings, proposed: Settings): Promise<Settings> {
  if (!hookPath(r.root, 'configure')) return proposed;
  const ctl = await openCtl(proposed, instanceIds(r.config));
  try {
    // the hook's env shows the applied settings; the proposed ones come through ctl
    const res = await runBundleHook('configure', { ...r, settings: current, extraEnv: ctl.env })!;
    if (res.code !== 0) {
      throw new LiegeError('LIEGE_ERR_SETTINGS', `the configure hook of ${r.bundle} ${r.version} refused the settings (${describeResult(res)})${res.output ? `:\n${res.output.trimEnd()}` : ''}`);
    }
    return ctl.settings();
  } finally {
    ctl.close();
  }
}
