/* Process trees read from /proc: the addon (proc.c: killTree, the worker's
 * parent watcher) and the liege-ns guard (ns-guard.c). */
#ifndef LIEGE_PROC_TREE_H
#define LIEGE_PROC_TREE_H
#include <sys/types.h>

/* Send sig to every descendant of pid (children found through
 * /proc/PID/task/TID/children), depth first; with `freeze` each one is
 * SIGSTOPped first so it cannot fork while we walk. Returns how many. */
int signal_tree(pid_t pid, int sig, int freeze);

/* The start time of pid (field 22 of /proc/PID/stat), 0 when it is gone
 * (or a zombie):
 * with the pid, it names one process even after the pid is reused. */
unsigned long long start_time(pid_t pid);

/* Calls f(child, arg) for each child of pid; returns how many. */
int each_child(pid_t pid, void (*f)(pid_t, void *), void *arg);
#endif
