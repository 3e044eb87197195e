/* torch_rebuild.c — a PyTorch pickle's value tree (pickle.h) turned into
 * tensors: _rebuild_tensor(_v2) calls over storages named by persistent
 * ids or rebuilt by torch.storage._load_from_bytes, parameters unwrapped,
 * dicts, OrderedDicts, lists and tuples flattened to dotted names. Every
 * view is checked against its storage; contiguous views point into it,
 * strided ones are copied to row-major order into a buffer the model
 * owns. Nothing is called: a CALL node is only read by its global's name. */
#include "torch_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VISITS (1u << 22) /* values walked, shared ones each time */

static const struct {
	const char *name;
	enum mp_dtype dt; /* MP_DTYPE_COUNT: refused */
} storages[] = {
    {"torch.FloatStorage", MP_F32},
    {"torch.DoubleStorage", MP_F64},
    {"torch.HalfStorage", MP_F16},
    {"torch.BFloat16Storage", MP_BF16},
    {"torch.LongStorage", MP_I64},
    {"torch.IntStorage", MP_I32},
    {"torch.ShortStorage", MP_I16},
    {"torch.CharStorage", MP_I8},
    {"torch.ByteStorage", MP_U8},
    {"torch.BoolStorage", MP_BOOL},
    {"torch.ComplexFloatStorage", MP_DTYPE_COUNT},
    {"torch.ComplexDoubleStorage", MP_DTYPE_COUNT},
    {"torch.QInt8Storage", MP_DTYPE_COUNT},
    {"torch.QUInt8Storage", MP_DTYPE_COUNT},
    {"torch.QInt32Storage", MP_DTYPE_COUNT},
};

const char *const mp_torch_allowed[] = {
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
    "torch.ComplexFloatStorage",
    "torch.ComplexDoubleStorage",
    "torch.QInt8Storage",
    "torch.QUInt8Storage",
    "torch.QInt32Storage",
    "torch.storage._load_from_bytes",
    "torch.Size",
    "collections.OrderedDict",
    "torch.float32",
    "torch.float64",
    "torch.float16",
    "torch.bfloat16",
    "torch.int64",
    "torch.int32",
    "torch.int16",
    "torch.int8",
    "torch.uint8",
    "torch.bool",
    "_codecs.encode",
    NULL};

static bool is_call(const struct mp_pk *v, const char *fn)
{
	return v->kind == MP_PK_CALL && v->fn && v->fn->s &&
	       !strcmp(v->fn->s, fn);
}

static bool is_int(const struct mp_pk *v)
{
	return v && v->kind == MP_PK_INT;
}

/* A dict or an OrderedDict call (whose items SETITEMS filled). */
static bool dict_like(const struct mp_pk *v)
{
	return v->kind == MP_PK_DICT || is_call(v, "collections.OrderedDict");
}

static const struct mp_pk *dget(const struct mp_pk *v, const char *key)
{
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (v->items[i]->kind == MP_PK_STR &&
		    !strcmp(v->items[i]->s, key))
			return v->items[i + 1];
	return NULL;
}

mp_status mp_torch_pid(const char *where, const struct mp_pk *v, struct tpid *p,
		       struct mp_error *err)
{
	const struct mp_pk *a = v->args;
	if (!a || a->kind != MP_PK_TUPLE || a->n < 5 ||
	    a->items[0]->kind != MP_PK_STR ||
	    strcmp(a->items[0]->s, "storage") ||
	    a->items[1]->kind != MP_PK_GLOBAL ||
	    a->items[2]->kind != MP_PK_STR || !is_int(a->items[4]) ||
	    a->items[4]->i < 0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: malformed persistent id (want "
				    "('storage', type, key, location, numel))",
				    where);
	char kb[MP_NAME_SHOW + 8];
	if (a->n > 5 && a->items[5]->kind != MP_PK_NONE)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: storage '%s' is a view of another "
				    "storage (view_metadata, torch < 0.4), "
				    "which is not supported",
				    where, mp_printable(a->items[2]->s, kb));
	const char *ty = a->items[1]->s;
	for (size_t i = 0; i < sizeof storages / sizeof storages[0]; i++) {
		if (strcmp(storages[i].name, ty))
			continue;
		if (storages[i].dt == MP_DTYPE_COUNT)
			return mp_error_set(
			    err, MP_EDTYPE,
			    "%s: storage '%s' has type %s: "
			    "complex and quantized tensors are "
			    "not supported",
			    where, mp_printable(a->items[2]->s, kb), ty);
		p->key = a->items[2]->s;
		p->dt = storages[i].dt;
		p->numel = (uint64_t)a->items[4]->i;
		return MP_OK;
	}
	return mp_error_set(err, MP_EDTYPE,
			    "%s: storage '%s' has type %s, which is not a "
			    "tensor storage",
			    where, mp_printable(a->items[2]->s, kb), ty);
}

