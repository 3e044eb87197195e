/* cmd_sweep.c — `modelprint sweep`: the three similarity matrices of a
 * sweep of bilinear models (issue 12, seed 001), their correlations,
 * summaries and neighbourhood agreement; `modelprint sweep synth` writes
 * an analytic sweep. */
#include "cli.h"
#include "correlate.h"
#include "report_sweep.h"
#include "simmatrix.h"
#include "sweep.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint sweep MANIFEST [--n-evecs N] [--layers LR,PROJ]\n"
	"                        [--output-dir DIR] [--json]\n"
	"       modelprint sweep synth --p P --dims LIST [--noise S]\n"
	"                        [--seed N] --out DIR\n"
	"\n"
	"Compares the models of a sweep of two-layer bilinear models on\n"
	"modular addition (one per width d): TN similarity (weight space),\n"
	"logit cosine similarity (output space) and the JS divergence of\n"
	"their frequency distributions, each model's validation accuracy,\n"
	"the Pearson and Spearman correlation of every two metrics (JS\n"
	"negated), summaries and k-nearest-neighbour agreement.\n"
	"\n"
	"  MANIFEST          sweep manifest, or a sweep file (torch.save or\n"
	"                    pickle.dump of a dict; modelprint-files(5))\n"
	"  --n-evecs N       eigenvectors per class for the frequency\n"
	"                    distributions (default 4)\n"
	"  --layers LR,PROJ  tensor names of the bilinear and projection\n"
	"                    layers (default bi_linear.weight,\n"
	"                    projection.weight)\n"
	"  --output-dir DIR  write similarity_matrices.json, model_info.json\n"
	"                    and sweep.json (for analyze, correlate, tui)\n"
	"                    and the page sweep.html\n"
	"  --json            print the JSON form instead of the tables\n"
	"  -h, --help        this text\n"
	"\n"
	"synth: analytic models of widths LIST (1..P, 4,8,16 or 2..12)\n"
	"  --p P             the modulus (2 to 1024)\n"
	"  --dims LIST       widths: comma-separated numbers or ranges A..B\n"
	"  --noise S         standard deviation of Gaussian noise (default 0)\n"
	"  --seed N          seed of the frequencies and the noise (default 1)\n"
	"  --out DIR         directory for the files and manifest.json\n";

#define NMET 3
static const char *const met_name[NMET] = {"tn", "logit_cosine", "freq_js"};
static const char *const met_label[NMET] = {"TN", "logit", "JS"};
static const size_t knn_k[] = {1, 3, 5, 10};
#define NK (sizeof knn_k / sizeof knn_k[0])

struct sweep_opts {
	const char *manifest, *outdir;
	char *lr, *proj; /* from --layers */
	long n_evecs;
	bool json;
};

static int parse(int argc, char **argv, struct sweep_opts *o)
{
	static const struct option opts[] = {
		{"n-evecs", required_argument, NULL, 'n'},
		{"layers", required_argument, NULL, 'l'},
		{"output-dir", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;
	const char *layers = NULL;
	o->n_evecs = 4;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!cli_parse_int(optarg, 1, 1 << 20, &o->n_evecs))
				return cli_usage_error("sweep", "--n-evecs wants "
								"a whole number "
								"from 1");
			break;
		case 'l': layers = optarg; break;
		case 'o': o->outdir = optarg; break;
		case 'j': o->json = true; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return cli_bad_option("sweep", argv, opts);
		}
	}
	if (optind >= argc)
		return cli_usage_error("sweep", "a sweep MANIFEST is required");
	o->manifest = argv[optind++];
	if (optind < argc)
		return cli_usage_error("sweep", "unexpected argument '%s'",
				       argv[optind]);
	if (layers) {
		const char *comma = strchr(layers, ',');
		if (!comma || comma == layers || !comma[1] ||
		    strchr(comma + 1, ','))
			return cli_usage_error("sweep", "--layers wants LR,PROJ: "
							"two tensor names");
		o->lr = strndup(layers, (size_t)(comma - layers));
		o->proj = mp_strdup(comma + 1);
		if (!o->lr || !o->proj)
			return cli_usage_error("sweep", "out of memory");
	}
	return 0;
}

/* The accuracy band of a model (its "type"). */
static const char *band(double acc)
{
	return acc >= 1.0 ? "perfect" : acc >= 0.9 ? "high" : acc >= 0.5 ? "mid"
							      : "low";
}

