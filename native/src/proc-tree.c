/* Process trees read from /proc (see proc-tree.h). */
#define _GNU_SOURCE
#include "proc-tree.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int each_child(pid_t pid, void (*f)(pid_t, void *), void *arg) {
  char path[64];
  int n = 0;
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *t;
  while ((t = readdir(d))) {
    if (t->d_name[0] == '.') continue;
    char cpath[300];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, t->d_name);
    FILE *fp = fopen(cpath, "r");
    if (!fp) continue;
    int c;
    while (fscanf(fp, "%d", &c) == 1) {
      f(c, arg);
      n++;
    }
    fclose(fp);
  }
  closedir(d);
  return n;
}

struct signal_arg { int sig, freeze, n; };

static void signal_one(pid_t c, void *p) {
  struct signal_arg *a = p;
  if (a->freeze) kill(c, SIGSTOP);
  a->n += signal_tree(c, a->sig, a->freeze);
  kill(c, a->sig);
  if (a->sig != SIGKILL) kill(c, SIGCONT);
}

int signal_tree(pid_t pid, int sig, int freeze) {
  struct signal_arg a = {sig, freeze, 0};
  return each_child(pid, signal_one, &a) + a.n;
}

unsigned long long start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command may hold spaces and parens */
  if (!p) return 0;
  unsigned long long t = 0;
  if (p[2] == 'Z' || p[2] == 'X') return 0; /* dead, only waiting for its parent */
  /* after ") ": state is field 3; starttime is field 22 */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1) return 0;
  return t;
}
