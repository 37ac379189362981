/*
 * app/sched.h - the CPU scheduling policy of xraybridge's threads (service.sched_batch).
 *
 * With service.sched_batch on (the default), every thread runs under Linux's SCHED_BATCH
 * policy (sched(7)): the same fair share of CPU as SCHED_OTHER (nice values apply as
 * usual), but a thread that wakes up does not preempt the task running on its CPU, so
 * an agent receiving many small wake-ups (a socket readable, a worker handing
 * documents over, libcurl's events) does not interrupt the node's applications or its
 * own busy threads; it runs at the next scheduling point instead, at most one
 * scheduler time slice later (a few ms). docs/performance.md ("Threads under
 * SCHED_BATCH") has the measurements; docs/configuration.md the option.
 */
#ifndef XB_APP_SCHED_H
#define XB_APP_SCHED_H

/* Pure: the Linux scheduling policy (SCHED_BATCH or SCHED_OTHER, <sched.h>) for the
 * value of service.sched_batch. */
int xb_sched_policy(int batch);

/*
 * Sets the calling thread's policy to xb_sched_policy(|batch|), static priority 0
 * (pthread_setschedparam). Threads it creates afterwards inherit the policy (the
 * default PTHREAD_INHERIT_SCHED), so the main thread calls it before it starts the
 * workers. Returns 0, or an errno value when the kernel refuses (a seccomp profile, a
 * non-Linux kernel); the caller logs it and runs on.
 */
int xb_sched_apply(int batch);

/* The policy's name for logs: "SCHED_BATCH", "SCHED_OTHER" or "other policy". */
const char *xb_sched_policy_name(int policy);

#endif
