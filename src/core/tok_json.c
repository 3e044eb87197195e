/* tok_json.c — a Hugging Face tokenizer.json with a BPE model: byte-level
 * (a ByteLevel pre-tokenizer, alone or after a Split by the LLaMA-3 or
 * Qwen2 pattern) or SentencePiece-style ("▁" for spaces through a Replace
 * normalizer or a Metaspace pre-tokenizer; byte_fallback). Merges are by
 * rank. Added tokens extend the vocabulary; they are not split out of the
 * text (as llama.cpp without special-token parsing). */
#include "json.h"
#include "tok_int.h"

#include <stdlib.h>
#include <string.h>

#define JSON_MAX ((uint64_t)1 << 30)

static const char pat_gpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
    "\\s+(?!\\S)|\\s+";
static const char pat_llama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
static const char pat_qwen2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

static const char *type_of(const mp_json *j)
{
	const char *t = mp_json_str(mp_json_get(j, "type"));
	return t ? t : "";
}

/* The settings read from the normalizer and pre-tokenizer. */
struct shape {
	bool byte_level, metaspace, replace, prepend, prefix_space;
	int pre; /* -1 none seen, else enum tok_pre */
	bool bad_pattern;
};

static void scan_pre(const mp_json *p, struct shape *sh)
{
	const char *t = type_of(p);
	if (!strcmp(t, "Sequence")) {
		const mp_json *l = mp_json_get(p, "pretokenizers");
		for (size_t i = 0; i < mp_json_size(l); i++)
			scan_pre(mp_json_at(l, i), sh);
	} else if (!strcmp(t, "ByteLevel")) {
		sh->byte_level = true;
		if (mp_json_true(mp_json_get(p, "add_prefix_space")))
			sh->prefix_space = true;
		if (sh->pre < 0) /* its own regex, GPT-2's */
			sh->pre = PRE_GPT2;
	} else if (!strcmp(t, "Split")) {
		const char *re = mp_json_str(
		    mp_json_get(mp_json_get(p, "pattern"), "Regex"));
		if (re && !strcmp(re, pat_gpt2))
			sh->pre = PRE_GPT2;
		else if (re && !strcmp(re, pat_llama3))
			sh->pre = PRE_LLAMA3;
		else if (re && !strcmp(re, pat_qwen2))
			sh->pre = PRE_QWEN2;
		else
			sh->bad_pattern = true;
	} else if (!strcmp(t, "Metaspace")) {
		sh->metaspace = true;
		const char *ps = mp_json_str(mp_json_get(p, "prepend_scheme"));
		if ((ps && strcmp(ps, "never")) ||
		    mp_json_true(mp_json_get(p, "add_prefix_space")))
			sh->prefix_space = true;
	}
}

static void scan_norm(const mp_json *n, struct shape *sh)
{
	const char *t = type_of(n);
	if (!strcmp(t, "Sequence")) {
		const mp_json *l = mp_json_get(n, "normalizers");
		for (size_t i = 0; i < mp_json_size(l); i++)
			scan_norm(mp_json_at(l, i), sh);
	} else if (!strcmp(t, "Prepend")) {
		const char *s = mp_json_str(mp_json_get(n, "prepend"));
		if (s && !strcmp(s, "\xe2\x96\x81"))
			sh->prepend = true;
	} else if (!strcmp(t, "Replace")) {
		const char *from = mp_json_str(
		    mp_json_get(mp_json_get(n, "pattern"), "String"));
		const char *to = mp_json_str(mp_json_get(n, "content"));
		if (from && to && !strcmp(from, " ") &&
		    !strcmp(to, "\xe2\x96\x81"))
			sh->replace = true;
	}
}

/* Token text at id (from the vocab or the added tokens). */
static mp_status put(struct mp_tokenizer *t, const mp_json *idj,
		     const char *text, const char *path, struct mp_error *err)
{
	uint64_t id;
	char kb[MP_NAME_SHOW + 8];
	if (!mp_json_uint(idj, &id) || id >= t->n)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: token '%s' has no valid id", path,
				    mp_printable(text, kb));
	if (t->piece[id]) {
		if (!strcmp(t->piece[id], text))
			return MP_OK; /* an added token repeating the vocab */
		return mp_error_set(err, MP_EFORMAT,
				    "%s: token id %llu given twice", path,
				    (unsigned long long)id);
	}
	if (!(t->piece[id] = mp_strdup(text)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	return MP_OK;
}

static mp_status merges(struct mp_tokenizer *t, const mp_json *m,
			const char *path, struct mp_error *err)
{
	size_t n = mp_json_size(m);
	t->merge = calloc(n ? n : 1, sizeof *t->merge);
	if (!t->merge)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < n; i++) {
		const mp_json *e = mp_json_at(m, i);
		const char *a = mp_json_str(e), *b = NULL;
		if (!a && mp_json_size(e) == 2) {
			a = mp_json_str(mp_json_at(e, 0));
			b = mp_json_str(mp_json_at(e, 1));
			if (!b)
				a = NULL;
		}
		if (!a)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: merge %zu is not a string or "
					    "a pair of strings",
					    path, i);
		size_t la = strlen(a), lb = b ? strlen(b) : 0;
		char *s = malloc(la + lb + 2);
		if (!s)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		memcpy(s, a, la + 1);
		if (b) {
			s[la] = ' ';
			memcpy(s + la + 1, b, lb + 1);
		}
		t->merge[t->nmerge++] = s;
	}
	return MP_OK;
}

