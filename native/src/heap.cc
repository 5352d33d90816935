/* V8's memory-saving calls, which Node does not expose to JavaScript. A
 * master (or emperor) spends its life idle between rare events: once its
 * startup settled, a low-memory GC gives back the new space the startup's
 * allocations grew and the garbage of the config code (~2 MiB of RSS), and
 * malloc_trim returns the C heap the compiler and the config freed (glibc
 * keeps freed chunks for reuse otherwise: ~0.2 MiB). The only C++ file:
 * N-API has no access to the isolate. */
#include <malloc.h>
#include <v8.h>
extern "C" {
#include "util.h"

/* lowMemory(agingGcs = 0). With agingGcs, first that many full GCs of the
 * kind a memory-pressure signal runs: unlike the low-memory GC (a forced
 * one, which keeps V8's ages unchanged) each ages the bytecode of every
 * function, and V8 drops the bytecode that reached --bytecode-old-age (5)
 * without running meanwhile: all the code the startup ran once (config
 * reading, hooks, the first spawns), recompiled from the source if it is
 * ever called again. In a master, ~400 KiB of the old space (bytecode,
 * constant pools, source positions; bench/README.md, session 18). */
static napi_value LowMemory(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t aging = argc > 0 ? arg_int(env, argv[0], 0) : 0;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  for (int32_t i = 0; i < aging; i++) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  isolate->LowMemoryNotification();
  malloc_trim(0);
  return make_undefined(env);
}

const export_entry heap_exports[] = {{"lowMemory", LowMemory}, {NULL, NULL}};
}
