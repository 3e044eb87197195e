/* cmd_fingerprint.c — `modelprint fingerprint`: fingerprint model files. */
#include "cli.h"
#include "model.h"
#include "atomic_write.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint fingerprint [--method %s]\n"
	"                              [--arg KEY=VALUE]... [--threads N]\n"
	"                              [--output-axis first|last]\n"
	"                              [--json] [-o FILE] FILE...\n"
	"\n"
	"Fingerprint each model (a safetensors file, sharded index or directory,\n"
	"a TF.js model.json or weights manifest) and print a table, or JSON.\n"
	"\n"
	"  --method M       one of %s (default tensors)\n"
	"  --arg KEY=VALUE  a method argument (tensors: sketch_size, seed;\n"
	"                   spectral: max_sv, exact_limit, seed, output_axis)\n"
	"  --output-axis A  spectral: every tensor's output axis, first or\n"
	"                   last (default: the format's, first for\n"
	"                   safetensors, last for TF.js); --arg output_axis=A\n"
	"  --threads N      worker threads (default: all CPUs)\n"
	"  --json           print {\"fingerprints\": [...]} instead of a table\n"
	"  -o FILE          also write that JSON document to FILE\n"
	"  -h, --help       this text\n";

/* The usage, listing the methods of the method table. */
static void print_usage(void)
{
	char bar[256];
	snprintf(bar, sizeof bar, "%s", cli_method_list("|"));
	printf(usage_text, bar, cli_method_list(", "));
}

/* "F32 98%, I32 2%" */
static void dtype_mix(const struct mp_fingerprint *fp, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (int d = 0; d < MP_DTYPE_COUNT; d++) {
		if (!fp->dtype_params[d])
			continue;
		size_t l = strlen(buf);
		double pct = fp->params ? 100.0 * (double)fp->dtype_params[d] /
						  (double)fp->params
					: 0;
		snprintf(buf + l, cap - l, "%s%s %s%.0f%%", l ? ", " : "",
			 mp_dtype_name((enum mp_dtype)d),
			 pct < 0.5 ? "<" : "", pct < 0.5 ? 1.0 : pct);
	}
}

/* --arg KEY=VALUE into args: numbers and booleans as such; 0 when kv is
 * not KEY=VALUE, -1 when KEY is given already. */
static int add_arg(mp_json *args, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return 0;
	char key[128];
	snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
	if (mp_json_get(args, key))
		return -1;
	const char *v = eq + 1;
	char *end;
	double d = strtod(v, &end);
	if (*v && !*end)
		mp_json_add_num(args, key, d);
	else if (!strcmp(v, "true") || !strcmp(v, "false"))
		mp_json_add_bool(args, key, !strcmp(v, "true"));
	else
		mp_json_add_str(args, key, v);
	return 1;
}

int cmd_fingerprint(int argc, char **argv)
{
	static const struct option opts[] = {
		{"method", required_argument, NULL, 'm'},
		{"arg", required_argument, NULL, 'a'},
		{"output-axis", required_argument, NULL, 'x'},
		{"threads", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *method = "tensors", *outfile = NULL;
	long threads = 0;
	int json = 0, c, rc;
	mp_json *args = mp_json_object();
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			method = optarg;
			break;
		case 'a':
			rc = add_arg(args, optarg);
			if (rc <= 0) {
				mp_json_free(args);
				return cli_usage_error("fingerprint",
						       rc ? "argument '%s' is "
							    "given twice"
							  : "--arg needs "
							    "KEY=VALUE, got "
							    "'%s'",
						       optarg);
			}
			break;
		case 'x':
			if (strcmp(optarg, "first") != 0 &&
			    strcmp(optarg, "last") != 0) {
				mp_json_free(args);
				return cli_usage_error(
				    "fingerprint",
				    "--output-axis needs first "
				    "or last, got '%s'",
				    optarg);
			}
			if (mp_json_get(args, "output_axis")) {
				mp_json_free(args);
				return cli_usage_error(
				    "fingerprint",
				    "output_axis is given twice");
			}
			mp_json_add_str(args, "output_axis", optarg);
			break;
		case 't':
			if (!cli_parse_int(optarg, 0, 1024, &threads)) {
				mp_json_free(args);
				return cli_usage_error("fingerprint",
						       "--threads needs 0..1024");
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'h':
			print_usage();
			mp_json_free(args);
			return CLI_EXIT_OK;
		default:
			mp_json_free(args);
			return cli_bad_option("fingerprint", argv, opts);
		}
	}
	if (optind >= argc) {
		mp_json_free(args);
		return cli_usage_error("fingerprint", "no model file given");
	}
	struct mp_error err;
	const struct mp_method *me = mp_method_find(method);
	if (!me) {
		mp_json_free(args);
		return cli_usage_error("fingerprint",
				       "unknown method '%s' (valid: %s)", method,
				       cli_method_list(", "));
	}
	if (mp_json_get(args, "output_axis") &&
	    strcmp(method, "spectral") != 0) {
		mp_json_free(args);
		return cli_usage_error("fingerprint",
				       "--output-axis applies to "
				       "--method spectral only");
	}
	if (mp_method_check_args(me, args, &err) != MP_OK) {
		mp_json_free(args);
		return cli_usage_error("fingerprint", "%s", err.msg);
	}
	mp_json *doc = mp_json_object();
	mp_json *list = mp_json_add_arr(doc, "fingerprints");
	int failed = 0;
	if (!json)
		printf("%-40s %-11s %7s %12s %-22s %7s %s\n", "MODEL", "FORMAT",
		       "TENSORS", "PARAMS", "DTYPES", "SECONDS", "SHA256");
	for (int i = optind; i < argc; i++) {
		struct mp_model *m;
		struct mp_fingerprint *fp = NULL;
		mp_status st = mp_model_open(argv[i], &m, &err);
		if (st == MP_OK) {
			struct cli_progress pr;
			st = mp_fp_compute(m, method, args, (int)threads,
					   cli_progress_start(&pr, argv[i]), &fp,
					   &err);
			cli_progress_end(&pr);
			mp_model_free(m);
		}
		if (st != MP_OK) {
			cli_fail(&err);
			failed = 1;
			continue;
		}
		if (!json) {
			char mix[128];
			dtype_mix(fp, mix, sizeof mix);
			printf("%s %-11s %7zu %12llu %-22s %7.2f %.16s\n",
			       cli_cell(argv[i], 40, CLI_TAIL), fp->format,
			       fp->ntensors, (unsigned long long)fp->params,
			       mix, fp->seconds,
			       fp->nfiles ? fp->files[0].sha256 : "");
		}
		if (json || outfile) /* the table alone needs no JSON tree */
			mp_json_push(list, mp_fp_to_json(fp));
		mp_fp_free(fp);
	}
	if (json)
		cli_print_json(doc);
	if (outfile) {
		char *text = mp_json_print(doc, false);
		if (!text || mp_atomic_write(outfile, text, &err) != MP_OK) {
			cli_fail(&err);
			failed = 1;
		}
		free(text);
	}
	mp_json_free(doc);
	mp_json_free(args);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
