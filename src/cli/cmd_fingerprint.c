/* cmd_fingerprint.c — `modelprint fingerprint`: fingerprint model files. */
#include "cli.h"
#include "model.h"
#include "arch.h"
#include "escape.h"
#include "atomic_write.h"
#include "json_write.h"
#include "metric.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: modelprint fingerprint [--method %s]\n"
	"                              [--arg KEY=VALUE]... [--threads N]\n"
	"                              [--output-axis first|last]\n"
	"                              [--each] [--wide] [--json] [-o FILE]\n"
	"                              [--arch] [--signatures FILE]\n"
	"                              FILE...\n"
	"\n"
	"Fingerprint each model (a safetensors file, sharded index or directory,\n"
	"a TF.js model.json or weights manifest, a NumPy .npy or .npz file, a\n"
	"PyTorch checkpoint or pytorch_model.bin.index.json, a GGUF file or the\n"
	"first of its -00001-of-0000N.gguf shards) and print a table, or JSON;\n"
	"a GGUF model's metadata (architecture, name, file type, ...) follows\n"
	"its row.\n"
	"\n"
	"  --method M       one of %s (default tensors)\n"
	"  --arg KEY=VALUE  a method argument (tensors: sketch_size, seed;\n"
	"                   spectral: max_sv, exact_limit, seed, output_axis;\n"
	"                   weight: size; input_output: n0,\n"
	"                   probe_tokens_path, target_tokens_path)\n"
	"  --output-axis A  spectral: every tensor's output axis, first or\n"
	"                   last (default: the format's, first for\n"
	"                   safetensors, last for TF.js); --arg output_axis=A\n"
	"  --threads N      worker threads (default: all CPUs)\n"
	"  --each           a directory is a folder of models: fingerprint\n"
	"                   each model in it (file or directory)\n"
	"  --wide           every column, names uncut, whatever the terminal\n"
	"                   (on a terminal the table fits its width)\n"
	"  --json           print {\"fingerprints\": [...]} instead of a table\n"
	"  -o FILE          also write that JSON document to FILE\n"
	"  --arch           also name each model's architecture, variant and\n"
	"                   coverage from data/architectures.json (JSON: an\n"
	"                   \"architecture\" object per fingerprint)\n"
	"  --signatures F   --arch with the signatures of file F\n"
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
	for (uint32_t g = 0; g < MP_FP_GGML_IDS; g++) {
		if (!fp->ggml_params[g] || !mp_ggml_type(g))
			continue;
		size_t l = strlen(buf);
		double pct = 100.0 * (double)fp->ggml_params[g] /
			     (double)fp->params;
		snprintf(buf + l, cap - l, "%s%s %s%.0f%%", l ? ", " : "",
			 mp_ggml_type(g)->name, pct < 0.5 ? "<" : "",
			 pct < 0.5 ? 1.0 : pct);
	}
}

/* The model's own description (GGUF metadata), one "  key: value" line
 * each. */
static void print_meta(const struct mp_fingerprint *fp)
{
	for (size_t i = 0; i < fp->nmeta; i++) {
		printf("  %s: ", cli_esc(fp->meta[i].key));
		printf("%s\n", cli_esc(fp->meta[i].value));
	}
}

/* A vector fingerprint (weight, input_output): its length, its count of
 * non-zero values and the first few values. */
static void print_vector(const struct mp_fingerprint *fp)
{
	if (!fp->nvec)
		return;
	size_t nz = 0;
	for (size_t i = 0; i < fp->nvec; i++)
		nz += fp->vec[i] != 0;
	printf("  vector: %zu values, %zu non-zero:", fp->nvec, nz);
	for (size_t i = 0; i < fp->nvec && i < 6; i++)
		printf(" " MP_SCORE_FMT, fp->vec[i]);
	printf("%s\n", fp->nvec > 6 ? " ..." : "");
	if (fp->vec_note)
		printf("  from: %s\n", cli_esc(fp->vec_note));
}

