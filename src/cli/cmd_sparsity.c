/* cmd_sparsity.c — `modelprint sparsity hamming|multi|profile`: Hamming
 * clustering of the non-zero masks of a matrix's features, its repetition
 * over random features, and the per-tensor sparsity and pruning pattern
 * of a model. */
#include "atomic_write.h"
#include "cli.h"
#include "model.h"
#include "sparsity.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint sparsity hamming FILE [--tensor NAME]\n"
	"                  [--axis rows|cols] [--feature-idx I]\n"
	"                  [--n-features N] [--n-clusters K] [--seed S]\n"
	"                  [--n-init R] [--threads N] [--json]\n"
	"       modelprint sparsity multi FILE --n-executions E\n"
	"                  [--output-json OUT] [same options as hamming,\n"
	"                  without --feature-idx]\n"
	"       modelprint sparsity profile MODEL [--parent FILE]\n"
	"                  [--threads N] [--json]\n"
	"       modelprint sparsity report --results-dir DIR\n"
	"                  [--label FILE=METHOD/PROJ ...] [--json]\n"
	"\n"
	"hamming: the mask of non-zero weights of a matrix, the N features\n"
	"nearest to one feature by Hamming distance, and k-means over them.\n"
	"multi: the same over E random features, mean and std of each metric.\n"
	"profile: per tensor, the share of zeros, their spread over rows and\n"
	"columns, the pruning pattern they show and whether a magnitude\n"
	"threshold made them; with --parent, how they relate to the parent.\n"
	"report: the comparative table of the multi JSON files in DIR.\n"
	"\n"
	"  --tensor NAME      the matrix (optional when FILE holds one)\n"
	"  --axis rows|cols   features are rows (output units) or columns\n"
	"  --feature-idx I    the feature (default: drawn with the seed)\n"
	"  --n-features N     nearest features to cluster (default 128)\n"
	"  --n-clusters K     k-means clusters (default 8)\n"
	"  --seed S           random seed (default 42)\n"
	"  --n-init R         k-means restarts (default 10)\n"
	"  --n-executions E   multi: random features to analyse (default 10)\n"
	"  --output-json OUT  multi: write the JSON to OUT\n"
	"  --threads N        worker threads (default 0: all CPUs)\n"
	"  --parent FILE      profile: the dense model the pruned one came from\n"
	"  --results-dir DIR  report: the directory of multi JSON files\n"
	"  --label F=M/P      report: method M and projection P of file F\n"
	"  --json             print JSON instead of text\n"
	"  -h, --help         this text\n";

struct sp_opts {
	const char *file, *tensor, *out, *parent;
	enum mp_sparsity_axis axis;
	long feature; /* -1: drawn */
	long nfeat, nclus, seed, ninit, nexec, threads;
	bool json;
};

/* One analysis of one feature. */
struct sp_run {
	uint64_t feature;
	uint64_t *idx, *dist; /* [nfeat] */
	struct mp_kmeans km;
};

