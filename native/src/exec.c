/* exec family: run a program and wait for it without forking the whole Node
 * heap (vfork + execve, ~10x cheaper than child_process.spawnSync) — in the
 * calling thread (startup) or on a waiting thread (a running loop) — and
 * execve in place (reload keeps the pid and inherited fds). */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>

extern char **environ;

/* stdio must survive exec even when our parent gave it to us close-on-exec
 * (libuv's spawn dup2s for the same reason). */
static void inherit_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
}

/* Reads a JS array of strings into a NULL-terminated char* array. */
static char **arg_strv(napi_env env, napi_value arr) {
  bool is_array = false;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) return NULL;
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  char **v = calloc(n + 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i] = arg_string(env, e);
  }
  return v;
}

static void free_strv(char **v) {
  for (char **p = v; p && *p; p++) free(*p);
  free(v);
}

/* The vfork child: default signal dispositions (Node ignores SIGPIPE and
 * catches others), an empty mask, death with the parent, then exec. Only
 * async-signal-safe calls here: the child shares the parent's memory. When
 * execve fails its errno goes up the close-on-exec pipe `report`. */
static void child_exec(const char *path, char **argv, char **envp, int pdeathsig, int report, int out) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  if (pdeathsig) prctl(PR_SET_PDEATHSIG, pdeathsig);
  if (out >= 0) {
    dup2(out, 1);
    dup2(out, 2);
  }
  inherit_stdio();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(path, argv, envp ? envp : environ);
  int err = errno;
  ssize_t n;
  do n = write(report, &err, sizeof err); while (n < 0 && errno == EINTR);
  _exit(127);
}

static int wait_status(pid_t pid, int *status) {
  while (waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return 0;
}

/* A call from JS's own thread back into JS while it waits (the watchdog's
 * ping); what it throws is dropped: the wait goes on. */
typedef struct {
  napi_env env;
  napi_value fn; /* NULL: no calls */
  int every_ms;
} ticker;

static void tick(ticker *t) {
  napi_value undef, ignored;
  napi_get_undefined(t->env, &undef);
  if (napi_call_function(t->env, undef, t->fn, 0, NULL, NULL) == napi_pending_exception)
    napi_get_and_clear_last_exception(t->env, &ignored);
}

/* wait_status, calling t->fn every t->every_ms until the child ends: a
 * pidfd polled with that timeout (Linux 5.3); without pidfds, WNOHANG
 * every 20 ms. EINTR (a stop signal's handler) only polls again. */
static int wait_ticking(pid_t pid, int *status, ticker *t) {
  if (!t->fn || t->every_ms <= 0) return wait_status(pid, status);
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  struct timespec step = {0, 20 * 1000000L};
  int waited = 0;
  for (;;) {
    if (pfd >= 0) {
      struct pollfd p = {pfd, POLLIN, 0};
      int r = poll(&p, 1, t->every_ms);
      if (r > 0) break;
      if (r == 0) tick(t);
      else if (errno != EINTR) break; /* waitpid below says what is wrong */
      continue;
    }
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) return 0;
    if (w < 0 && errno != EINTR) return -1;
    nanosleep(&step, NULL);
    if ((waited += 20) >= t->every_ms) {
      waited = 0;
      tick(t);
    }
  }
  close(pfd);
  return wait_status(pid, status);
}

/* Starts path/argv (envp NULL: this process's environment) in a vfork
 * child, its stdout and stderr on `out` when >= 0. Returns its pid, or -1
 * with *err and *syscall set: the failing pipe2/vfork, or the child's
 * execve (that child is reaped here). */
static pid_t start_child(const char *path, char **argv, char **envp, int out, int *err, const char **syscall) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) {
    *err = errno;
    *syscall = "pipe2";
    return -1;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) child_exec(path, argv, envp, SIGKILL, report[1], out);
  int verr = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    *err = verr;
    *syscall = "vfork";
    return -1;
  }
  /* vfork resumed us after the child's execve or _exit: the pipe holds the
   * child's errno, or nothing (it closed on a successful exec) */
  int childerr = 0;
  ssize_t n;
  do n = read(report[0], &childerr, sizeof childerr); while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n != (ssize_t)sizeof childerr) return pid;
  int status;
  wait_status(pid, &status);
  *err = childerr;
  *syscall = "execve";
  return -1;
}

