// The reload commands: a new generation (next-generation.ts: the master re-executes),
// or a workers or chain reload that keeps the master (walk.ts). A reload
// asked while one runs is merged into one more reload after it; a workers
// or chain reload asked while one of them runs takes it over.
import { log } from '../../log';
import type { Handlers } from './context';
import { reload } from './next-generation';
import { runEmperorHooks } from './stop';
import { walkReload } from './walk';

export const RELOAD_HANDLERS: Handlers = {
  reload: (m) => reload(m),
  'brutal-reload': (m) => reload(m, true),
  'emperor-reload': async (m) => {
    await runEmperorHooks(m, 'emperor-reload');
    return reload(m);
  },
  'chain-reload': (m) => walkReload(m, 'chain reload', 'one worker at a time', 'chain reloading'),
  'workers-reload': (m) => walkReload(m, 'workers reload', 'every worker replaced, the master stays', 'reloading workers'),
  'brutal-workers-reload': (m) => {
    const { reloading, walk } = m.reload;
    if (walk) log('master').info(`reloading the workers (brutal) while a ${reloading} runs: every worker is killed now, the ${reloading} is done once the new ones accept`);
    else log('master').info('reloading the workers (brutal)');
    // a walk holds the spares until it is done (reloadDone): W must not
    // let one boot beside its replacements
    m.workers.dropSpares('brutal workers reload', walk !== undefined);
    m.workers.recycleAll(true);
    return undefined;
  },
};
