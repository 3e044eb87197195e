/* quantbench.c — nanoseconds a value of the exact statistics of Q4_K and
 * Q6_K blocks (issue 13), in process, so that a change to the GGUF
 * statistics path can be timed without the file, the hash and the noise
 * of a whole fingerprint: quantbench [MVALUES [ROUNDS]]. Then the
 * dequantization alone of the k-quants and of the other types that
 * statistics take as values (Q5_0, Q5_1, Q8_0, IQ4_NL, IQ4_XS), best of
 * the rounds.
 * Blocks are random as bench/gengguf makes them (random codes and
 * scales, fp16 super-block scales in [2^-11, 2^-10)); each round runs
 * every pass exactly as fp_tensors.c does (pairs hook and runs for Q4_K,
 * dequantized values for Q6_K) and the best round is reported, with the
 * statistics' checksum so that two builds can be compared. */
#include "ggml_dequant.h"
#include "tstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAIR_BLOCKS 16 /* as fp_tensors.c */
#define QK_K 256

/* glibc's random(), seeded in main: the same blocks every run */
static uint64_t next(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^
	       (uint64_t)random();
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* nb random blocks of type g, fp16 scales at offsets d0 and d1 (or -1). */
static uint8_t *make_blocks(const struct mp_ggml_type_info *g, size_t nb,
			    int d0, int d1)
{
	uint8_t *b = malloc(nb * g->bytes);
	if (!b)
		return NULL;
	for (size_t i = 0; i < nb * g->bytes; i += 8) {
		uint64_t r = next();
		size_t n = nb * g->bytes - i < 8 ? nb * g->bytes - i : 8;
		memcpy(b + i, &r, n);
	}
	for (size_t i = 0; i < nb; i++) {
		uint64_t r = next();
		uint16_t h0 = (uint16_t)(0x1000 | (r & 0x3ff));
		uint16_t h1 = (uint16_t)(0x1000 | (r >> 16 & 0x3ff));
		memcpy(b + i * g->bytes + d0, &h0, 2);
		if (d1 >= 0)
			memcpy(b + i * g->bytes + d1, &h1, 2);
	}
	return b;
}

/* Every pass of the statistics of nb blocks; the number of passes, the
 * statistics in *st. */
static int stats_of(const struct mp_ggml_type_info *g, const uint8_t *b,
		    size_t nb, float *v, uint32_t *c, struct mp_affine_run *run,
		    struct mp_tstats *st)
{
	struct mp_tstats_acc *acc =
	    mp_tstats_new(MP_F32, NULL, (uint64_t)nb * g->block);
	int passes = 0;
	if (!acc)
		return -1;
	do {
		for (size_t i = 0; i < nb; i += PAIR_BLOCKS) {
			size_t k = nb - i < PAIR_BLOCKS ? nb - i : PAIR_BLOCKS;
			const uint8_t *s = b + i * g->bytes;
			if (g->pairs) {
				g->pairs(s, v, c, passes ? NULL : run, k);
				mp_tstats_feed_runs(acc, v, c, run,
						    k * g->npairs /
							MP_GGML_RUN);
			} else {
				g->dequant(s, v, k);
				mp_tstats_feed(acc, (const uint8_t *)v,
					       k * g->block);
			}
		}
		passes++;
	} while (mp_tstats_next_pass(acc));
	mp_status r = mp_tstats_finish(acc, st);
	mp_tstats_free(acc);
	return r == MP_OK ? passes : -1;
}

int main(int argc, char **argv)
{
	double mv = argc > 1 ? atof(argv[1]) : 16;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	size_t nb = (size_t)(mv * 1e6 / QK_K);
	srandom(13);
	static const struct {
		uint32_t id;
		int d0, d1;
	} types[] = {{MP_GGML_Q4_K, 0, 2}, {MP_GGML_Q6_K, 208, -1}};
	float *v = malloc(PAIR_BLOCKS * MP_GGML_PAIRS_MAX * sizeof *v);
	uint32_t *c = malloc(PAIR_BLOCKS * MP_GGML_PAIRS_MAX * sizeof *c);
	static struct mp_affine_run
	    run[PAIR_BLOCKS * MP_GGML_PAIRS_MAX / MP_GGML_RUN];
	if (!v || !c || nb < 1 || rounds < 1) {
		fprintf(stderr, "usage: quantbench [MVALUES [ROUNDS]]\n");
		return 2;
	}
	for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
		const struct mp_ggml_type_info *g = mp_ggml_type(types[t].id);
		uint8_t *b = make_blocks(g, nb, types[t].d0, types[t].d1);
		if (!b)
			return 1;
		double best = 1e30;
		struct mp_tstats st;
		int passes = 0;
		for (int r = 0; r < rounds; r++) {
			double t0 = now();
			passes = stats_of(g, b, nb, v, c, run, &st);
			double dt = now() - t0;
			best = dt < best ? dt : best;
		}
		if (passes < 0)
			return 1;
		printf(
		    "%-5s %6.1f M values  %d passes  best %.3f s  %.2f ns/value"
		    "  (median %.9g mad %.9g std %.9g)\n",
		    g->name, nb * QK_K / 1e6, passes, best,
		    best * 1e9 / ((double)nb * QK_K), st.median, st.mad,
		    st.std);
		free(b);
	}
	static const struct {
		uint32_t id;
		int d0, d1;
	} deqs[] = {{MP_GGML_Q2_K, 80, 82}, {MP_GGML_Q3_K, 108, -1},
		    {MP_GGML_Q4_K, 0, 2},   {MP_GGML_Q5_K, 0, 2},
		    {MP_GGML_Q6_K, 208, -1}, {MP_GGML_Q5_0, 0, -1},
		    {MP_GGML_Q5_1, 0, 2},   {MP_GGML_Q8_0, 0, -1},
		    {MP_GGML_IQ4_NL, 0, -1}, {MP_GGML_IQ4_XS, 0, -1}};
	float *y = malloc(PAIR_BLOCKS * QK_K * sizeof *y);
	for (size_t t = 0; y && t < sizeof deqs / sizeof *deqs; t++) {
		const struct mp_ggml_type_info *g = mp_ggml_type(deqs[t].id);
		size_t n = (size_t)(mv * 1e6 / g->block);
		uint8_t *b = make_blocks(g, n, deqs[t].d0, deqs[t].d1);
		if (!b)
			return 1;
		double best = 1e30, sum = 0;
		size_t k = PAIR_BLOCKS * QK_K / g->block; /* blocks a call */
		for (int r = 0; r < rounds; r++) {
			double t0 = now();
			for (size_t i = 0; i < n; i += k) {
				g->dequant(b + i * g->bytes, y,
					   n - i < k ? n - i : k);
				sum += y[0];
			}
			double dt = now() - t0;
			best = dt < best ? dt : best;
		}
		printf("%-6s dequantization  %.2f ns/value  (%g)\n", g->name,
		       best * 1e9 / ((double)n * g->block), sum);
		free(b);
	}
	free(y);
	free(v);
	free(c);
	return 0;
}