/* The columns of the table: MODEL is model columns wide, SECONDS and
 * SHA256 are shown when seconds and sha. */
struct layout {
	size_t model;
	bool seconds, sha;
};

/* Columns of FORMAT TENSORS PARAMS DTYPES with their spaces, of SECONDS
 * and of SHA256 (16 hex digits), each with the space before it. */
enum { COLS_BASE = 1 + 11 + 1 + 7 + 1 + 12 + 1 + 22, COLS_SECONDS = 8,
       COLS_SHA = 17, MODEL_MIN = 24 };

/* The layout for paths[0..n) on stdout: when it is not a terminal, the
 * full table with MODEL 40 columns (scripts read it); with wide, every
 * column and MODEL as wide as the longest name; else it fits the
 * terminal: MODEL up to the longest name, SHA256 and then SECONDS left
 * out while MODEL would get fewer than MODEL_MIN columns. */
static void layout_make(struct layout *l, char *const *paths, size_t n,
			bool wide)
{
	size_t names = 5; /* "MODEL" */
	for (size_t i = 0; i < n; i++) {
		size_t w = cli_width(paths[i]);
		names = w > names ? w : names;
	}
	size_t cols = cli_stdout_width();
	*l = (struct layout){40, true, true};
	if (wide) {
		l->model = names;
		return;
	}
	if (cols == 0)
		return;
	size_t want = names < MODEL_MIN ? names : MODEL_MIN;
	size_t used = COLS_BASE + COLS_SECONDS + COLS_SHA;
	if (cols < used + want) {
		l->sha = false;
		used -= COLS_SHA;
	}
	if (cols < used + want) {
		l->seconds = false;
		used -= COLS_SECONDS;
	}
	size_t room = cols > used ? cols - used : 0;
	l->model = names < room ? names : room < 10 ? 10 : room;
}

