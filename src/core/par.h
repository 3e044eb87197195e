/* par.h — a parallel for: an index range split into contiguous parts, one
 * per thread, the caller's thread taking the first. Threads are created per
 * call (cheap next to the work it is meant for: a weight matrix decoded,
 * the attention of a batch). Deterministic by construction when each index
 * is computed independently of the split. */
#ifndef MP_PAR_H
#define MP_PAR_H

#include <stddef.h>

/* Work on indices [i0, i1) as worker number worker (0 .. threads-1). */
typedef void mp_par_fn(void *ctx, size_t i0, size_t i1, int worker);

/* The thread count threads asks for: itself when positive, else the
 * number of online CPUs (at least 1). */
int mp_par_threads(int threads);

/* Split [0, n) into at most threads parts (threads <= 0: all CPUs), each a
 * multiple of grain indices long (grain 0 counts as 1) except the last,
 * none shorter than min_part indices unless n itself is, and run fn on
 * each; returns when every part is done. A part whose thread cannot be
 * created runs on the caller's thread. Worker numbers are below
 * mp_par_threads(threads). */
void mp_par_for(int threads, size_t n, size_t grain, size_t min_part,
		mp_par_fn *fn, void *ctx);

#endif
