/* cmd_analyze.c — `modelprint analyze`: family and type analysis of one
 * similarity matrix (seed 000), console tables, JSON and text reports. */
#include "cli.h"
#include "cluster_cut.h"
#include "groups.h"
#include "registry.h"
#include "report_html.h"
#include "report_text.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint analyze --results-file FILE\n"
	"                          (--model-info FILE | --registry DIR)\n"
	"                          [--method M] [--metric X]\n"
	"                          [--output-dir DIR] [--json] [--cut X]\n"
	"\n"
	"Group the pairs of one similarity matrix by family and type:\n"
	"intrafamily pairs, interfamily pairs (one group per two families)\n"
	"and type pairs (two different types within one family, grouped\n"
	"across families); print min, max, mean, variance and pair counts of\n"
	"each group, most alike first.\n"
	"\n"
	"  --results-file FILE  similarity_matrices.json from 'modelprint run',\n"
	"                       a binary matrix file, or a top-k neighbour\n"
	"                       file ('modelprint matrix topk'), whose\n"
	"                       neighbours are listed (no model info needed)\n"
	"  --model-info FILE    JSON array of {model_id, family, model_type,\n"
	"                       display_name}\n"
	"  --registry DIR       take names, families and types from a registry\n"
	"  --method M           a method of the results file (this build\n"
	"                       computes %s); default\n"
	"                       input_output when the file has it (seed\n"
	"                       000's workflow), else its first method\n"
	"  --metric X           default l1 if present, else the method's first\n"
	"  --output-dir DIR     write analysis.json, summary.txt, the pair\n"
	"                       reports pairs_intrafamily.txt,\n"
	"                       pairs_interfamily.txt, pairs_type_pairs.txt\n"
	"                       and the HTML dashboard dashboard.html\n"
	"  --json               print the JSON report instead of the tables\n"
	"  --cut X              cut the average-linkage dendrogram at score X\n"
	"                       for the clusters of the JSON report and the\n"
	"                       dashboard (default: the median merge height)\n"
	"  -h, --help           this text\n";

struct analyze_opts {
	const char *results, *info, *registry, *method, *metric, *outdir;
	bool json;
	bool has_cut;
	double cut;
};

/* The clusters at the cut (given, else the median merge height) as the
 * report's "cluster_cut" and "clusters" members. */
static mp_status add_clusters(const struct analyze_opts *o,
			      const struct mp_analysis *a, mp_json *report,
			      struct mp_cluster_cut **cut, struct mp_error *err)
{
	struct mp_cluster_tree *t;
	mp_status st = mp_cluster_tree_build(a->m, &t, err);
	if (st != MP_OK)
		return st;
	double c = o->has_cut ? o->cut : mp_cluster_default_cut(t);
	if (isnan(c)) /* fewer than two models: each alone */
		c = a->m->higher_is_more_alike ? INFINITY : -INFINITY;
	st = mp_cluster_cut_make(t, c, a->family, a->type, cut, err);
	mp_cluster_tree_free(t);
	if (st != MP_OK || !report)
		return st;
	mp_json *info = mp_json_add_obj(report, "cluster_cut");
	mp_json *list = mp_cluster_cut_to_json(*cut, a->m->ids);
	if (!info || !mp_json_set(report, "clusters", list) ||
	    !mp_json_add_str(info, "linkage", "average") ||
	    !mp_json_add_num(info, "cut", c) ||
	    !mp_json_add_str(info, "rule", o->has_cut ? "given"
						      : "median merge height") ||
	    !mp_json_add_num(info, "count", (double)(*cut)->n))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	return MP_OK;
}

/* The matrix the options select, read from the results file. */
static mp_status load_matrix(const struct analyze_opts *o,
			     struct mp_simmatrix **m, struct mp_error *err)
{
	struct mp_simmatrix_file *f;
	mp_status st = mp_simmatrix_file_open(o->results, &f, err);
	if (st != MP_OK)
		return st;
	size_t idx;
	st = mp_simmatrix_file_pick(f, o->method, o->metric, &idx, err);
	if (st == MP_OK)
		st = mp_simmatrix_file_get(f, idx, m, err);
	mp_simmatrix_file_close(f);
	return st;
}

/* analysis.json and the text reports in o->outdir. */
static mp_status write_outputs(const struct analyze_opts *o,
			       const struct mp_analysis *a,
			       const struct mp_cluster_cut *cut,
			       const mp_json *report, struct mp_error *err)
{
	mp_status st = cli_write_json(o->outdir, "analysis.json", report, err);
	if (st == MP_OK)
		st = mp_report_text_write(a, o->outdir, err);
	if (st == MP_OK) {
		char *html = mp_path_join(o->outdir, "dashboard.html");
		st = html ? mp_report_html_dashboard_clusters(html, a, cut,
							   err)
			  : mp_error_set(err, MP_ENOMEM, "out of memory");
		free(html);
	}
	if (st == MP_OK && !o->json) {
		const char *files[] = {"analysis.json", MP_REPORT_SUMMARY,
				       MP_REPORT_INTRA, MP_REPORT_INTER,
				       MP_REPORT_TYPEPAIR, "dashboard.html"};
		printf("\n");
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
			printf("wrote %s/%s\n", cli_esc(o->outdir), files[i]);
	}
	return st;
}

