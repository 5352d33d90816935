/* Shared helpers of the liege addon: errors shaped like Node's own system
 * errors (code by errno name, errno, syscall, path), argument readers. */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <netdb.h>

/* The errno's symbolic name ("EADDRINUSE"): glibc >= 2.32 knows them all;
 * elsewhere a table of the common ones, then "E<number>". */
const char *errno_name(int err, char *buf, size_t len) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *n = strerrorname_np(err);
  if (n) return n;
#else
  switch (err) {
#define C(x) case x: return #x;
    C(EPERM) C(ENOENT) C(ESRCH) C(EINTR) C(EIO) C(ENXIO) C(E2BIG) C(ENOEXEC)
    C(EBADF) C(ECHILD) C(EAGAIN) C(ENOMEM) C(EACCES) C(EFAULT) C(ENOTBLK)
    C(EBUSY) C(EEXIST) C(EXDEV) C(ENODEV) C(ENOTDIR) C(EISDIR) C(EINVAL)
    C(ENFILE) C(EMFILE) C(ENOTTY) C(EFBIG) C(ENOSPC) C(ESPIPE) C(EROFS)
    C(EMLINK) C(EPIPE) C(ERANGE) C(ENAMETOOLONG) C(ENOSYS) C(ENOTEMPTY)
    C(ELOOP) C(EUSERS) C(ENOTSUP) C(ECONNREFUSED) C(ETIMEDOUT) C(EADDRINUSE)
    C(EADDRNOTAVAIL) C(EAFNOSUPPORT) C(ENOTSOCK) C(ENETUNREACH) C(ECONNRESET)
#undef C
    default: break;
  }
#endif
  snprintf(buf, len, "E%d", err);
  return buf;
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  char msg[1200], nbuf[16];
  const char *code = errno_name(err, nbuf, sizeof nbuf);
  if (path)
    snprintf(msg, sizeof msg, "%s, %s '%s': %s", code, syscall, path, strerror(err));
  else
    snprintf(msg, sizeof msg, "%s, %s: %s", code, syscall, strerror(err));
  napi_value m, c, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  set_str(env, e, "syscall", syscall);
  if (path) set_str(env, e, "path", path);
  return e;
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

napi_value throw_errno_addr(napi_env env, int err, const char *syscall, const char *address, int port) {
  char where[300];
  snprintf(where, sizeof where, "%s:%d", address ? address : "", port);
  napi_value e = errno_error(env, err, syscall, NULL), v;
  char msg[1400], nbuf[16];
  snprintf(msg, sizeof msg, "%s, %s %s: %s", errno_name(err, nbuf, sizeof nbuf), syscall, where, strerror(err));
  set_str(env, e, "message", msg);
  set_str(env, e, "address", address ? address : "");
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, e, "port", v);
  napi_throw(env, e);
  return NULL;
}

/* getaddrinfo's own failures (EAI_NONAME ...), shaped like Node's dns errors:
 * code "EAI_NONAME", syscall "getaddrinfo", hostname. EAI_SYSTEM carries an errno. */
napi_value throw_gai(napi_env env, int rc, int sys_errno, const char *host) {
  if (rc == EAI_SYSTEM) return throw_errno(env, sys_errno, "getaddrinfo", host);
  const char *code;
  switch (rc) {
#define G(x) case x: code = #x; break;
    G(EAI_BADFLAGS) G(EAI_NONAME) G(EAI_AGAIN) G(EAI_FAIL) G(EAI_FAMILY)
    G(EAI_SOCKTYPE) G(EAI_SERVICE) G(EAI_MEMORY) G(EAI_OVERFLOW)
#ifdef EAI_NODATA
    G(EAI_NODATA)
#endif
#ifdef EAI_ADDRFAMILY
    G(EAI_ADDRFAMILY)
#endif
#undef G
    default: code = "EAI_UNKNOWN";
  }
  char msg[600];
  snprintf(msg, sizeof msg, "%s, getaddrinfo '%s': %s", code, host ? host : "", gai_strerror(rc));
  napi_value m, c, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, rc, &v);
  napi_set_named_property(env, e, "errno", v);
  set_str(env, e, "syscall", "getaddrinfo");
  set_str(env, e, "hostname", host ? host : "");
  napi_throw(env, e);
  return NULL;
}

/* Every N-API function the addon calls is one more look-up in node's symbol
 * table when it is first called, and its pages stay in the process (~64 KiB
 * of RSS a few of them, bench/README.md): the helpers use as few as they can
 * (no napi_typeof: a non-string fails napi_get_value_string_utf8; no
 * napi_get_undefined: a callback returning NULL returns undefined). */
char *arg_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
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
  (void)env;
  return NULL; /* what a callback returns as undefined */
}

void export_all(napi_env env, napi_value exports, const export_entry *table) {
  for (; table->name; table++) {
    napi_value fn;
    napi_create_function(env, table->name, NAPI_AUTO_LENGTH, table->fn, NULL, &fn);
    napi_set_named_property(env, exports, table->name, fn);
  }
}
