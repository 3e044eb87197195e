/* cmd_correlate.c — `modelprint correlate`: Pearson correlation between
 * the metrics of one results file (seed 001) and their summaries. */
#include "cli.h"
#include "correlate.h"
#include "modelinfo.h"
#include "report_html.h"
#include "registry.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint correlate --results-file FILE [--method M]\n"
	"                            --metrics A,B[,C...] [--json]\n"
	"                            [--output-dir DIR]\n"
	"                            [--model-info FILE | --registry DIR]\n"
	"\n"
	"Pearson correlation of every two metrics over the pairs of models\n"
	"(upper triangle, no diagonal), divergences negated so that a\n"
	"positive r means the metrics agree on which models are alike, and\n"
	"the mean, standard deviation and range of each metric. Pairs where\n"
	"any metric is null are left out and counted.\n"
	"\n"
	"  --results-file FILE  similarity_matrices.json from 'modelprint run'\n"
	"                       or a binary matrix file; repeat it to take\n"
	"                       each metric from the first file that has it\n"
	"  --method M           a method of the results file (this build\n"
	"                       computes %s); default\n"
	"                       input_output when the file has it (seed\n"
	"                       000's workflow), else its first method\n"
	"  --metrics A,B,...    two or more metrics of that method; METHOD/METRIC\n"
	"                       takes a metric of another method\n"
	"  --json               print the JSON form instead of the tables\n"
	"  --output-dir DIR     write correlation.json and the HTML page\n"
	"                       correlation.html (scatter plots, profiles)\n"
	"  --model-info FILE    name the models of correlation.html by their\n"
	"                       display names, families and types\n"
	"  --registry DIR       the same, taken from a registry\n"
	"  -h, --help           this text\n";

#define MAX_METRICS 32
#define MAX_FILES 32

struct corr_opts {
	const char *results[MAX_FILES], *method, *outdir;
	size_t nfiles;
	const char *info, *registry; /* optional names for the HTML page */
	char *list; /* copy of --metrics, split in place */
	bool json;
	size_t k;
	const char *mmethod[MAX_METRICS], *metric[MAX_METRICS];
};

