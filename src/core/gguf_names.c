/* gguf_names.c — the GGUF <-> Hugging Face name mapping (gguf_names.json)
 * and llama.cpp's Q/K row permutation. */
#include "gguf_names.h"
#include "json.h"
#include "metric.h"
#include "model.h"
#include "names.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry {
	char *gguf, *hf; /* templates; "{N}" stands for a layer number */
	char *arch;	 /* its GGUF architecture */
	bool permute;    /* a Q or K projection the converter permutes */
	int qk;
	/* added by the converter to this tensor's .weight values (a norm
	   of an architecture with "norm_offset"), else 0 */
	double offset;
	bool transposed; /* listed in "transposed": stored as W^T */
};

struct mp_gguf_names {
	struct entry *e;
	size_t n;
};

void mp_gguf_names_free(struct mp_gguf_names *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].gguf);
		free(t->e[i].hf);
		free(t->e[i].arch);
	}
	free(t->e);
	free(t);
}

/* At most one "{N}", nothing else in braces. */
static bool tpl_valid(const char *s)
{
	const char *p = strchr(s, '{');
	if (!*s || strlen(s) >= MP_GGUF_NAME_MAX / 2)
		return false;
	if (!p)
		return !strchr(s, '}');
	return !strncmp(p, "{N}", 3) && !strpbrk(p + 3, "{}") &&
	       !memchr(s, '}', (size_t)(p - s));
}

static mp_status arch_load(const char *path, const mp_json *arch,
			   struct mp_gguf_names *t, struct mp_error *err)
{
	const char *an = mp_json_key(arch);
	const mp_json *names = mp_json_get(arch, "names");
	const mp_json *perm = mp_json_get(arch, "permute_qk");
	const mp_json *off = mp_json_get(arch, "norm_offset");
	if (!mp_json_is_object(arch) || !mp_json_is_object(names) ||
	    (perm && !mp_json_is_bool(perm)))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: architecture %s: needs an object "
				    "\"names\" and a boolean \"permute_qk\"",
				    path, an);
	const mp_json *tr = mp_json_get(arch, "transposed");
	if (tr && !mp_json_is_array(tr))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: architecture %s: \"transposed\" must "
				    "be an array of GGUF names",
				    path, an);
	for (const mp_json *x = tr ? mp_json_child(tr) : NULL; x;
	     x = mp_json_next(x))
		if (!mp_json_str(x) || !mp_json_get(names, mp_json_str(x)))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: architecture %s: \"transposed\" "
					    "lists a name not in \"names\"",
					    path, an);
	double offset = off ? mp_json_num(off) : 0;
	if (off && (!mp_json_is_number(off) || !isfinite(offset)))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: architecture %s: \"norm_offset\" "
				    "must be a finite number",
				    path, an);
	size_t k = mp_json_size(names);
	struct entry *e = realloc(t->e, (t->n + k + 1) * sizeof *e);
	if (!e)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	t->e = e;
	for (const mp_json *m = mp_json_child(names); m; m = mp_json_next(m)) {
		const char *g = mp_json_key(m), *h = mp_json_str(m);
		if (!h || !tpl_valid(g) || !tpl_valid(h) ||
		    !strstr(g, "{N}") != !strstr(h, "{N}"))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: architecture %s: bad name pair "
					    "\"%s\" (templates of letters and "
					    "at most one {N}, on both sides)",
					    path, an, g);
		struct entry *x = &t->e[t->n];
		x->gguf = strdup(g);
		x->hf = strdup(h);
		x->arch = strdup(an);
		if (!x->gguf || !x->hf || !x->arch) {
			free(x->gguf);
			free(x->hf);
			free(x->arch);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		size_t gl = strlen(g);
		x->qk = gl > 7 && !strcmp(g + gl - 7, ".attn_q")   ? 'q'
			: gl > 7 && !strcmp(g + gl - 7, ".attn_k") ? 'k'
								   : 0;
		x->permute = perm && mp_json_true(perm) && x->qk;
		x->offset = gl > 5 && !strcmp(g + gl - 5, "_norm") ? offset : 0;
		x->transposed = false;
		for (const mp_json *y = tr ? mp_json_child(tr) : NULL; y;
		     y = mp_json_next(y))
			x->transposed |= !strcmp(mp_json_str(y), g);
		t->n++;
	}
	return MP_OK;
}