static void print_header(const struct layout *l)
{
	printf("%s %-11s %7s %12s %-*s", cli_cell("MODEL", l->model, 0),
	       "FORMAT", "TENSORS", "PARAMS", l->seconds || l->sha ? 22 : 0,
	       "DTYPES");
	if (l->seconds)
		printf(" %7s", "SECONDS");
	if (l->sha)
		printf(" SHA256");
	printf("\n");
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What every model of one command gets. */
struct job {
	const char *method;
	const mp_json *args;
	int threads;
	bool json;
	struct mp_jw *ws[2]; /* --json (stdout) and -o writers, or NULL */
	struct layout lay;
	bool headed; /* the table's header is out (before its first row) */
	const struct mp_arch_set *arch; /* --arch, or NULL */
};

enum { ARCH_SHOW = 8 }; /* missing / extra patterns printed per model */

static void print_groups(const char *what, const struct mp_arch_group *g,
			 size_t n)
{
	for (size_t i = 0; i < n && i < ARCH_SHOW; i++)
		printf("  %s: %s (%zu)\n", what, cli_esc(g[i].pattern),
		       g[i].count);
	if (n > ARCH_SHOW)
		printf("  %s: ... and %zu more patterns\n", what,
		       n - ARCH_SHOW);
}

/* The architecture lines under a model's row. */
static void print_arch(const struct mp_arch_result *r)
{
	const struct mp_arch_match *b = r->n ? &r->m[0] : NULL;
	if (!r->known) {
		printf("  architecture: unknown");
		if (b && b->rejected)
			printf(" (nearest %s is ruled out: %s)",
			       cli_esc(b->name),
			       cli_esc(b->conflict ? b->conflict : ""));
		else if (b)
			printf(" (nearest %s covers %.1f%%, below %.0f%%)",
			       cli_esc(b->name), 100 * b->coverage,
			       100 * r->min_coverage);
		printf("\n");
		return;
	}
	printf("  architecture: %s (%s)", cli_esc(b->name),
	       cli_esc(b->family));
	const char *sep = ":";
	if (b->hidden) {
		printf("%s hidden %llu", sep, (unsigned long long)b->hidden);
		sep = ",";
	}
	if (b->layers) {
		printf("%s %llu layers", sep, (unsigned long long)b->layers);
		sep = ",";
	}
	if (b->heads) {
		printf("%s %llu heads", sep, (unsigned long long)b->heads);
		sep = ",";
	}
	if (b->kv_heads)
		printf("%s %llu kv heads", sep, (unsigned long long)b->kv_heads);
	printf("; coverage %.1f%% (%zu of %zu)\n", 100 * b->coverage,
	       b->present, b->expected);
	print_groups("missing", b->missing, b->nmissing);
	print_groups("extra", b->extra, b->nextra);
}

/* Fingerprint the model at path into its table row and the JSON writers;
 * 1 (after printing the error) when it failed. */
static int fingerprint_one(struct job *j, const char *path, bool each)
{
	struct mp_error err;
	struct mp_model *m;
	struct mp_fingerprint *fp = NULL;
	struct mp_arch_result *ar = NULL;
	mp_status st = mp_model_open(path, &m, &err);
	if (st == MP_OK && j->arch &&
	    (st = mp_arch_match_model(j->arch, m, &ar, &err)) != MP_OK)
		mp_model_free(m);
	if (st == MP_OK) {
		struct cli_progress pr;
		st = mp_fp_compute(m, j->method, j->args, j->threads,
				   cli_progress_start(&pr, path), &fp, &err);
		cli_progress_end(&pr);
		mp_model_free(m);
	}
	if (st == MP_EMANY && !each) {
		cli_error("%s; --each fingerprints each model of the directory",
			  err.msg);
		return 1;
	}
	char **v;
	size_t n;
	if (st == MP_EFORMAT && !each && is_dir(path) &&
	    mp_model_list_dir(path, &v, &n, NULL) == MP_OK) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		cli_error("%s: not one model but a folder of %zu model%s; "
			  "--each fingerprints each", path, n, n == 1 ? "" : "s");
		return 1;
	}
	if (st != MP_OK) {
		mp_arch_result_free(ar);
		return cli_fail(&err);
	}
	if (!j->json) {
		const struct layout *l = &j->lay;
		if (!j->headed)
			print_header(l);
		j->headed = true;
		char mix[128];
		dtype_mix(fp, mix, sizeof mix);
		printf("%s %-11s %7zu %12llu %-*s",
		       cli_cell(path, l->model, CLI_TAIL), fp->format,
		       fp->ntensors, (unsigned long long)fp->params,
		       l->seconds || l->sha ? 22 : 0, mix);
		if (l->seconds)
			printf(" %7.2f", fp->seconds);
		if (l->sha)
			printf(" %.16s", fp->nfiles ? fp->files[0].sha256 : "");
		printf("\n");
		print_meta(fp);
		print_vector(fp);
		if (ar)
			print_arch(ar);
	}
	mp_json *tree = NULL;
	if (ar && (j->ws[0] || j->ws[1])) {
		mp_json *a = mp_arch_result_json(ar);
		if (!(tree = mp_fp_to_json(fp)) || !a ||
		    !mp_json_set(tree, "architecture", a)) {
			mp_json_free(a);
			mp_json_free(tree);
			mp_arch_result_free(ar);
			mp_fp_free(fp);
			cli_error("out of memory");
			return 1;
		}
	}
	for (int k = 0; k < 2; k++)
		if (j->ws[k]) {
			if (tree)
				mp_jw_value(j->ws[k], NULL, tree);
			else
				mp_fp_write_json(j->ws[k], NULL, fp);
		}
	mp_json_free(tree);
	mp_arch_result_free(ar);
	mp_fp_free(fp);
	return 0;
}

/* paths[0..n) with every directory replaced by the models in it
 * (mp_model_list_dir), into *out[0..*nout) (each string and the array
 * the caller's, even on failure); 1 after printing the error. */