/* --- storages --------------------------------------------------------- */

static size_t slot_hash(const char *key, const struct mp_pk *node)
{
	uint64_t h = 1469598103934665603ull;
	if (key)
		for (const unsigned char *k = (const unsigned char *)key; *k;
		     k++)
			h = (h ^ *k) * 1099511628211ull;
	else
		h = ((uint64_t)(uintptr_t)node >> 4) * 11400714819323198485ull;
	return (size_t)(h ^ h >> 29);
}

/* The slot of key (or node) in c's cache: its entry, or the empty slot
 * where it goes (cache not full). */
static struct tcache *slot(struct tctx *c, const char *key,
			   const struct mp_pk *node)
{
	size_t i = slot_hash(key, node) & (c->ccap - 1);
	for (;; i = (i + 1) & (c->ccap - 1)) {
		struct tcache *e = &c->cache[i];
		if ((!e->key && !e->node) ||
		    (key ? e->key && !strcmp(e->key, key) : e->node == node))
			return e;
	}
}

static struct tcache *cache_find(struct tctx *c, const char *key,
				 const struct mp_pk *node)
{
	if (!c->ccap)
		return NULL;
	struct tcache *e = slot(c, key, node);
	return e->key || e->node ? e : NULL;
}

static mp_status cache_add(struct tctx *c, const char *key,
			   const struct mp_pk *node, const struct tstore *st,
			   struct mp_error *err)
{
	if (2 * (c->ncache + 1) > c->ccap) {
		struct tctx n = *c;
		n.ccap = c->ccap ? 2 * c->ccap : 64;
		n.cache = calloc(n.ccap, sizeof *n.cache);
		if (!n.cache)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    c->where);
		for (size_t i = 0; i < c->ccap; i++)
			if (c->cache[i].key || c->cache[i].node)
				*slot(&n, c->cache[i].key, c->cache[i].node) =
				    c->cache[i];
		free(c->cache);
		c->cache = n.cache;
		c->ccap = n.ccap;
	}
	*slot(c, key, node) = (struct tcache){key, node, *st};
	c->ncache++;
	return MP_OK;
}

/* The bytes of _codecs.encode(TEXT, "latin1") (how protocol 2 pickles
 * bytes): every character of TEXT below 256, into *out (malloc). */
static mp_status latin1(const struct tctx *c, const struct mp_pk *v,
			uint8_t **out, size_t *n, struct mp_error *err)
{
	const struct mp_pk *a = v->args;
	if (!a || a->n != 2 || a->items[0]->kind != MP_PK_STR ||
	    a->items[1]->kind != MP_PK_STR ||
	    (strcmp(a->items[1]->s, "latin1") &&
	     strcmp(a->items[1]->s, "latin-1")))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: _codecs.encode is only read as "
				    "encode(text, 'latin1')",
				    c->where);
	const uint8_t *t = (const uint8_t *)a->items[0]->s;
	size_t len = a->items[0]->len, k = 0;
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    c->where);
	for (size_t i = 0; i < len; i++) {
		if (t[i] < 0x80) {
			b[k++] = t[i];
		} else if ((t[i] == 0xc2 || t[i] == 0xc3) && i + 1 < len &&
			   (t[i + 1] & 0xc0) == 0x80) {
			b[k++] =
			    (uint8_t)((t[i] & 0x1f) << 6 | (t[i + 1] & 0x3f));
			i++;
		} else {
			free(b);
			return mp_error_set(err, MP_EFORMAT,
					    "%s: _codecs.encode text is not "
					    "latin-1",
					    c->where);
		}
	}
	*out = b;
	*n = k;
	return MP_OK;
}

