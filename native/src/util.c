#include "util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static const char *errno_code(int err) {
  switch (err) {
#define C(x) case x: return #x;
    C(EPERM) C(ENOENT) C(ESRCH) C(EINTR) C(EIO) C(ENXIO) C(E2BIG) C(ENOEXEC)
    C(EBADF) C(ECHILD) C(EAGAIN) C(ENOMEM) C(EACCES) C(EFAULT) C(ENOTBLK)
    C(EBUSY) C(EEXIST) C(EXDEV) C(ENODEV) C(ENOTDIR) C(EISDIR) C(EINVAL)
    C(ENFILE) C(EMFILE) C(ENOTTY) C(EFBIG) C(ENOSPC) C(ESPIPE) C(EROFS)
    C(EMLINK) C(EPIPE) C(ERANGE) C(ENAMETOOLONG) C(ENOSYS) C(ENOTEMPTY)
    C(ELOOP) C(EUSERS) C(ENOTSUP) C(ECONNREFUSED) C(ETIMEDOUT)
#undef C
    default: return "UNKNOWN";
  }
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char msg[1024];
  const char *code = errno_code(err);
  if (path)
    snprintf(msg, sizeof msg, "%s, %s '%s'", code, syscall, path);
  else
    snprintf(msg, sizeof msg, "%s, %s: %s", code, syscall, strerror(err));
  if (path) {
    char full[1200];
    snprintf(full, sizeof full, "%s: %s", msg, strerror(err));
    strcpy(msg, full);
  }
  napi_value m, c, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, e, "path", v);
  }
  napi_throw(env, e);
  return NULL;
}

char *arg_string(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return NULL;
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

int32_t arg_int(napi_env env, napi_value v, int32_t dflt) {
  int32_t n;
  if (napi_get_value_int32(env, v, &n) != napi_ok) return dflt;
  return n;
}

napi_value make_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

napi_value make_undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

void export_all(napi_env env, napi_value exports, const export_entry *table) {
  for (; table->name; table++) {
    napi_value fn;
    napi_create_function(env, table->name, NAPI_AUTO_LENGTH, table->fn, NULL, &fn);
    napi_set_named_property(env, exports, table->name, fn);
  }
}
