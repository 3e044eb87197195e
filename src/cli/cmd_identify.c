/* cmd_identify.c — `modelprint identify`: where an unknown checkpoint
 * comes from, against the models of a registry or model files. */
#include "cli.h"
#include "identify.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint identify UNKNOWN [--against REGISTRY | FILES...]\n"
	"                           [--top N] [--exact] [--signatures FILE]\n"
	"                           [--threads N] [--json]\n"
	"\n"
	"Name the architecture of the model UNKNOWN (a file or directory, or\n"
	"a `tensors` fingerprint written by `modelprint fingerprint`), score\n"
	"the references of a compatible architecture (shape, exact, stats,\n"
	"cosine, pearson, final with a coverage penalty), and give the most\n"
	"likely parent, or \"no match\", with the relation to it (exact copy,\n"
	"dtype conversion, quantization, pruning, fine-tune, merge, renamed\n"
	"tensors, permuted hidden units) and the evidence that decided it.\n"
	"\n"
	"The references are the models FILES, or those of REGISTRY (their\n"
	"stored `tensors` fingerprints; the default registry when neither is\n"
	"given).\n"
	"\n"
	"  --against LOC    the registry to identify against (a directory, a\n"
	"                   SQLite file or a postgresql:// URL)\n"
	"  --top N          rows of the ranking to print (default 10, 0: all)\n"
	"  --exact          cosine and pearson over whole tensors for the\n"
	"                   leading references (their files must be at hand;\n"
	"                   done anyway when both files are under 64 MiB)\n"
	"  --signatures F   architecture signatures of file F\n"
	"  --threads N      fingerprinting threads (0: one per CPU)\n"
	"  --json           one JSON object (modelprint-files(5))\n"
	"\n"
	"Exit status 0 when a verdict was reached, \"no match\" included.\n";

/* Files smaller than this get exact scores without --exact. */
#define AUTO_EXACT_BYTES (64u << 20)

/* The `tensors` fingerprint of the model at path (or read from path when
 * it is a fingerprint file). *files says whether path holds a model. */
static mp_status fp_of(const char *path, int threads,
		       struct mp_fingerprint **out, bool *files,
		       struct mp_error *err)
{
	*files = false;
	if (mp_ends_with(path, ".json")) {
		mp_json *j = NULL;
		const mp_json *one = NULL;
		if (mp_json_load(path, 1ull << 32, &j, err) == MP_OK) {
			const mp_json *a = mp_json_get(j, "fingerprints");
			one = mp_json_get(j, "method") ? j
			      : mp_json_size(a) == 1 ? mp_json_at(a, 0)
						     : NULL;
		}
		if (one) {
			mp_status st = mp_fp_from_json(one, path, out, err);
			mp_json_free(j);
			if (st == MP_OK && strcmp((*out)->method, "tensors")) {
				st = mp_error_set(err, MP_EINVAL,
						  "%s: a fingerprint of method "
						  "'%s'; identify needs "
						  "'tensors'",
						  path, (*out)->method);
				mp_fp_free(*out);
				*out = NULL;
			}
			return st;
		}
		mp_json_free(j);
	}
	struct mp_model *m;
	mp_status st = mp_model_open(path, &m, err);
	if (st != MP_OK)
		return st;
	struct cli_progress pr;
	st = mp_fp_compute(m, "tensors", NULL, threads,
			   cli_progress_start(&pr, path), out, err);
	cli_progress_end(&pr);
	mp_model_free(m);
	*files = st == MP_OK;
	return st;
}