/* The three result matrices as simmatrices with ids "d=D". */
static mp_status make_matrices(const struct mp_sweep *s,
			       const struct mp_sweep_result *r,
			       struct mp_simmatrix **ms, struct mp_error *err)
{
	const double *v[NMET] = {r->tn, r->logit, r->js};
	size_t n = s->n;
	for (int t = 0; t < NMET; t++) {
		struct mp_simmatrix *m = mp_simmatrix_new("sweep", met_name[t], n);
		if (!m)
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		ms[t] = m;
		m->higher_is_more_alike = t != 2;
		m->estimate = MP_ESTIMATE_EXACT;
		for (size_t i = 0; i < n; i++) {
			char id[32];
			snprintf(id, sizeof id, "d=%u", s->m[i].d);
			if (!(m->ids[i] = mp_strdup(id)))
				return mp_error_set(err, MP_ENOMEM,
						    "out of memory");
		}
		for (size_t q = 0; q < n * n; q++) {
			m->value[q] = v[t][q];
			m->reason[q] = !isnan(v[t][q]) ? NULL
				       : t == 0 ? "a model's weights give a zero tensor"
						: "a class has an all-zero frequency "
						  "distribution";
		}
	}
	return MP_OK;
}

struct kv {
	double v;
	size_t i;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks (1-based, ties averaged) of kv[0..m).v into out[kv.i];
 * kv is sorted. */
static void ranks(struct kv *kv, size_t m, double *out)
{
	qsort(kv, m, sizeof *kv, kv_cmp);
	for (size_t i = 0; i < m;) {
		size_t j = i;
		while (j + 1 < m && kv[j + 1].v == kv[i].v)
			j++;
		for (size_t q = i; q <= j; q++)
			out[kv[q].i] = 0.5 * (double)(i + j) + 1;
		i = j + 1;
	}
}

/* Copies of ms whose upper-triangle values are their ranks among the
 * pairs where every metric is defined (mirrored; null elsewhere), for
 * Spearman's rho through mp_correlate. False when memory runs out. */
static bool rank_matrices(struct mp_simmatrix *const *ms,
			  struct mp_simmatrix **rk)
{
	size_t n = ms[0]->n, m = n * n;
	struct kv *kv = malloc(m * sizeof *kv);
	double *r = malloc(m * sizeof *r);
	bool ok = kv && r;
	for (int t = 0; ok && t < NMET; t++) {
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				bool def = true;
				for (int u = 0; u < NMET; u++)
					def &= !isnan(ms[u]->value[i * n + j]);
				r[i * n + j] = NAN;
				if (def)
					kv[cnt++] = (struct kv){
						ms[t]->value[i * n + j], i * n + j};
			}
		ranks(kv, cnt, r);
		if (!(rk[t] = mp_simmatrix_new("sweep", met_name[t], n))) {
			ok = false;
			break;
		}
		rk[t]->higher_is_more_alike = ms[t]->higher_is_more_alike;
		for (size_t i = 0; i < n && ok; i++)
			ok = (rk[t]->ids[i] = mp_strdup(ms[t]->ids[i])) != NULL;
		for (size_t i = 0; i < n; i++) {
			rk[t]->value[i * n + i] = 0;
			rk[t]->reason[i * n + i] = NULL;
			for (size_t j = i + 1; j < n; j++) {
				double v = r[i * n + j];
				rk[t]->value[i * n + j] = rk[t]->value[j * n + i] = v;
				rk[t]->reason[i * n + j] = rk[t]->reason[j * n + i] =
					isnan(v) ? "undefined" : NULL;
			}
		}
	}
	free(kv);
	free(r);
	return ok;
}

/* How alike i and j are under m: larger is more alike, NaN lowest. */
static double alike(const struct mp_simmatrix *m, size_t i, size_t j)
{
	double v = m->value[i * m->n + j];
	if (isnan(v))
		return -INFINITY;
	return m->higher_is_more_alike ? v : -v;
}

