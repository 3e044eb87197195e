/* cmd_compare.c — `modelprint compare A B`: tensor-by-tensor comparison
 * with exact cosine and Pearson, and every model-level metric. */
#include "cli.h"
#include "escape.h"
#include "gguf_names.h"
#include "lineage.h"
#include "metric.h"
#include "model.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint compare [--summary | --json] [--threads N] A B\n"
	"       modelprint compare --merge [--json] U R1 R2 [R3 [R4]]\n"
	"\n"
	"Compare two models: first every metric of both methods (cosine and\n"
	"pearson exact, the others from fingerprints) and how many tensors the\n"
	"models share; then, for tensors with the same name and shape, whether\n"
	"their bytes are identical, their exact cosine and Pearson correlation\n"
	"and how many positions were left out as not finite; the tensors found\n"
	"in only one model and those with the same name but different shapes.\n"
	"The relation of A to B (exact copy, dtype conversion, pruning,\n"
	"quantization, permuted hidden units, fine-tune, unrelated weights,\n"
	"no tensors in common) follows the counts, with its evidence.\n"
	"\n"
	"With --merge, U as a non-negative mix of the references: the\n"
	"coefficients overall and per tensor, and the relative residual.\n"
	"\n"
	"  --merge      coefficients of U over 2 to 4 references\n"
	"  --summary    print the scores, counts and relation only\n"
	"  --json       print the comparison as JSON\n"
	"  --threads N  worker threads for fingerprinting (default: all CPUs)\n"
	"  -h, --help   this text\n";

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

static mp_json *shape_json(const struct mp_tensor *t)
{
	mp_json *arr = mp_json_array();
	for (int d = 0; d < t->ndim; d++)
		mp_json_push_num(arr, (double)t->shape[d]);
	return arr;
}

/* Tensors of a that b has under the same name with a shape that does not
 * match, as a JSON array of {name, shape_a, shape_b}; prints up to 20. */
static mp_json *shape_differs(const struct mp_model *a, const struct mp_model *b,
			      int print)
{
	mp_json *arr = mp_json_array();
	size_t n = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb || mp_gguf_shapes_pair(a, ta, b, tb, NULL))
			continue;
		mp_json *o = mp_json_object();
		mp_json_add_str(o, "name", ta->name);
		mp_json_set(o, "shape_a", shape_json(ta));
		mp_json_set(o, "shape_b", shape_json(tb));
		mp_json_push(arr, o);
		if (print && n == 0)
			printf("\nsame name, different shape:\n");
		if (print && n < 20) {
			char name[256], sa[64], sb[64];
			mp_escape_term(ta->name, name, sizeof name);
			mp_shape_text(ta->ndim, ta->shape, sa, sizeof sa);
			mp_shape_text(tb->ndim, tb->shape, sb, sizeof sb);
			printf("  %s  %s vs %s\n", name, sa, sb);
		}
		n++;
	}
	if (print && n > 20)
		printf("  ... and %zu more\n", n - 20);
	if (print)
		printf("%s%zu tensor%s with the same name and different shapes\n",
		       n ? "" : "\n", n, n == 1 ? "" : "s");
	return arr;
}

/* " (2 all zero, 1 no finite values)" for the tensors s left out, into
 * buf; "" when none. */
static const char *undef_list(const struct mp_score *s, char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = '\0';
	for (int w = MP_WHY_OK + 1; w < MP_WHY_COUNT && l < cap; w++)
		if (s->nundef[w])
			l += (size_t)snprintf(buf + l, cap - l, "%s%zu %s",
					      l ? ", " : " (", s->nundef[w],
					      mp_metric_why_text(w));
	if (l && l < cap)
		snprintf(buf + l, cap - l, ")");
	return buf;
}

/* The score into scores/METHOD/NAME, its reason into
 * reasons/METHOD/NAME when undefined, and for means over tensors the
 * counts into coverage/METHOD/NAME. */
