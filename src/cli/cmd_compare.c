/* cmd_compare.c — `modelprint compare A B`: tensor-by-tensor comparison
 * with exact cosine and Pearson, and every model-level metric. */
#include "cli.h"
#include "metric.h"
#include "model.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint compare [--json] [--threads N] A B\n"
	"\n"
	"Compare two models: for tensors with the same name and shape, whether\n"
	"their bytes are identical and their exact cosine and Pearson\n"
	"correlation; the tensors found in only one model; then every metric of\n"
	"both methods (cosine and pearson exact, the others from fingerprints).\n"
	"\n"
	"  --json       print the comparison as JSON\n"
	"  --threads N  worker threads for fingerprinting (default: all CPUs)\n"
	"  -h, --help   this text\n";

static void shape_str(const struct mp_tensor *t, char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = '\0';
	for (int d = 0; d < t->ndim && l < cap; d++)
		l += (size_t)snprintf(buf + l, cap - l, "%s%llu", d ? "x" : "",
				      (unsigned long long)t->shape[d]);
	if (t->ndim == 0)
		snprintf(buf, cap, "scalar");
}

/* Names of a's tensors missing in b, as a JSON array; prints up to 20. */
static mp_json *only_in(const struct mp_model *a, const struct mp_model *b,
			const char *label, int print)
{
	mp_json *arr = mp_json_array();
	size_t n = 0;
	for (size_t i = 0; i < a->ntensors; i++)
		if (!mp_model_find(b, a->tensors[i].name)) {
			mp_json_push_str(arr, a->tensors[i].name);
			n++;
		}
	if (print) {
		printf("\nonly in %s: %zu tensor%s\n", cli_esc(label), n,
		       n == 1 ? "" : "s");
		for (size_t i = 0; i < n && i < 20; i++)
			printf("  %s\n",
			       cli_esc(mp_json_str(mp_json_at(arr, i))));
		if (n > 20)
			printf("  ... and %zu more\n", n - 20);
	}
	return arr;
}