/* The k nearest other models of i under m into nb[0..k) (ties by index). */
static void nearest(const struct mp_simmatrix *m, size_t i, size_t k,
		    size_t *nb)
{
	size_t n = m->n, got = 0;
	for (size_t j = 0; j < n; j++) {
		if (j == i)
			continue;
		size_t p = got < k ? got++ : k;
		if (p == k && alike(m, i, j) <= alike(m, i, nb[k - 1]))
			continue;
		if (p == k)
			p = k - 1;
		while (p > 0 && alike(m, i, j) > alike(m, i, nb[p - 1])) {
			nb[p] = nb[p - 1];
			p--;
		}
		nb[p] = j;
	}
}

/* Mean over models of the Jaccard overlap of the k-neighbourhoods of two
 * metrics. */
static double knn_jaccard(const struct mp_simmatrix *a,
			  const struct mp_simmatrix *b, size_t k, size_t *na,
			  size_t *nb)
{
	size_t n = a->n;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		nearest(a, i, k, na);
		nearest(b, i, k, nb);
		size_t common = 0;
		for (size_t p = 0; p < k; p++)
			for (size_t q = 0; q < k; q++)
				common += na[p] == nb[q];
		sum += (double)common / (double)(2 * k - common);
	}
	return sum / (double)n;
}

struct report {
	const struct mp_sweep *s;
	const struct mp_sweep_result *r;
	struct mp_simmatrix *ms[NMET];
	struct mp_correlation *pear;
	bool has_spear;
	double spear[NMET * NMET]; /* Spearman's rho, NAN when constant */
	struct mp_metric_summary sum[NMET]; /* upper triangle, NaN skipped */
	double jac[NK][NMET][NMET];
	size_t nk; /* k values used (k < n) */
	long n_evecs;
};

static mp_json *report_json(const struct report *rp)
{
	const struct mp_sweep *s = rp->s;
	size_t n = s->n;
	mp_json *j = mp_json_object(), *a, *o;
	if (!j || !mp_json_add_str(j, "sweep", s->name) ||
	    !mp_json_add_num(j, "P", s->P) ||
	    !mp_json_add_num(j, "n_evecs", (double)rp->n_evecs) ||
	    !(a = mp_json_add_arr(j, "models")))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		mp_json *e = mp_json_object();
		if (!e || !mp_json_push(a, e) ||
		    !mp_json_add_str(e, "id", rp->ms[0]->ids[i]) ||
		    !mp_json_add_num(e, "d", s->m[i].d) ||
		    !mp_json_add_num(e, "accuracy", rp->r->acc[i]) ||
		    !mp_json_add_str(e, "band", band(rp->r->acc[i])) ||
		    !(s->m[i].has_val_acc
			      ? mp_json_add_num(e, "val_acc", s->m[i].val_acc)
			      : mp_json_add_null(e, "val_acc")))
			goto fail;
	}
	mp_json *mats = mp_simmatrix_list_to_json(rp->ms, NMET);
	if (!mats || !mp_json_set(j, "similarity", mats))
		goto fail;
	if (!(o = mp_json_add_obj(j, "summary")))
		goto fail;
	for (int t = 0; t < NMET; t++) {
		mp_json *m = mp_json_add_obj(o, met_name[t]);
		const struct mp_metric_summary *u = &rp->sum[t];
		if (!m || !mp_json_add_num(m, "mean", u->mean) ||
		    !mp_json_add_num(m, "std", u->std) ||
		    !mp_json_add_num(m, "min", u->min) ||
		    !mp_json_add_num(m, "max", u->max))
			goto fail;
	}
	if (rp->pear) {
		if (!(o = mp_correlation_to_json(rp->pear)) ||
		    !mp_json_set(j, "pearson", o))
			goto fail;
	} else if (!mp_json_add_null(j, "pearson"))
		goto fail;
	if (rp->has_spear) {
		if (!(o = mp_json_add_arr(j, "spearman")))
			goto fail;
		for (int x = 0; x < NMET; x++) {
			mp_json *row = mp_json_array();
			if (!mp_json_push(o, row))
				goto fail;
			for (int y = 0; y < NMET; y++)
				if (!mp_json_push_num(row,
						      rp->spear[x * NMET + y]))
					goto fail;
		}
	} else if (!mp_json_add_null(j, "spearman"))
		goto fail;
	if (!(o = mp_json_add_obj(j, "knn_jaccard")))
		goto fail;
	for (size_t q = 0; q < rp->nk; q++) {
		char key[16];
		snprintf(key, sizeof key, "%zu", knn_k[q]);
		mp_json *kk = mp_json_add_obj(o, key);
		if (!kk)
			goto fail;
		for (int x = 0; x < NMET; x++)
			for (int y = x + 1; y < NMET; y++) {
				char pk[48];
				snprintf(pk, sizeof pk, "%s/%s", met_name[x],
					 met_name[y]);
				if (!mp_json_add_num(kk, pk, rp->jac[q][x][y]))
					goto fail;
			}
	}
	return j;
