/* regbench.c — the registry at scale: regbench LOC TMPDIR N writes N
 * one-tensor safetensors files into TMPDIR (each removed once it is
 * fingerprinted), and for each fingerprints it (method "tensors"), adds it
 * to the registry at LOC (family "famK", K = i % 100) and stores the
 * fingerprint. Prints the time per add (mp_regdb_add + mp_regdb_put_fp,
 * median of the 200 adds up to the 1,000th and up to the N-th model) and
 * their ratio, the time of mp_regdb_list with a family filter and of one
 * mp_regdb_get_fp (best of 5), and the peak RSS. */
#include "registry.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { WINDOW = 200, FAMILIES = 100, REPEAT = 5 };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of the WINDOW values ending at t[end - 1] (fewer at the start). */
static double median_window(const double *t, size_t end)
{
	size_t start = end > WINDOW ? end - WINDOW : 0, n = end - start;
	double w[WINDOW];
	memcpy(w, t + start, n * sizeof *w);
	qsort(w, n, sizeof *w, cmp_double);
	return n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
}

/* A safetensors file of one F32 tensor "w" of shape [4] whose values
 * depend on i (so that no two files have the same SHA-256). */
static int write_model(const char *path, uint64_t i)
{
	static const char hdr[] =
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
	char h[64];
	size_t hl = sizeof hdr - 1, padded = (hl + 7) / 8 * 8;
	memset(h, ' ', padded);
	memcpy(h, hdr, hl);
	uint8_t len[8];
	for (int k = 0; k < 8; k++)
		len[k] = (uint8_t)((uint64_t)padded >> (8 * k));
	float v[4] = {(float)i, (float)(i % 977) * 0.5f, 1.0f / (float)(i + 1),
		      -(float)(i % 31)};
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(len, 8, 1, f) == 1 && fwrite(h, padded, 1, f) == 1 &&
		 fwrite(v, sizeof v, 1, f) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Fingerprint the file at path and add it to db with its fingerprint;
 * *secs gets the time of the add and the store. */
static mp_status add_one(struct mp_regdb *db, const char *path, size_t i,
			 char **id, double *secs, struct mp_error *err)
{
	struct mp_model *m = NULL;
	struct mp_fingerprint *fp = NULL;
	mp_status st = mp_model_open(path, &m, err);
	if (st == MP_OK)
		st = mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, err);
	if (st != MP_OK)
		goto out;
	char name[32], family[16];
	snprintf(name, sizeof name, "model-%zu", i);
	snprintf(family, sizeof family, "fam%zu", i % FAMILIES);
	char *files[1] = {fp->files[0].path}, *sha[1] = {fp->files[0].sha256};
	uint64_t sizes[1] = {fp->files[0].size};
	struct mp_reg_model rm = {.name = name,
				  .family = family,
				  .type = "",
				  .path = (char *)path,
				  .format = (char *)m->format,
				  .nfiles = 1,
				  .files = files,
				  .sha256 = sha,
				  .sizes = sizes};
	double t0 = now();
	st = mp_regdb_add(db, &rm, NULL, 0, id, err);
	if (st == MP_OK)
		st = mp_regdb_put_fp(db, *id, fp, err);
	*secs = now() - t0;
out:
	mp_fp_free(fp);
	mp_model_free(m);
	return st;
}

int main(int argc, char **argv)
{
	if (argc != 4 || atol(argv[3]) < 1) {
		fprintf(stderr, "usage: regbench LOC TMPDIR N\n");
		return 2;
	}
	const char *loc = argv[1], *dir = argv[2];
	size_t n = (size_t)atol(argv[3]);
	struct mp_error err = {{0}};
	struct mp_regdb *db = NULL;
	double *t = calloc(n, sizeof *t);
	char *probe_id = NULL;
	int rc = 1;
	if (!t || mp_regdb_open(loc, true, &db, &err) != MP_OK)
		goto out;
	double start = now();
	for (size_t i = 0; i < n; i++) {
		char path[4096], *id = NULL;
		snprintf(path, sizeof path, "%s/m%zu.safetensors", dir, i);
		if (write_model(path, i) != 0) {
			mp_error_set(&err, MP_EIO, "cannot write %s", path);
			goto out;
		}
		mp_status st = add_one(db, path, i, &id, &t[i], &err);
		unlink(path);
		if (st != MP_OK)
			goto out;
		if (i == n / 2) {
			free(probe_id);
			probe_id = id;
		} else {
			free(id);
		}
		if ((i + 1) % 10000 == 0)
			fprintf(stderr, "regbench: %zu models, %.0f s\n", i + 1,
				now() - start);
	}
	size_t early = n < 1000 ? n : 1000;
	double a = median_window(t, early), b = median_window(t, n);
	printf("add + put_fp at model %zu: %8.3f ms (median of %d)\n", early,
	       a * 1e3, WINDOW);
	printf("add + put_fp at model %zu: %8.3f ms (median of %d)  ratio %.2f "
	       "(target <= 2)  %s\n",
	       n, b * 1e3, WINDOW, b / a, b <= 2 * a ? "ok" : "OVER TARGET");
	printf("all %zu adds: %.1f s\n", n, now() - start);
	double best_list = 1e30, best_get = 1e30;
	size_t kept = 0;
	struct mp_reg_filter f = {.family = "fam7"};
	for (int r = 0; r < REPEAT; r++) {
		struct mp_registry *reg = NULL;
		double t0 = now();
		if (mp_regdb_list(db, &f, &reg, &err) != MP_OK)
			goto out;
		double d = now() - t0;
		kept = reg->nmodels;
		mp_registry_free(reg);
		if (d < best_list)
			best_list = d;
		struct mp_fingerprint *fp = NULL;
		t0 = now();
		if (mp_regdb_get_fp(db, probe_id, "tensors", &fp, &err) !=
		    MP_OK)
			goto out;
		d = now() - t0;
		mp_fp_free(fp);
		if (d < best_get)
			best_get = d;
	}
	printf("mp_regdb_list --family fam7 (%zu models): %8.3f ms (target <= "
	       "50)  "
	       "%s\n",
	       kept, best_list * 1e3, best_list <= 0.05 ? "ok" : "OVER TARGET");
	printf(
	    "mp_regdb_get_fp %s tensors:            %8.3f ms (target <= 50)  "
	    "%s\n",
	    probe_id, best_get * 1e3, best_get <= 0.05 ? "ok" : "OVER TARGET");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "regbench: %s\n", err.msg);
	free(probe_id);
	free(t);
	mp_regdb_close(db);
	return rc;
}
