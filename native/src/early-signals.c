/* liege-early.so: preloaded (LD_PRELOAD) into a master that re-execs itself
 * for a reload. From execve until the JS listeners exist (~50-300 ms of Node
 * start), HUP/TERM/INT/QUIT would meet their default action: Node resets an
 * inherited SIG_IGN to SIG_DFL, unblocks every signal, and installs its own
 * exit handler for TERM/INT. This library catches them into a mask instead:
 *  - its constructor installs a recording handler (Node keeps a handler it
 *    finds installed) and unblocks what the old image blocked before execve,
 *    so signals pending across the exec are recorded too;
 *  - it interposes sigaction() to refuse Node's exit handler for TERM/INT
 *    (the only SA_RESETHAND handler Node installs); libuv's handlers (when JS
 *    listens) go through;
 * and the master takes the mask (proc.c takeEarlySignals) once JS listens. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t caught[65];
/* Who sent them, until the master takes them (its own listeners are then
 * routed by sender: src/os/signal-route.ts): a vassal obeys only its
 * emperor (its parent) and itself (a signal the old image carried across
 * the exec is raised again by the same pid); any other sender's (a signal
 * to the whole group or cgroup, which the emperor got too) is reported to
 * the emperor. Also noted while bin/liege's first JS listeners hold the
 * signals (libuv's handler, wrapped below). */
static volatile sig_atomic_t trusted[65];
static volatile sig_atomic_t foreign[65];
static volatile sig_atomic_t noting = 1;
static struct sigaction chained[65];
static int wrapping[65];
static const int SIGS[] = {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR2};
#define NSIGS (sizeof SIGS / sizeof *SIGS)

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;

static void note_sender(int sig, const siginfo_t *si) {
  /* si_code <= 0: sent by a process; a terminal's (the kernel's) is foreign */
  if (si && si->si_code <= 0 && (si->si_pid == getppid() || si->si_pid == getpid())) trusted[sig] = 1;
  else foreign[sig] = 1;
}

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (sig <= 0 || sig >= 65) return;
  caught[sig] = 1;
  note_sender(sig, si);
}

/* libuv's handler (JS listens), with the sender noted first */
static void on_chained(int sig, siginfo_t *si, void *uc) {
  if (sig <= 0 || sig >= 65) return;
  if (noting) note_sender(sig, si);
  struct sigaction *c = &chained[sig];
  if (c->sa_flags & SA_SIGINFO) c->sa_sigaction(sig, si, uc);
  else if (c->sa_handler != SIG_DFL && c->sa_handler != SIG_IGN) c->sa_handler(sig);
}

static int early(int sig) {
  for (unsigned i = 0; i < NSIGS; i++) if (SIGS[i] == sig) return 1;
  return 0;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!real_sigaction) real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  if (act && (sig == SIGTERM || sig == SIGINT) && (act->sa_flags & SA_RESETHAND) && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
    /* Node's default "exit on TERM/INT": keep recording until JS listens */
    return old ? real_sigaction(sig, NULL, old) : 0;
  }
  /* only the first such handler is libuv's (JS listens); a later one is
   * set aside and restored by its caller (exec.c's stop pass-through
   * during a hook): wrapping it would chain the wrapper restored after it
   * to that handler, not to libuv's (a SIGTERM then did nothing) */
  if (act && noting && early(sig) && !wrapping[sig] && !(act->sa_flags & SA_SIGINFO) && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
    wrapping[sig] = 1;
    chained[sig] = *act;
    struct sigaction wrap = *act;
    wrap.sa_flags |= SA_SIGINFO;
    wrap.sa_sigaction = on_chained;
    return real_sigaction(sig, &wrap, old);
  }
  return real_sigaction(sig, act, old);
}

__attribute__((constructor)) static void liege_early_install(void) {
  if (!real_sigaction) real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  sigset_t set;
  sigemptyset(&set);
  for (unsigned i = 0; i < NSIGS; i++) {
    real_sigaction(SIGS[i], &sa, NULL);
    sigaddset(&set, SIGS[i]);
  }
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* bit N set = signal N came only from senders other than this process and
 * its parent since the start; clears, and stops noting. */
unsigned long liege_take_early_foreign(void) {
  unsigned long m = 0;
  noting = 0;
  for (unsigned i = 0; i < NSIGS; i++) {
    int s = SIGS[i];
    if (foreign[s] && !trusted[s]) m |= 1UL << s;
    foreign[s] = 0;
    trusted[s] = 0;
  }
  return m;
}

/* bit N set = signal N was caught since the last call; clears. */
unsigned long liege_take_early_signals(void) {
  unsigned long m = 0;
  for (unsigned i = 0; i < NSIGS; i++) {
    int s = SIGS[i];
    if (caught[s]) m |= 1UL << s;
    caught[s] = 0;
  }
  return m;
}