fail:
	mp_json_free(j);
	return NULL;
}

static mp_json *info_json(const struct report *rp)
{
	mp_json *a = mp_json_array();
	for (size_t i = 0; a && i < rp->s->n; i++) {
		mp_json *e = mp_json_object();
		if (!e || !mp_json_push(a, e) ||
		    !mp_json_add_str(e, "model_id", rp->ms[0]->ids[i]) ||
		    !mp_json_add_str(e, "family", rp->s->name) ||
		    !mp_json_add_str(e, "model_type", band(rp->r->acc[i])) ||
		    !mp_json_add_str(e, "display_name", rp->ms[0]->ids[i])) {
			mp_json_free(a);
			return NULL;
		}
	}
	return a;
}

static void print_correlation(const struct report *rp);
static void print_knn(const struct report *rp);

static void print_report(const struct report *rp)
{
	const struct mp_sweep *s = rp->s;
	size_t n = s->n;
	printf("sweep %s: P = %u, %zu models, %ld eigenvectors per class\n\n",
	       cli_esc(s->name), s->P, n, rp->n_evecs);
	printf("%-8s %10s %10s %-8s %10s %10s %10s\n", "Model", "Accuracy",
	       "Stored", "Band", "mean TN", "mean logit", "mean JS");
	for (size_t i = 0; i < n; i++) {
		double mean[NMET] = {0};
		const double *v[NMET] = {rp->r->tn, rp->r->logit, rp->r->js};
		for (int t = 0; t < NMET; t++) {
			size_t cnt = 0;
			for (size_t j = 0; j < n; j++)
				if (j != i && !isnan(v[t][i * n + j])) {
					mean[t] += v[t][i * n + j];
					cnt++;
				}
			mean[t] = cnt ? mean[t] / (double)cnt : NAN;
		}
		char stored[32] = "-";
		if (s->m[i].has_val_acc)
			snprintf(stored, sizeof stored, "%.6f",
				 s->m[i].val_acc);
		char mt[NMET][24];
		for (int t = 0; t < NMET; t++)
			if (isnan(mean[t]))
				strcpy(mt[t], "-");
			else
				snprintf(mt[t], sizeof mt[t], "%.6g", mean[t]);
		printf("%-8s %10.6f %10s %-8s %10s %10s %10s\n",
		       cli_esc(rp->ms[0]->ids[i]), rp->r->acc[i], stored,
		       band(rp->r->acc[i]), mt[0], mt[1], mt[2]);
	}
	if (n < 2)
		return;
	printf("\nSUMMARY (upper triangle, no diagonal; raw values):\n"
	       "%-14s %12s %12s %12s %12s\n",
	       "Metric", "Mean", "Std", "Min", "Max");
	for (int t = 0; t < NMET; t++) {
		const struct mp_metric_summary *m = &rp->sum[t];
		printf("%-14s %12.6g %12.6g %12.6g %12.6g\n", met_name[t],
		       m->mean, m->std, m->min, m->max);
	}
	if (!rp->pear)
		printf("\nCORRELATION: fewer than two pairs where every metric "
		       "is defined\n");
	else
		print_correlation(rp);
	print_knn(rp);
}

static void print_correlation(const struct report *rp)
{
	printf("\nCORRELATION over %zu pairs (JS negated):\n"
	       "%-16s %10s %10s\n",
	       rp->pear->npairs, "Metrics", "Pearson", "Spearman");
	for (int x = 0; x < NMET; x++)
		for (int y = x + 1; y < NMET; y++) {
			char lb[32], pr[24] = "-", sr[24] = "-";
			snprintf(lb, sizeof lb, "%s vs %s%s", met_label[x],
				 y == 2 ? "-" : "", met_label[y]);
			double r = rp->pear->r[x * NMET + y];
			if (!isnan(r))
				snprintf(pr, sizeof pr, "%.6f", r);
			if (rp->has_spear &&
			    !isnan(r = rp->spear[x * NMET + y]))
				snprintf(sr, sizeof sr, "%.6f", r);
			printf("%-16s %10s %10s\n", lb, pr, sr);
		}
}

