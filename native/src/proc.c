/* process family: what a supervisor needs beyond libuv's own children —
 * reap one given pid without blocking (adopted workers, orphans that land on
 * a subreaper: never waitpid(-1), which would steal libuv's children), a
 * parent watcher thread that does not depend on the event loop (a busy-looping
 * worker still dies with its master), the same for a vassal blocked in a
 * startup hook when its emperor dies, and the signals a re-exec'd master
 * received before its JS listeners existed (native/src/early-signals.c). */
#define _GNU_SOURCE
#include "util.h"
#include "proc-tree.h"
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* reapPid(pid) -> null (still running, or not our child) | [exitCode or -1, termSignal] */
static napi_value ReapPid(napi_env env, napi_callback_info info) {
  ARGS(1);
  pid_t pid = arg_int(env, argv[0], -1);
  int status = 0;
  pid_t r;
  if (pid <= 0) return throw_errno(env, EINVAL, "waitpid", NULL);
  do r = waitpid(pid, &status, WNOHANG); while (r < 0 && errno == EINTR);
  napi_value out;
  if (r <= 0) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  napi_set_element(env, out, 1, make_int(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  return out;
}

/* SIGKILL every descendant of `pid`, each one stopped first; how many. */
static int kill_tree(pid_t pid) { return signal_tree(pid, SIGKILL, 1); }

static pid_t watched_parent;
static int watch_grace_ms;

static void *parent_watch(void *arg) {
  (void)arg;
  struct timespec tick = {0, 100 * 1000 * 1000};
  while (getppid() == watched_parent) nanosleep(&tick, NULL);
  /* the master is gone: the event loop gets `grace` to drain, then the
   * whole subtree and this process die, stuck or not */
  struct timespec grace = {watch_grace_ms / 1000, (watch_grace_ms % 1000) * 1000000L};
  nanosleep(&grace, NULL);
  kill_tree(getpid());
  kill(getpid(), SIGKILL);
  return NULL;
}

/* A detached thread running fn; 0 or pthread_create's error. No signal
 * for it: they belong to the event loop. */
static int start_detached(void *(*fn)(void *)) {
  pthread_t th;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&th, &a, fn, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  return err;
}

/* watchParent(graceMs): a detached thread polls getppid() every 100 ms; when
 * the parent changes (it died) it waits graceMs, then SIGKILLs every
 * descendant and this process. Returns false when the parent is already gone. */
static napi_value WatchParent(napi_env env, napi_callback_info info) {
  ARGS(2);
  watch_grace_ms = arg_int(env, argv[0], 3000);
  pid_t expected = arg_int(env, argv[1], 0);
  watched_parent = getppid();
  napi_value out;
  if (expected > 0 && watched_parent != expected) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  int err = start_detached(parent_watch);
  if (err) return throw_errno(env, err, "pthread_create", NULL);
  napi_get_boolean(env, true, &out);
  return out;
}

/* A vassal's watch on its emperor until its loop reads the emperor pipe:
 * the startup phases block the main thread (an exec hook that hangs), so
 * the loop would never hear the pipe close. The emperor's end closing (it
 * died, even by SIGKILL) is seen here; then every descendant of this
 * process (the hook's, stopped first) and the process itself are SIGKILLed,
 * as uWSGI's PDEATHSIG on a vassal does. emperorWatchOff() disarms it. */
static int emperor_fd = -1;
static int emperor_armed;

static void *emperor_watch(void *arg) {
  (void)arg;
  struct pollfd p = {.fd = emperor_fd, .events = POLLRDHUP};
  while (__atomic_load_n(&emperor_armed, __ATOMIC_SEQ_CST)) {
    p.revents = 0;
    if (poll(&p, 1, 100) <= 0) continue; /* (timeout, EINTR) */
    /* the loop took the pipe over meanwhile (it may have closed the fd) */
    if (!__atomic_load_n(&emperor_armed, __ATOMIC_SEQ_CST) || (p.revents & POLLNVAL)) break;
    if (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) {
      kill_tree(getpid());
      kill(getpid(), SIGKILL);
    }
  }
  return NULL;
}

/* watchEmperor(fd) -> whether the watch runs (false: fd is no socket). */
static napi_value WatchEmperor(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = arg_int(env, argv[0], -1);
  struct stat st;
  napi_value out;
  if (fd < 0 || fstat(fd, &st) || !S_ISSOCK(st.st_mode) || __atomic_load_n(&emperor_armed, __ATOMIC_SEQ_CST)) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  emperor_fd = fd;
  __atomic_store_n(&emperor_armed, 1, __ATOMIC_SEQ_CST);
  int err = start_detached(emperor_watch);
  if (err) {
    __atomic_store_n(&emperor_armed, 0, __ATOMIC_SEQ_CST);
    return throw_errno(env, err, "pthread_create", NULL);
  }
  napi_get_boolean(env, true, &out);
  return out;
}

/* emperorWatchOff(): the loop reads the emperor pipe now (it runs the
 * emperor-lost hooks and stops); the watch thread ends within 100 ms. */
static napi_value EmperorWatchOff(napi_env env, napi_callback_info info) {
  (void)info;
  __atomic_store_n(&emperor_armed, 0, __ATOMIC_SEQ_CST);
  return make_undefined(env);
}

/* killTree(pid) -> count: SIGKILL every descendant of pid (not pid itself). */
static napi_value KillTree(napi_env env, napi_callback_info info) {
  ARGS(1);
  return make_int(env, kill_tree(arg_int(env, argv[0], getpid())));
}

/* takeEarlySignals() -> bit mask of the signals early-signals.so caught
 * (bit N = signal N), cleared; 0 when that library is not preloaded. */
static napi_value TakeEarlySignals(napi_env env, napi_callback_info info) {
  unsigned long (*take)(void) = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "liege_take_early_signals");
  return make_int(env, take ? (int64_t)take() : 0);
}

/* takeEarlyForeign() -> the mask of early signals only others than this
 * process and its parent sent (liege-early.so); 0 without it. */
static napi_value TakeEarlyForeign(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned long (*take)(void) = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "liege_take_early_foreign");
  return make_int(env, take ? (int64_t)take() : 0);
}