mp_status mp_gguf_names_load(const char *path, struct mp_gguf_names **out,
			     struct mp_error *err)
{
	*out = NULL;
	mp_json *j = NULL;
	mp_status st = mp_json_load(path, 1 << 20, &j, err);
	if (st != MP_OK)
		return st;
	struct mp_gguf_names *t = calloc(1, sizeof *t);
	const mp_json *archs = mp_json_get(j, "architectures");
	if (!t)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	else if (!mp_json_is_object(archs))
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: no object \"architectures\"", path);
	for (const mp_json *a = archs ? mp_json_child(archs) : NULL;
	     st == MP_OK && a; a = mp_json_next(a))
		st = arch_load(path, a, t, err);
	mp_json_free(j);
	if (st != MP_OK) {
		mp_gguf_names_free(t);
		return st;
	}
	*out = t;
	return MP_OK;
}

static struct mp_gguf_names *deflt;
static pthread_once_t deflt_once = PTHREAD_ONCE_INIT;

static void deflt_load(void)
{
	const char *roots[] = {MP_DATADIR, MP_SRCDATADIR};
	for (int i = 0; i < 2 && !deflt; i++) {
		char buf[4096];
		struct stat st;
		struct mp_error err;
		snprintf(buf, sizeof buf, "%s/gguf_names.json", roots[i]);
		if (stat(buf, &st) == 0)
			mp_gguf_names_load(buf, &deflt, &err);
	}
}

const struct mp_gguf_names *mp_gguf_names_default(void)
{
	pthread_once(&deflt_once, deflt_load);
	return deflt;
}

/* name against template tpl: the layer digits to *num (n of them) and the
 * rest (empty or from a '.') to *rest; false when it does not match. */
static bool tpl_match(const char *tpl, const char *name, const char **num,
		      size_t *n, const char **rest)
{
	*num = NULL;
	*n = 0;
	while (*tpl) {
		if (!strncmp(tpl, "{N}", 3)) {
			const char *d = name;
			while (*name >= '0' && *name <= '9')
				name++;
			if (name == d)
				return false;
			*num = d;
			*n = (size_t)(name - d);
			tpl += 3;
		} else if (*tpl++ != *name++)
			return false;
	}
	if (*name && *name != '.')
		return false;
	*rest = name;
	return true;
}

/* tpl with {N} replaced by num[0..n), then rest, into out. */
static bool tpl_fill(const char *tpl, const char *num, size_t n,
		     const char *pre, const char *rest, char *out)
{
	const char *p = strstr(tpl, "{N}");
	int k = p ? snprintf(out, MP_GGUF_NAME_MAX, "%s%.*s%.*s%s%s", pre,
			     (int)(p - tpl), tpl, (int)n, num, p + 3, rest)
		  : snprintf(out, MP_GGUF_NAME_MAX, "%s%s%s", pre, tpl, rest);
	return k > 0 && k < MP_GGUF_NAME_MAX;
}

static size_t add(char out[][MP_GGUF_NAME_MAX], size_t k, const char *s)
{
	for (size_t i = 0; i < k; i++)
		if (!strcmp(out[i], s))
			return k;
	if (k == MP_GGUF_ALIAS_MAX)
		return k;
	memcpy(out[k], s, strlen(s) + 1);
	return k + 1;
}

static size_t aliases(const struct mp_gguf_names *t, const char *arch,
		      const char *name, char out[][MP_GGUF_NAME_MAX],
		      int *qk);

