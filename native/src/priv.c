/* privileges family: prctl(2) switches and Linux capabilities (capset(2)
 * without libcap). uid/gid/groups changes use Node's own process.set*id. */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* prctl(option, arg2) for the simple integer switches (PDEATHSIG, SUBREAPER,
 * NO_NEW_PRIVS, KEEPCAPS). */
static napi_value Prctl(napi_env env, napi_callback_info info) {
  ARGS(2);
  int opt = arg_int(env, argv[0], 0);
  unsigned long a2 = (unsigned long)arg_int(env, argv[1], 0);
  if (prctl(opt, a2, 0, 0, 0) < 0) return throw_errno(env, errno, "prctl", NULL);
  return make_undefined(env);
}

/* capset: keep exactly the capabilities of the 64-bit mask (lo, hi) as
 * permitted+effective(+inheritable when asked). */
static napi_value Capset(napi_env env, napi_callback_info info) {
  ARGS(3);
  uint32_t lo = (uint32_t)arg_int(env, argv[0], 0), hi = (uint32_t)arg_int(env, argv[1], 0);
  int inh = arg_int(env, argv[2], 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{lo, lo, inh ? lo : 0}, {hi, hi, inh ? hi : 0}};
  if (syscall(SYS_capset, &h, d) < 0) return throw_errno(env, errno, "capset", NULL);
  return make_undefined(env);
}

const export_entry priv_exports[] = {{"prctl", Prctl}, {"capset", Capset}, {NULL, NULL}};