static void put_score(mp_json *doc, const struct mp_metric *m,
		      const struct mp_score *s)
{
	static const char *const keys[] = {"scores", "reasons", "coverage"};
	mp_json *o[3];
	for (int i = 0; i < 3; i++) {
		mp_json *top = mp_json_get(doc, keys[i]);
		if (!top)
			top = mp_json_add_obj(doc, keys[i]);
		o[i] = mp_json_get(top, m->method);
		if (!o[i])
			o[i] = mp_json_add_obj(top, m->method);
	}
	if (s->defined)
		mp_json_add_num(o[0], m->name, s->value);
	else {
		mp_json_add_null(o[0], m->name);
		mp_json_add_str(o[1], m->name, s->reason);
	}
	if (s->ntensors == 0)
		return;
	mp_json *c = mp_json_add_obj(o[2], m->name);
	mp_json_add_num(c, "tensors", (double)s->ntensors);
	mp_json_add_num(c, "used",
			(double)(s->ntensors - mp_metric_score_undefined(s)));
	static const char *const why_key[MP_WHY_COUNT] = {
		"", "no_finite_values", "all_zero", "constant", "out_of_range"};
	mp_json *u = mp_json_add_obj(c, "undefined");
	for (int w = MP_WHY_OK + 1; w < MP_WHY_COUNT; w++)
		if (s->nundef[w])
			mp_json_add_num(u, why_key[w], (double)s->nundef[w]);
	mp_json_add_num(c, "nonfinite", (double)s->nonfinite);
}

static void print_score(const struct mp_metric *m, const struct mp_score *s)
{
	char ul[128];
	undef_list(s, ul, sizeof ul);
	if (!s->defined) {
		printf("%-10s %-8s undefined: %s%s\n", m->method, m->name,
		       s->reason, ul);
		return;
	}
	printf("%-10s %-8s " MP_SCORE_FMT "%s", m->method, m->name, s->value,
	       m->higher_is_more_alike ? "" : "  (divergence)");
	if (s->ntensors) {
		size_t k = mp_metric_score_undefined(s);
		printf("  over %zu of %zu tensors", s->ntensors - k, s->ntensors);
		if (k)
			printf(", %zu undefined%s", k, ul);
	}
	if (s->nonfinite)
		printf(", %llu non-finite value%s left out",
		       (unsigned long long)s->nonfinite,
		       s->nonfinite == 1 ? "" : "s");
	printf("\n");
}

/* "12 tensors in common (10 with identical bytes), 1 only in A, ..." */
static void print_counts(const struct mp_model *a, const struct mp_model *b)
{
	size_t common = 0, differ = 0, only_b = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *tb = mp_model_find(b, a->tensors[i].name);
		if (tb && mp_gguf_shapes_pair(a, &a->tensors[i], b, tb, NULL))
			common++;
		else if (tb)
			differ++;
	}
	for (size_t i = 0; i < b->ntensors; i++)
		if (!mp_model_find(a, b->tensors[i].name))
			only_b++;
	printf("\n%zu tensor%s with the same name and shape, %zu only in A, "
	       "%zu only in B, %zu with the same name and different shapes\n",
	       common, common == 1 ? "" : "s", a->ntensors - common - differ,
	       only_b, differ);
}

/* A tensor's type as the file stores it: the ggml block type of a
 * quantized GGUF tensor (its logical type is that of the decoded values,
 * F32), else the logical dtype. */
static const char *type_name(const struct mp_tensor *t)
{
	return t->ggml ? t->ggml->name : mp_dtype_name(t->logical);
}

/* A per-tensor score for the table: the value or why it is undefined. */
static void tensor_score(double v, enum mp_metric_why why, char *buf,
			 size_t cap)
{
	static const char *const short_why[MP_WHY_COUNT] = {
		"", "nonfinite", "all zero", "constant", "overflow"};
	if (why == MP_WHY_OK)
		snprintf(buf, cap, MP_SCORE_FMT, v);
	else
		snprintf(buf, cap, "%s", short_why[why]);
}

