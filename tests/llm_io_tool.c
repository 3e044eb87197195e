/* llm_io_tool.c — test driver for mp_io_fingerprint (tests/llm.sh):
 *   llm_io_tool MODEL PROBES TARGETS N0
 * PROBES "1,2;3,4,5" (token id lists), TARGETS "7,8"; prints the
 * fingerprint, space separated, or one error line and exit 1.
 *   llm_io_tool --batches MODEL N BATCH...
 * runs N sequences (sequence s: 1 + s % 3 ids from a fixed formula) through
 * mp_llm_forward in one call, then in calls of each BATCH sequences, and
 * prints for each BATCH "batch B: D logits differ, max relative R" (the
 * difference over the largest |logit| of the sequence). */
#include "llm_io.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse ids separated by ',' and sequences by ';' into ids/off. */
static size_t parse(const char *s, int32_t *ids, size_t *off, size_t max)
{
	size_t n = 0, k = 0;
	off[0] = 0;
	while (*s && n < max) {
		char *end;
		ids[n++] = (int32_t)strtol(s, &end, 10);
		s = end;
		if (*s == ';' || !*s)
			off[++k] = n;
		if (*s)
			s++;
	}
	return k;
}

/* Last-position logits of sequences [s0, s1) of ids/off into out. */
static int run_batch(struct mp_llm *llm, const int32_t *ids,
		     const size_t *off, size_t s0, size_t s1, float *out,
		     struct mp_error *err)
{
	size_t o[4097];
	for (size_t s = s0; s <= s1; s++)
		o[s - s0] = off[s] - off[s0];
	return mp_llm_forward(llm, ids + off[s0], o, s1 - s0, 0, out, err) ==
		       MP_OK
		   ? 0
		   : -1;
}

static int batches(int argc, char **argv)
{
	struct mp_error err;
	struct mp_model *m = NULL;
	struct mp_llm *llm = NULL;
	int rc = 1;
	size_t n = (size_t)atol(argv[3]);
	static int32_t ids[4096 * 3];
	static size_t off[4097];
	float *all = NULL, *part = NULL;
	if (n < 1 || n > 4096) {
		fprintf(stderr, "llm_io_tool: N must be 1..4096\n");
		return 2;
	}
	if (mp_model_open(argv[2], &m, &err) != MP_OK ||
	    mp_llm_open(m, &llm, &err) != MP_OK) {
		fprintf(stderr, "llm_io_tool: %s\n", err.msg);
		goto done;
	}
	size_t V = (size_t)mp_llm_cfg(llm)->vocab;
	off[0] = 0;
	for (size_t s = 0; s < n; s++) {
		off[s + 1] = off[s] + 1 + s % 3;
		for (size_t t = off[s]; t < off[s + 1]; t++)
			ids[t] = (int32_t)((t * 7919 + 13) % V);
	}
	all = malloc(n * V * sizeof *all);
	part = malloc(n * V * sizeof *part);
	if (!all || !part || run_batch(llm, ids, off, 0, n, all, &err)) {
		fprintf(stderr, "llm_io_tool: %s\n", all && part ? err.msg : "out of memory");
		goto done;
	}
	rc = 0;
	for (int a = 4; a < argc && !rc; a++) {
		size_t ndiff = 0;
		double worst = 0;
		size_t b = (size_t)atol(argv[a]);
		for (size_t s0 = 0; s0 < n && !rc; s0 += b) {
			size_t s1 = s0 + b < n ? s0 + b : n;
			if (run_batch(llm, ids, off, s0, s1, part + s0 * V, &err)) {
				fprintf(stderr, "llm_io_tool: %s\n", err.msg);
				rc = 1;
			}
		}
		for (size_t s = 0; s < n && !rc; s++) {
			const float *x = all + s * V, *y = part + s * V;
			double big = 0;
			for (size_t i = 0; i < V; i++)
				if (fabs(x[i]) > big)
					big = fabs(x[i]);
			for (size_t i = 0; i < V; i++) {
				double e = fabs((double)x[i] - y[i]) / big;
				ndiff += memcmp(&x[i], &y[i], sizeof *x) != 0;
				if (e > worst)
					worst = e;
			}
		}
		if (!rc)
			printf("batch %zu: %zu logits differ, max relative "
			       "%.3g\n",
			       b, ndiff, worst);
	}
done:
	free(all);
	free(part);
	mp_llm_free(llm);
	mp_model_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "--batches"))
		return batches(argc, argv);
	if (argc != 5) {
		fprintf(stderr, "usage: llm_io_tool MODEL PROBES TARGETS N0\n");
		return 2;
	}
	enum { MAX = 4096 };
	static int32_t ids[MAX], tg[MAX];
	static size_t off[MAX + 1], toff[MAX + 1];
	size_t np = parse(argv[2], ids, off, MAX);
	size_t nt = parse(argv[3], tg, toff, MAX) ? toff[1] : 0;
	struct mp_error err;
	struct mp_model *m = NULL;
	struct mp_llm *llm = NULL;
	double *v = NULL;
	size_t n = 0;
	int rc = 1;
	if (mp_model_open(argv[1], &m, &err) == MP_OK &&
	    mp_llm_open(m, &llm, &err) == MP_OK &&
	    mp_io_fingerprint(llm, ids, off, np, tg, nt, atoi(argv[4]), &v, &n,
			      &err) == MP_OK) {
		for (size_t i = 0; i < n; i++)
			printf("%s%.12g", i ? " " : "", v[i]);
		printf("\n");
		rc = 0;
	} else {
		fprintf(stderr, "llm_io_tool: %s\n", err.msg);
	}
	free(v);
	mp_llm_free(llm);
	mp_model_free(m);
	return rc;
}
