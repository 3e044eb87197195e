/* identbench.c — candidate search at scale: identbench LOC N builds a
 * registry of N models at LOC (N / 100 base models of a 40-tensor
 * architecture of 8 shapes, each with 99 derivatives b + s z at noise
 * levels s log-spaced over [0.01, 3]; `tensors` fingerprints with
 * sketch_size 256 built in memory, stored with mp_regdb_put_fp), then
 * queries 100 unknowns (80 new derivatives of random bases at s in [0.01,
 * 1], 20 unrelated) with mp_regdb_lsh_candidates (k = 10), and compares
 * with a full scan that loads every fingerprint and ranks by the `tensors`
 * pearson metric. Prints the median and max query time, recall@10, top-1
 * agreement (direct, and after rescoring the 10 candidates with the
 * metric), the time of the full scan and the peak RSS; then `identify`
 * end to end (mp_ident_refs_load: the index's MP_ID_CANDIDATES
 * candidates, loaded and scored by mp_identify): its time per unknown
 * and whether its parent is the full scan's top-1, or of the right base,
 * and that unrelated unknowns get no parent. */
#include "identify.h"
#include "lsh.h"
#include "metric.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum {
	NT = 40,
	NSHAPES = 8,
	KS = 256,
	PER_BASE = 100,
	NQ = 100,
	NFT = 40,
	NNEW = 40,
	NUNREL = 20,
	TOPK = 10
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double gauss(uint64_t *s)
{
	double u1 = ((double)(rnd(s) >> 11) + 1) * 0x1p-53;
	double u2 = (double)(rnd(s) >> 11) * 0x1p-53;
	return sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
}

/* Sketch values of base b, tensor t, position j (deterministic). */
static float base_val(uint64_t b, int t, int j)
{
	uint64_t s = (b * 1000003ULL + (uint64_t)t) * 4099ULL + (uint64_t)j;
	return (float)gauss(&s);
}

/* A fingerprint of base b plus noise sigma z (z from seed), plus noise eps
 * z' (z' from seed2) when eps > 0 (b = UINT64_MAX - x: unrelated). */
static struct mp_fingerprint *make_fp2(uint64_t b, double sigma, uint64_t seed,
				       double eps, uint64_t seed2)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	fp->method = mp_strdup("tensors");
	fp->format = mp_strdup("safetensors");
	fp->tensors = calloc(NT, sizeof *fp->tensors);
	fp->ntensors = NT;
	struct mp_error err;
	mp_json_parse("{\"sketch_size\": 256}", 19, "args", &fp->args, &err);
	uint64_t s = seed, s2 = seed2;
	for (int t = 0; t < NT; t++) {
		struct mp_tensor_fp *x = &fp->tensors[t];
		char name[32];
		snprintf(name, sizeof name, "layers.%d.w%d", t / NSHAPES,
			 t % NSHAPES);
		uint64_t shape[2] = {64 + 32 * (uint64_t)(t % NSHAPES), 512};
		mp_tensor_fp_init(x, name, 2, shape);
		x->dtype = x->stored = MP_F32;
		x->numel = shape[0] * shape[1];
		memset(x->sha256, '0', MP_SHA256_HEX - 1);
		x->nsketch = KS;
		x->sketch = malloc(KS * sizeof *x->sketch);
		for (int j = 0; j < KS; j++) {
			double v = base_val(b, t, j) + sigma * gauss(&s);
			if (eps > 0)
				v += eps * gauss(&s2);
			x->sketch[j] = (float)v;
		}
		fp->params += x->numel;
	}
	mp_fp_index(fp, &err);
	return fp;
}

static struct mp_fingerprint *make_fp(uint64_t b, double sigma, uint64_t seed)
{
	return make_fp2(b, sigma, seed, 0, 0);
}