static int expand(char *const *paths, size_t n, char ***out, size_t *nout)
{
	struct mp_error err;
	for (size_t i = 0; i < n; i++) {
		char **v = NULL, *one = NULL;
		size_t k = 1;
		if (is_dir(paths[i])) {
			if (mp_model_list_dir(paths[i], &v, &k, &err) != MP_OK)
				return cli_fail(&err);
		} else if (!(one = mp_strdup(paths[i]))) {
			cli_error("out of memory");
			return 1;
		}
		char **nl = realloc(*out, (*nout + k) * sizeof *nl);
		if (!nl) {
			for (size_t x = 0; v && x < k; x++)
				free(v[x]);
			free(v);
			free(one);
			cli_error("out of memory");
			return 1;
		}
		*out = nl;
		if (v)
			memcpy(nl + *nout, v, k * sizeof *v);
		else
			nl[*nout] = one;
		*nout += k;
		free(v);
	}
	return 0;
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
		{"each", no_argument, NULL, 'e'},
		{"wide", no_argument, NULL, 'w'},
		{"output", required_argument, NULL, 'o'},
		{"arch", no_argument, NULL, 'A'},
		{"signatures", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *method = "tensors", *outfile = NULL, *sigfile = NULL;
	bool want_arch = false;
	long threads = 0;
	int json = 0, c, rc;
	bool each = false, wide = false;
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
		case 'e':
			each = true;
			break;
		case 'w':
			wide = true;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'A':
			want_arch = true;
			break;
		case 'S':
			want_arch = true;
			sigfile = optarg;
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
	struct mp_arch_set *archs = NULL;
	if (want_arch && cli_arch_load(sigfile, &archs) != 0) {
		mp_json_free(args);
		return CLI_EXIT_FAIL;
	}
	/* fingerprints are written as they come, never as one tree: a model
	 * of millions of tensors would need gigabytes for it */
	struct mp_atomic out = {0};
	if (outfile && mp_atomic_open(&out, outfile, &err) != MP_OK) {
		cli_fail(&err);
		mp_arch_free(archs);
		mp_json_free(args);
		return CLI_EXIT_FAIL;
	}
	struct mp_jw *jw = json ? mp_jw_new(stdout, true) : NULL;
	struct mp_jw *ow = outfile ? mp_jw_new(out.fp, false) : NULL;
	struct mp_jw *ws[2] = {jw, ow};
	for (int k = 0; k < 2; k++)
		if (ws[k]) {
			mp_jw_obj(ws[k], NULL);
			mp_jw_arr(ws[k], "fingerprints");
		}
	struct job jb = {.method = method, .args = args, .threads = (int)threads,
			 .json = json, .ws = {jw, ow}, .arch = archs};
	int failed = 0;
	char **paths = argv + optind, **listed = NULL;
	size_t npaths = (size_t)(argc - optind), nlisted = 0;
	if (each) {
		failed = expand(paths, npaths, &listed, &nlisted);
		paths = listed;
		npaths = failed ? 0 : nlisted;
	}
	if (!json && npaths)
		layout_make(&jb.lay, paths, npaths, wide);
	for (size_t i = 0; i < npaths; i++)
		failed |= fingerprint_one(&jb, paths[i], each);
	for (size_t i = 0; i < nlisted; i++)
		free(listed[i]);
	free(listed);
	for (int k = 0; k < 2; k++)
		if (ws[k]) {
			mp_jw_end(ws[k]);
			mp_jw_end(ws[k]);
		}
	if (json) {
		putchar('\n');
		fflush(stdout);
		if (!mp_jw_free(jw)) {
			cli_error("standard output: cannot write the JSON "
				  "output");
			failed = 1;
		}
	}
	if (outfile) {
		if (!mp_jw_free(ow)) {
			mp_atomic_abort(&out);
			mp_error_set(&err, MP_EIO, "%s: cannot write", outfile);
			cli_fail(&err);
			failed = 1;
		} else if (mp_atomic_commit(&out, &err) != MP_OK) {
			cli_fail(&err);
			failed = 1;
		}
	}
	mp_arch_free(archs);
	mp_json_free(args);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