static int parse(int argc, char **argv, struct analyze_opts *o)
{
	static const struct option opts[] = {
		{"results-file", required_argument, NULL, 'r'},
		{"model-info", required_argument, NULL, 'i'},
		{"registry", required_argument, NULL, 'g'},
		{"method", required_argument, NULL, 'm'},
		{"metric", required_argument, NULL, 'x'},
		{"output-dir", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"cut", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': o->results = optarg; break;
		case 'i': o->info = optarg; break;
		case 'g': o->registry = optarg; break;
		case 'm': o->method = optarg; break;
		case 'x': o->metric = optarg; break;
		case 'o': o->outdir = optarg; break;
		case 'j': o->json = true; break;
		case 'c': {
			char *end;
			o->cut = strtod(optarg, &end);
			o->has_cut = true;
			if (end == optarg || *end || !isfinite(o->cut))
				return cli_usage_error("analyze", "--cut wants a "
								  "number, not "
								  "'%s'",
						       optarg);
			break;
		}
		case 'h':
			printf(usage_text, cli_method_list(", "));
			return -1;
		default:
			return cli_bad_option("analyze", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("analyze", "unexpected argument '%s'",
				       argv[optind]);
	if (!o->results)
		return cli_usage_error("analyze", "--results-file FILE is "
						  "required");
	if (o->info && o->registry)
		return cli_usage_error("analyze", "give one of --model-info FILE "
						  "and --registry DIR");
	return 0;
}

/* A top-k neighbour file: each model's neighbours, most alike first. */
static int neighbours(const struct analyze_opts *o)
{
	struct mp_error err;
	struct mp_simtopk *t;
	if (mp_simtopk_read(o->results, &t, &err) != MP_OK)
		return cli_fail(&err);
	size_t n = t->n, k = t->k;
	mp_json *j = o->json ? mp_json_object() : NULL, *nb = NULL;
	if (j) {
		mp_json_add_str(j, "method", t->method);
		mp_json_add_str(j, "metric", t->metric);
		mp_json_add_bool(j, "higher_is_more_alike",
				 t->higher_is_more_alike);
		mp_json_add_num(j, "k", (double)k);
		nb = mp_json_add_obj(j, "neighbours");
	} else {
		char est[160];
		printf("method %s, metric %s (%s), %zu nearest of each of %zu "
		       "models\n%s\n\n%-16s NEIGHBOURS (score)\n",
		       cli_esc(t->method), cli_esc(t->metric),
		       t->higher_is_more_alike ? "higher is more alike"
					       : "lower is more alike",
		       k, n,
		       cli_esc(mp_simmatrix_estimate_phrase(
			   &(struct mp_simmatrix){.estimate = t->estimate,
						  .sketch_values =
						      t->sketch_values},
			   est, sizeof est)),
		       "MODEL");
	}
	for (size_t i = 0; i < n; i++) {
		mp_json *row = nb ? mp_json_add_arr(nb, t->ids[i]) : NULL;
		if (!j)
			printf("%s", cli_cell(t->ids[i], 16, 0));
		for (size_t p = 0; p < k; p++) {
			uint32_t x = t->index[i * k + p];
			if (x == MP_TOPK_NONE)
				break;
			double v = t->score[i * k + p];
			if (row) {
				mp_json *e = mp_json_object();
				mp_json_add_str(e, "id", t->ids[x]);
				mp_json_add_num(e, "score", v);
				mp_json_push(row, e);
			} else {
				printf("%s %s " MP_SCORE_FMT, p ? "," : "",
				       cli_esc(t->ids[x]), v);
			}
		}
		if (!j)
			printf("\n");
	}
	if (j)
		cli_print_json(j);
	mp_json_free(j);
	mp_simtopk_free(t);
	return CLI_EXIT_OK;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = {0};
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (mp_simtopk_is_file(o.results))
		return neighbours(&o);
	if (!o.info && !o.registry)
		return cli_usage_error("analyze", "give one of --model-info FILE "
						  "and --registry DIR");
	struct mp_error err;
	struct mp_simmatrix *m = NULL;
	struct mp_model_info_set *info = NULL;
	struct mp_analysis *a = NULL;
	mp_json *report = NULL;
	struct mp_cluster_cut *cut = NULL;
	char *text = NULL;
	rc = CLI_EXIT_FAIL;
	if (load_matrix(&o, &m, &err) != MP_OK ||
	    cli_load_model_info(o.info, o.registry, &info, &err) != MP_OK ||
	    mp_analysis_compute(m, info, &a, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (o.json || o.outdir) {
		if (!(report = mp_analysis_to_json(a))) {
			cli_error("out of memory");
			goto out;
		}
	}
	if ((o.json || o.outdir) &&
	    add_clusters(&o, a, report, &cut, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (o.json) {
		cli_print_json(report);
		if (a->n_missing_in_info)
			cli_error("warning: %zu models of the results are not "
				  "in the model info (see missing_in_model_info)",
				  a->n_missing_in_info);
		if (a->n_missing_in_results)
			cli_error("warning: %zu models of the model info are "
				  "not in the results (see missing_in_results)",
				  a->n_missing_in_results);
	} else {
		if (!(text = mp_report_summary(a, 20))) {
			cli_error("out of memory");
			goto out;
		}
		fputs(text, stdout);
	}
	if (o.outdir && write_outputs(&o, a, cut, report, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	free(text);
	mp_cluster_cut_free(cut);
	mp_json_free(report);
	mp_analysis_free(a);
	mp_model_info_free(info);
	mp_simmatrix_free(m);
	return rc;
}
