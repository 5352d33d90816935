// The flags Node runs liege's own processes with (masters, emperors,
// vassals, commands; not the workers, which run the app): bin/liege's first
// line passes them (a test checks it says the same), a re-exec keeps them
// (process.execArgv), an emperor gives them to its vassals and the build
// records the code caches under them (V8 rejects a cache recorded under
// other V8 flags).
// * --no-sparkplug: no baseline compiler. liege's code is cold (the hot
//   paths, the log relay, still reach the optimizing compiler, whose speed
//   is the same with or without it), and the baseline compiler's code in
//   the node binary, paged in as it compiles, was ~0.6 MiB of every
//   master's RSS (bench/README.md).
// * --v8-pool-size=1: one GC helper thread, not four: the heap of a master
//   is a few MiB, and each thread costs its stack and malloc arena.
export const LIEGE_NODE_FLAGS = ['--no-sparkplug', '--v8-pool-size=1'];
