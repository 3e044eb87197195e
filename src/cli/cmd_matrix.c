/* cmd_matrix.c — `modelprint matrix convert`: a matrix of a
 * similarity-matrices file (JSON or binary) written as a binary
 * similarity-matrix file; `matrix topk`: the k most alike models of each
 * model, exactly from a matrix or through the registry's LSH codes
 * (modelprint-files(5)). */
#include "cli.h"
#include "metric.h"
#include "registry.h"
#include "simmatrix.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint matrix convert IN OUT [--method M] [--metric X]\n"
	"                                [--float32]\n"
	"       modelprint matrix topk OUT --k K [--float32]\n"
	"                  (--results-file IN [--method M] [--metric X] |\n"
	"                   --registry LOC [--metric X] [--candidates C])\n"
	"\n"
	"Write one matrix of the similarity-matrices file IN (the JSON form\n"
	"or a binary file) to OUT as a binary similarity-matrix file, which\n"
	"analyze, correlate and tui read wherever they read a results file.\n"
	"\n"
	"  --method M   a method of IN; default input_output when IN has it,\n"
	"               else its first method\n"
	"  --metric X   default l1 if present, else the method's first\n"
	"  --float32    store the values as float32 (half the size, rounded\n"
	"               to nearest); default float64, exactly the values of IN\n"
	"\n"
	"topk writes the k most alike models of each model with their scores\n"
	"(a top-k neighbour file, which 'modelprint analyze' lists): exactly\n"
	"from a matrix of IN, or, for registries too large for a whole matrix,\n"
	"from the registry's tensors fingerprints through identify's\n"
	"locality-sensitive codes: the C models of the highest estimated\n"
	"similarity are scored with the metric (default cosine) and the k\n"
	"best kept.\n"
	"\n"
	"  --k K           neighbours per model, 1 to models - 1\n"
	"  --candidates C  LSH candidates scored per model (default 4 K, at\n"
	"                  least 32)\n"
	"  -h, --help   this text\n";

static int convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{"method", required_argument, NULL, 'm'},
		{"metric", required_argument, NULL, 'x'},
		{"float32", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *method = NULL, *metric = NULL;
	unsigned vsize = 8;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': method = optarg; break;
		case 'x': metric = optarg; break;
		case 'f': vsize = 4; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: return cli_bad_option("matrix convert", argv, opts);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("matrix", "convert needs IN and OUT");
	const char *in = argv[optind], *out = argv[optind + 1];
	struct mp_error err;
	struct mp_simmatrix_file *f;
	struct mp_simmatrix *m = NULL;
	size_t idx;
	mp_status st = mp_simmatrix_file_open(in, &f, &err);
	if (st != MP_OK)
		return cli_fail(&err);
	st = mp_simmatrix_file_pick(f, method, metric, &idx, &err);
	if (st == MP_OK)
		st = mp_simmatrix_file_get(f, idx, &m, &err);
	mp_simmatrix_file_close(f);
	if (st == MP_OK)
		st = mp_simmatrix_bin_write(m, out, vsize, &err);
	if (st == MP_OK)
		printf("wrote %s: %s / %s, %zu models, float%u\n", cli_esc(out),
		       cli_esc(m->method), cli_esc(m->metric), m->n,
		       vsize * 8);
	mp_simmatrix_free(m);
	return st == MP_OK ? CLI_EXIT_OK : cli_fail(&err);
}

/* The tensors fingerprints of every model of the registry at loc that
 * has one: fps[*n], ids[*n] (caller frees both arrays and entries). */
static mp_status registry_fps(const char *loc, struct mp_fingerprint ***fps,
			      char ***ids, size_t *n, struct mp_error *err)
{
	struct mp_regdb *db;
	struct mp_registry *reg = NULL;
	*n = 0;
	*fps = NULL;
	*ids = NULL;
	mp_status st = mp_regdb_open(loc, false, &db, err);
	if (st != MP_OK)
		return st;
	if ((st = mp_regdb_list(db, NULL, &reg, err)) != MP_OK)
		goto out;
	*fps = calloc(reg->nmodels + 1, sizeof **fps);
	*ids = calloc(reg->nmodels + 1, sizeof **ids);
	if (!*fps || !*ids) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < reg->nmodels && st == MP_OK; i++) {
		struct mp_fingerprint *fp;
		st = mp_regdb_get_fp(db, reg->models[i].id, "tensors", &fp, err);
		if (st == MP_ENOENT) {
			st = MP_OK;
			continue;
		}
		if (st == MP_OK && !((*ids)[*n] = mp_strdup(reg->models[i].id))) {
			mp_fp_free(fp);
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		if (st == MP_OK)
			(*fps)[(*n)++] = fp;
	}
out:
	mp_registry_free(reg);
	mp_regdb_close(db);
	return st;
}