static void put_tensor_score(mp_json *o, const char *key, double v,
			     enum mp_metric_why why)
{
	char k[32];
	if (why == MP_WHY_OK) {
		mp_json_add_num(o, key, v);
		return;
	}
	mp_json_add_null(o, key);
	snprintf(k, sizeof k, "%s_undefined", key);
	mp_json_add_str(o, k, mp_metric_why_text(why));
}

/* JSON spelling of a relation kind. */
static const char *kind_key(enum mp_lineage_kind k)
{
	static const char *const v[] = {"copy",	     "dtype",	 "prune",
					"quant",     "permuted", "finetune",
					"unrelated", "unclear",	 "none"};
	return v[k];
}

/* The quantization members of doc.relation. */
static void put_quant(mp_json *o, const struct mp_lineage *l)
{
	mp_json_add_bool(o, "reversed", l->reversed);
	mp_json_add_str(o, "grid", mp_quant_grid_name(l->grid));
	mp_json_add_num(o, "bits", l->qbits);
	mp_json_add_num(o, "block", (double)l->qblock);
	mp_json_add_num(o, "on_grid", (double)l->on_grid);
	mp_json_add_num(o, "max_error_steps", l->max_steps);
	mp_json *g = mp_json_add_arr(o, "grids");
	for (int i = 0; i < MP_QGRID_N; i++)
		if (l->on_grid_by[i]) {
			mp_json *x = mp_json_object();
			mp_json_add_str(x, "grid", mp_quant_grid_name(i));
			mp_json_add_num(x, "tensors", (double)l->on_grid_by[i]);
			mp_json_push(g, x);
		}
}

/* The permutation members of doc.relation. */
static void put_perm(mp_json *o, const struct mp_lineage *l)
{
	mp_json_add_num(o, "permuted", (double)l->permuted);
	mp_json_add_num(o, "permutations", l->nperm_all);
	mp_json *a = mp_json_add_arr(o, "layers");
	for (int j = 0; j < l->nperm; j++) {
		const struct mp_lineage_perm *p = &l->perm[j];
		mp_json *x = mp_json_object();
		mp_json_add_num(x, "units", (double)p->units);
		mp_json_add_num(x, "moved", (double)p->moved);
		mp_json *t = mp_json_add_arr(x, "tensors");
		for (size_t i = 0; i < p->ntensors && i < MP_LIN_PERM_TENSORS;
		     i++) {
			mp_json *e = mp_json_object();
			mp_json_add_str(e, "name", p->tensor[i]);
			mp_json_add_num(e, "axis", p->axis[i]);
			mp_json_push(t, e);
		}
		mp_json_add_num(x, "ntensors", (double)p->ntensors);
		mp_json *f = mp_json_add_arr(x, "first");
		for (uint64_t i = 0; i < p->units && i < MP_LIN_PERM_SHOW; i++)
			mp_json_push_num(f, (double)p->first[i]);
		mp_json_push(a, x);
	}
}

/* The relation of a to b: "relation:" and its evidence, or
 * doc.relation. */