/* The BOS token: the first special token of the post-processor's
 * "single" template when it comes before the text. */
static int32_t bos_of(const struct mp_tokenizer *t, const mp_json *root)
{
	const mp_json *pp = mp_json_get(root, "post_processor");
	if (!strcmp(type_of(pp), "Sequence"))
		pp = mp_json_at(mp_json_get(pp, "processors"), 0);
	const mp_json *first = mp_json_at(mp_json_get(pp, "single"), 0);
	const char *id =
	    mp_json_str(mp_json_get(mp_json_get(first, "SpecialToken"), "id"));
	return id ? mp_tok_map_get(&t->ids, id, strlen(id)) : -1;
}

static mp_status build(struct mp_tokenizer *t, const mp_json *root,
		       const char *path, struct mp_error *err)
{
	const mp_json *model = mp_json_get(root, "model");
	const mp_json *vocab = mp_json_get(model, "vocab");
	const mp_json *added = mp_json_get(root, "added_tokens");
	mp_status s = MP_OK;
	for (const mp_json *e = mp_json_child(vocab); e && s == MP_OK;
	     e = mp_json_next(e))
		s = put(t, e, mp_json_key(e), path, err);
	for (size_t i = 0; i < mp_json_size(added) && s == MP_OK; i++) {
		const mp_json *a = mp_json_at(added, i);
		const char *c = mp_json_str(mp_json_get(a, "content"));
		s = c ? put(t, mp_json_get(a, "id"), c, path, err)
		      : mp_error_set(err, MP_EFORMAT,
				     "%s: added token %zu has no content", path,
				     i);
	}
	if (s == MP_OK)
		s = merges(t, mp_json_get(model, "merges"), path, err);
	if (s == MP_OK)
		s = mp_tok_finish(t, path, err);
	if (s != MP_OK)
		return s;
	const char *unk = mp_json_str(mp_json_get(model, "unk_token"));
	t->unk = unk ? mp_tok_map_get(&t->ids, unk, strlen(unk)) : -1;
	t->bos = bos_of(t, root);
	if (t->type == TOK_BPE ||
	    !mp_json_true(mp_json_get(model, "byte_fallback")))
		for (int b = 0; b < 256; b++)
			t->byte_tok[b] = -1;
	return MP_OK;
}

/* The vocabulary size: one more than the largest id. */
static size_t count(const mp_json *vocab, const mp_json *added)
{
	uint64_t n = 0, id;
	for (const mp_json *e = mp_json_child(vocab); e; e = mp_json_next(e))
		if (mp_json_uint(e, &id) && id < INT32_MAX && id + 1 > n)
			n = id + 1;
	for (size_t i = 0; i < mp_json_size(added); i++)
		if (mp_json_uint(mp_json_get(mp_json_at(added, i), "id"),
				 &id) &&
		    id < INT32_MAX && id + 1 > n)
			n = id + 1;
	return (size_t)n;
}

mp_status mp_tok_from_json(const char *path, struct mp_tokenizer **out,
			   struct mp_error *err)
{
	mp_json *root;
	*out = NULL;
	mp_status s = mp_json_load(path, JSON_MAX, &root, err);
	if (s != MP_OK)
		return s;
	const mp_json *model = mp_json_get(root, "model");
	const char *mt = mp_json_str(mp_json_get(model, "type"));
	const mp_json *vocab = mp_json_get(model, "vocab");
	const mp_json *mg = mp_json_get(model, "merges");
	struct shape sh = {.pre = -1};
	scan_pre(mp_json_get(root, "pre_tokenizer"), &sh);
	scan_norm(mp_json_get(root, "normalizer"), &sh);
	if (!mp_json_is_object(model) || (mt && strcmp(mt, "BPE")) ||
	    (!mt && !mg))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: the tokenizer model is not BPE "
				 "(model.type '%s')",
				 path, mt ? mt : "?");
	else if (!mp_json_is_object(vocab) || !mp_json_is_array(mg))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: model.vocab is not an object or "
				 "model.merges not an array",
				 path);
	else if (sh.bad_pattern)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: the pre-tokenizer's Split pattern is not "
				 "GPT-2's, LLaMA-3's or Qwen2's",
				 path);
	else if (!sh.byte_level && !sh.metaspace && !sh.replace)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: neither a ByteLevel pre-tokenizer nor "
				 "SentencePiece's '\xe2\x96\x81' for spaces",
				 path);
	struct mp_tokenizer *t = NULL;
	const mp_json *added = mp_json_get(root, "added_tokens");
	size_t n = s == MP_OK ? count(vocab, added) : 0;
	if (s == MP_OK && n > mp_json_size(vocab) + mp_json_size(added))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: token ids reach %zu for %zu tokens (ids "
				 "must be 0 to N-1)",
				 path, n - 1,
				 mp_json_size(vocab) + mp_json_size(added));
	if (s == MP_OK && !(t = mp_tok_new(n)))
		s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	if (s == MP_OK) {
		t->type = sh.byte_level ? TOK_BPE : TOK_SPM;
		t->pre = sh.pre < 0 ? PRE_GPT2 : (enum tok_pre)sh.pre;
		t->by_rank = true;
		t->space_prefix = sh.prefix_space || sh.prepend;
		t->ignore_merges =
		    mp_json_true(mp_json_get(model, "ignore_merges"));
		s = build(t, root, path, err);
	}
	mp_json_free(root);
	if (s != MP_OK) {
		mp_tokenizer_free(t);
		return s;
	}
	*out = t;
	return MP_OK;
}
