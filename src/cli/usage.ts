// One usage line per subcommand: `liege CMD --help` prints it (exit 0, as
// every other tool's --help; before, most took --help for an argument).
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  top: 'liege top ADDR [--once]    live view of a stats server (stats = ADDR) or an emperor (emperor-stats = ADDR); q quits',
  attach: 'liege attach NAME|PID [--socket PATH] [--attach-dir DIR]    a terminal on an attach-daemon-pty; Ctrl-\\ d detaches',
  ctl: 'liege ctl get [KEY] | set KEY=VALUE … | unset KEY …    the proposed settings, from inside a bundle\'s configure hook (docs/bundles.md)',
  etcd: 'liege etcd put|rm|ls|get|drain [--cacert F --cert F --key F --user U[:P] --password P --no-check] etcd://HOST:PORT[,HOST:PORT…]/PREFIX [NAME [FILE|bundle:BUNDLE] | EMPEROR-ID]',
  pack: 'liege pack DIR [-o FILE.tar.gz]    package.json + meta/liege.ini + meta/hooks/* → NAME-VERSION.tar.gz (docs/bundles.md)',
  install: 'liege install BUNDLE.tar.gz [--name NAME] [--no-wait] [--state-dir DIR] [--bundle-start-timeout S] [--bundle-keep N]    waits until an emperor on STATE-DIR/bundles serves it (--no-wait: not)',
  revert: 'liege revert NAME [--state-dir DIR]    back to the version installed before the current one',
  remove: 'liege remove NAME [--state-dir DIR]    stop the vassal and remove the bundle',
  set: 'liege set NAME KEY=VALUE … [--state-dir DIR]    through the bundle\'s configure hook',
  get: 'liege get NAME [KEY] [--state-dir DIR]',
  unset: 'liege unset NAME KEY … [--state-dir DIR]',
  '--reload': 'liege --reload PIDFILE    SIGHUP: graceful reload of the master that wrote PIDFILE',
  '--stop': 'liege --stop PIDFILE    SIGTERM: graceful stop',
  '--chain-reload': 'liege --chain-reload PIDFILE    SIGUSR2: one worker at a time',
};

/** `liege CMD … --help` (or -h): CMD's usage line, when CMD is a subcommand. */
export function commandHelp(argv: readonly string[]): string | undefined {
  if (argv[0] === 'bundle') argv = argv.slice(1); // `liege bundle install --help`
  const usage = COMMAND_USAGE[argv[0] ?? ''];
  return usage && argv.slice(1).some((a) => a === '--help' || a === '-h') ? `usage: ${usage}\n` : undefined;
}
