/* namespace family: unshare(2), sethostname(2).
 * Note: in a multi-threaded process (every Node process) unshare() of the
 * mount/uts/ipc/net namespaces applies to the calling (main) thread, which is
 * the thread that forks every hook and worker; user namespaces need a
 * single-threaded process and are refused by the kernel (EINVAL). */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static napi_value Unshare(napi_env env, napi_callback_info info) {
  ARGS(1);
  if (unshare(arg_int(env, argv[0], 0))) return throw_errno(env, errno, "unshare", NULL);
  return make_undefined(env);
}

static napi_value Sethostname(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *name = arg_string(env, argv[0]);
  int rc = sethostname(name, name ? strlen(name) : 0);
  int err = errno;
  napi_value out = rc ? throw_errno(env, err, "sethostname", name) : make_undefined(env);
  free(name);
  return out;
}

const export_entry ns_exports[] = {
  {"unshare", Unshare}, {"sethostname", Sethostname}, {NULL, NULL}};