static void print_knn(const struct report *rp)
{
	if (!rp->nk)
		return;
	printf("\nNEIGHBOURHOOD AGREEMENT (mean Jaccard of the k nearest):\n"
	       "%-16s", "Metrics");
	for (size_t q = 0; q < rp->nk; q++)
		printf(" %8s%-2zu", "k=", knn_k[q]);
	printf("\n");
	for (int x = 0; x < NMET; x++)
		for (int y = x + 1; y < NMET; y++) {
			char lb[32];
			snprintf(lb, sizeof lb, "%s vs %s", met_label[x],
				 met_label[y]);
			printf("%-16s", lb);
			for (size_t q = 0; q < rp->nk; q++)
				printf(" %10.4f", rp->jac[q][x][y]);
			printf("\n");
		}
}

static void warn_val_acc(const struct mp_sweep *s, const double *acc)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].has_val_acc &&
		    fabs(s->m[i].val_acc - acc[i]) > 1e-6)
			cli_error("warning: %s: model d=%u: computed accuracy "
				  "%.6f, the manifest says %.6f",
				  s->m[i].file ? s->m[i].file : s->name,
				  s->m[i].d, acc[i], s->m[i].val_acc);
}

static mp_status write_outputs(const struct report *rp, const char *dir,
			       const mp_json *rep, struct mp_error *err)
{
	mp_json *mj = mp_simmatrix_list_to_json(
		(struct mp_simmatrix *const *)rp->ms, NMET);
	mp_json *ij = info_json(rp);
	mp_status st = mj && ij ? MP_OK
				: mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = cli_write_json(dir, "similarity_matrices.json", mj, err);
	if (st == MP_OK)
		st = cli_write_json(dir, "model_info.json", ij, err);
	if (st == MP_OK)
		st = cli_write_json(dir, "sweep.json", rep, err);
	if (st == MP_OK) {
		char *html = mp_path_join(dir, "sweep.html");
		const double *r = rp->pear ? rp->pear->r : NULL;
		st = html ? mp_report_sweep_html(html, rp->s, rp->r, r, err)
			  : mp_error_set(err, MP_ENOMEM, "out of memory");
		free(html);
	}
	mp_json_free(mj);
	mp_json_free(ij);
	return st;
}

/* Mean, population std, min and max of the defined upper-triangle values
 * of m (NaN when none). */
static void summarise(const struct mp_simmatrix *m,
		      struct mp_metric_summary *u)
{
	size_t n = m->n, cnt = 0;
	double s = 0, s2 = 0;
	u->min = INFINITY;
	u->max = -INFINITY;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double v = m->value[i * n + j];
			if (isnan(v))
				continue;
			cnt++;
			s += v;
			u->min = fmin(u->min, v);
			u->max = fmax(u->max, v);
		}
	u->mean = cnt ? s / (double)cnt : NAN;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double v = m->value[i * n + j];
			if (!isnan(v))
				s2 += (v - u->mean) * (v - u->mean);
		}
	u->std = cnt ? sqrt(s2 / (double)cnt) : NAN;
	if (!cnt)
		u->min = u->max = NAN;
}

static mp_status analyse(struct report *rp, struct mp_error *err)
{
	size_t n = rp->s->n;
	mp_status st = make_matrices(rp->s, rp->r, rp->ms, err);
	for (int t = 0; st == MP_OK && t < NMET; t++)
		summarise(rp->ms[t], &rp->sum[t]);
	if (st != MP_OK || n < 3)
		return st;
	/* too few defined pairs leaves the correlations out, not the rest */
	struct mp_error ce;
	if (mp_correlate((const struct mp_simmatrix *const *)rp->ms, NMET,
			 &rp->pear, &ce) != MP_OK)
		rp->pear = NULL;
	struct mp_simmatrix *rk[NMET] = {0};
	struct mp_correlation *sp = NULL;
	struct mp_error e2;
	if (rank_matrices(rp->ms, rk) &&
	    mp_correlate((const struct mp_simmatrix *const *)rk, NMET, &sp,
			 &e2) == MP_OK) {
		rp->has_spear = true;
		memcpy(rp->spear, sp->r, sizeof rp->spear);
	}
	mp_correlation_free(sp);
	for (int t = 0; t < NMET; t++)
		mp_simmatrix_free(rk[t]);
	size_t *na = malloc(10 * sizeof *na), *nb = malloc(10 * sizeof *nb);
	if (!na || !nb) {
		free(na);
		free(nb);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t q = 0; q < NK && knn_k[q] < n; q++, rp->nk++)
		for (int x = 0; x < NMET; x++)
			for (int y = x + 1; y < NMET; y++)
				rp->jac[q][x][y] = knn_jaccard(
					rp->ms[x], rp->ms[y], knn_k[q], na, nb);
	free(na);
	free(nb);
	return MP_OK;
}