size_t mp_gguf_names_alias(const struct mp_gguf_names *t, const char *arch,
			   const char *name, char out[][MP_GGUF_NAME_MAX],
			   int *qk)
{
	if (mp_gguf_names_knows(t, arch)) {
		size_t k = aliases(t, arch, name, out, qk);
		if (k)
			return k;
	}
	return aliases(t, NULL, name, out, qk);
}

/* mp_gguf_names_alias over the entries of architecture arch (NULL:
 * all). */
static size_t aliases(const struct mp_gguf_names *t, const char *arch,
		      const char *name, char out[][MP_GGUF_NAME_MAX], int *qk)
{
	size_t k = 0;
	if (qk)
		*qk = 0;
	if (!t || !name)
		return 0;
	bool gguf = mp_gguf_names_is_gguf(name);
	/* Hugging Face checkpoints of GPT-2 hold "h.0..." or
	 * "transformer.h.0...": match both */
	const char *bare = !strncmp(name, "transformer.", 12) ? name + 12 : name;
	for (size_t i = 0; i < t->n && k < MP_GGUF_ALIAS_MAX; i++) {
		const struct entry *e = &t->e[i];
		const char *num, *rest;
		size_t nd;
		char buf[MP_GGUF_NAME_MAX];
		if (arch && strcmp(e->arch, arch))
			continue;
		if (gguf) {
			if (!tpl_match(e->gguf, name, &num, &nd, &rest))
				continue;
			if (tpl_fill(e->hf, num, nd, "", rest, buf))
				k = add(out, k, buf);
			if (strncmp(e->hf, "model.", 6) &&
			    tpl_fill(e->hf, num, nd, "transformer.", rest, buf))
				k = add(out, k, buf);
			/* and as mp_arch_normalise leaves it */
			if (!strncmp(e->hf, "model.", 6) &&
			    tpl_fill(e->hf + 6, num, nd, "", rest, buf))
				k = add(out, k, buf);
		} else {
			if (!tpl_match(e->hf, name, &num, &nd, &rest) &&
			    !tpl_match(e->hf, bare, &num, &nd, &rest) &&
			    !(strncmp(e->hf, "model.", 6) == 0 &&
			      tpl_match(e->hf + 6, name, &num, &nd, &rest)))
				continue;
			if (tpl_fill(e->gguf, num, nd, "", rest, buf))
				k = add(out, k, buf);
		}
		if (qk && e->permute)
			*qk = e->qk;
	}
	return k;
}

/* The entry of architecture arch whose GGUF template matches name with
 * the suffix ".weight" and for which keep(entry) holds; NULL: none. */
static const struct entry *weight_entry(const struct mp_gguf_names *t,
					const char *arch, const char *name,
					bool (*keep)(const struct entry *))
{
	const char *num, *rest;
	size_t nd;
	if (!t || !arch || !name || !mp_gguf_names_is_gguf(name))
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (keep(&t->e[i]) && !strcmp(t->e[i].arch, arch) &&
		    tpl_match(t->e[i].gguf, name, &num, &nd, &rest) &&
		    !strcmp(rest, ".weight"))
			return &t->e[i];
	return NULL;
}

static bool permutes(const struct entry *e)
{
	return e->permute;
}

static bool shifts(const struct entry *e)
{
	return e->offset != 0;
}

int mp_gguf_names_permuted(const struct mp_gguf_names *t, const char *arch,
			   const char *name)
{
	const struct entry *e = weight_entry(t, arch, name, permutes);
	return e ? e->qk : 0;
}

bool mp_gguf_names_knows(const struct mp_gguf_names *t, const char *arch)
{
	for (size_t i = 0; t && arch && i < t->n; i++)
		if (!strcmp(t->e[i].arch, arch))
			return true;
	return false;
}

static bool transposes(const struct entry *e)
{
	return e->transposed;
}

