/* tok_vocab.c — the tokenizer's tables and the public entry points:
 * opening from a model or a file, encoding (dispatch to tok_spm.c or
 * tok_bpe.c), pieces. */
#include "reader.h"
#include "tok_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
	return h;
}

bool mp_tok_map_init(struct tok_map *m, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 16)
		cap *= 2;
	m->keys = calloc(cap, sizeof *m->keys);
	m->lens = calloc(cap, sizeof *m->lens);
	m->vals = calloc(cap, sizeof *m->vals);
	m->cap = cap;
	if (!m->keys || !m->lens || !m->vals) {
		mp_tok_map_free(m);
		return false;
	}
	return true;
}

/* The first key wins: a second equal key is ignored. */
bool mp_tok_map_put(struct tok_map *m, const char *key, int32_t val)
{
	size_t len = strlen(key);
	if (!m->cap || len > UINT32_MAX)
		return false;
	for (size_t i = hash(key, len) & (m->cap - 1);;
	     i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i]) {
			m->keys[i] = key;
			m->lens[i] = (uint32_t)len;
			m->vals[i] = val;
			return true;
		}
		if (m->lens[i] == len && !memcmp(m->keys[i], key, len))
			return true;
	}
}

int32_t mp_tok_map_get(const struct tok_map *m, const char *key, size_t len)
{
	if (!m->cap)
		return -1;
	for (size_t i = hash(key, len) & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		if (m->lens[i] == len && !memcmp(m->keys[i], key, len))
			return m->vals[i];
	return -1;
}

void mp_tok_map_free(struct tok_map *m)
{
	free(m->keys);
	free(m->lens);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

struct mp_tokenizer *mp_tok_new(size_t n)
{
	struct mp_tokenizer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n = n;
	t->bos = t->unk = -1;
	t->piece = calloc(n ? n : 1, sizeof *t->piece);
	if (!t->piece) {
		free(t);
		return NULL;
	}
	return t;
}

mp_status mp_tok_finish(struct mp_tokenizer *t, const char *where,
			struct mp_error *err)
{
	if (t->n == 0 || t->n > INT32_MAX)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tokenizer vocabulary of %zu tokens",
				    where, t->n);
	if (!mp_tok_map_init(&t->ids, t->n))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	for (size_t i = 0; i < t->n; i++) {
		if (!t->piece[i])
			return mp_error_set(err, MP_EFORMAT,
					    "%s: tokenizer vocabulary has no "
					    "token %zu",
					    where, i);
		if (!mp_tok_map_put(&t->ids, t->piece[i], (int32_t)i))
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    where);
	}
	if (!mp_tok_map_init(&t->ranks, t->nmerge))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	for (size_t i = 0; i < t->nmerge; i++) {
		const char *sp = strchr(t->merge[i], ' ');
		char kb[MP_NAME_SHOW + 8];
		if (!sp || sp == t->merge[i] || !sp[1] || strchr(sp + 1, ' '))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: merge %zu '%s' is not two "
					    "tokens separated by a space",
					    where, i,
					    mp_printable(t->merge[i], kb));
		size_t l = (size_t)(sp - t->merge[i]);
		if (mp_tok_map_get(&t->ids, t->merge[i], l) < 0 ||
		    mp_tok_map_get(&t->ids, sp + 1, strlen(sp + 1)) < 0)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: merge %zu '%s' names a token "
					    "not in the vocabulary",
					    where, i,
					    mp_printable(t->merge[i], kb));
		if (!mp_tok_map_put(&t->ranks, t->merge[i], (int32_t)i))
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    where);
	}
	for (int b = 0; b < 256; b++) {
		char hex[8];
		snprintf(hex, sizeof hex, "<0x%02X>", b);
		t->byte_tok[b] = mp_tok_map_get(&t->ids, hex, 6);
	}
	if (t->bos >= (int64_t)t->n)
		t->bos = -1;
	if (t->unk >= (int64_t)t->n)
		t->unk = -1;
	if (t->type == TOK_SPM)
		snprintf(t->kind, sizeof t->kind, "llama");
	else
		snprintf(t->kind, sizeof t->kind, "gpt2/%s",
			 t->pre == PRE_LLAMA3  ? "llama-bpe"
			 : t->pre == PRE_QWEN2 ? "qwen2"
					       : "gpt-2");
	return MP_OK;
}