/* The noise level of derivative d (0 for the base itself). */
static double noise_of(long d)
{
	return d == 0 ? 0 : 0.01 * pow(300.0, (double)(d - 1) / 98);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static long peak_rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static void die(const char *what, const struct mp_error *err)
{
	fprintf(stderr, "identbench: %s: %s\n", what,
		err ? err->msg : "out of memory");
	exit(1);
}

/* Top-TOPK of the full scan per unknown: ids (as numbers) and scores. */
struct top {
	long id[TOPK];
	double v[TOPK];
	int n;
};

static void top_add(struct top *t, long id, double v)
{
	if (t->n == TOPK && v <= t->v[TOPK - 1])
		return;
	int i = t->n < TOPK ? t->n++ : TOPK - 1;
	while (i > 0 && t->v[i - 1] < v) {
		t->v[i] = t->v[i - 1];
		t->id[i] = t->id[i - 1];
		i--;
	}
	t->v[i] = v;
	t->id[i] = id;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: identbench LOC N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (n < PER_BASE)
		n = PER_BASE;
	long nbase = n / PER_BASE;
	n = nbase * PER_BASE;
	struct mp_error err;
	struct mp_regdb *db;
	if (mp_regdb_open(argv[1], true, &db, &err) != MP_OK)
		die("open", &err);
	double t0 = now();
	struct mp_registry *have;
	if (mp_regdb_list(db, NULL, &have, &err) != MP_OK)
		die("list", &err);
	long start = (long)have->nmodels; /* a registry built before: reused */
	mp_registry_free(have);
	struct mp_reg_model m = {.name = "m",
				 .family = "",
				 .type = "",
				 .path = "/dev/null",
				 .format = "safetensors"};
	for (long i = start; i < n; i++) {
		long b = i / PER_BASE, d = i % PER_BASE;
		double sigma = noise_of(d);
		char *id;
		if (mp_regdb_add(db, &m, NULL, MP_REG_FORCE, &id, &err) !=
		    MP_OK)
			die("add", &err);
		struct mp_fingerprint *fp =
		    make_fp((uint64_t)b, sigma, 77 + (uint64_t)i);
		if (mp_regdb_put_fp(db, id, fp, &err) != MP_OK)
			die("put_fp", &err);
		mp_fp_free(fp);
		free(id);
	}
	printf("built %ld models (%ld bases x %d; %ld there already) in %.1f "
	       "s\n",
	       n, nbase, PER_BASE, start, now() - t0);
	/* the unknowns: NFT fine-tunes of registered models (registered
	 * derivative i plus noise 0.02), NNEW new derivatives of a base (noise
	 * in [0.01, 1], log-uniform), NUNREL unrelated */
	struct mp_fingerprint *u[NQ];
	uint64_t s = 4242;
	for (int q = 0; q < NQ; q++) {
		if (q < NFT) {
			long i = (long)(rnd(&s) % (uint64_t)n);
			u[q] = make_fp2(
			    (uint64_t)(i / PER_BASE), noise_of(i % PER_BASE),
			    77 + (uint64_t)i, 0.02, 900000 + (uint64_t)q);
		} else if (q < NFT + NNEW) {
			uint64_t b = rnd(&s) % (uint64_t)nbase;
			double sigma =
			    0.01 *
			    pow(100.0, (double)(rnd(&s) >> 11) * 0x1p-53);
			u[q] = make_fp(b, sigma, 900000 + (uint64_t)q);
		} else {
			u[q] = make_fp(UINT64_MAX - (uint64_t)q, 0,
				       900000 + (uint64_t)q);
		}
	}
	double c0 = now();
	struct mp_lsh_codes *uc;
	if (mp_lsh_codes(u[0], &uc, &err) != MP_OK)
		die("codes", &err);
	mp_lsh_codes_free(uc);
	double codes_ms = (now() - c0) * 1e3;
	/* LSH queries */
	double qt[NQ];
	struct mp_lsh_hit *hits[NQ];
	size_t nh[NQ];
	for (int q = 0; q < NQ; q++) {
		double a = now();
		if (mp_regdb_lsh_candidates(db, u[q], TOPK, &hits[q], &nh[q],
					    &err) != MP_OK)
			die("candidates", &err);
		qt[q] = now() - a;
	}
	if (getenv("IDENT_QUERIES_ONLY")) { /* profiling the queries */
		qsort(qt, NQ, sizeof *qt, cmp_double);
		printf("codes %.2f ms; median %.2f ms, max %.2f ms\n", codes_ms,
		       (qt[NQ / 2 - 1] + qt[NQ / 2]) / 2 * 1e3, qt[NQ - 1] * 1e3);
		return 0;
	}
	/* the full scan: every fingerprint loaded once, scored against all
	 * unknowns */
	const struct mp_metric *pm = mp_metric_find("tensors", "pearson");
	struct top *top = calloc(NQ, sizeof *top);
	double load = 0, score = 0;
	double *full = malloc((size_t)n * NQ * sizeof *full); /* [id-1][q] */
	/* every fingerprint kept for identify's own full scan below */
	struct mp_fingerprint **all = calloc((size_t)n, sizeof *all);
	struct mp_ident_ref *allref = calloc((size_t)n, sizeof *allref);
	char (*allid)[24] = calloc((size_t)n, sizeof *allid);
	if (!full || !all || !allref || !allid)
		die("memory", NULL);
	for (long i = 1; i <= n; i++) {
		char id[24];
		snprintf(id, sizeof id, "%ld", i);
		struct mp_fingerprint *fp;
		double a = now();
		if (mp_regdb_get_fp(db, id, "tensors", &fp, &err) != MP_OK)
			die("get_fp", &err);
		double b = now();
		for (int q = 0; q < NQ; q++) {
			struct mp_score sc = pm->score(u[q], fp);
			double v = sc.defined ? sc.value : -2;
			full[(i - 1) * NQ + q] = v;
			top_add(&top[q], i, v);
		}
		score += now() - b;
		load += b - a;
		all[i - 1] = fp;
		snprintf(allid[i - 1], sizeof allid[i - 1], "%ld", i);
		allref[i - 1] = (struct mp_ident_ref){allid[i - 1], "m", NULL,
						      fp};
	}
	/* recall@10 and top-1, per kind of unknown */
	static const char *const kind[3] = {"fine-tunes of registered models",
					    "new derivatives of a base",
					    "unrelated"};
	size_t found[3] = {0}, total[3] = {0};
	int top1[3] = {0}, top1_rescored[3] = {0}, nq[3] = {0}, unrel_low = 0;
	for (int q = 0; q < NQ; q++) {
		int c = q < NFT ? 0 : q < NFT + NNEW ? 1 : 2;
		nq[c]++;
		for (int i = 0; i < top[q].n; i++) {
			total[c]++;
			for (size_t h = 0; h < nh[q]; h++)
				if (atol(hits[q][h].id) == top[q].id[i]) {
					found[c]++;
					break;
				}
		}
		if (nh[q] && atol(hits[q][0].id) == top[q].id[0])
			top1[c]++;
		long best = -1;
		double bv = -3;
		for (size_t h = 0; h < nh[q]; h++) {
			long id = atol(hits[q][h].id);
			double v = full[(id - 1) * NQ + q];
			if (v > bv) {
				bv = v;
				best = id;
			}
		}
		if (best == top[q].id[0])
			top1_rescored[c]++;
		if (c == 2 && nh[q] && hits[q][0].similarity < 0.2)
			unrel_low++;
	}
	qsort(qt, NQ, sizeof *qt, cmp_double);
	printf("lsh query (k=%d) at %ld models: median %.1f ms, max %.1f ms "
	       "(target < 100 ms)\n",
	       TOPK, n, (qt[NQ / 2 - 1] + qt[NQ / 2]) / 2 * 1e3,
	       qt[NQ - 1] * 1e3);
	printf("codes of one unknown (%d tensors, sketch %d): %.1f ms\n", NT,
	       KS, codes_ms);
	for (int c = 0; c < 3; c++)
		printf(
		    "%s (%d): recall@10 vs the full pearson scan %.3f; top-1 "
		    "agreement %d/%d direct, %d/%d after rescoring the 10 "
		    "candidates with pearson\n",
		    kind[c], nq[c], (double)found[c] / (double)total[c],
		    top1[c], nq[c], top1_rescored[c], nq[c]);
	printf("unrelated unknowns whose best estimate is < 0.2: %d/%d\n",
	       unrel_low, NUNREL);
	printf("full scan: loading %ld fingerprints %.2f s, pearson for one "
	       "unknown %.2f s (one full-scan query ~ %.2f s)\n",
	       n, load, score / NQ, load + score / NQ);
	/* identify end to end, as `modelprint identify --against` does */
	struct mp_arch_set *arch;
	if (mp_arch_load_default(NULL, &arch, &err) != MP_OK)
		die("signatures", &err);
	double it[NQ], lt[NQ], ft = 0;
	int same_top1[3] = {0}, right_base[3] = {0}, no_parent = 0;
	int same_as_full[3] = {0}, in_cands[3] = {0};
	for (int q = 0; q < NQ; q++) {
		int c = q < NFT ? 0 : q < NFT + NNEW ? 1 : 2;
		double a = now();
		struct mp_ident_refset *set;
		struct mp_ident_result *r;
		struct mp_ident_opts o = {.arch = arch};
		if (mp_ident_refs_load(db, u[q], MP_ID_SCAN_MAX,
				       MP_ID_CANDIDATES, &set, &err) != MP_OK)
			die("refs", &err);
		lt[q] = now() - a;
		if (mp_identify(u[q], set->refs, set->n, &o, &r, &err) != MP_OK)
			die("identify", &err);
		it[q] = now() - a;
		long parent = r->match ? atol(set->refs[r->relation.parent].id)
				       : -1;
		if (parent == top[q].id[0])
			same_top1[c]++;
		if (parent > 0 && (parent - 1) / PER_BASE ==
				      (top[q].id[0] - 1) / PER_BASE)
			right_base[c]++;
		if (c == 2 && !r->match)
			no_parent++;
		/* identify over every registered model: the full scan */
		struct mp_ident_result *f;
		double fa = now();
		if (mp_identify(u[q], allref, (size_t)n, &o, &f, &err) != MP_OK)
			die("identify, full scan", &err);
		ft += now() - fa;
		long fparent = f->match ? atol(allref[f->relation.parent].id)
					: -1;
		same_as_full[c] += fparent == parent;
		for (size_t h = 0; fparent > 0 && h < set->n; h++)
			if (atol(set->refs[h].id) == fparent) {
				in_cands[c]++;
				break;
			}
		mp_ident_result_free(f);
		mp_ident_result_free(r);
		mp_ident_refset_free(set);
	}
	mp_arch_free(arch);
	qsort(it, NQ, sizeof *it, cmp_double);
	qsort(lt, NQ, sizeof *lt, cmp_double);
	printf("identify end to end (%d candidates loaded and scored) at %ld "
	       "models: median %.1f ms (of which candidates and loading "
	       "%.1f ms), max %.1f ms (target < 100 ms)\n",
	       MP_ID_CANDIDATES, n, (it[NQ / 2 - 1] + it[NQ / 2]) / 2 * 1e3,
	       (lt[NQ / 2 - 1] + lt[NQ / 2]) / 2 * 1e3, it[NQ - 1] * 1e3);
	for (int c = 0; c < 2; c++)
		printf("identify, %s: parent = the full scan's top-1 %d/%d, of "
		       "the same base %d/%d\n",
		       kind[c], same_top1[c], nq[c], right_base[c], nq[c]);
	printf("identify, unrelated: no parent %d/%d\n", no_parent, NUNREL);
	for (int c = 0; c < 3; c++)
		printf("identify through the index vs identify over all %ld "
		       "models (%.2f s each, fingerprints in memory), %s: "
		       "the same parent (or none) %d/%d, its parent among "
		       "the candidates %d/%d\n",
		       n, ft / NQ, kind[c], same_as_full[c], nq[c], in_cands[c],
		       nq[c]);
	printf("peak RSS %.0f MB (with every fingerprint in memory for "
	       "the full scans)\n",
	       (double)peak_rss_kb() / 1024);
	for (long i = 0; i < n; i++)
		mp_fp_free(all[i]);
	free(all);
	free(allref);
	free(allid);
	for (int q = 0; q < NQ; q++) {
		mp_lsh_hits_free(hits[q], nh[q]);
		mp_fp_free(u[q]);
	}
	free(top);
	free(full);
	mp_regdb_close(db);
	return 0;
}