bool mp_gguf_names_transposed(const struct mp_gguf_names *t,
			      const char *arch, const char *name)
{
	return weight_entry(t, arch, name, transposes) != NULL;
}

double mp_gguf_names_offset(const struct mp_gguf_names *t, const char *arch,
			    const char *name)
{
	const struct entry *e = weight_entry(t, arch, name, shifts);
	return e ? e->offset : 0;
}

bool mp_gguf_names_is_gguf(const char *name)
{
	static const char *const globals[] = {"token_embd", "output",
					      "output_norm", "position_embd"};
	if (!strncmp(name, "blk.", 4) && name[4] >= '0' && name[4] <= '9')
		return true;
	for (size_t i = 0; i < sizeof globals / sizeof *globals; i++) {
		size_t l = strlen(globals[i]);
		if (!strncmp(name, globals[i], l) &&
		    (!name[l] || name[l] == '.'))
			return true;
	}
	return false;
}

uint64_t mp_gguf_qk_row(uint64_t r, uint64_t rows, uint64_t heads)
{
	uint64_t hd = rows / heads, half = hd / 2;
	uint64_t h = r / hd, rem = r % hd;
	uint64_t j = rem / half, i = rem % half;
	return h * hd + 2 * i + j;
}

long mp_gguf_names_find(const char *name, const char *arch,
			long (*find)(const void *ctx, const char *name),
			const void *ctx)
{
	char alias[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	size_t k = mp_gguf_names_alias(mp_gguf_names_default(), arch, name,
				       alias, NULL);
	for (size_t i = 0; i < k; i++) {
		long r = find(ctx, alias[i]);
		if (r >= 0)
			return r;
	}
	return -1;
}

uint64_t mp_gguf_transposed_off(uint64_t off, uint64_t rows, uint64_t cols)
{
	return off % cols * rows + off / cols; /* (i, j) -> (j, i) */
}

uint64_t mp_gguf_qk_off(uint64_t off, uint64_t rows, uint64_t cols,
			uint64_t heads)
{
	return mp_gguf_qk_row(off / cols, rows, heads) * cols + off % cols;
}

/* A positive count from text, else 0. */
static uint64_t count_of(const char *s)
{
	char *end;
	if (!s)
		return 0;
	unsigned long long v = strtoull(s, &end, 10);
	return end != s && !*end && v > 0 && v < (1ULL << 32) ? v : 0;
}

static uint64_t json_count(const mp_json *j, const char *key)
{
	uint64_t v = 0;
	const mp_json *x = mp_json_get(j, key);
	return x && mp_json_uint(x, &v) && v < (1ULL << 32) ? v : 0;
}

bool mp_gguf_meta_heads(const struct mp_meta *meta, size_t n, uint64_t *q,
			uint64_t *kv)
{
	*q = *kv = 0;
	const char *arch = mp_meta_get(meta, n, "general.architecture");
	if (arch && strlen(arch) < 64) {
		char key[128];
		snprintf(key, sizeof key, "%s.attention.head_count", arch);
		*q = count_of(mp_meta_get(meta, n, key));
		snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
		*kv = count_of(mp_meta_get(meta, n, key));
	}
	if (!*q)
		*kv = 0;
	else if (!*kv)
		*kv = *q;
	return *q != 0;
}

bool mp_gguf_heads(const struct mp_model *m, uint64_t *q, uint64_t *kv)
{
	mp_gguf_meta_heads(m->meta, m->nmeta, q, kv);
	if (!*q && m->dir) {
		char path[4096];
		mp_json *j = NULL;
		struct mp_error err;
		struct stat st;
		snprintf(path, sizeof path, "%s/config.json", m->dir);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    mp_json_load(path, 1 << 20, &j, &err) == MP_OK) {
			*q = json_count(j, "num_attention_heads");
			*kv = json_count(j, "num_key_value_heads");
			mp_json_free(j);
		}
	}
	if (!*q)
		*kv = 0;
	else if (!*kv)
		*kv = *q;
	return *q != 0;
}