static mp_status relation(const struct mp_model *a, const struct mp_model *b,
			  mp_json *doc, int json, struct mp_error *err)
{
	struct mp_lineage l;
	mp_status st = mp_lineage_pair(a, b, &l, err);
	if (st != MP_OK)
		return st;
	mp_json *o = mp_json_add_obj(doc, "relation");
	mp_json_add_str(o, "kind", kind_key(l.kind));
	mp_json_add_str(o, "text", mp_lineage_kind_name(l.kind));
	mp_json_add_str(o, "confidence", l.confidence);
	mp_json_add_str(o, "evidence", l.evidence);
	mp_json_add_num(o, "matched", (double)l.matched);
	mp_json_add_num(o, "identical", (double)l.identical);
	char what[512] = "";
	if (l.kind == MP_LIN_DTYPE) {
		mp_json_add_str(o, "from", mp_dtype_name(l.from));
		mp_json_add_str(o, "to", mp_dtype_name(l.to));
		snprintf(what, sizeof what, " of B, %s to %s",
			 mp_dtype_name(l.from), mp_dtype_name(l.to));
	} else if (l.kind == MP_LIN_PRUNE) {
		mp_json_add_num(o, "sparsity_added", l.sparsity_added);
		mp_json_add_num(o, "zeroed", (double)l.zeroed);
		mp_json_add_str(o, "structure",
				mp_prune_shape_name(l.structure));
		mp_json_add_bool(o, "reversed", l.reversed);
		snprintf(what, sizeof what, " of %s, %.1f %% sparsity added, %s",
			 l.reversed ? "A (B is the pruned model)" : "B",
			 100 * l.sparsity_added,
			 mp_prune_shape_name(l.structure));
	} else if (l.kind == MP_LIN_QUANT && l.ggml.on) {
		char mix[400];
		mp_lineage_ggml_text(&l.ggml, mix, sizeof mix);
		snprintf(what, sizeof what, " of %s, %s, error %.3g x expected",
			 l.reversed ? "A (B is the quantized model)" : "B",
			 mix, l.ggml.ratio);
	} else if (l.kind == MP_LIN_QUANT) {
		put_quant(o, &l);
		snprintf(what, sizeof what, " of %s, %s on %zu of %zu tensors",
			 l.reversed ? "A (B is the quantized model)" : "B",
			 mp_quant_grid_name(l.grid), l.on_grid, l.matched);
	} else if (l.kind == MP_LIN_PERMUTED) {
		put_perm(o, &l);
		snprintf(what, sizeof what,
			 " of B, %d permutation%s on %zu tensors", l.nperm_all,
			 l.nperm_all == 1 ? "" : "s", l.permuted);
	} else if (l.kind == MP_LIN_COPY || l.kind == MP_LIN_FINETUNE)
		snprintf(what, sizeof what, " of B");
	if (l.ggml.on)
		mp_lineage_ggml_json(o, &l.ggml, l.reversed);
	if (l.worst) {
		mp_json_add_num(o, "min_pearson", l.min_pearson);
		mp_json_add_str(o, "worst", l.worst);
	}
	mp_json_add_num(o, "mean_abs_pearson", l.mean_abs_pearson);
	mp_json *mv = mp_json_add_arr(o, "moved_most");
	for (int i = 0; i < l.nmoved; i++) {
		mp_json *t = mp_json_object();
		mp_json_add_str(t, "name", l.moved[i].name);
		mp_json_add_num(t, "one_minus_cosine", l.moved[i].change);
		mp_json_add_num(t, "relative_l2", l.moved[i].rel_l2);
		mp_json_add_num(t, "pearson", l.moved[i].pearson);
		mp_json_push(mv, t);
	}
	if (json)
		return MP_OK;
	printf("\nrelation: %s%s (%s confidence)\n",
	       mp_lineage_kind_name(l.kind), what, l.confidence);
	printf("  evidence: %s\n", l.evidence);
	bool moved = l.kind == MP_LIN_FINETUNE || l.kind == MP_LIN_UNCLEAR;
	for (int i = 0; moved && i < l.nmoved; i++)
		printf("  moved %s: 1 - cosine " MP_SCORE_FMT
		       ", relative L2 change " MP_SCORE_FMT "\n",
		       cli_esc(l.moved[i].name), l.moved[i].change,
		       l.moved[i].rel_l2);
	return MP_OK;
}

