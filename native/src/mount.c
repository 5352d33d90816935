/* mount family: mount(2), umount2(2), chroot(2), pivot_root(2).
 * Flag names are resolved in TypeScript (hooks/actions/mount-flags.ts);
 * C only receives numbers. */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* mount(source, target, fstype, flags, data) */
static napi_value Mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *src = arg_string(env, argv[0]), *dst = arg_string(env, argv[1]);
  char *fs = arg_string(env, argv[2]), *data = arg_string(env, argv[4]);
  unsigned long flags = (unsigned long)(uint32_t)arg_int(env, argv[3], 0);
  int rc = mount(src, dst, fs, flags, data);
  int err = errno;
  napi_value out = rc ? throw_errno(env, err, "mount", dst) : make_undefined(env);
  free(src); free(dst); free(fs); free(data);
  return out;
}

/* umount2(target, flags) */
static napi_value Umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *dst = arg_string(env, argv[0]);
  int rc = umount2(dst, arg_int(env, argv[1], 0));
  int err = errno;
  napi_value out = rc ? throw_errno(env, err, "umount2", dst) : make_undefined(env);
  free(dst);
  return out;
}

static napi_value Chroot(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *dir = arg_string(env, argv[0]);
  int rc = chroot(dir);
  int err = errno;
  napi_value out = rc ? throw_errno(env, err, "chroot", dir) : make_undefined(env);
  free(dir);
  return out;
}

static napi_value PivotRoot(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *nr = arg_string(env, argv[0]), *old = arg_string(env, argv[1]);
  int rc = (int)syscall(SYS_pivot_root, nr, old);
  int err = errno;
  napi_value out = rc ? throw_errno(env, err, "pivot_root", nr) : make_undefined(env);
  free(nr); free(old);
  return out;
}

const export_entry mount_exports[] = {
  {"mount", Mount}, {"umount2", Umount2}, {"chroot", Chroot},
  {"pivotRoot", PivotRoot}, {NULL, NULL}};
