/* liege-early.so: preloaded (LD_PRELOAD) into a master that re-execs itself
 * for a reload. From execve until the JS listeners exist (~50 ms of Node
 * start), SIGHUP and SIGQUIT would kill the master with their default action
 * (Node resets an inherited SIG_IGN to SIG_DFL and unblocks every signal).
 * This constructor catches them into a mask instead; Node keeps a handler it
 * finds installed, libuv replaces it when JS listens, and the master then
 * takes the mask (proc.c takeEarlySignals) and queues what was caught.
 * SIGTERM/SIGINT are not covered: Node installs its own exit handler for
 * them at start (a TERM in that window still stops the instance: the old
 * workers see their master die and drain). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught_hup, caught_quit, caught_usr2;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)si;
  (void)uc;
  if (sig == SIGHUP) caught_hup = 1;
  if (sig == SIGQUIT) caught_quit = 1;
  if (sig == SIGUSR2) caught_usr2 = 1;
}

__attribute__((constructor)) static void liege_early_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  /* the mask the old image blocked before execve: catch what was pending */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGQUIT);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* bit N set = signal N was caught; clears. */
unsigned long liege_take_early_signals(void) {
  unsigned long m = 0;
  if (caught_hup) m |= 1UL << SIGHUP;
  if (caught_quit) m |= 1UL << SIGQUIT;
  if (caught_usr2) m |= 1UL << SIGUSR2;
  caught_hup = caught_quit = caught_usr2 = 0;
  return m;
}
