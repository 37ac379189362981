#include "app/balance.h"

unsigned xb_balance_pick(const uint64_t *open, unsigned n, unsigned self)
{
    unsigned best = self;

    if (n == 0 || self >= n)
        return self;
    /* From self in cyclic order: the first strictly smaller count wins, so self keeps a
     * tie and among the others the one nearest after self does. */
    for (unsigned k = 1; k < n; k++) {
        unsigned i = (self + k) % n;
        if (open[i] < open[best])
            best = i;
    }
    return best;
}
