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

static napi_value LowMemory(napi_env env, napi_callback_info info) {
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  isolate->LowMemoryNotification();
  malloc_trim(0);
  return make_undefined(env);
}

const export_entry heap_exports[] = {{"lowMemory", LowMemory}, {NULL, NULL}};
}
