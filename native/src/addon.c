/* liege's native addon: the syscalls Node does not offer. One file per
 * family; this file only registers their descriptor tables. */
#include "util.h"

static napi_value Init(napi_env env, napi_value exports) {
  export_all(env, exports, mount_exports);
  export_all(env, exports, ns_exports);
  export_all(env, exports, priv_exports);
  export_all(env, exports, exec_exports);
  export_all(env, exports, call_exports);
  export_all(env, exports, net_exports);
  export_all(env, exports, proc_exports);
  export_all(env, exports, shm_exports);
  export_all(env, exports, heap_exports);
  export_all(env, exports, sender_exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
