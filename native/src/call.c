/* call family: dlsym(RTLD_DEFAULT) lookups for the call/callret/callint/
 * callintret hooks and unix_signal. Symbols are searched in the process's
 * global scope: the node binary and libc (getuid, chdir, sync, clearenv...). */
#define _GNU_SOURCE
#include "util.h"
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>

typedef int (*fn_void)(void);
typedef int (*fn_str)(const char *);
typedef int (*fn_int)(int);

/* call(symbol, kind, arg): kind 0 = f(), 1 = f(string), 2 = f(int).
 * Returns null when the symbol is missing, else f's int result. */
static napi_value Call(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *sym = arg_string(env, argv[0]);
  int kind = arg_int(env, argv[1], 0);
  void *f = sym ? dlsym(RTLD_DEFAULT, sym) : NULL;
  free(sym);
  napi_value out;
  if (!f) { napi_get_null(env, &out); return out; }
  int ret;
  if (kind == 1) {
    char *s = arg_string(env, argv[2]);
    ret = ((fn_str)f)(s);
    /* the string is deliberately leaked: putenv-like callees keep it */
  } else if (kind == 2) {
    ret = ((fn_int)f)(arg_int(env, argv[2], 0));
  } else {
    ret = ((fn_void)f)();
  }
  return make_int(env, ret);
}

/* unixSignal(signum, symbol): install a C function as the signal handler.
 * Returns false when the symbol is missing. */
static napi_value UnixSignal(napi_env env, napi_callback_info info) {
  ARGS(2);
  int signum = arg_int(env, argv[0], 0);
  char *sym = arg_string(env, argv[1]);
  void *f = sym ? dlsym(RTLD_DEFAULT, sym) : NULL;
  free(sym);
  napi_value out;
  if (f) signal(signum, (void (*)(int))f);
  napi_get_boolean(env, f != NULL, &out);
  return out;
}

const export_entry call_exports[] = {{"call", Call}, {"unixSignal", UnixSignal}, {NULL, NULL}};