/* The storage of a torch.storage._load_from_bytes(b"...") call: a whole
 * legacy torch.save of one storage, copied into a buffer the model owns. */
static mp_status from_bytes(struct tctx *c, const struct mp_pk *call,
			    struct tstore *out, struct mp_error *err)
{
	const struct mp_pk *a = call->args;
	const uint8_t *bytes = NULL;
	uint8_t *latin = NULL;
	size_t blen = 0;
	if (a && a->n == 1 && a->items[0]->kind == MP_PK_BYTES) {
		bytes = (const uint8_t *)a->items[0]->s;
		blen = a->items[0]->len;
	} else if (a && a->n == 1 && is_call(a->items[0], "_codecs.encode")) {
		mp_status s = latin1(c, a->items[0], &latin, &blen, err);
		if (s != MP_OK)
			return s;
		bytes = latin;
	} else {
		return mp_error_set(err, MP_EFORMAT,
				    "%s: torch.storage._load_from_bytes "
				    "without one bytes argument",
				    c->where);
	}
	struct tlegacy L;
	size_t wl = strlen(c->where) + 32;
	char *where = malloc(wl);
	if (!where) {
		free(latin);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    c->where);
	}
	snprintf(where, wl, "%s: _load_from_bytes", c->where);
	mp_status s = mp_torch_legacy(bytes, blen, where, &L, err);
	struct tpid p;
	if (s == MP_OK && L.root->kind != MP_PK_PERSID)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: the bytes hold no storage", where);
	if (s == MP_OK)
		s = mp_torch_pid(where, L.root, &p, err);
	if (s == MP_OK)
		s = mp_torch_legacy_find(&L, &p, where, out, err);
	if (s == MP_OK && out->nbytes > *c->budget)
		s = mp_error_set(err, MP_ERANGE,
				 "%s: copying %" PRIu64 " bytes would pass the "
				 "limit for the model",
				 where, out->nbytes);
	uint8_t *copy = NULL;
	if (s == MP_OK && !(copy = malloc(out->nbytes ? out->nbytes : 1)))
		s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	if (s == MP_OK) {
		if (out->nbytes)
			memcpy(copy, out->data, out->nbytes);
		*c->budget -= out->nbytes;
		out->data = copy;
		s = mp_model_own(c->m, copy, err);
	}
	mp_torch_legacy_free(&L);
	free(where);
	free(latin);
	return s;
}

/* The storage behind a tensor's first argument. */
static mp_status storage(struct tctx *c, const struct mp_pk *v,
			 struct tstore *out, struct mp_error *err)
{
	const struct tcache *hit = cache_find(c, NULL, v);
	if (hit) {
		*out = hit->st;
		return MP_OK;
	}
	if (is_call(v, "torch.storage._load_from_bytes")) {
		mp_status s = from_bytes(c, v, out, err);
		return s == MP_OK ? cache_add(c, NULL, v, out, err) : s;
	}
	if (v->kind != MP_PK_PERSID)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a tensor's storage is neither a "
				    "persistent id nor _load_from_bytes",
				    c->where);
	struct tpid p;
	mp_status s = mp_torch_pid(c->where, v, &p, err);
	if (s != MP_OK)
		return s;
	char kb[MP_NAME_SHOW + 8];
	if ((hit = cache_find(c, p.key, NULL))) {
		if (hit->st.dt != p.dt)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: storage '%s' is named with "
					    "two types",
					    c->where, mp_printable(p.key, kb));
		*out = hit->st;
		return MP_OK;
	}
	s = c->resolve(c, &p, out, err);
	if (s != MP_OK)
		return s;
	out->dt = p.dt;
	uint64_t want;
	if (!mp_mul_u64(p.numel, mp_dtype_size(p.dt), &want) ||
	    want != out->nbytes)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: storage '%s' holds %" PRIu64
				    " bytes but its record gives %" PRIu64
				    " elements of %u bytes",
				    c->where, mp_printable(p.key, kb),
				    out->nbytes, p.numel, mp_dtype_size(p.dt));
	return cache_add(c, p.key, NULL, out, err);
}

