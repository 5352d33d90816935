/* signal senders: who sent a signal, which a Node listener cannot know
 * (libuv passes the number only). A worker must tell its master's commands
 * (a drain, a stop) from the same signal sent to the whole process group or
 * cgroup (Ctrl-C, a terminal hangup, `kill -TERM -PGID`, systemd's
 * KillMode=control-group), which the master received too and answers
 * itself. watchSenders() wraps the handler libuv installed for each signal
 * (JS listens already): the wrapper counts the delivery by its sender
 * (siginfo si_pid), then calls libuv's handler, so the listener runs as
 * before and asks takeSenders() who it was. */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define NSIG_MAX 65

static struct sigaction chained[NSIG_MAX];
static int from_master[NSIG_MAX];
static int from_other[NSIG_MAX];
static int other_pid[NSIG_MAX];
static pid_t master_pid;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  if (sig <= 0 || sig >= NSIG_MAX) return;
  /* si_code <= 0: sent by a process (kill, sigqueue, tgkill); the kernel's
   * own (a terminal's SIGINT or SIGHUP) has si_pid 0 and counts as other */
  if (si && si->si_code <= 0 && si->si_pid == master_pid) __atomic_add_fetch(&from_master[sig], 1, __ATOMIC_SEQ_CST);
  else {
    __atomic_store_n(&other_pid[sig], si ? si->si_pid : 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&from_other[sig], 1, __ATOMIC_SEQ_CST);
  }
  struct sigaction *c = &chained[sig];
  if (c->sa_flags & SA_SIGINFO) c->sa_sigaction(sig, si, uc);
  else if (c->sa_handler != SIG_DFL && c->sa_handler != SIG_IGN) c->sa_handler(sig);
}

/* The signals a worker routes, by name: JS knows them by name only
 * (node:os, which a worker does not load, holds the numbers). */
static const struct { const char *name; int sig; } NAMES[] = {
  {"SIGHUP", SIGHUP}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}, {"SIGTERM", SIGTERM}, {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}};

/* the number of the signal named by `v`, 0 for another name */
static int signal_of(napi_env env, napi_value v) {
  char *name = arg_string(env, v);
  int sig = 0;
  for (unsigned i = 0; name && i < sizeof NAMES / sizeof *NAMES; i++) {
    if (!strcmp(name, NAMES[i].name)) sig = NAMES[i].sig;
  }
  free(name);
  return sig;
}

/* whether `sig`'s handler is the wrapper */
static int wrapped(int sig) {
  struct sigaction now;
  if (sigaction(sig, NULL, &now)) return 0;
  return (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal;
}

/* watchSenders(names, masterPid) -> how many are watched: each signal's
 * current handler (libuv's: JS listens) is wrapped; a signal without one
 * (default or ignored) is left alone. Again after libuv installed its
 * handler anew (every listener was removed, then one added): re-wrapped. */
static napi_value WatchSenders(napi_env env, napi_callback_info info) {
  ARGS(2);
  master_pid = arg_int(env, argv[1], 0);
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  int watched = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, argv[0], i, &e);
    int sig = signal_of(env, e);
    if (sig <= 0 || sig >= NSIG_MAX) continue;
    if (wrapped(sig)) {
      watched++;
      continue;
    }
    struct sigaction old;
    if (sigaction(sig, NULL, &old)) return throw_errno(env, errno, "sigaction", NULL);
    if (!(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | (old.sa_flags & ~(SA_SIGINFO | SA_RESETHAND));
    sa.sa_mask = old.sa_mask;
    /* (the handler reads `chained` only once it is installed) */
    chained[sig] = old;
    if (sigaction(sig, &sa, NULL)) return throw_errno(env, errno, "sigaction", NULL);
    watched++;
  }
  return make_int(env, watched);
}

/* takeSenders(name) -> [from the master, from others, the last other's
 * pid (0: the kernel, a terminal), still wrapped (0: libuv installed its
 * handler anew, so this delivery was not counted)]; the counts are cleared. */
static napi_value TakeSenders(napi_env env, napi_callback_info info) {
  ARGS(1);
  int sig = signal_of(env, argv[0]);
  napi_value out;
  napi_create_array_with_length(env, 4, &out);
  int m = 0, o = 0, pid = 0;
  if (sig > 0 && sig < NSIG_MAX) {
    m = __atomic_exchange_n(&from_master[sig], 0, __ATOMIC_SEQ_CST);
    pid = __atomic_load_n(&other_pid[sig], __ATOMIC_SEQ_CST);
    o = __atomic_exchange_n(&from_other[sig], 0, __ATOMIC_SEQ_CST);
  }
  napi_set_element(env, out, 0, make_int(env, m));
  napi_set_element(env, out, 1, make_int(env, o));
  napi_set_element(env, out, 2, make_int(env, pid));
  napi_set_element(env, out, 3, make_int(env, sig > 0 && sig < NSIG_MAX && wrapped(sig)));
  return out;
}

const export_entry sender_exports[] = {{"watchSenders", WatchSenders}, {"takeSenders", TakeSenders}, {NULL, NULL}};
