/* par.c — the parallel for (see par.h). */
#include "par.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

struct part {
	mp_par_fn *fn;
	void *ctx;
	size_t i0, i1;
	int worker;
};

static void *part_main(void *arg)
{
	struct part *p = arg;
	p->fn(p->ctx, p->i0, p->i1, p->worker);
	return NULL;
}

int mp_par_threads(int threads)
{
	if (threads > 0)
		return threads < MAX_THREADS ? threads : MAX_THREADS;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

void mp_par_for(int threads, size_t n, size_t grain, size_t min_part,
		mp_par_fn *fn, void *ctx)
{
	if (!n)
		return;
	if (!grain)
		grain = 1;
	size_t units = (n + grain - 1) / grain;
	size_t nt = (size_t)mp_par_threads(threads);
	if (min_part > 1) {
		size_t most = n / min_part ? n / min_part : 1;
		if (nt > most)
			nt = most;
	}
	if (nt > units)
		nt = units;
	if (nt <= 1) {
		fn(ctx, 0, n, 0);
		return;
	}
	struct part p[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	int started[MAX_THREADS] = {0};
	for (size_t k = 0; k < nt; k++) {
		size_t u0 = units * k / nt, u1 = units * (k + 1) / nt;
		size_t i1 = u1 * grain;
		p[k] = (struct part){fn, ctx, u0 * grain, i1 < n ? i1 : n,
				     (int)k};
	}
	for (size_t k = 1; k < nt; k++)
		started[k] =
		    pthread_create(&tid[k], NULL, part_main, &p[k]) == 0;
	part_main(&p[0]);
	for (size_t k = 1; k < nt; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			part_main(&p[k]);
	}
}