/* --- tensors ---------------------------------------------------------- */

/* The integers of a tuple (or torch.Size call) into d[0..*nd). */
static bool ints(const struct mp_pk *v, uint64_t *d, int *nd)
{
	if (is_call(v, "torch.Size") && v->args && v->args->n == 1)
		v = v->args->items[0];
	if (v->kind != MP_PK_TUPLE && v->kind != MP_PK_LIST)
		return false;
	if (v->n > MP_MAX_DIMS)
		return false;
	for (size_t i = 0; i < v->n; i++) {
		if (!is_int(v->items[i]) || v->items[i]->i < 0)
			return false;
		d[i] = (uint64_t)v->items[i]->i;
	}
	*nd = (int)v->n;
	return true;
}

/* Copy the strided view (sizes, strides in elements, from src) to dst in
 * row-major order. */
static void gather(const uint8_t *src, uint8_t *dst, unsigned es, int nd,
		   const uint64_t *size, const uint64_t *stride, uint64_t numel)
{
	uint64_t idx[MP_MAX_DIMS] = {0}, from = 0;
	for (uint64_t i = 0; i < numel; i++) {
		memcpy(dst + i * es, src + from * es, es);
		for (int k = nd - 1; k >= 0; k--) {
			from += stride[k];
			if (++idx[k] < size[k])
				break;
			from -= stride[k] * size[k];
			idx[k] = 0;
		}
	}
}

static mp_status tensor(struct tctx *c, const struct mp_pk *v,
			struct mp_error *err)
{
	const char *name = c->nlen ? c->name : c->single;
	char nb[MP_NAME_SHOW + 8];
	const struct mp_pk *a = v->args;
	uint64_t size[MP_MAX_DIMS], stride[MP_MAX_DIMS];
	int nd = 0, ns = -1;
	if (!a || a->n < 4 || !is_int(a->items[1]) || a->items[1]->i < 0 ||
	    !ints(a->items[2], size, &nd) || !ints(a->items[3], stride, &ns) ||
	    nd != ns)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s': malformed %s call (want "
				    "storage, offset, size and stride, at most "
				    "%d dimensions)",
				    c->where, mp_printable(name, nb), v->fn->s,
				    MP_MAX_DIMS);
	struct tstore st;
	mp_status s = storage(c, a->items[0], &st, err);
	if (s != MP_OK)
		return s;
	struct mp_tensor *t;
	s = mp_model_add_tensor(c->m, name, &t, err);
	if (s != MP_OK)
		return s;
	t->stored = t->logical = st.dt;
	t->file_index = c->file_index;
	s = mp_tensor_set_shape(t, nd, size, c->where, err);
	if (s != MP_OK)
		return s;
	unsigned es = mp_dtype_size(st.dt);
	uint64_t off = (uint64_t)a->items[1]->i, last = off, end = 0;
	bool ok = true, contig = true;
	uint64_t want = 1;
	for (int k = nd - 1; k >= 0; k--) {
		uint64_t span;
		if (size[k] > 1 && stride[k] != want)
			contig = false;
		ok = ok &&
		     mp_mul_u64(size[k] ? size[k] - 1 : 0, stride[k], &span) &&
		     mp_add_u64(last, span, &last);
		want *= size[k] ? size[k] : 1;
	}
	ok = ok && mp_add_u64(last, 1, &end) && mp_mul_u64(end, es, &end);
	if (t->numel && (!ok || end > st.nbytes))
		return mp_error_set(
		    err, MP_EFORMAT,
		    "%s: tensor '%s': offset %" PRIu64
		    " and shape/stride reach past its "
		    "storage (%" PRIu64 " elements of %u bytes)",
		    c->where, mp_printable(name, nb), off, st.nbytes / es, es);
	struct mp_seg seg = {(const uint8_t *)"", 0};
	if (t->numel && contig) {
		seg.data = st.data + off * es;
		seg.len = t->nbytes;
	} else if (t->numel) {
		if (t->nbytes > *c->budget)
			return mp_error_set(err, MP_ERANGE,
					    "%s: tensor '%s': copying %" PRIu64
					    " bytes to row-major order would "
					    "pass the limit for the model",
					    c->where, mp_printable(name, nb),
					    t->nbytes);
		uint8_t *d = malloc(t->nbytes);
		if (!d)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    c->where);
		gather(st.data + off * es, d, es, nd, size, stride, t->numel);
		*c->budget -= t->nbytes;
		s = mp_model_own(c->m, d, err);
		if (s != MP_OK)
			return s;
		seg.data = d;
		seg.len = t->nbytes;
	}
	const struct mp_file *f = &c->m->files[c->file_index];
	if (seg.len && seg.data >= f->data && seg.data < f->data + f->size)
		t->offset = (uint64_t)(seg.data - f->data);
	return mp_tensor_set_segs(t, &seg, 1, c->where, err);
}