static int topk(int argc, char **argv)
{
	static const struct option opts[] = {
		{"k", required_argument, NULL, 'k'},
		{"results-file", required_argument, NULL, 'r'},
		{"registry", required_argument, NULL, 'g'},
		{"method", required_argument, NULL, 'm'},
		{"metric", required_argument, NULL, 'x'},
		{"candidates", required_argument, NULL, 'c'},
		{"float32", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *in = NULL, *loc = NULL, *method = NULL, *metric = NULL;
	long k = 0, cand = 0;
	unsigned vsize = 8;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (!cli_parse_int(optarg, 1, UINT32_MAX - 1, &k))
				return cli_usage_error("matrix", "--k needs a "
								 "positive "
								 "count");
			break;
		case 'c':
			if (!cli_parse_int(optarg, 1, UINT32_MAX - 1, &cand))
				return cli_usage_error("matrix",
						       "--candidates needs a "
						       "positive count");
			break;
		case 'r': in = optarg; break;
		case 'g': loc = optarg; break;
		case 'm': method = optarg; break;
		case 'x': metric = optarg; break;
		case 'f': vsize = 4; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: return cli_bad_option("matrix topk", argv, opts);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("matrix", "topk needs OUT");
	if (!k)
		return cli_usage_error("matrix", "topk needs --k K");
	if (!in == !loc)
		return cli_usage_error("matrix", "topk needs one of "
						 "--results-file IN and "
						 "--registry LOC");
	if (loc && method && strcmp(method, "tensors"))
		return cli_usage_error("matrix", "--registry: the LSH codes are "
						 "of tensors fingerprints");
	const char *out = argv[optind];
	struct mp_error err;
	struct mp_simtopk *t = NULL;
	mp_status st;
	if (in) {
		struct mp_simmatrix_file *f;
		struct mp_simmatrix *m = NULL;
		size_t idx;
		if ((st = mp_simmatrix_file_open(in, &f, &err)) != MP_OK)
			return cli_fail(&err);
		st = mp_simmatrix_file_pick(f, method, metric, &idx, &err);
		if (st == MP_OK)
			st = mp_simmatrix_file_get(f, idx, &m, &err);
		mp_simmatrix_file_close(f);
		if (st == MP_OK)
			st = mp_simtopk_from_matrix(m, (size_t)k, &t, &err);
		mp_simmatrix_free(m);
	} else {
		const struct mp_metric *me =
			mp_metric_find("tensors", metric ? metric : "cosine");
		if (!me)
			return cli_usage_error("matrix", "no metric '%s' of the "
							 "tensors method",
					       metric);
		struct mp_fingerprint **fps;
		char **ids;
		size_t n;
		if (!cand)
			cand = 4 * k > 32 ? 4 * k : 32;
		st = registry_fps(loc, &fps, &ids, &n, &err);
		if (st == MP_OK)
			st = mp_simtopk_lsh(me, fps, ids, n, (size_t)k,
					    (size_t)cand, &t, &err);
		for (size_t i = 0; fps && i < n; i++) {
			mp_fp_free(fps[i]);
			free(ids[i]);
		}
		free(fps);
		free(ids);
	}
	if (st == MP_OK)
		st = mp_simtopk_write(t, out, vsize, &err);
	if (st == MP_OK)
		printf("wrote %s: %s / %s, %zu models, %zu neighbours each\n",
		       cli_esc(out), cli_esc(t->method), cli_esc(t->metric),
		       t->n, t->k);
	mp_simtopk_free(t);
	return st == MP_OK ? CLI_EXIT_OK : cli_fail(&err);
}

int cmd_matrix(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "topk")) {
		int rc = topk(argc - 1, argv + 1);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (argc >= 2 && !strcmp(argv[1], "convert")) {
		int rc = convert(argc - 1, argv + 1);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage_error("matrix", "a subcommand is needed (convert, topk)");
	return cli_usage_error("matrix", "unknown subcommand '%s'", argv[1]);
}