bool mp_tok_push(struct tok_ids *o, int32_t id)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		int32_t *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return false;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = id;
	return true;
}

uint32_t mp_tok_utf8(const char *s, size_t len, size_t *clen)
{
	const uint8_t *u = (const uint8_t *)s;
	*clen = 1;
	if (u[0] < 0x80)
		return u[0];
	size_t k = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 0;
	if (k == 0 || u[0] > 0xF4 || k > len)
		return 0xFFFFFFFFu;
	uint32_t cp = u[0] & (0x7F >> k);
	for (size_t i = 1; i < k; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0xFFFFFFFFu;
		cp = cp << 6 | (u[i] & 0x3F);
	}
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFFFFFFu;
	*clen = k;
	return cp;
}

mp_status mp_tokenizer_open_file(const char *path, struct mp_tokenizer **out,
				 struct mp_error *err)
{
	*out = NULL;
	struct mp_file f;
	mp_status s = mp_file_open(&f, path, err);
	if (s != MP_OK)
		return s;
	if (f.size >= 4 && !memcmp(f.data, "GGUF", 4))
		s = mp_tok_from_gguf(f.data, f.size, path, out, err);
	else
		s = mp_tok_from_json(path, out, err);
	mp_file_close(&f);
	return s;
}

mp_status mp_tokenizer_open(const struct mp_model *m, struct mp_tokenizer **out,
			    struct mp_error *err)
{
	*out = NULL;
	if (m->format && !strcmp(m->format, "gguf") && m->nfiles > 0) {
		mp_status s = mp_tok_from_gguf(
		    m->files[0].data, m->files[0].size, m->path, out, err);
		if (s != MP_ENOENT)
			return s;
	}
	char *json = mp_path_join(m->dir ? m->dir : ".", "tokenizer.json");
	if (!json)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	mp_status s;
	if (access(json, F_OK) != 0)
		s = mp_error_set(err, MP_ENOENT,
				 "%s: no tokenizer: neither GGUF "
				 "tokenizer.ggml.* metadata nor a "
				 "tokenizer.json in the model's directory",
				 m->path);
	else
		s = mp_tokenizer_open_file(json, out, err);
	free(json);
	return s;
}

mp_status mp_tokenizer_encode(const struct mp_tokenizer *t, const char *text,
			      size_t len, bool bos, int32_t **ids, size_t *n,
			      struct mp_error *err)
{
	struct tok_ids o = {0};
	mp_status s = MP_OK;
	*ids = NULL;
	*n = 0;
	if (bos && t->bos < 0)
		return mp_error_set(err, MP_EINVAL,
				    "the tokenizer has no BOS token");
	if (bos && !mp_tok_push(&o, t->bos))
		s = mp_error_set(err, MP_ENOMEM, "out of memory");
	if (s == MP_OK && len > 0)
		s = t->type == TOK_SPM
			? mp_tok_spm_encode(t, text, len, &o, err)
			: mp_tok_bpe_encode(t, text, len, &o, err);
	if (s != MP_OK) {
		free(o.v);
		return s;
	}
	*ids = o.v;
	*n = o.n;
	return MP_OK;
}

const char *mp_tokenizer_piece(const struct mp_tokenizer *t, int32_t id)
{
	return id >= 0 && (size_t)id < t->n ? t->piece[id] : NULL;
}

const char *mp_tokenizer_kind(const struct mp_tokenizer *t)
{
	return t->kind;
}

size_t mp_tokenizer_vocab_size(const struct mp_tokenizer *t)
{
	return t->n;
}

void mp_tokenizer_free(struct mp_tokenizer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->piece[i]);
	for (size_t i = 0; i < t->nmerge; i++)
		free(t->merge[i]);
	free(t->piece);
	free(t->merge);
	free(t->score);
	free(t->ttype);
	mp_tok_map_free(&t->ids);
	mp_tok_map_free(&t->ranks);
	free(t);
}