/* Split "A,B,m/C" into o->metric (and o->mmethod for m/C). */
static int split_metrics(struct corr_opts *o, const char *arg)
{
	if (!(o->list = mp_strdup(arg)))
		return cli_usage_error("correlate", "out of memory");
	char *save = NULL;
	for (char *t = strtok_r(o->list, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (o->k == MAX_METRICS)
			return cli_usage_error("correlate", "at most %d metrics",
					       MAX_METRICS);
		char *slash = strchr(t, '/');
		o->mmethod[o->k] = NULL;
		if (slash) {
			*slash = '\0';
			o->mmethod[o->k] = t;
			t = slash + 1;
		}
		o->metric[o->k++] = t;
	}
	if (o->k < 2)
		return cli_usage_error("correlate", "--metrics needs at least "
						    "two metrics, e.g. "
						    "cosine,l1");
	return 0;
}

static int parse(int argc, char **argv, struct corr_opts *o)
{
	static const struct option opts[] = {
		{"results-file", required_argument, NULL, 'r'},
		{"method", required_argument, NULL, 'm'},
		{"metrics", required_argument, NULL, 'x'},
		{"output-dir", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"model-info", required_argument, NULL, 'i'},
		{"registry", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c, rc;
	const char *metrics = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->nfiles == MAX_FILES)
				return cli_usage_error("correlate",
						       "at most %d results "
						       "files",
						       MAX_FILES);
			o->results[o->nfiles++] = optarg;
			break;
		case 'm': o->method = optarg; break;
		case 'x': metrics = optarg; break;
		case 'o': o->outdir = optarg; break;
		case 'j': o->json = true; break;
		case 'i': o->info = optarg; break;
		case 'g': o->registry = optarg; break;
		case 'h':
			printf(usage_text, cli_method_list(", "));
			return -1;
		default:
			return cli_bad_option("correlate", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("correlate", "unexpected argument '%s'",
				       argv[optind]);
	if (!o->nfiles)
		return cli_usage_error("correlate", "--results-file FILE is "
						    "required");
	if (!metrics)
		return cli_usage_error("correlate", "--metrics A,B[,C...] is "
						    "required");
	if (o->info && o->registry)
		return cli_usage_error("correlate", "give --model-info FILE or "
						    "--registry DIR, not both");
	if ((o->info || o->registry) && !o->outdir)
		return cli_usage_error("correlate", "--model-info and --registry "
						    "name the models of the HTML "
						    "page: they need --output-dir");
	if ((rc = split_metrics(o, metrics)) != 0)
		return rc;
	return 0;
}

/* Pick metric i in the first of the files that has it (an error from
 * the first file when none has). */
static mp_status pick(const struct corr_opts *o,
		      struct mp_simmatrix_file *const *f, size_t i,
		      size_t *file, size_t *idx, struct mp_error *err)
{
	const char *meth = o->mmethod[i] ? o->mmethod[i] : o->method;
	struct mp_error e2;
	for (*file = 0; *file < o->nfiles; ++*file)
		if (mp_simmatrix_file_pick(f[*file], meth, o->metric[i], idx,
					   &e2) == MP_OK)
			return MP_OK;
	*file = 0;
	return mp_simmatrix_file_pick(f[0], meth, o->metric[i], idx, err);
}

/* Read the k matrices the options name. */
static mp_status load(const struct corr_opts *o, struct mp_simmatrix **ms,
		      struct mp_error *err)
{
	struct mp_simmatrix_file *f[MAX_FILES] = {0};
	mp_status st = MP_OK;
	for (size_t l = 0; l < o->nfiles && st == MP_OK; l++)
		st = mp_simmatrix_file_open(o->results[l], &f[l], err);
	size_t idx[MAX_METRICS], file[MAX_METRICS];
	for (size_t i = 0; i < o->k && st == MP_OK; i++) {
		st = pick(o, f, i, &file[i], &idx[i], err);
		for (size_t l = 0; l < i && st == MP_OK; l++)
			if (idx[l] == idx[i] && file[l] == file[i])
				st = mp_error_set(err, MP_EINVAL,
						  "%s/%s is named twice in "
						  "--metrics",
						  f[file[i]]->method[idx[i]],
						  f[file[i]]->metric[idx[i]]);
	}
	for (size_t i = 0; i < o->k && st == MP_OK; i++)
		st = mp_simmatrix_file_get(f[file[i]], idx[i], &ms[i], err);
	for (size_t l = 0; l < o->nfiles; l++)
		mp_simmatrix_file_close(f[l]);
	return st;
}

static void label(const struct mp_correlation *c, size_t i, char *buf,
		  size_t cap)
{
	bool mixed = false;
	for (size_t l = 1; l < c->k; l++)
		mixed |= strcmp(c->m[l]->method, c->m[0]->method) != 0;
	if (mixed)
		snprintf(buf, cap, "%s/%s", c->m[i]->method, c->m[i]->metric);
	else
		snprintf(buf, cap, "%s", c->m[i]->metric);
}

static void print_tables(const struct mp_correlation *c)
{
	char lb[256];
	size_t w = 10;
	for (size_t l = 0; l < c->k; l++) {
		label(c, l, lb, sizeof lb);
		size_t lw = cli_width(lb);
		if (lw > w)
			w = lw > 24 ? 24 : lw;
	}
	bool mixed = false;
	for (size_t l = 1; l < c->k; l++)
		mixed |= strcmp(c->m[l]->method, c->m[0]->method) != 0;
	printf("%s%s: %zu models in common, %zu pairs used, %zu left out "
	       "(a metric is null)\n",
	       mixed ? "methods " : "method ",
	       mixed ? "mixed" : cli_esc(c->m[0]->method), c->n, c->npairs,
	       c->n_excluded);
	printf("divergences are negated: r > 0 means two metrics agree on "
	       "which models are alike\n");
	for (size_t l = 0; l < c->k; l++) {
		char est[160];
		mp_simmatrix_estimate_text(c->m[l], est, sizeof est);
		printf("%s%s%s\n", mixed ? cli_esc(c->m[l]->method) : "",
		       mixed ? "/" : "", cli_esc(est));
	}
	printf("\n");
	printf("PEARSON CORRELATION (r):\n%-*s", (int)w, "");
	for (size_t l = 0; l < c->k; l++) {
		label(c, l, lb, sizeof lb);
		printf(" %s", cli_cell(lb, w, CLI_RIGHT));
	}
	printf("\n");
	for (size_t i = 0; i < c->k; i++) {
		label(c, i, lb, sizeof lb);
		printf("%s", cli_cell(lb, w, 0));
		for (size_t l = 0; l < c->k; l++) {
			double r = c->r[i * c->k + l];
			if (isnan(r))
				printf(" %*s", (int)w, "-");
			else
				printf(" %*.6g", (int)w, r);
		}
		printf("\n");
	}
	printf("\nMETRIC SUMMARY (over the pairs used, raw values):\n"
	       "%-*s %12s %12s %12s %12s  %s\n",
	       (int)w, "Metric", "Mean", "Std", "Min", "Max", "Direction");
	for (size_t i = 0; i < w + 4 * 13 + 12; i++)
		putchar('-');
	printf("\n");
	for (size_t i = 0; i < c->k; i++) {
		const struct mp_metric_summary *s = &c->summary[i];
		label(c, i, lb, sizeof lb);
		printf("%s %12.6g %12.6g %12.6g %12.6g  %s\n",
		       cli_cell(lb, w, 0), s->mean, s->std, s->min, s->max,
		       c->m[i]->higher_is_more_alike ? "similarity"
						     : "divergence");
	}
}

int cmd_correlate(int argc, char **argv)
{
	struct corr_opts o = {0};
	int rc = parse(argc, argv, &o);
	if (rc) {
		free(o.list);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	struct mp_simmatrix *ms[MAX_METRICS] = {0};
	struct mp_correlation *c = NULL;
	struct mp_model_info_set *info = NULL;
	mp_json *j = NULL;
	struct mp_error err;
	rc = CLI_EXIT_FAIL;
	if (load(&o, ms, &err) != MP_OK ||
	    mp_correlate((const struct mp_simmatrix *const *)ms, o.k, &c,
			 &err) != MP_OK ||
	    ((o.info || o.registry) &&
	     cli_load_model_info(o.info, o.registry, &info, &err) != MP_OK)) {
		cli_fail(&err);
		goto out;
	}
	if ((o.json || o.outdir) && !(j = mp_correlation_to_json(c))) {
		cli_error("out of memory");
		goto out;
	}
	if (o.json)
		cli_print_json(j);
	else
		print_tables(c);
	if (o.outdir) {
		if (cli_write_json(o.outdir, "correlation.json", j, &err) !=
		    MP_OK) {
			cli_fail(&err);
			goto out;
		}
		char *html = mp_path_join(o.outdir, "correlation.html");
		mp_status st = html ? mp_report_html_correlation(html, c, info,
								 &err)
				    : mp_error_set(&err, MP_ENOMEM,
						   "out of memory");
		free(html);
		if (st != MP_OK) {
			cli_fail(&err);
			goto out;
		}
		if (!o.json)
			printf("\nwrote %s/correlation.json\nwrote "
			       "%s/correlation.html\n",
			       cli_esc(o.outdir), cli_esc(o.outdir));
	}
	rc = CLI_EXIT_OK;
out:
	mp_json_free(j);
	mp_correlation_free(c);
	mp_model_info_free(info);
	for (size_t i = 0; i < o.k; i++)
		mp_simmatrix_free(ms[i]);
	free(o.list);
	return rc;
}