static int parse(int argc, char **argv, const char *sub, struct sp_opts *o)
{
	static const struct option opts[] = {
		{"tensor", required_argument, NULL, 't'},
		{"axis", required_argument, NULL, 'a'},
		{"feature-idx", required_argument, NULL, 'f'},
		{"n-features", required_argument, NULL, 'n'},
		{"n-clusters", required_argument, NULL, 'k'},
		{"seed", required_argument, NULL, 's'},
		{"n-init", required_argument, NULL, 'i'},
		{"n-executions", required_argument, NULL, 'e'},
		{"output-json", required_argument, NULL, 'o'},
		{"threads", required_argument, NULL, 'T'},
		{"parent", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	bool profile = !strcmp(sub, "profile"), multi = !strcmp(sub, "multi");
	int c;
	long *num = NULL;
	long max = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *name = NULL;
		switch (c) {
		case 't': o->tensor = optarg; name = "--tensor"; break;
		case 'a':
			name = "--axis";
			if (!strcmp(optarg, "rows"))
				o->axis = MP_SPARSITY_ROWS;
			else if (!strcmp(optarg, "cols"))
				o->axis = MP_SPARSITY_COLS;
			else
				return cli_usage_error(
				    "sparsity", "--axis takes rows or cols, "
						"not '%s'",
				    optarg);
			break;
		case 'f': num = &o->feature; max = 1L << 50; name = "--feature-idx"; break;
		case 'n': num = &o->nfeat; max = 1L << 30; name = "--n-features"; break;
		case 'k': num = &o->nclus; max = 1L << 20; name = "--n-clusters"; break;
		case 's': num = &o->seed; max = 1L << 62; name = "--seed"; break;
		case 'i': num = &o->ninit; max = 1000; name = "--n-init"; break;
		case 'e': num = &o->nexec; max = 100000; name = "--n-executions"; break;
		case 'o': o->out = optarg; name = "--output-json"; break;
		case 'T': num = &o->threads; max = 1024; name = "--threads"; break;
		case 'p':
			if (!profile)
				return cli_usage_error(
				    "sparsity", "--parent is an option of "
						"'sparsity profile'");
			o->parent = optarg;
			break;
		case 'j': o->json = true; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: return cli_bad_option("sparsity", argv, opts);
		}
		if (profile && name && c != 'T')
			return cli_usage_error("sparsity", "%s is not an option "
							   "of 'sparsity profile'",
					       name);
		if ((c == 'e' || c == 'o') && !multi)
			return cli_usage_error("sparsity", "%s is an option of "
							   "'sparsity multi'",
					       name);
		if (c == 'f' && multi)
			return cli_usage_error("sparsity", "--feature-idx is not "
							   "an option of "
							   "'sparsity multi'");
		long lo = (c == 'f' || c == 's' || c == 'T') ? 0 : c == 'k' ? 2 : 1;
		if (num && !cli_parse_int(optarg, lo, max, num))
			return cli_usage_error("sparsity", "%s takes an integer "
							   "from %ld, not '%s'",
					       name, lo, optarg);
		num = NULL;
	}
	if (optind >= argc)
		return cli_usage_error("sparsity", "%s needs a model file",
				       sub);
	o->file = argv[optind++];
	if (optind < argc)
		return cli_usage_error("sparsity", "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

/* Up to 8 matrix names of m, comma-separated, into buf. */
static void matrix_names(const struct mp_model *m, char *buf, size_t len)
{
	size_t shown = 0, total = 0, at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < m->ntensors; i++) {
		if (!mp_sparsity_is_matrix(&m->tensors[i]))
			continue;
		if (total++ < 8 && at < len) {
			int w = snprintf(buf + at, len - at, "%s%s",
					 shown ? ", " : "", m->tensors[i].name);
			at += w > 0 ? (size_t)w : 0;
			shown++;
		}
	}
	if (total > shown && at < len)
		snprintf(buf + at, len - at, ", ... (%zu in all)", total);
}

/* The tensor the options name, or the only matrix; NULL after printing. */
static const struct mp_tensor *pick(const struct mp_model *m,
				    const struct sp_opts *o)
{
	char names[1024];
	matrix_names(m, names, sizeof names);
	if (o->tensor) {
		const struct mp_tensor *t = mp_model_find(m, o->tensor);
		if (!t)
			cli_error("%s: no tensor named '%s'; its matrices: %s",
				  o->file, o->tensor,
				  names[0] ? names : "none");
		return t;
	}
	const struct mp_tensor *one = NULL;
	size_t n = 0;
	for (size_t i = 0; i < m->ntensors; i++)
		if (mp_sparsity_is_matrix(&m->tensors[i])) {
			one = &m->tensors[i];
			n++;
		}
	if (n == 1)
		return one;
	if (n == 0)
		cli_error("%s: no floating tensor of 2 or more dimensions",
			  o->file);
	else
		cli_error("%s holds %zu matrices: give --tensor NAME (%s)",
			  o->file, n, names);
	return NULL;
}

static void run_free(struct sp_run *r)
{
	free(r->idx);
	free(r->dist);
	mp_kmeans_done(&r->km);
}

/* Nearest features of r->feature and k-means over them (seed kseed). */
static mp_status analyse(const struct mp_mask *mk, const struct sp_opts *o,
			 uint64_t kseed, struct sp_run *r, struct mp_error *err)
{
	size_t n = (size_t)o->nfeat;
	r->idx = malloc(n * sizeof *r->idx);
	r->dist = malloc(n * sizeof *r->dist);
	if (!r->idx || !r->dist)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_status st = mp_mask_nearest(mk, r->feature, n, r->idx, r->dist, err);
	if (st == MP_OK)
		st = mp_kmeans_run_mt(mk, r->idx, n, (size_t)o->nclus, kseed,
				      (int)o->ninit, (int)o->threads, &r->km,
				      err);
	return st;
}

/* Open the model, build the mask and check it can be clustered; 0 with
 * *mout and mk filled, else 1 after printing. */
static int load(const struct sp_opts *o, struct mp_model **mout,
		const struct mp_tensor **tout, struct mp_mask *mk)
{
	struct mp_error err;
	if (mp_model_open(o->file, mout, &err) != MP_OK)
		return cli_fail(&err);
	const struct mp_tensor *t = pick(*mout, o);
	if (!t || mp_mask_from_tensor_mt(*mout, t, o->axis, false,
					 (int)o->threads, mk, &err) != MP_OK) {
		if (t)
			cli_fail(&err);
		mp_model_free(*mout);
		return CLI_EXIT_FAIL;
	}
	*tout = t;
	const char *why = NULL;
	uint64_t numel = mk->rows * mk->cols;
	if (mk->nzero == numel)
		why = "every weight is zero: there is no mask to cluster";
	else if (mk->nzero == 0)
		why = "no weight is zero: every feature has the same mask";
	if (!why && (uint64_t)o->nfeat > mk->nfeat - 1)
		cli_error("%s: tensor %s: --n-features %ld, but there are only "
			  "%llu other features along %s",
			  o->file, t->name, o->nfeat,
			  (unsigned long long)(mk->nfeat - 1),
			  o->axis ? "cols" : "rows");
	else if (!why && o->nclus > o->nfeat)
		cli_error("%s: --n-clusters %ld is more than the %ld features "
			  "clustered (--n-features)",
			  o->file, o->nclus, o->nfeat);
	else if (!why && o->feature >= 0 && (uint64_t)o->feature >= mk->nfeat)
		cli_error("%s: tensor %s: --feature-idx %ld, but it has %llu "
			  "features along %s",
			  o->file, t->name, o->feature,
			  (unsigned long long)mk->nfeat,
			  o->axis ? "cols" : "rows");
	else if (!why)
		return 0;
	else
		cli_error("%s: tensor %s: %s", o->file, t->name, why);
	mp_mask_done(mk);
	mp_model_free(*mout);
	return CLI_EXIT_FAIL;
}

static void json_head(mp_json *doc, const struct sp_opts *o,
		      const struct mp_tensor *t, const struct mp_mask *mk)
{
	mp_json_add_str(doc, "file", o->file);
	mp_json_add_str(doc, "tensor", t->name);
	mp_json *sh = mp_json_add_arr(doc, "shape");
	for (int d = 0; d < t->ndim; d++)
		mp_json_push_num(sh, (double)t->shape[d]);
	mp_json *mx = mp_json_add_arr(doc, "matrix");
	mp_json_push_num(mx, (double)mk->rows);
	mp_json_push_num(mx, (double)mk->cols);
	mp_json_add_str(doc, "axis", o->axis ? "cols" : "rows");
	mp_json_add_num(doc, "features", (double)mk->nfeat);
	mp_json_add_num(doc, "width", (double)mk->width);
	mp_json_add_num(doc, "zero_share",
			(double)mk->nzero / (double)(mk->rows * mk->cols));
	mp_json *cf = mp_json_add_obj(doc, "config");
	mp_json_add_num(cf, "n_features", (double)o->nfeat);
	mp_json_add_num(cf, "n_clusters", (double)o->nclus);
	mp_json_add_num(cf, "seed", (double)o->seed);
	mp_json_add_num(cf, "n_init", (double)o->ninit);
}

/* The metrics of one run, as JSON. */
static mp_json *run_metrics(const struct sp_run *r, size_t n)
{
	mp_json *m = mp_json_object();
	mp_json_add_num(m, "min_distance", (double)r->dist[0]);
	mp_json_add_num(m, "max_distance", (double)r->dist[n - 1]);
	mp_json_add_num(m, "distance_range",
			(double)(r->dist[n - 1] - r->dist[0]));
	mp_json_add_num(m, "within", r->km.within);
	mp_json_add_num(m, "between", r->km.between);
	mp_json_add_num(m, "separation_ratio", r->km.ratio);
	mp_json_add_str(m, "grade", mp_sparsity_grade(r->km.ratio));
	mp_json_add_num(m, "inertia", r->km.inertia);
	mp_json_add_num(m, "balance", r->km.balance);
	mp_json_add_num(m, "size_std", r->km.size_std);
	mp_json *sz = mp_json_add_arr(m, "sizes");
	for (size_t c = 0; c < r->km.k; c++)
		mp_json_push_num(sz, (double)r->km.size[c]);
	return m;
}

static void print_metrics(const struct sp_run *r, size_t n)
{
	printf("Hamming distance: min %llu, max %llu, range %llu\n",
	       (unsigned long long)r->dist[0],
	       (unsigned long long)r->dist[n - 1],
	       (unsigned long long)(r->dist[n - 1] - r->dist[0]));
	printf("k-means: %zu clusters of sizes", r->km.k);
	for (size_t c = 0; c < r->km.k; c++)
		printf(" %zu", r->km.size[c]);
	printf(" (%d iterations)\n", r->km.iterations);
	printf("  mean within-cluster distance   %.6f\n", r->km.within);
	if (isnan(r->km.between))
		printf("  mean between-cluster distance  undefined (fewer than "
		       "two non-empty clusters)\n");
	else
		printf("  mean between-cluster distance  %.6f\n", r->km.between);
	if (isfinite(r->km.ratio))
		printf("  separation ratio               %.6f (%s)\n",
		       r->km.ratio, mp_sparsity_grade(r->km.ratio));
	else
		printf("  separation ratio               undefined (every "
		       "feature on its centre)\n");
	printf("  total inertia                  %.6f\n", r->km.inertia);
	printf("  cluster-size balance           %.6f (smallest / largest; "
	       "std of sizes %.6f)\n",
	       r->km.balance, r->km.size_std);
}

static int hamming(const struct sp_opts *o)
{
	struct mp_model *m;
	const struct mp_tensor *t;
	struct mp_mask mk;
	int rc = load(o, &m, &t, &mk);
	if (rc)
		return rc;
	struct sp_run r = {0};
	struct mp_rng rng;
	mp_rng_init(&rng, (uint64_t)o->seed);
	r.feature = o->feature >= 0 ? (uint64_t)o->feature
				    : mp_rng_next(&rng) % mk.nfeat;
	struct mp_error err;
	size_t n = (size_t)o->nfeat;
	if (analyse(&mk, o, (uint64_t)o->seed, &r, &err) != MP_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (o->json) {
		mp_json *doc = mp_json_object();
		json_head(doc, o, t, &mk);
		mp_json_add_num(doc, "feature", (double)r.feature);
		mp_json_add_num(doc, "feature_nonzeros",
				(double)mp_mask_count(&mk, r.feature));
		mp_json *nb = mp_json_add_arr(doc, "nearest");
		for (size_t i = 0; i < n; i++) {
			mp_json *e = mp_json_object();
			mp_json_add_num(e, "feature", (double)r.idx[i]);
			mp_json_add_num(e, "distance", (double)r.dist[i]);
			mp_json_add_num(e, "cluster", (double)r.km.label[i]);
			mp_json_push(nb, e);
		}
		mp_json_push(mp_json_add_arr(doc, "runs"), run_metrics(&r, n));
		cli_print_json(doc);
		mp_json_free(doc);
	} else {
		printf("%s: tensor %s, %llu x %llu, features along %s: %llu of "
		       "width %llu, %.4f zero\n",
		       cli_esc(o->file), cli_esc(t->name),
		       (unsigned long long)mk.rows, (unsigned long long)mk.cols,
		       o->axis ? "cols" : "rows", (unsigned long long)mk.nfeat,
		       (unsigned long long)mk.width,
		       (double)mk.nzero / (double)(mk.rows * mk.cols));
		printf("feature %llu: %llu non-zeros; its %zu nearest "
		       "features:\n",
		       (unsigned long long)r.feature,
		       (unsigned long long)mp_mask_count(&mk, r.feature), n);
		printf("%6s %10s %10s %8s\n", "RANK", "FEATURE", "DISTANCE",
		       "CLUSTER");
		for (size_t i = 0; i < n; i++)
			printf("%6zu %10llu %10llu %8zu\n", i + 1,
			       (unsigned long long)r.idx[i],
			       (unsigned long long)r.dist[i], r.km.label[i]);
		printf("seed %ld, %ld restarts\n", o->seed, o->ninit);
		print_metrics(&r, n);
	}
	rc = CLI_EXIT_OK;
out:
	run_free(&r);
	mp_mask_done(&mk);
	mp_model_free(m);
	return rc;
}

#define NAGG 9
static const char *const agg_keys[NAGG] = {
	"min_distance", "max_distance", "distance_range", "within", "between",
	"separation_ratio", "inertia", "balance", "size_std"};

static void agg_values(const struct sp_run *r, size_t n, double v[NAGG])
{
	v[0] = (double)r->dist[0];
	v[1] = (double)r->dist[n - 1];
	v[2] = v[1] - v[0];
	v[3] = r->km.within;
	v[4] = r->km.between;
	v[5] = r->km.ratio;
	v[6] = r->km.inertia;
	v[7] = r->km.balance;
	v[8] = r->km.size_std;
}

static int multi(const struct sp_opts *o)
{
	struct mp_model *m;
	const struct mp_tensor *t;
	struct mp_mask mk;
	int rc = load(o, &m, &t, &mk);
	if (rc)
		return rc;
	size_t n = (size_t)o->nfeat, ne = (size_t)o->nexec;
	struct mp_rng rng;
	mp_rng_init(&rng, (uint64_t)o->seed);
	mp_json *doc = mp_json_object();
	json_head(doc, o, t, &mk);
	mp_json_add_num(mp_json_get(doc, "config"), "n_executions",
			(double)ne);
	mp_json *runs = mp_json_add_arr(doc, "runs");
	double sum[NAGG] = {0}, sq[NAGG] = {0};
	size_t cnt[NAGG] = {0};
	struct mp_error err;
	rc = CLI_EXIT_OK;
	for (size_t e = 0; e < ne && rc == CLI_EXIT_OK; e++) {
		struct sp_run r = {0};
		r.feature = mp_rng_next(&rng) % mk.nfeat;
		if (analyse(&mk, o, (uint64_t)o->seed + e, &r, &err) != MP_OK) {
			rc = cli_fail(&err);
		} else {
			mp_json *jm = run_metrics(&r, n);
			mp_json_add_num(jm, "feature", (double)r.feature);
			mp_json_push(runs, jm);
			double v[NAGG];
			agg_values(&r, n, v);
			for (int i = 0; i < NAGG; i++)
				if (isfinite(v[i])) {
					sum[i] += v[i];
					sq[i] += v[i] * v[i];
					cnt[i]++;
				}
		}
		run_free(&r);
	}
	mp_json *ag = mp_json_add_obj(doc, "aggregate");
	double mean[NAGG], sd[NAGG];
	for (int i = 0; i < NAGG && rc == CLI_EXIT_OK; i++) {
		mp_json *a = mp_json_add_obj(ag, agg_keys[i]);
		mean[i] = cnt[i] ? sum[i] / (double)cnt[i] : NAN;
		double var = cnt[i] ? sq[i] / (double)cnt[i] - mean[i] * mean[i]
				    : NAN;
		sd[i] = var > 0 ? sqrt(var) : cnt[i] ? 0 : NAN;
		mp_json_add_num(a, "mean", mean[i]);
		mp_json_add_num(a, "std", sd[i]);
		mp_json_add_num(a, "count", (double)cnt[i]);
	}
	if (rc == CLI_EXIT_OK && o->out) {
		char *text = mp_json_print(doc, true);
		mp_status st = text ? mp_atomic_write(o->out, text, &err)
				    : mp_error_set(&err, MP_ENOMEM,
						   "out of memory");
		free(text);
		if (st != MP_OK)
			rc = cli_fail(&err);
	}
	if (rc == CLI_EXIT_OK && o->json)
		cli_print_json(doc);
	else if (rc == CLI_EXIT_OK) {
		printf("%s: tensor %s, %llu features along %s, %zu executions "
		       "of %zu nearest features, %ld clusters\n",
		       cli_esc(o->file), cli_esc(t->name),
		       (unsigned long long)mk.nfeat, o->axis ? "cols" : "rows",
		       ne, n, o->nclus);
		for (int i = 0; i < NAGG; i++)
			printf("  %-18s %14.6f +- %.6f\n", agg_keys[i], mean[i],
			       sd[i]);
		if (isfinite(mean[5]))
			printf("mean separation: %s\n",
			       mp_sparsity_grade(mean[5]));
	}
	mp_json_free(doc);
	mp_mask_done(&mk);
	mp_model_free(m);
	return rc;
}

int cmd_sparsity(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc < 2)
			return cli_usage_error("sparsity", "give a subcommand: "
							   "hamming, multi, "
							   "profile or report");
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "report"))
		return cli_sparsity_report(argc - 1, argv + 1);
	if (strcmp(sub, "hamming") && strcmp(sub, "multi") &&
	    strcmp(sub, "profile"))
		return cli_usage_error("sparsity", "unknown subcommand '%s' "
						   "(hamming, multi, profile, "
						   "report)",
				       sub);
	struct sp_opts o = {.feature = -1,
			    .nfeat = 128,
			    .nclus = 8,
			    .seed = 42,
			    .ninit = 10,
			    .nexec = 10};
	int rc = parse(argc - 1, argv + 1, sub, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!strcmp(sub, "profile"))
		return cli_sparsity_profile(o.file, o.parent, (int)o.threads,
					    o.json);
	if (!strcmp(sub, "multi"))
		return multi(&o);
	return hamming(&o);
}