static napi_value status_pair(napi_env env, int status) {
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  napi_set_element(env, out, 1, make_int(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  return out;
}

/* Starts path with argv and envp given as argv[0..2] (JS values), its
 * output on `out` (-1: this process's); returns the pid, or -1 with a JS
 * exception pending (the errno of the failing step, the path when execve
 * failed). */
static pid_t start_from_js(napi_env env, napi_value *argv, int out) {
  char *path = arg_string(env, argv[0]);
  char **args = arg_strv(env, argv[1]);
  char **envp = arg_strv(env, argv[2]);
  int err = 0;
  const char *syscall = NULL;
  pid_t pid = start_child(path, args, envp, out, &err, &syscall);
  if (pid < 0) throw_errno(env, err, syscall, strcmp(syscall, "execve") ? NULL : path);
  free(path);
  free_strv(args);
  free_strv(envp);
  return pid;
}

/* A stop signal (TERM, INT, QUIT) while the thread blocks in spawnWait:
 * the JS listeners cannot run until the program ends, which a hung hook
 * never does (a `systemctl stop` waited for its SIGKILL). It is passed on
 * to the program (QUIT as KILL) and raised again after the wait, for the
 * handlers the wait had put aside. Process-wide: any thread may take it. */
static const int STOPS[] = {SIGTERM, SIGINT, SIGQUIT};
#define NSTOPS (sizeof STOPS / sizeof *STOPS)
static volatile sig_atomic_t waited_pid, stops_seen;

static void pass_stop(pid_t pid, int sig) {
  if (pid > 0) kill(pid, sig == SIGQUIT ? SIGKILL : SIGTERM);
}

static void on_stop(int sig) {
  int saved = errno;
  for (unsigned i = 0; i < NSTOPS; i++) if (STOPS[i] == sig) stops_seen |= 1 << i;
  pass_stop(waited_pid, sig);
  errno = saved;
}

/* spawnWait(path, argv[, envp[, passStop[, out[, everyMs, tick]]]]) ->
 * [exitCode, termSignal, stopSignal]: runs path with argv in the current
 * cwd (its stdout and stderr on the fd `out` when given), waits for it
 * (retrying EINTR), calling tick() every everyMs meanwhile when given; with
 * passStop, a stop signal that came meanwhile is passed on (on_stop) and
 * returned (0: none). Throws when it could not be started (ENOENT, execve
 * '/bin/nosh'). Blocks the thread: for the startup phases, where nothing
 * else runs. */
static napi_value SpawnWait(napi_env env, napi_callback_info info) {
  ARGS(7);
  int out_fd = arg_int(env, argv[4], -1);
  ticker t = {env, NULL, arg_int(env, argv[5], 0)};
  napi_valuetype fn_type = napi_undefined;
  if (argc > 6 && napi_typeof(env, argv[6], &fn_type) == napi_ok && fn_type == napi_function) t.fn = argv[6];
  bool pass = false;
  if (napi_get_value_bool(env, argv[3], &pass) != napi_ok) pass = false;
  if (!pass) {
    pid_t pid = start_from_js(env, argv, out_fd);
    if (pid < 0) return NULL;
    int status = 0;
    if (wait_ticking(pid, &status, &t) < 0) return throw_errno(env, errno, "waitpid", NULL);
    napi_value out = status_pair(env, status);
    napi_set_element(env, out, 2, make_int(env, 0));
    return out;
  }
  struct sigaction sa, aside[NSTOPS];
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sa.sa_flags = SA_RESTART;
  sigfillset(&sa.sa_mask);
  waited_pid = 0;
  stops_seen = 0;
  for (unsigned i = 0; i < NSTOPS; i++) sigaction(STOPS[i], &sa, &aside[i]);
  pid_t pid = start_from_js(env, argv, out_fd);
  waited_pid = pid;
  int last = 0;
  for (unsigned i = 0; i < NSTOPS; i++) if (stops_seen & (1 << i)) pass_stop(pid, STOPS[i]); /* (came before the pid was known) */
  int status = 0, werr = 0;
  if (pid > 0 && wait_ticking(pid, &status, &t) < 0) werr = errno;
  waited_pid = 0;
  for (unsigned i = 0; i < NSTOPS; i++) sigaction(STOPS[i], &aside[i], NULL);
  for (unsigned i = 0; i < NSTOPS; i++) {
    if (!(stops_seen & (1 << i))) continue;
    last = STOPS[i];
    kill(getpid(), STOPS[i]);
  }
  if (pid < 0) return NULL;
  if (werr) return throw_errno(env, werr, "waitpid", NULL);
  napi_value out = status_pair(env, status);
  napi_set_element(env, out, 2, make_int(env, last));
  return out;
}

/* The async form: the child is started here, in the main thread (so an exec
 * failure throws at once and PDEATHSIG is tied to the process's main
 * thread); a detached thread waits for it and calls back on the loop. */
typedef struct {
  pid_t pid;
  int status;
  int err; /* waitpid's errno, 0 when status is valid */
  napi_threadsafe_function tsfn;
} waiter;

static void *wait_thread(void *p) {
  waiter *w = p;
  /* w is freed on the loop once the call is queued: keep the handle */
  napi_threadsafe_function tsfn = w->tsfn;
  if (wait_status(w->pid, &w->status) < 0) w->err = errno;
  napi_call_threadsafe_function(tsfn, w, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

/* On the loop: callback(error | null, [exitCode, termSignal]). */
static void call_back(napi_env env, napi_value cb, void *context, void *data) {
  waiter *w = data;
  if (env && cb) {
    napi_value args[2], undef;
    napi_get_undefined(env, &undef);
    if (w->err) {
      args[0] = errno_error(env, w->err, "waitpid", NULL);
      args[1] = undef;
    } else {
      napi_get_null(env, &args[0]);
      args[1] = status_pair(env, w->status);
    }
    napi_call_function(env, undef, cb, 2, args, NULL);
  }
  free(w);
}

/* spawnAsync(path, argv, envp|null, callback[, out]) -> pid. The loop
 * stays alive until the callback ran, like a child_process handle. */
static napi_value SpawnAsync(napi_env env, napi_callback_info info) {
  ARGS(5);
  pid_t pid = start_from_js(env, argv, arg_int(env, argv[4], -1));
  if (pid < 0) return NULL;
  waiter *w = calloc(1, sizeof *w);
  w->pid = pid;
  napi_value name;
  napi_create_string_utf8(env, "liege:spawnAsync", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, NULL, call_back, &w->tsfn);
  /* the waiting thread takes no signal: they stay with the loop's thread */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int rc = pthread_create(&t, &attr, wait_thread, w);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) {
    /* no thread: wait here (rare; the child was started, keep its status) */
    napi_threadsafe_function tsfn = w->tsfn;
    if (wait_status(pid, &w->status) < 0) w->err = errno;
    napi_call_threadsafe_function(tsfn, w, napi_tsfn_blocking);
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  }
  return make_int(env, pid);
}

/* execve(path, argv): replace this process image, keeping pid and every fd
 * without FD_CLOEXEC. Returns only on failure (throws). */
static napi_value Execv(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]);
  char **args = arg_strv(env, argv[1]);
  inherit_stdio();
  execv(path, args);
  int err = errno;
  napi_value out = throw_errno(env, err, "execve", path);
  free(path);
  free_strv(args);
  return out;
}

/* setCloexec(fd, on): mark an fd to be inherited (on=false) across exec. */
static napi_value SetCloexec(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = arg_int(env, argv[0], -1);
  bool on = true;
  napi_get_value_bool(env, argv[1], &on);
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)) < 0)
    return throw_errno(env, errno, "fcntl", NULL);
  return make_undefined(env);
}

const export_entry exec_exports[] = {
  {"spawnWait", SpawnWait}, {"spawnAsync", SpawnAsync}, {"execv", Execv}, {"setCloexec", SetCloexec}, {NULL, NULL}};
