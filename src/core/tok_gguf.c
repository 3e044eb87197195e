/* tok_gguf.c — the tokenizer in a GGUF file's tokenizer.ggml.* metadata:
 * model ("llama" or "gpt2"), pre, tokens, scores, token_type, merges,
 * bos/unknown token ids, add_space_prefix. Only the metadata section is
 * read; every count is checked against the bytes left. */
#include "tok_int.h"

#include <stdlib.h>
#include <string.h>

enum {
	G_U8,
	G_I8,
	G_U16,
	G_I16,
	G_U32,
	G_I32,
	G_F32,
	G_BOOL,
	G_STR,
	G_ARR,
	G_U64,
	G_I64,
	G_F64,
	G_NTYPES
};
static const unsigned gsize[G_NTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

struct gcur {
	const uint8_t *d;
	uint64_t size, pos;
	const char *where;
	struct mp_error *err;
};

static mp_status need(struct gcur *c, uint64_t n)
{
	if (n > c->size - c->pos)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: metadata runs past the end of the "
				    "file at byte %llu",
				    c->where, (unsigned long long)c->pos);
	return MP_OK;
}

static mp_status num(struct gcur *c, unsigned n, uint64_t *v)
{
	mp_status s = need(c, n);
	if (s != MP_OK)
		return s;
	*v = 0;
	for (unsigned i = n; i-- > 0;)
		*v = *v << 8 | c->d[c->pos + i];
	c->pos += n;
	return MP_OK;
}

/* A string: *p points into the file, *len its length. */
static mp_status gstr(struct gcur *c, const char **p, uint64_t *len)
{
	mp_status s = num(c, 8, len);
	if (s == MP_OK)
		s = need(c, *len);
	if (s == MP_OK) {
		*p = (const char *)c->d + c->pos;
		c->pos += *len;
	}
	return s;
}

static char *dup_n(const char *p, uint64_t n)
{
	if (memchr(p, 0, n))
		return NULL;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

static mp_status skip_value(struct gcur *c, uint32_t t, int depth)
{
	uint64_t n, et64;
	const char *p;
	mp_status s = MP_OK;
	if (t >= G_NTYPES)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata value of unknown type %u",
				    c->where, t);
	if (t == G_STR)
		return gstr(c, &p, &n);
	if (t != G_ARR) {
		if ((s = need(c, gsize[t])) == MP_OK)
			c->pos += gsize[t];
		return s;
	}
	if (depth > 3)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata arrays nested too deep",
				    c->where);
	if ((s = num(c, 4, &et64)) != MP_OK || (s = num(c, 8, &n)) != MP_OK)
		return s;
	uint32_t et = (uint32_t)et64;
	if (et >= G_NTYPES)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata array of unknown type %u",
				    c->where, et);
	if (et != G_STR && et != G_ARR) {
		uint64_t b;
		if (!mp_mul_u64(n, gsize[et], &b) || (s = need(c, b)) != MP_OK)
			return s != MP_OK ? s : need(c, UINT64_MAX);
		c->pos += b;
		return MP_OK;
	}
	for (uint64_t i = 0; i < n && s == MP_OK; i++)
		s = skip_value(c, et, depth + 1);
	return s;
}

/* An array header of element type et; *n elements, checked to fit. */
static mp_status array_head(struct gcur *c, uint32_t t, uint32_t et,
			    const char *key, uint64_t *n)
{
	uint64_t t2;
	mp_status s;
	if (t != G_ARR)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s is not an array", c->where, key);
	if ((s = num(c, 4, &t2)) != MP_OK || (s = num(c, 8, n)) != MP_OK)
		return s;
	if (t2 != et && !(et == G_I32 && t2 == G_U32))
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s has elements of type %u, not %u",
				    c->where, key, (unsigned)t2, et);
	unsigned least = et == G_STR ? 8 : gsize[et];
	if (*n > (c->size - c->pos) / least)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: %s of %llu elements runs past the end "
				    "of the file",
				    c->where, key, (unsigned long long)*n);
	return MP_OK;
}

