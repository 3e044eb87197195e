/* cmd_matrix.c — `modelprint matrix convert`: a matrix of a
 * similarity-matrices file (JSON or binary) written as a binary
 * similarity-matrix file (modelprint-files(5)). */
#include "cli.h"
#include "simmatrix.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint matrix convert IN OUT [--method M] [--metric X]\n"
	"                                [--float32]\n"
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

int cmd_matrix(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "convert")) {
		int rc = convert(argc - 1, argv + 1);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage_error("matrix", "a subcommand is needed (convert)");
	return cli_usage_error("matrix", "unknown subcommand '%s'", argv[1]);
}
