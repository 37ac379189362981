/*
 * app/sched.c - the CPU scheduling policy of xraybridge's threads (app/sched.h).
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "app/sched.h"

#include <pthread.h>
#include <sched.h>

int xb_sched_policy(int batch)
{
    return batch ? SCHED_BATCH : SCHED_OTHER;
}

int xb_sched_apply(int batch)
{
    struct sched_param p = {.sched_priority = 0}; /* the only one these policies take */

    return pthread_setschedparam(pthread_self(), xb_sched_policy(batch), &p);
}

const char *xb_sched_policy_name(int policy)
{
    switch (policy) {
    case SCHED_BATCH:
        return "SCHED_BATCH";
    case SCHED_OTHER:
        return "SCHED_OTHER";
    default:
        return "other policy";
    }
}