/* `compare --merge U R1 .. Rk`: the coefficients and residuals. */
static int merge(char **paths, int n, int json)
{
	struct mp_error err;
	struct mp_model *m[1 + MP_MERGE_MAX] = {NULL};
	int rc = CLI_EXIT_FAIL;
	for (int i = 0; i < n; i++)
		if (mp_model_open(paths[i], &m[i], &err) != MP_OK) {
			cli_fail(&err);
			goto out;
		}
	struct mp_merge mg;
	if (mp_lineage_merge(m[0], (const struct mp_model *const *)m + 1,
			     n - 1, &mg, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	mp_json *doc = mp_json_object();
	mp_json_add_str(doc, "unknown", paths[0]);
	mp_json *refs = mp_json_add_arr(doc, "references");
	mp_json *co = mp_json_add_arr(doc, "coefficients");
	for (int i = 0; i < mg.k; i++) {
		mp_json_push_str(refs, paths[i + 1]);
		mp_json_push_num(co, mg.coef[i]);
	}
	mp_json_add_num(doc, "sum", mg.sum);
	mp_json_add_num(doc, "residual", mg.residual);
	mp_json_add_bool(doc, "linear", mg.linear);
	mp_json_add_num(doc, "skipped", (double)mg.skipped);
	mp_json *jt = mp_json_add_arr(doc, "tensors");
	for (size_t t = 0; t < mg.ntensors; t++) {
		mp_json *o = mp_json_object(), *c;
		mp_json_add_str(o, "name", mg.tensors[t].name);
		c = mp_json_add_arr(o, "coefficients");
		for (int i = 0; i < mg.k; i++)
			mp_json_push_num(c, mg.tensors[t].coef[i]);
		mp_json_add_num(o, "residual", mg.tensors[t].residual);
		mp_json_push(jt, o);
	}
	if (json)
		cli_print_json(doc);
	else {
		printf("merge of %zu tensors (%zu skipped: not floating or not in "
		       "every reference)\n",
		       mg.ntensors, mg.skipped);
		for (int i = 0; i < mg.k; i++)
			printf("R%d %-12.6f %s\n", i + 1, mg.coef[i],
			       cli_esc(paths[i + 1]));
		printf("sum " MP_SCORE_FMT ", relative residual " MP_SCORE_FMT
		       "%s\n",
		       mg.sum, mg.residual,
		       mg.linear ? ": linear merge (coefficients sum to 1)" : "");
		printf("\n%-48s", "TENSOR");
		for (int i = 0; i < mg.k; i++)
			printf(" %9s%d", "R", i + 1);
		printf(" %10s\n", "RESIDUAL");
		for (size_t t = 0; t < mg.ntensors; t++) {
			printf("%s", cli_cell(mg.tensors[t].name, 48, CLI_TAIL));
			for (int i = 0; i < mg.k; i++)
				printf(" %10.6f", mg.tensors[t].coef[i]);
			printf(" %10.6f\n", mg.tensors[t].residual);
		}
	}
	mp_json_free(doc);
	mp_merge_free(&mg);
	rc = CLI_EXIT_OK;
out:
	for (int i = 0; i < n; i++)
		mp_model_free(m[i]);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"summary", no_argument, NULL, 's'},
		{"merge", no_argument, NULL, 'm'},
		{"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int json = 0, summary = 0, merge_mode = 0, c;
	long threads = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 's')
			summary = 1;
		else if (c == 'm')
			merge_mode = 1;
		else if (c == 't') {
			if (!cli_parse_int(optarg, 0, 1024, &threads))
				return cli_usage_error("compare",
						       "--threads needs 0..1024");
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else
			return cli_bad_option("compare", argv, opts);
	}
	if (merge_mode) {
		if (summary)
			return cli_usage_error("compare", "--merge and --summary "
							  "exclude each other");
		if (argc - optind < 3 || argc - optind > 1 + MP_MERGE_MAX)
			return cli_usage_error("compare", "--merge needs a model "
							  "and 2 to %d references",
					       MP_MERGE_MAX);
		return merge(argv + optind, argc - optind, json);
	}
	if (argc - optind != 2)
		return cli_usage_error("compare", "needs exactly two models");
	if (summary && json)
		return cli_usage_error("compare", "--summary and --json exclude "
						  "each other");
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
	if (!json)
		printf("%-10s %-8s %s\n", "METHOD", "METRIC", "SCORE");
	size_t nm;
	const struct mp_metric *ms = mp_metric_all(&nm);
	for (size_t i = 0; i < nm; i++) {
		/* the metrics of the two methods computed here only */
		int m = strcmp(ms[i].method, methods[0]) ? 1 : 0;
		if (m && strcmp(ms[i].method, methods[1]))
			continue;
		struct mp_score s;
		if (m == 0 && !strcmp(ms[i].name, "cosine"))
			s = ecos;
		else if (m == 0 && !strcmp(ms[i].name, "pearson"))
			s = epea;
		else
			s = ms[i].score(fa[m], fb[m]);
		put_score(doc, &ms[i], &s);
		if (!json)
			print_score(&ms[i], &s);
	}
	if (!json)
		print_counts(a, b);
	if (relation(a, b, doc, json, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (summary && !json)
		goto done;
	mp_json *jt = mp_json_add_arr(doc, "tensors");
	if (!json)
		printf("\n%-48s %-16s %-7s %-7s %-9s %9s %9s %9s\n", "TENSOR",
		       "SHAPE", "A", "B", "IDENTICAL", "COSINE", "PEARSON",
		       "NONFINITE");
	size_t k = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb || !mp_gguf_shapes_pair(a, ta, b, tb, NULL))
			continue;
		const struct mp_exact_pair *p =
			k < np && pairs[k].name == ta->name ? &pairs[k++] : NULL;
		char shape[64];
		mp_shape_text(ta->ndim, ta->shape, shape, sizeof shape);
		const struct mp_tensor_fp *fa_t = mp_fp_find(fa[0], ta->name);
		const struct mp_tensor_fp *fb_t = mp_fp_find(fb[0], ta->name);
		bool same = fa_t && fb_t && !strcmp(fa_t->sha256, fb_t->sha256);
		mp_json *o = mp_json_object();
		mp_json_add_str(o, "name", ta->name);
		mp_json_add_str(o, "dtype_a", type_name(ta));
		mp_json_add_str(o, "dtype_b", type_name(tb));
		mp_json_add_bool(o, "identical_bytes", same);
		if (p) {
			put_tensor_score(o, "cosine", p->r.cosine, p->r.cos_why);
			put_tensor_score(o, "pearson", p->r.pearson,
					 p->r.pear_why);
			mp_json_add_num(o, "nonfinite", (double)p->r.skipped);
			if (p->unpermuted_heads) {
				mp_json_add_num(o, "unpermuted_heads",
						(double)p->unpermuted_heads);
				mp_json_add_bool(o, "heads_inferred",
						 p->heads_inferred);
			}
			if (p->transposed)
				mp_json_add_bool(o, "transposed", true);
		}
		mp_json_push(jt, o);
		if (json)
			continue;
		char cs[16] = "-", ps[16] = "-", nf[24] = "-";
		if (p) {
			tensor_score(p->r.cosine, p->r.cos_why, cs, sizeof cs);
			tensor_score(p->r.pearson, p->r.pear_why, ps, sizeof ps);
			snprintf(nf, sizeof nf, "%llu",
				 (unsigned long long)p->r.skipped);
		}
		printf("%s %s %-7s %-7s %-9s %9s %9s %9s\n",
		       cli_cell(ta->name, 48, CLI_TAIL),
		       cli_cell(shape, 16, CLI_TAIL), type_name(ta),
		       type_name(tb),
		       same ? "yes" : "no", cs, ps, nf);
		if (p && p->unpermuted_heads)
			printf("  %s: llama.cpp's Q/K row permutation undone "
			       "(%llu heads, %s)\n",
			       cli_esc(ta->name),
			       (unsigned long long)p->unpermuted_heads,
			       p->heads_inferred ? "inferred: the count of "
						   "highest cosine"
						 : "from the metadata or config.json");
		if (p && p->transposed)
			printf("  %s: stored transposed by llama.cpp's "
			       "converter, compared with B's %s\n",
			       cli_esc(ta->name), cli_esc(tb->name));
	}
	mp_json_set(doc, "only_in_a", only_in(a, b, pa, !json));
	mp_json_set(doc, "only_in_b", only_in(b, a, pb, !json));
	mp_json_set(doc, "shape_differs", shape_differs(a, b, !json));
done:
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
