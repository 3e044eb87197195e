/* mapguard.h — a mapped file that shrinks while it is read is an error,
 * not a SIGBUS. A process-wide SIGBUS handler (installed on first use,
 * chaining to the previous handler, or the default action, for faults
 * outside a guard) jumps back to the innermost guard of the faulting
 * thread. Usage, in a function that stays active while the reads run:
 *
 *	struct mp_mapguard g;
 *	if (MP_MAPGUARD_BEGIN(&g))
 *		return ...fault: g.addr is the address, the guard has ended;
 *	...reads of mapped bytes...
 *	mp_mapguard_end(&g);
 *
 * A fault abandons the guarded code wherever it was: it must allocate
 * nothing, and take no lock, that only it would release; memory it
 * uses belongs to the caller, who frees it on the error path. Locals of
 * the function holding the guard that change inside it are indeterminate
 * after a fault: keep the guarded region in a small function. */
#ifndef MP_MAPGUARD_H
#define MP_MAPGUARD_H

#include "reader.h"

#include <setjmp.h>

struct mp_mapguard {
	sigjmp_buf jb;
	const void *volatile addr; /* the faulting address, after a fault */
	struct mp_mapguard *prev;  /* enclosing guard of the thread */
};

/* Start guarding; a fault returns a second time, nonzero. */
#define MP_MAPGUARD_BEGIN(g) (mp_mapguard_push(g), sigsetjmp((g)->jb, 0))

/* Install the handler if needed and make g the thread's innermost guard. */
void mp_mapguard_push(struct mp_mapguard *g);

/* End the guard g (the thread's innermost one). */
void mp_mapguard_end(struct mp_mapguard *g);

/* The path of the file of files[0..n) whose mapping holds addr, or NULL. */
const char *mp_mapguard_file(const void *addr, const struct mp_file *files,
			     size_t n);

/* MP_EIO with "FILE changed size while being read" (file NULL: "a mapped
 * file"). */
mp_status mp_mapguard_error(const char *file, struct mp_error *err);

/* Copy n mapped bytes from src, guarded: false after a fault, with the
 * address in *fault. */
bool mp_mapguard_copy(void *dst, const void *src, size_t n, const void **fault);

#endif