bool mp_gguf_shapes_pair(const struct mp_model *a, const struct mp_tensor *ta,
			 const struct mp_model *b, const struct mp_tensor *tb,
			 bool *transposed)
{
	bool ga = mp_gguf_names_is_gguf(ta->name);
	const struct mp_model *g = ga ? a : b;
	bool t = ga != mp_gguf_names_is_gguf(tb->name) && ta->ndim == 2 &&
		 tb->ndim == 2 && ta->shape[0] == tb->shape[1] &&
		 ta->shape[1] == tb->shape[0] &&
		 mp_gguf_names_transposed(
		     mp_gguf_names_default(),
		     mp_meta_get(g->meta, g->nmeta, "general.architecture"),
		     ga ? ta->name : tb->name);
	if (transposed)
		*transposed = t;
	return t || mp_metric_shapes_match(ta->ndim, ta->shape, ta->numel,
					   tb->ndim, tb->shape, tb->numel);
}

/* Whether name matches entry e's template (side hf: the
 * Hugging Face template, with or without "model." and "transformer." as
 * mp_gguf_names_alias takes them; else the GGUF one). */
static bool side_match(const struct entry *e, bool hf, const char *name)
{
	const char *num, *rest;
	size_t nd;
	if (!hf)
		return tpl_match(e->gguf, name, &num, &nd, &rest);
	const char *bare = !strncmp(name, "transformer.", 12) ? name + 12 : name;
	return tpl_match(e->hf, name, &num, &nd, &rest) ||
	       tpl_match(e->hf, bare, &num, &nd, &rest) ||
	       (!strncmp(e->hf, "model.", 6) &&
		tpl_match(e->hf + 6, name, &num, &nd, &rest));
}

/* Whether name stands for its layer's names: no layer number, or layer 0
 * (the layers repeat one pattern; reading one keeps this O(archs x
 * entries x one layer)). */
static bool first_layer(const char *name)
{
	const char *d = strpbrk(name, "0123456789");
	return !d || (d[0] == '0' && !(d[1] >= '0' && d[1] <= '9'));
}

/* Name i of names. */
static const char *name_at(const struct mp_names *names, size_t i)
{
	return *(const char *const *)((const char *)names->base +
				      i * names->stride + names->off);
}

const char *mp_gguf_names_arch_of(const struct mp_gguf_names *t,
				  const char *declared,
				  const struct mp_names *names)
{
	if (!t || !names->n)
		return NULL;
	for (size_t i = 0; declared && i < t->n; i++)
		if (!strcmp(t->e[i].arch, declared))
			return t->e[i].arch;
	bool hf = !mp_gguf_names_is_gguf(name_at(names, 0));
	const char *best = NULL;
	size_t best_cov = 0, best_unused = 0;
	for (size_t a = 0; a < t->n; a++) {
		const char *arch = t->e[a].arch;
		if (a && !strcmp(t->e[a - 1].arch, arch))
			continue; /* each architecture once, at its first entry */
		size_t end = a, cov = 0, unused = 0;
		while (end < t->n && !strcmp(t->e[end].arch, arch))
			end++;
		for (size_t i = 0; i < names->n; i++) {
			const char *nm = name_at(names, i);
			for (size_t e = a; first_layer(nm) && e < end; e++)
				if (side_match(&t->e[e], hf, nm)) {
					cov++;
					break;
				}
		}
		for (size_t e = a; e < end; e++) {
			bool used = false;
			for (size_t i = 0; i < names->n && !used; i++)
				used = first_layer(name_at(names, i)) &&
				       side_match(&t->e[e], hf, name_at(names, i));
			unused += !used;
		}
		if (cov > best_cov ||
		    (cov == best_cov && cov && unused < best_unused)) {
			best = arch;
			best_cov = cov;
			best_unused = unused;
		}
	}
	return best;
}
