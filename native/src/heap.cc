/* V8's memory-saving calls, which Node does not expose to JavaScript. A
 * master (or emperor) spends its life idle between rare events: once its
 * startup settled, a low-memory GC gives back the new space the startup's
 * allocations grew and the garbage of the config code (~2 MiB of RSS). The
 * only C++ file: N-API has no access to the isolate. */
#include <v8.h>
extern "C" {
#include "util.h"

static napi_value LowMemory(napi_env env, napi_callback_info info) {
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  isolate->LowMemoryNotification();
  return make_undefined(env);
}

const export_entry heap_exports[] = {{"lowMemory", LowMemory}, {NULL, NULL}};
}