/* A string array into *out[0..*n) (owned). */
static mp_status str_array(struct gcur *c, uint32_t t, const char *key,
			   char ***out, size_t *n)
{
	uint64_t cnt;
	mp_status s = array_head(c, t, G_STR, key, &cnt);
	if (s != MP_OK)
		return s;
	if (*out)
		return mp_error_set(c->err, MP_EFORMAT, "%s: %s given twice",
				    c->where, key);
	*out = calloc(cnt ? cnt : 1, sizeof **out);
	if (!*out)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->where);
	*n = (size_t)cnt;
	for (uint64_t i = 0; i < cnt; i++) {
		const char *p;
		uint64_t len;
		if ((s = gstr(c, &p, &len)) != MP_OK)
			return s;
		if (!((*out)[i] = dup_n(p, len)))
			return mp_error_set(c->err, MP_EFORMAT,
					    "%s: %s element %llu holds a NUL "
					    "byte (or out of memory)",
					    c->where, key,
					    (unsigned long long)i);
	}
	return MP_OK;
}

/* A 4-byte array (f32 or i32) into *out (owned), checking its length. */
static mp_status word_array(struct gcur *c, uint32_t t, uint32_t et,
			    const char *key, void **out, size_t *n)
{
	uint64_t cnt;
	mp_status s = array_head(c, t, et, key, &cnt);
	if (s != MP_OK)
		return s;
	free(*out);
	*out = malloc(cnt ? cnt * 4 : 4);
	if (!*out)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->where);
	memcpy(*out, c->d + c->pos, cnt * 4); /* little-endian hosts */
	c->pos += cnt * 4;
	*n = (size_t)cnt;
	return MP_OK;
}

struct graw {
	char model[16], pre[32];
	char **tokens, **merges;
	size_t ntok, nmerge, nscore, ntype;
	float *scores;
	int32_t *types;
	int64_t bos, unk;
	int space_prefix; /* -1 unset */
};

static mp_status scalar(struct gcur *c, uint32_t t, int64_t *v)
{
	uint64_t u = 0;
	if (t >= G_NTYPES || t == G_STR || t == G_ARR || t == G_F32 ||
	    t == G_F64)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: a tokenizer id or flag is not an "
				    "integer",
				    c->where);
	mp_status s = num(c, gsize[t], &u);
	*v = (int64_t)u;
	return s;
}

static mp_status short_str(struct gcur *c, uint32_t t, const char *key,
			   char *buf, size_t cap)
{
	const char *p;
	uint64_t len;
	if (t != G_STR)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s is not a string", c->where, key);
	mp_status s = gstr(c, &p, &len);
	if (s == MP_OK && (len >= cap || memchr(p, 0, len)))
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s is not a known tokenizer name",
				    c->where, key);
	if (s == MP_OK) {
		memcpy(buf, p, len);
		buf[len] = 0;
	}
	return s;
}

static mp_status one_kv(struct gcur *c, struct graw *g)
{
	const char *kp;
	uint64_t klen, t64;
	mp_status s = gstr(c, &kp, &klen);
	if (s == MP_OK)
		s = num(c, 4, &t64);
	if (s != MP_OK)
		return s;
	uint32_t t = (uint32_t)t64;
	char key[64];
	static const char pfx[] = "tokenizer.ggml.";
	if (klen >= sizeof key || klen < sizeof pfx - 1 ||
	    memcmp(kp, pfx, sizeof pfx - 1))
		return skip_value(c, t, 0);
	memcpy(key, kp, klen);
	key[klen] = 0;
	const char *k = key + sizeof pfx - 1;
	int64_t v;
	if (!strcmp(k, "model"))
		return short_str(c, t, key, g->model, sizeof g->model);
	if (!strcmp(k, "pre"))
		return short_str(c, t, key, g->pre, sizeof g->pre);
	if (!strcmp(k, "tokens"))
		return str_array(c, t, key, &g->tokens, &g->ntok);
	if (!strcmp(k, "merges"))
		return str_array(c, t, key, &g->merges, &g->nmerge);
	if (!strcmp(k, "scores"))
		return word_array(c, t, G_F32, key, (void **)&g->scores,
				  &g->nscore);
	if (!strcmp(k, "token_type"))
		return word_array(c, t, G_I32, key, (void **)&g->types,
				  &g->ntype);
	if (!strcmp(k, "bos_token_id"))
		return (s = scalar(c, t, &v)) == MP_OK ? (g->bos = v, s) : s;
	if (!strcmp(k, "unknown_token_id"))
		return (s = scalar(c, t, &v)) == MP_OK ? (g->unk = v, s) : s;
	if (!strcmp(k, "add_space_prefix"))
		return (s = scalar(c, t, &v)) == MP_OK
			   ? (g->space_prefix = v != 0, s)
			   : s;
	return skip_value(c, t, 0);
}

