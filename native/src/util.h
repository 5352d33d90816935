/* Shared helpers of the liege addon: argument readers and errors shaped like
 * Node's own system errors (code, errno, syscall, path). */
#ifndef LIEGE_UTIL_H
#define LIEGE_UTIL_H
#include <node_api.h>
#include <stddef.h>

#define ARGS(n) size_t argc = n; napi_value argv[n]; \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

/* The errno's name: "EADDRINUSE" (buf holds "E<n>" for an unknown one). */
const char *errno_name(int err, char *buf, size_t len);
/* An Error with code/errno/syscall/path like Node's uvException. */
napi_value errno_error(napi_env env, int err, const char *syscall, const char *path);
/* Throws errno_error(...); returns NULL for `return throw_errno(...)`. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path);
/* Same, for a socket address: message "EADDRINUSE, bind 127.0.0.1:80", address, port. */
napi_value throw_errno_addr(napi_env env, int err, const char *syscall, const char *address, int port);
/* A getaddrinfo failure by its own code (EAI_NONAME ...), syscall getaddrinfo, hostname. */
napi_value throw_gai(napi_env env, int rc, int sys_errno, const char *host);
/* Reads argv[i] as a newly malloc'd UTF-8 string, NULL for null/undefined. */
char *arg_string(napi_env env, napi_value v);
int32_t arg_int(napi_env env, napi_value v, int32_t dflt);
napi_value make_int(napi_env env, int64_t n);
/* A callback's `undefined` result (NULL: only as a callback's return value). */
napi_value make_undefined(napi_env env);

typedef struct { const char *name; napi_callback fn; } export_entry;
void export_all(napi_env env, napi_value exports, const export_entry *table);

/* Each syscall family file exposes its descriptor table. */
extern const export_entry mount_exports[];
extern const export_entry ns_exports[];
extern const export_entry priv_exports[];
extern const export_entry exec_exports[];
extern const export_entry call_exports[];
extern const export_entry net_exports[];
extern const export_entry proc_exports[];
extern const export_entry shm_exports[];
extern const export_entry heap_exports[];
extern const export_entry sender_exports[];
#endif