/* Append ".part" (or "part" at the start) to the name being built. */
static mp_status push_name(struct tctx *c, const char *part, size_t *saved,
			   struct mp_error *err)
{
	size_t pl = strlen(part), need = c->nlen + pl + 2;
	*saved = c->nlen;
	if (need > c->ncap) {
		size_t cap = need * 2;
		char *n = realloc(c->name, cap);
		if (!n)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    c->where);
		c->name = n;
		c->ncap = cap;
	}
	if (c->nlen)
		c->name[c->nlen++] = '.';
	memcpy(c->name + c->nlen, part, pl + 1);
	c->nlen += pl;
	return MP_OK;
}

static mp_status walk(struct tctx *c, const struct mp_pk *v,
		      struct mp_error *err);

static mp_status child(struct tctx *c, const char *part, const struct mp_pk *v,
		       struct mp_error *err)
{
	size_t saved;
	mp_status s = push_name(c, part, &saved, err);
	if (s == MP_OK)
		s = walk(c, v, err);
	c->nlen = saved;
	if (c->name)
		c->name[saved] = '\0';
	return s;
}

static mp_status walk(struct tctx *c, const struct mp_pk *v,
		      struct mp_error *err)
{
	if (++c->visits > MAX_VISITS)
		return mp_error_set(err, MP_ERANGE,
				    "%s: the pickle's values are reached more "
				    "than %u times (shared values nested too "
				    "often)",
				    c->where, MAX_VISITS);
	mp_status s = MP_OK;
	char part[32];
	if (dict_like(v)) {
		for (size_t i = 0; i + 1 < v->n && s == MP_OK; i += 2) {
			const struct mp_pk *k = v->items[i];
			if (k->kind == MP_PK_STR)
				s = child(c, k->s, v->items[i + 1], err);
			else if (k->kind == MP_PK_INT) {
				snprintf(part, sizeof part, "%" PRId64, k->i);
				s = child(c, part, v->items[i + 1], err);
			}
		}
	} else if (v->kind == MP_PK_LIST || v->kind == MP_PK_TUPLE) {
		for (size_t i = 0; i < v->n && s == MP_OK; i++) {
			snprintf(part, sizeof part, "%zu", i);
			s = child(c, part, v->items[i], err);
		}
	} else if (is_call(v, "torch._utils._rebuild_tensor_v2") ||
		   is_call(v, "torch._utils._rebuild_tensor")) {
		s = tensor(c, v, err);
	} else if (is_call(v, "torch._utils._rebuild_parameter") ||
		   is_call(v, "torch._utils._rebuild_parameter_with_state")) {
		if (v->args && v->args->n >= 1)
			s = walk(c, v->args->items[0], err);
	}
	return s;
}

mp_status mp_torch_tensors(struct tctx *c, const struct mp_pk *root,
			   struct mp_error *err)
{
	for (int i = 0; i < 8 && dict_like(root); i++) {
		const struct mp_pk *w = dget(root, "state_dict");
		if (!w || !dict_like(w))
			w = dget(root, "model");
		if (!w || !dict_like(w))
			break;
		root = w;
	}
	mp_status s = walk(c, root, err);
	free(c->cache);
	free(c->name);
	c->cache = NULL;
	c->name = NULL;
	c->ncache = c->ccap = c->nlen = c->ncap = 0;
	return s;
}