static void raw_free(struct graw *g)
{
	for (size_t i = 0; g->tokens && i < g->ntok; i++)
		free(g->tokens[i]);
	for (size_t i = 0; g->merges && i < g->nmerge; i++)
		free(g->merges[i]);
	free(g->tokens);
	free(g->merges);
	free(g->scores);
	free(g->types);
}

/* The tokenizer from the raw metadata; takes the arrays. */
static mp_status build(struct graw *g, const char *where,
		       struct mp_tokenizer **out, struct mp_error *err)
{
	bool spm = !strcmp(g->model, "llama");
	if (!spm && strcmp(g->model, "gpt2"))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tokenizer.ggml.model '%s' is not "
				    "supported (llama, gpt2)",
				    where, g->model);
	if (!g->tokens)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: no tokenizer.ggml.tokens", where);
	if (spm && (!g->scores || g->nscore != g->ntok))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tokenizer.ggml.scores missing or not "
				    "one per token",
				    where);
	if (g->types && g->ntype != g->ntok)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tokenizer.ggml.token_type is not one "
				    "per token",
				    where);
	if (!spm && !g->merges)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: no tokenizer.ggml.merges", where);
	enum tok_pre pre = PRE_GPT2;
	if (!spm) {
		if (!strcmp(g->pre, "llama-bpe") || !strcmp(g->pre, "llama3"))
			pre = PRE_LLAMA3;
		else if (!strcmp(g->pre, "qwen2"))
			pre = PRE_QWEN2;
		else if (g->pre[0] && strcmp(g->pre, "gpt-2") &&
			 strcmp(g->pre, "default") && strcmp(g->pre, "gpt2"))
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: tokenizer.ggml.pre '%s' is not "
			    "supported (gpt-2, llama-bpe, "
			    "qwen2)",
			    where, g->pre);
	}
	struct mp_tokenizer *t = calloc(1, sizeof *t);
	if (!t)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	t->type = spm ? TOK_SPM : TOK_BPE;
	t->pre = pre;
	t->n = g->ntok;
	t->piece = g->tokens;
	g->tokens = NULL;
	t->merge = g->merges;
	t->nmerge = g->nmerge;
	g->merges = NULL;
	t->score = g->scores;
	g->scores = NULL;
	t->ttype = g->types;
	g->types = NULL;
	t->space_prefix = spm && g->space_prefix != 0;
	t->ignore_merges = pre == PRE_LLAMA3;
	t->bos = g->bos >= 0 && g->bos <= INT32_MAX ? (int32_t)g->bos : -1;
	t->unk = g->unk >= 0 && g->unk <= INT32_MAX ? (int32_t)g->unk : -1;
	mp_status s = mp_tok_finish(t, where, err);
	if (s != MP_OK) {
		mp_tokenizer_free(t);
		return s;
	}
	*out = t;
	return MP_OK;
}

mp_status mp_tok_from_gguf(const uint8_t *data, uint64_t size,
			   const char *where, struct mp_tokenizer **out,
			   struct mp_error *err)
{
	struct gcur c = {data, size, 0, where, err};
	struct graw g = {.bos = -1, .unk = -1, .space_prefix = -1};
	uint64_t magic, ver, ntens, nkv;
	*out = NULL;
	mp_status s = num(&c, 4, &magic);
	if (s == MP_OK && magic != 0x46554747u) /* "GGUF" */
		s = mp_error_set(err, MP_EFORMAT, "%s: not a GGUF file", where);
	if (s == MP_OK)
		s = num(&c, 4, &ver);
	if (s == MP_OK && (ver < 2 || ver > 3))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: GGUF version %llu (2 and 3 are read)",
				 where, (unsigned long long)ver);
	if (s == MP_OK)
		s = num(&c, 8, &ntens);
	if (s == MP_OK)
		s = num(&c, 8, &nkv);
	for (uint64_t i = 0; s == MP_OK && i < nkv; i++)
		s = one_kv(&c, &g);
	if (s == MP_OK && !g.model[0])
		s = mp_error_set(err, MP_ENOENT,
				 "%s: no tokenizer.ggml.model in the GGUF "
				 "metadata",
				 where);
	if (s == MP_OK)
		s = build(&g, where, out, err);
	raw_free(&g);
	return s;
}
