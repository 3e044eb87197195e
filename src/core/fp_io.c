/* fp_io.c — the `input_output` fingerprint method of seed 000's workflow
 * (DESIGN.md §5): a causal language model's behaviour on probe texts,
 * measured through its input embeddings and next-token probabilities
 * (llm_io.c), the probes and targets read from token lists
 * (io_tokens.c) with the model's own tokenizer. */
#include "fingerprint.h"
#include "io_tokens.h"
#include "llm_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IO_N0_DEFAULT 40
#define IO_N0_MAX 100000

static const char *const arg_names[] = {"n0", "probe_tokens_path",
					"target_tokens_path", NULL};

static mp_status io_check(const mp_json *args, struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, "n0");
	uint64_t n0;
	if (v && (!mp_json_uint(v, &n0) || n0 < 1 || n0 > IO_N0_MAX))
		return mp_error_set(err, MP_EINVAL,
				    "input_output: argument n0 must be an "
				    "integer in 1..%d",
				    IO_N0_MAX);
	for (int i = 1; i < 3; i++)
		if ((v = mp_json_get(args, arg_names[i])) &&
		    (!mp_json_str(v) || !*mp_json_str(v)))
			return mp_error_set(err, MP_EINVAL,
					    "input_output: argument %s must "
					    "be a file name",
					    arg_names[i]);
	return MP_OK;
}

/* The list file for argument key: as given when it exists; a relative name
 * that does not is looked up by its last component in the data directory's
 * io_tokens (so seed 000's "helper_data/io_tokens/probe_tokens.txt" runs
 * unchanged); no argument is the default list there. */
static void list_path(const mp_json *args, const char *key, const char *def,
		      char *out, size_t cap)
{
	const mp_json *v = mp_json_get(args, key);
	const char *given = v ? mp_json_str(v) : NULL;
	struct stat st;
	if (given && (stat(given, &st) == 0 || given[0] == '/')) {
		snprintf(out, cap, "%s", given);
		return;
	}
	const char *base = given ? strrchr(given, '/') : NULL;
	base = base ? base + 1 : given ? given : def;
	const char *roots[] = {MP_DATADIR, MP_SRCDATADIR};
	for (int i = 0; i < 2; i++) {
		snprintf(out, cap, "%s/io_tokens/%s", roots[i], base);
		if (stat(out, &st) == 0)
			return;
	}
	snprintf(out, cap, "%s", given ? given : def);
}

/* The first id of every target entry, repeated ids dropped. */
static size_t target_ids(const struct mp_io_list *t, int32_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		int32_t id = t->ids[t->off[i]];
		size_t j = 0;
		while (j < n && out[j] != id)
			j++;
		if (j == n)
			out[n++] = id;
	}
	return n;
}

static mp_status read_list(const char *path, const struct mp_tokenizer *tok,
			   const char *why_no_tok, size_t vocab,
			   const char *what, struct mp_io_list *l,
			   struct mp_error *err)
{
	mp_status st = mp_io_list_read(path, tok, vocab, l, err);
	if (st == MP_EINVAL && !tok && why_no_tok) {
		char keep[sizeof err->msg];
		snprintf(keep, sizeof keep, "%s", err->msg);
		return mp_error_set(err, st, "%s (%s)", keep, why_no_tok);
	}
	if (st == MP_OK && !l->n) {
		size_t skipped = l->skipped, bad = l->unencodable;
		mp_io_list_free(l);
		return mp_error_set(err, MP_EINVAL,
				    "%s: no usable %s: %zu entries give no "
				    "token of the model's vocabulary (%zu "
				    "with a character its tokenizer cannot "
				    "encode)",
				    path, what, skipped, bad);
	}
	return st;
}

static mp_status io_compute(const struct mp_model *m, const mp_json *args,
			    int threads, const struct mp_progress *prog,
			    struct mp_fingerprint *fp, struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, "n0");
	uint64_t n0 = IO_N0_DEFAULT;
	if (v)
		mp_json_uint(v, &n0);
	char probes_path[4096], targets_path[4096];
	list_path(args, "probe_tokens_path", "probe_tokens.txt", probes_path,
		  sizeof probes_path);
	list_path(args, "target_tokens_path", "target_tokens.txt",
		  targets_path, sizeof targets_path);
	struct mp_llm *llm = NULL;
	mp_status st = mp_llm_open(m, &llm, err);
	if (st == MP_OK)
		mp_llm_set_threads(llm, threads);
	if (st) {
		char why_not[sizeof err->msg];
		snprintf(why_not, sizeof why_not, "%s", err->msg);
		return mp_error_set(err, st,
				    "input_output needs a causal language "
				    "model: %s",
				    why_not);
	}
	struct mp_tokenizer *tok = NULL;
	struct mp_error terr = {0};
	char why[sizeof terr.msg] = "";
	if (mp_tokenizer_open(m, &tok, &terr) != MP_OK)
		snprintf(why, sizeof why, "%s", terr.msg);
	size_t vocab = (size_t)mp_llm_cfg(llm)->vocab;
	struct mp_io_list probes = {0}, targets = {0};
	int32_t *tid = NULL;
	double *vec = NULL;
	size_t nvec = 0;
	st = read_list(probes_path, tok, why, vocab, "probe", &probes, err);
	if (st == MP_OK)
		st = read_list(targets_path, tok, why, vocab, "target",
			       &targets, err);
	if (st == MP_OK && !(tid = malloc(targets.n * sizeof *tid)))
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	size_t nt = st == MP_OK ? target_ids(&targets, tid) : 0;
	if (st == MP_OK)
		st = mp_io_fingerprint(llm, probes.ids, probes.off, probes.n,
				       tid, nt, (int)n0, &vec, &nvec, err);
	if (st == MP_OK) {
		char note[512];
		snprintf(note, sizeof note,
			 "%zu probes (%zu skipped, %zu repeated; sha256 %.16s), "
			 "%zu target tokens (sha256 %.16s), tokenizer %s",
			 probes.n, probes.skipped, probes.duplicates,
			 probes.sha256, nt, targets.sha256,
			 tok ? mp_tokenizer_kind(tok) : "none (raw ids)");
		fp->vec = vec;
		fp->nvec = nvec;
		if (!(fp->vec_note = mp_strdup(note)))
			st = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					  m->path);
	} else
		free(vec);
	free(tid);
	mp_io_list_free(&probes);
	mp_io_list_free(&targets);
	mp_tokenizer_free(tok);
	mp_llm_free(llm);
	if (st == MP_OK && prog && prog->fn)
		prog->fn(prog->ctx, 1, 1);
	return st;
}

/* The forward pass reads weights in the layouts of PyTorch, safetensors,
 * GGUF and llama2.c; a TF.js graph is never a causal LM it can run. */
static const char *const never_formats[] = {"tfjs", NULL};

const struct mp_method mp_method_input_output = {
    .name = "input_output",
    .summary = "a language model's next-token behaviour on probe texts "
	       "(seed 000's workflow)",
    .arg_names = arg_names,
    .check_args = io_check,
    .compute = io_compute,
    .never_formats = never_formats,
};
