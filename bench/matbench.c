/* matbench.c — the all-pairs spectral/js matrix of generated fingerprints
 * and its binary similarity-matrix file:
 *   matbench gen N BLOCK M OUT_DIR   N fingerprints (families of 50:
 *       a family's histogram plus noise, normalised), time the js scores
 *       of BLOCK rows against all N (the per-pair cost), compute the whole
 *       matrix of the first M, write OUT_DIR/m32.mpsim and m64.mpsim
 *   matbench read FILE               read a binary matrix (as analyze,
 *       correlate and tui do): seconds and peak RSS
 *   matbench ranks N                 the whole matrix of the first N
 *       fingerprints as `run` computes it: in one process, or under
 *       mpirun over the ranks (mp_simmatrix_compute_ranks); seconds,
 *       pairs and a checksum of the values (equal in both)
 * Times are wall seconds (CLOCK_MONOTONIC), one thread. */
#include "fingerprint.h"
#include "metric.h"
#include "mpi_pairs.h"
#include "pair_tiles.h"
#include "simmatrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double uni(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (double)((x ^ (x >> 31)) >> 11) / 9007199254740992.0;
}

static double peak_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024;
}

/* n generated spectral fingerprints (families of 50) and their ids. */
static void make_fps(size_t n, struct mp_fingerprint ***fpsp, char ***idsp)
{
	struct mp_fingerprint **fps = calloc(n, sizeof *fps);
	char **ids = calloc(n, sizeof *ids);
	double base[MP_SPECTRAL_BINS];
	uint64_t s = 42;
	for (size_t i = 0; i < n; i++) {
		if (i % 50 == 0)
			for (int b = 0; b < MP_SPECTRAL_BINS; b++)
				base[b] = uni(&s);
		struct mp_fingerprint *fp = calloc(1, sizeof *fp);
		fp->method = strdup("spectral");
		fp->has_hist = true;
		double sum = 0;
		for (int b = 0; b < MP_SPECTRAL_BINS; b++)
			sum += fp->hist[b] = base[b] * (0.5 + uni(&s));
		for (int b = 0; b < MP_SPECTRAL_BINS; b++)
			fp->hist[b] /= sum;
		char id[24];
		snprintf(id, sizeof id, "%zu", i + 1);
		ids[i] = strdup(id);
		fps[i] = fp;
	}
	*fpsp = fps;
	*idsp = ids;
}

static void free_fps(size_t n, struct mp_fingerprint **fps, char **ids)
{
	for (size_t i = 0; i < n; i++) {
		mp_fp_free(fps[i]);
		free(ids[i]);
	}
	free(fps);
	free(ids);
}

static int gen(size_t n, size_t block, size_t m, const char *dir)
{
	struct mp_fingerprint **fps;
	char **ids;
	make_fps(n, &fps, &ids);
	const struct mp_metric *js = mp_metric_find("spectral", "js");
	double t0 = now(), acc = 0;
	for (size_t i = 0; i < block; i++)
		for (size_t j = 0; j < n; j++)
			acc += js->score(fps[i], fps[j]).value;
	double per = (now() - t0) / ((double)block * (double)n);
	double pairs = (double)n * (double)(n - 1) / 2;
	printf("js per pair: %.1f ns (%zu x %zu block, checksum %.3f)\n",
	       per * 1e9, block, n, acc);
	printf("all pairs of %zu models: %.3g pairs, projected %.0f s on one "
	       "core\n",
	       n, pairs, pairs * per);
	printf("all pairs of 100000 models: %.3g pairs, projected %.0f s "
	       "(%.1f h) on one core\n",
	       5e9, 5e9 * per, 5e9 * per / 3600);
	struct mp_simmatrix *mx;
	struct mp_error err;
	t0 = now();
	if (mp_simmatrix_compute(js, fps, ids, m, &mx, &err) != MP_OK) {
		fprintf(stderr, "matbench: %s\n", err.msg);
		return 1;
	}
	printf("whole matrix of %zu models: %.2f s\n", m, now() - t0);
	for (unsigned vs = 4; vs <= 8; vs += 4) {
		char path[4096];
		snprintf(path, sizeof path, "%s/m%u.mpsim", dir, vs * 8);
		t0 = now();
		if (mp_simmatrix_bin_write(mx, path, vs, &err) != MP_OK) {
			fprintf(stderr, "matbench: %s\n", err.msg);
			return 1;
		}
		double w = now() - t0, mb = (double)m * m * vs / 1e6;
		printf("write float%u: %.2f s, %.0f MB; at 20000 models %.0f "
		       "MB, at 100000 %.0f GB\n",
		       vs * 8, w, mb, 20000.0 * 20000 * vs / 1e6,
		       1e10 * vs / 1e9);
	}
	mp_simmatrix_free(mx);
	free_fps(n, fps, ids);
	return 0;
}

/* The matrix of n fingerprints in one process or over the MPI ranks. */
static int ranks(size_t n)
{
	struct mp_fingerprint **fps;
	char **ids;
	struct mp_error err;
	int rank = 0, size = 1;
	if (mp_mpi_launched() && mp_mpi_start(&rank, &size, &err) != MP_OK) {
		fprintf(stderr, "matbench: %s\n", err.msg);
		return 1;
	}
	make_fps(n, &fps, &ids);
	const struct mp_metric *js = mp_metric_find("spectral", "js");
	struct mp_simmatrix *mx = NULL;
	double t0 = now();
	mp_status st;
	if (size == 1) {
		st = mp_simmatrix_compute(js, fps, ids, n, &mx, &err);
	} else {
		struct mp_tile_plan p;
		size_t done = 0;
		st = mp_tiles_plan(n, size, &p, &err);
		if (st == MP_OK)
			st = mp_simmatrix_compute_ranks(js, fps, ids, n, &p, rank,
							NULL, NULL, &done, &mx,
							&err);
		mp_tiles_free(&p);
	}
	double t = now() - t0;
	if (st != MP_OK) {
		fprintf(stderr, "matbench: %s\n", err.msg);
	} else if (rank == 0) {
		double sum = 0;
		for (size_t i = 0; i < n * n; i++)
			sum += mx->value[i];
		printf("ranks %d: %zu models, %.4g pairs, %.2f s, checksum %a, "
		       "peak RSS %.0f MB (rank 0)\n",
		       size, n, (double)n * (n + 1) / 2, t, sum, peak_mb());
	}
	mp_simmatrix_free(mx);
	free_fps(n, fps, ids);
	mp_mpi_stop();
	return st == MP_OK ? 0 : 1;
}

static int rd(const char *path)
{
	struct mp_simmatrix_file *f;
	struct mp_simmatrix *m;
	struct mp_error err;
	double t0 = now();
	if (mp_simmatrix_file_open(path, &f, &err) != MP_OK ||
	    mp_simmatrix_file_get(f, 0, &m, &err) != MP_OK) {
		fprintf(stderr, "matbench: %s\n", err.msg);
		return 1;
	}
	mp_simmatrix_file_close(f);
	printf("read %s: %zu models, %.2f s, peak RSS %.0f MB\n", path, m->n,
	       now() - t0, peak_mb());
	mp_simmatrix_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "gen"))
		return gen(strtoul(argv[2], NULL, 10),
			   strtoul(argv[3], NULL, 10),
			   strtoul(argv[4], NULL, 10), argv[5]);
	if (argc == 3 && !strcmp(argv[1], "read"))
		return rd(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "ranks"))
		return ranks(strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: matbench gen N BLOCK M OUT_DIR | matbench "
			"read FILE | matbench ranks N\n");
	return 2;
}