static const char *base_name(const char *p)
{
	size_t l = strlen(p);
	while (l > 1 && p[l - 1] == '/')
		l--;
	const char *s = p + l;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* The model files paths[0..n) as references into *set (ids: the paths
 * as given, borrowed from argv; names: their file names). */
static int refs_from_files(char **paths, int n, int threads,
			   struct mp_ident_refset **set)
{
	struct mp_error err;
	struct mp_ident_refset *s = calloc(1, sizeof *s);
	if (!s || !(s->refs = calloc((size_t)n, sizeof *s->refs)) ||
	    !(s->fps = calloc((size_t)n, sizeof *s->fps)) ||
	    !(s->strs = calloc((size_t)n, sizeof *s->strs))) {
		mp_ident_refset_free(s);
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	*set = s;
	for (int i = 0; i < n; i++) {
		struct mp_fingerprint *fp;
		bool files;
		if (fp_of(paths[i], threads, &fp, &files, &err) != MP_OK)
			return cli_fail(&err);
		char *name = mp_strdup(base_name(paths[i]));
		if (!name) {
			mp_fp_free(fp);
			cli_error("out of memory");
			return CLI_EXIT_FAIL;
		}
		size_t l = strlen(name);
		while (l > 1 && name[l - 1] == '/')
			name[--l] = 0;
		s->strs[s->nstrs++] = name;
		s->fps[s->n] = fp;
		s->refs[s->n++] = (struct mp_ident_ref){
		    paths[i], name, files ? paths[i] : NULL, fp};
	}
	return 0;
}

/* The references of the registry at where (the index's candidates when
 * it is large) into *set. */
static int refs_from_registry(const char *where,
			      const struct mp_fingerprint *unknown,
			      struct mp_ident_refset **set)
{
	struct mp_error err;
	struct mp_regdb *db;
	if (mp_regdb_open(where, false, &db, &err) != MP_OK)
		return cli_fail(&err);
	int rc = 0;
	if (mp_ident_refs_load(db, unknown, MP_ID_SCAN_MAX, MP_ID_CANDIDATES,
			       set, &err) != MP_OK) {
		rc = cli_fail(&err);
	} else if (!(*set)->n) {
		size_t w = (*set)->without;
		cli_error("%s: no registered model has a tensors fingerprint "
			  "(%zu model%s without); add references with "
			  "'modelprint registry add --fingerprint' or "
			  "'modelprint run --write-to-registry'",
			  mp_regdb_name(db), w, w == 1 ? "" : "s");
		rc = CLI_EXIT_FAIL;
	} else if ((*set)->without) {
		size_t w = (*set)->without;
		fprintf(stderr,
			"modelprint: warning: %zu registered model%s without a "
			"tensors fingerprint left out\n",
			w, w == 1 ? "" : "s");
	}
	mp_regdb_close(db);
	return rc;
}

static const char *num(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.3f", v);
	return buf;
}

static void print_arch(const struct mp_arch_result *a, const char *declared)
{
	if (!a->known || !a->n) {
		printf("architecture: unknown");
		if (a->n && a->m[0].rejected)
			printf(" (nearest %s is ruled out: %s)",
			       cli_esc(a->m[0].name),
			       cli_esc(a->m[0].conflict ? a->m[0].conflict
							: ""));
		else if (a->n && a->m[0].coverage > 0)
			printf(" (nearest %s, coverage %.0f %%)",
			       cli_esc(a->m[0].name), 100 * a->m[0].coverage);
		if (*declared)
			printf("; the file says %s", cli_esc(declared));
		printf("\n");
		return;
	}
	const struct mp_arch_match *m = &a->m[0];
	printf("architecture: %s (%s), coverage %.0f %% (%zu of %zu)",
	       cli_esc(m->name), cli_esc(m->family), 100 * m->coverage,
	       m->present, m->expected);
	if (m->hidden)
		printf(", hidden %llu", (unsigned long long)m->hidden);
	if (m->layers)
		printf(", %llu layers", (unsigned long long)m->layers);
	if (*declared)
		printf("; the file says %s", cli_esc(declared));
	printf("\n");
	for (size_t i = 0; i < m->nmissing && i < 5; i++)
		printf("  missing: %s (%zu)\n", cli_esc(m->missing[i].pattern),
		       m->missing[i].count);
	for (size_t i = 0; i < m->nextra && i < 5; i++)
		printf("  extra:   %s (%zu)\n", cli_esc(m->extra[i].pattern),
		       m->extra[i].count);
}

/* What the file says of its origin, beside the verdict. */
static void print_declared(const struct mp_ident_declared *d,
			   const struct mp_ident_ref *parent)
{
	if (d->base[0]) {
		printf("declared base model: %s", cli_esc(d->base));
		if (d->repo[0])
			printf(" <%s>", cli_esc(d->repo));
		if (d->agrees == 1)
			printf(" (agrees with the measured parent)\n");
		else if (d->agrees == 0)
			printf("\n  WARNING: the file's general.base_model does "
			       "not name the measured parent %s: the "
			       "metadata may be wrong, or the parent is "
			       "registered under another name\n",
			       cli_esc(parent->name));
		else
			printf(" (no measured parent to compare)\n");
	}
	if (d->arch[0] && d->arch_agrees == 0)
		printf("  WARNING: the file's general.architecture '%s' is not "
		       "the architecture its tensors show\n",
		       cli_esc(d->arch));
}

static void print_bar(double v)
{
	int w = (int)lround(fmax(0, fmin(1, v)) * 40);
	for (int i = 0; i < w; i++)
		fputs("#", stdout);
	for (int i = w; i < 40; i++)
		fputs(".", stdout);
}

static void print_text(const struct mp_ident_result *r,
		       const struct mp_ident_ref *refs, const char *upath,
		       const struct mp_fingerprint *u, long top)
{
	printf("unknown: %s (%zu tensors, %llu parameters)\n", cli_esc(upath),
	       u->ntensors, (unsigned long long)u->params);
	print_arch(r->arch, r->declared.arch);
	if (r->ncompatible) {
		const struct mp_ident_score *b = &r->scores[0];
		printf("tensor set: as reference %s, %zu of %zu tensors "
		       "paired",
		       cli_esc(refs[b->ref].name), b->matched, u->ntensors);
		if (b->renamed)
			printf(", %zu under other names", b->renamed);
		printf("\n");
	}
	printf("key tensors: %s, %zu tensor%s\n",
	       r->selection == MP_SEL_SEED
		   ? "the architecture's weights (seed 003)"
	       : r->selection == MP_SEL_DYNAMIC
		   ? "chosen dynamically (largest between-reference "
		     "variance of Pearson)"
		   : "every floating tensor, equal weights",
	       r->nkeys, r->nkeys == 1 ? "" : "s");
	if (r->selection == MP_SEL_DYNAMIC)
		for (size_t i = 0; i < r->nkeys; i++)
			printf("  %s\n", cli_esc(r->keys[i].name));
	printf("references: %zu, compatible: %zu\n\n", r->nscores,
	       r->ncompatible);
	/* the architecture column as wide as its widest shown name, up to 32 */
	size_t aw = cli_width("ARCHITECTURE");
	for (size_t i = 0; i < r->nscores && (top == 0 || (long)i < top);
	     i++) {
		const char *a = r->scores[i].arch;
		size_t w = cli_width(a ? a : "unknown");
		aw = w > aw ? (w < 32 ? w : 32) : aw;
	}
	printf("%4s %s %s %6s %6s %6s %6s %7s %8s %6s  %s\n", "RANK",
	       cli_cell("NAME", 24, 0), cli_cell("ARCHITECTURE", aw, 0),
	       "SHAPE", "EXACT", "STATS", "COSINE", "PEARSON", "COVERAGE",
	       "FINAL", "ID");
	for (size_t i = 0; i < r->nscores && (top == 0 || (long)i < top);
	     i++) {
		const struct mp_ident_score *s = &r->scores[i];
		char b[7][16];
		printf("%4zu %s %s %6s %6s %6s %6s %7s %8s %6s", i + 1,
		       cli_cell(refs[s->ref].name, 24, CLI_TAIL),
		       cli_cell(s->arch ? s->arch : "unknown", aw, 0),
		       num(s->shape, b[0], 16), num(s->exact, b[1], 16),
		       num(s->stats, b[2], 16), num(s->cosine, b[3], 16),
		       num(s->pearson, b[4], 16), num(s->coverage, b[5], 16),
		       num(s->compatible ? s->final : NAN, b[6], 16));
		printf("  %s%s%s\n", cli_esc(refs[s->ref].id),
		       s->compatible ? "" : ": ",
		       s->compatible ? "" : cli_esc(s->why));
	}
	if (top && (size_t)top < r->nscores)
		printf("(%zu more; --top 0 shows all)\n",
		       r->nscores - (size_t)top);
	const struct mp_ident_relation *rel = &r->relation;
	char text[768];
	mp_ident_verdict_text(r, refs, text, sizeof text);
	printf("\nverdict: %s (%s confidence)\n", cli_esc(text),
	       rel->confidence);
	print_declared(&r->declared, r->match ? &refs[rel->parent] : NULL);
	printf("relation: %s, from the %s: %s\n", mp_ident_kind_name(rel->kind),
	       rel->from_files ? "files" : "sketches", cli_esc(rel->evidence));
	if (rel->kind == MP_ID_MERGE)
		for (int i = 0; i < rel->nparents; i++) {
			printf("  %s %.4f ",
			       cli_cell(refs[rel->parents[i]].name, 20, CLI_TAIL),
			       rel->coef[i]);
			print_bar(rel->coef[i]);
			printf("\n");
		}
	for (size_t i = 0; i < rel->nrenames && i < 10; i++)
		printf("  %s -> %s\n", cli_esc(rel->renames[i].from),
		       cli_esc(rel->renames[i].to));
	if (rel->nrenames > 10)
		printf("  (%zu more renamed; --json lists all)\n",
		       rel->nrenames - 10);
}

int cmd_identify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"against", required_argument, NULL, 'a'},
		{"top", required_argument, NULL, 'n'},
		{"exact", no_argument, NULL, 'e'},
		{"signatures", required_argument, NULL, 'S'},
		{"threads", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *against = NULL, *sigfile = NULL;
	long top = 10, threads = 0;
	int json = 0, exact = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'a')
			against = optarg;
		else if (c == 'S')
			sigfile = optarg;
		else if (c == 'e')
			exact = 1;
		else if (c == 'j')
			json = 1;
		else if (c == 'n') {
			if (!cli_parse_int(optarg, 0, 1000000, &top))
				return cli_usage_error("identify",
						       "--top needs 0..1000000");
		} else if (c == 't') {
			if (!cli_parse_int(optarg, 0, 1024, &threads))
				return cli_usage_error("identify",
						       "--threads needs 0..1024");
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else
			return cli_bad_option("identify", argv, opts);
	}
	if (argc - optind < 1)
		return cli_usage_error("identify", "needs the unknown model");
	if (against && argc - optind > 1)
		return cli_usage_error("identify", "--against and reference "
						   "files exclude each other");
	const char *upath = argv[optind];
	struct mp_arch_set *arch = NULL;
	if (cli_arch_load(sigfile, &arch))
		return CLI_EXIT_FAIL;
	struct mp_error err;
	struct mp_fingerprint *ufp = NULL;
	struct mp_ident_refset *set = NULL;
	struct mp_ident_result *res = NULL;
	char *reg = NULL;
	int rc = CLI_EXIT_FAIL;
	bool ufiles;
	if (fp_of(upath, (int)threads, &ufp, &ufiles, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (argc - optind > 1) {
		if (refs_from_files(argv + optind + 1, argc - optind - 1,
				    (int)threads, &set))
			goto out;
	} else {
		if (!(reg = cli_registry_dir(against))) {
			cli_error("out of memory");
			goto out;
		}
		if (refs_from_registry(reg, ufp, &set))
			goto out;
	}
	const struct mp_ident_ref *rv = set->refs;
	size_t rn = set->n;
	struct mp_ident_opts o = {.arch = arch,
				  .unknown_path = ufiles ? upath : NULL,
				  .exact = exact,
				  .max_exact_bytes = AUTO_EXACT_BYTES};
	if (exact && !ufiles) {
		cli_error("%s: --exact needs the model's files, not a "
			  "fingerprint", upath);
		goto out;
	}
	if (mp_identify(ufp, rv, rn, &o, &res, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < res->nwarnings; i++)
		fprintf(stderr, "modelprint: warning: %s\n",
			cli_esc(res->warnings[i]));
	if (json) {
		mp_json *doc = mp_ident_result_json(res, rv);
		mp_json *u = doc ? mp_json_object() : NULL;
		if (!u || !mp_json_set(doc, "unknown", u)) {
			mp_json_free(u);
			mp_json_free(doc);
			cli_error("out of memory");
			goto out;
		}
		mp_json_add_bool(doc, "indexed", set && set->indexed);
		mp_json_add_str(u, "path", upath);
		mp_json_add_num(u, "tensors", (double)ufp->ntensors);
		mp_json_add_num(u, "params", (double)ufp->params);
		cli_print_json(doc);
		mp_json_free(doc);
	} else {
		if (set && set->indexed)
			printf("candidates: the %zu nearest of the registry's "
			       "locality-sensitive index\n",
			       set->n);
		print_text(res, rv, upath, ufp, top);
	}
	rc = CLI_EXIT_OK;
out:
	mp_ident_result_free(res);
	mp_ident_refset_free(set);
	mp_fp_free(ufp);
	mp_arch_free(arch);
	free(reg);
	return rc;
}