/* blockSignals(list, on): block (on) or unblock the given signals in the
 * calling thread (the main thread, before execve: a pending signal then
 * survives the exec and is caught by early-signals.so). */
static napi_value BlockSignals(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  sigset_t set;
  sigemptyset(&set);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, argv[0], i, &e);
    sigaddset(&set, arg_int(env, e, 0));
  }
  bool on = true;
  napi_get_value_bool(env, argv[1], &on);
  int err = pthread_sigmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
  if (err) return throw_errno(env, err, "pthread_sigmask", NULL);
  return make_undefined(env);
}

/* raiseSignal(sig): send sig to the calling thread (tgkill). Blocked there,
 * it stays pending across execve: a signal the old image's JS received
 * after a reload began reaches the new image (early-signals.so). */
static napi_value RaiseSignal(napi_env env, napi_callback_info info) {
  ARGS(1);
  if (raise(arg_int(env, argv[0], 0))) return throw_errno(env, errno, "tgkill", NULL);
  return make_undefined(env);
}

/* setNofile(n): RLIMIT_NOFILE soft and hard to n (max-fd; raising the hard
 * limit takes root). getNofile() -> [soft, hard] (-1: unlimited). */
static napi_value SetNofile(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = (rlim_t)arg_int(env, argv[0], 0);
  if (setrlimit(RLIMIT_NOFILE, &rl)) return throw_errno(env, errno, "setrlimit", NULL);
  return make_undefined(env);
}

static napi_value GetNofile(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl)) return throw_errno(env, errno, "getrlimit", NULL);
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur));
  napi_set_element(env, out, 1, make_int(env, rl.rlim_max == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_max));
  return out;
}

const export_entry proc_exports[] = {
  {"reapPid", ReapPid}, {"watchParent", WatchParent}, {"watchEmperor", WatchEmperor}, {"emperorWatchOff", EmperorWatchOff}, {"killTree", KillTree},
  {"takeEarlySignals", TakeEarlySignals}, {"takeEarlyForeign", TakeEarlyForeign}, {"blockSignals", BlockSignals},
  {"raiseSignal", RaiseSignal}, {"setNofile", SetNofile}, {"getNofile", GetNofile}, {NULL, NULL}};