int cmd_sweep_synth(int argc, char **argv);

int cmd_sweep(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "synth") == 0)
		return cmd_sweep_synth(argc - 1, argv + 1);
	struct sweep_opts o = {0};
	int rc = parse(argc, argv, &o);
	if (rc) {
		free(o.lr);
		free(o.proj);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	struct mp_sweep *s = NULL;
	struct mp_sweep_result r = {0};
	struct report rp = {0};
	struct mp_error err;
	mp_json *rep = NULL;
	rc = CLI_EXIT_FAIL;
	if (mp_sweep_open(o.manifest, o.lr, o.proj, &s, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (s->n < 2) {
		cli_error("%s: a sweep needs at least two models to compare",
			  o.manifest);
		goto out;
	}
	if (mp_sweep_compute(s, (size_t)o.n_evecs, &r, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	rp.s = s;
	rp.r = &r;
	rp.n_evecs = o.n_evecs;
	if (analyse(&rp, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	warn_val_acc(s, r.acc);
	if ((o.json || o.outdir) && !(rep = report_json(&rp))) {
		cli_error("out of memory");
		goto out;
	}
	if (o.json)
		cli_print_json(rep);
	else
		print_report(&rp);
	if (o.outdir) {
		if (write_outputs(&rp, o.outdir, rep, &err) != MP_OK) {
			cli_fail(&err);
			goto out;
		}
		if (!o.json)
			printf("\nwrote %s/similarity_matrices.json, "
			       "model_info.json, sweep.json and sweep.html\n",
			       cli_esc(o.outdir));
	}
	rc = CLI_EXIT_OK;
out:
	mp_json_free(rep);
	mp_correlation_free(rp.pear);
	for (int t = 0; t < NMET; t++)
		mp_simmatrix_free(rp.ms[t]);
	mp_sweep_result_done(&r);
	mp_sweep_free(s);
	free(o.lr);
	free(o.proj);
	return rc;
}

/* One end of a --dims range: a number from 1 or "P". */
static bool dim_value(const char *t, size_t len, long P, long *out)
{
	char buf[24];
	if (len == 1 && t[0] == 'P') {
		*out = P;
		return true;
	}
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, t, len);
	buf[len] = '\0';
	return cli_parse_int(buf, 1, 1 << 16, out) != 0;
}

/* Parse LIST ("1..P", "4,8,16", "2..6,10") into *dims[0..*n). */
static int parse_dims(const char *list, long P, uint32_t **dims, size_t *n)
{
	*dims = NULL;
	*n = 0;
	size_t cap = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *dots = memchr(p, '.', len);
		long a, b;
		bool ok = dots && dots + 1 < p + len && dots[1] == '.'
				  ? dim_value(p, (size_t)(dots - p), P, &a) &&
					    dim_value(dots + 2,
						      len - (size_t)(dots + 2 - p),
						      P, &b)
				  : dim_value(p, len, P, &a) && (b = a, true);
		if (!ok || b < a || b - a > 4096 ||
		    *n + (size_t)(b - a + 1) > 4096) {
			free(*dims);
			*dims = NULL;
			return cli_usage_error("sweep", "--dims wants widths "
							"from 1 like 1..P, "
							"4,8,16 or 2..6,10 "
							"(at most 4096)");
		}
		for (long d = a; d <= b; d++) {
			for (size_t q = 0; q < *n; q++)
				if ((*dims)[q] == (uint32_t)d) {
					free(*dims);
					*dims = NULL;
					return cli_usage_error(
						"sweep", "--dims names d = %ld "
							 "twice", d);
				}
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				uint32_t *nd = realloc(*dims, cap * sizeof *nd);
				if (!nd) {
					free(*dims);
					*dims = NULL;
					return cli_usage_error("sweep",
							       "out of memory");
				}
				*dims = nd;
			}
			(*dims)[(*n)++] = (uint32_t)d;
		}
		p = end ? end + 1 : p + len;
		if (end && !*p) {
			free(*dims);
			*dims = NULL;
			return cli_usage_error("sweep", "--dims ends with ','");
		}
	}
	if (!*n)
		return cli_usage_error("sweep", "--dims is empty");
	return 0;
}

struct synth_opts {
	long P, seed;
	double noise;
	const char *dims, *out;
};

static int synth_parse(int argc, char **argv, struct synth_opts *o)
{
	static const struct option opts[] = {
		{"p", required_argument, NULL, 'p'},
		{"dims", required_argument, NULL, 'd'},
		{"noise", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;
	char *end;
	o->seed = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!cli_parse_int(optarg, 2, MP_SWEEP_P_MAX, &o->P))
				return cli_usage_error("sweep", "--p wants a "
								"whole number "
								"from 2 to %u",
						       MP_SWEEP_P_MAX);
			break;
		case 'd': o->dims = optarg; break;
		case 'n':
			o->noise = strtod(optarg, &end);
			if (end == optarg || *end || !(o->noise >= 0) ||
			    !isfinite(o->noise))
				return cli_usage_error("sweep", "--noise wants a "
								"number >= 0");
			break;
		case 's':
			if (!cli_parse_int(optarg, 0, 0x7fffffff, &o->seed))
				return cli_usage_error("sweep", "--seed wants a "
								"whole number "
								"from 0");
			break;
		case 'o': o->out = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return cli_bad_option("sweep", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("sweep", "unexpected argument '%s'",
				       argv[optind]);
	if (!o->P || !o->dims || !o->out)
		return cli_usage_error("sweep", "synth needs --p P, --dims LIST "
						"and --out DIR");
	return 0;
}

int cmd_sweep_synth(int argc, char **argv)
{
	struct synth_opts o = {0};
	int rc = synth_parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	uint32_t *dims = NULL;
	size_t n;
	if ((rc = parse_dims(o.dims, o.P, &dims, &n)) != 0)
		return rc;
	rc = CLI_EXIT_FAIL;
	struct mp_error err;
	uint32_t *freq = malloc(((size_t)o.P / 2 + 1) * sizeof *freq);
	double *amp = malloc(((size_t)o.P / 2 + 1) * sizeof *amp);
	double *acc = malloc(n * sizeof *acc);
	struct mp_sweep *s = NULL;
	const char *base = strrchr(o.out, '/');
	base = base && base[1] ? base + 1 : o.out;
	if (!freq || !amp || !acc ||
	    !(s = mp_sweep_new(base, (uint32_t)o.P, n, dims))) {
		cli_error("%s: out of memory for the sweep", o.out);
		goto out;
	}
	size_t nf = mp_sweep_synth_freqs((uint32_t)o.P, (uint64_t)o.seed, freq);
	for (size_t k = 0; k < nf; k++)
		amp[k] = 1.0 / (double)(k + 1);
	for (size_t i = 0; i < n; i++) {
		mp_status st = mp_sweep_synth_model(s, i, freq, amp, nf, o.noise,
						    (uint64_t)o.seed, &err);
		if (st == MP_OK) {
			/* the accuracy of the weights the file will hold */
			mp_sweep_synth_round_f32(s, i);
			st = mp_sweep_accuracy(s, i, &acc[i], &err);
		}
		if (st != MP_OK) {
			cli_fail(&err);
			goto out;
		}
	}
	if (mp_sweep_synth_write(s, o.out, acc, freq, nf, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	printf("wrote %zu models (P = %ld, frequencies", n, o.P);
	for (size_t k = 0; k < nf && k < 8; k++)
		printf("%s%u", k ? "," : " ", freq[k]);
	printf("%s) and %s/manifest.json\n", nf > 8 ? ",..." : "",
	       cli_esc(o.out));
	rc = CLI_EXIT_OK;
out:
	mp_sweep_free(s);
	free(dims);
	free(freq);
	free(amp);
	free(acc);
	return rc;
}