static void put_score(mp_json *o, const char *key, struct mp_score s)
{
	if (s.defined)
		mp_json_add_num(o, key, s.value);
	else
		mp_json_add_null(o, key);
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int json = 0, c;
	long threads = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 't') {
			if (!cli_parse_int(optarg, 0, 1024, &threads))
				return cli_usage_error("compare",
						       "--threads needs 0..1024");
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else
			return cli_bad_option("compare", argv);
	}
	if (argc - optind != 2)
		return cli_usage_error("compare", "needs exactly two models");
	const char *pa = argv[optind], *pb = argv[optind + 1];
	struct mp_error err;
	struct mp_model *a = NULL, *b = NULL;
	if (mp_model_open(pa, &a, &err) != MP_OK)
		return cli_fail(&err);
	if (mp_model_open(pb, &b, &err) != MP_OK) {
		mp_model_free(a);
		return cli_fail(&err);
	}
	int rc = CLI_EXIT_FAIL;
	struct mp_fingerprint *fa[2] = {NULL, NULL}, *fb[2] = {NULL, NULL};
	static const char *const methods[2] = {"tensors", "spectral"};
	struct mp_exact_pair *pairs = NULL;
	size_t np = 0;
	struct mp_score ecos, epea;
	mp_json *doc = NULL;
	for (int m = 0; m < 2; m++) {
		struct cli_progress pr;
		mp_status st = mp_fp_compute(a, methods[m], NULL, (int)threads,
					     cli_progress_start(&pr, pa), &fa[m], &err);
		cli_progress_end(&pr);
		if (st == MP_OK) {
			st = mp_fp_compute(b, methods[m], NULL, (int)threads,
					   cli_progress_start(&pr, pb), &fb[m], &err);
			cli_progress_end(&pr);
		}
		if (st != MP_OK) {
			cli_fail(&err);
			goto out;
		}
	}
	if (mp_metric_exact(a, b, &pairs, &np, &ecos, &epea, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	doc = mp_json_object();
	mp_json_add_str(doc, "a", pa);
	mp_json_add_str(doc, "b", pb);
	mp_json *jt = mp_json_add_arr(doc, "tensors");
	if (!json)
		printf("%-48s %-16s %-5s %-5s %-9s %9s %9s\n", "TENSOR", "SHAPE",
		       "A", "B", "IDENTICAL", "COSINE", "PEARSON");
	size_t k = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb || tb->ndim != ta->ndim ||
		    memcmp(tb->shape, ta->shape, sizeof ta->shape[0] * (size_t)ta->ndim))
			continue;
		const struct mp_exact_pair *p =
			k < np && pairs[k].name == ta->name ? &pairs[k++] : NULL;
		char shape[64];
		shape_str(ta, shape, sizeof shape);
		const struct mp_tensor_fp *fa_t = mp_fp_find(fa[0], ta->name);
		const struct mp_tensor_fp *fb_t = mp_fp_find(fb[0], ta->name);
		bool same = fa_t && fb_t && !strcmp(fa_t->sha256, fb_t->sha256);
		mp_json *o = mp_json_object();
		mp_json_add_str(o, "name", ta->name);
		mp_json_add_str(o, "dtype_a", mp_dtype_name(ta->logical));
		mp_json_add_str(o, "dtype_b", mp_dtype_name(tb->logical));
		mp_json_add_bool(o, "identical_bytes", same);
		if (p) {
			mp_json_add_num(o, "cosine", p->cosine);
			mp_json_add_num(o, "pearson", p->pearson);
		}
		mp_json_push(jt, o);
		if (json)
			continue;
		char cs[16] = "-", ps[16] = "-";
		if (p) {
			snprintf(cs, sizeof cs, "%.6f", p->cosine);
			snprintf(ps, sizeof ps, "%.6f", p->pearson);
		}
		printf("%s %s %-5s %-5s %-9s %9s %9s\n",
		       cli_cell(ta->name, 48, CLI_TAIL),
		       cli_cell(shape, 16, CLI_TAIL),
		       mp_dtype_name(ta->logical), mp_dtype_name(tb->logical),
		       same ? "yes" : "no", cs, ps);
	}
	mp_json_set(doc, "only_in_a", only_in(a, b, pa, !json));
	mp_json_set(doc, "only_in_b", only_in(b, a, pb, !json));
	mp_json *sc = mp_json_add_obj(doc, "scores");
	if (!json)
		printf("\n%-10s %-8s %s\n", "METHOD", "METRIC", "SCORE");
	size_t nm;
	const struct mp_metric *ms = mp_metric_all(&nm);
	for (size_t i = 0; i < nm; i++) {
		int m = strcmp(ms[i].method, "tensors") ? 1 : 0;
		struct mp_score s;
		if (m == 0 && !strcmp(ms[i].name, "cosine"))
			s = ecos;
		else if (m == 0 && !strcmp(ms[i].name, "pearson"))
			s = epea;
		else
			s = ms[i].score(fa[m], fb[m]);
		mp_json *meth = mp_json_get(sc, ms[i].method);
		if (!meth)
			meth = mp_json_add_obj(sc, ms[i].method);
		put_score(meth, ms[i].name, s);
		if (json)
			continue;
		if (s.defined)
			printf("%-10s %-8s %.6f%s\n", ms[i].method, ms[i].name,
			       s.value,
			       ms[i].higher_is_more_alike ? "" : "  (divergence)");
		else
			printf("%-10s %-8s undefined: %s\n", ms[i].method,
			       ms[i].name, s.reason);
	}
	if (json)
		cli_print_json(doc);
	rc = CLI_EXIT_OK;
out:
	mp_json_free(doc);
	free(pairs);
	for (int m = 0; m < 2; m++) {
		mp_fp_free(fa[m]);
		mp_fp_free(fb[m]);
	}
	mp_model_free(a);
	mp_model_free(b);
	return rc;
}
