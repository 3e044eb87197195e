/* lineage_perm.c — is U equal to R up to a permutation of hidden units:
 * the rows of one matrix (and its bias) and the matching columns of the
 * next permuted by one permutation (see lineage_int.h)?
 *
 * Every matched tensor whose bytes differ is cut into slices along each
 * of its axes (rows and columns of a matrix, single values of a 1-D
 * tensor, output and input channels of a convolution kernel). Each slice
 * gets a hash of the multiset of its values' bytes (a sum of mixed 64-bit
 * words, so it does not depend on the order inside the slice, and a tensor
 * permuted on several axes still matches); U's slices sorted by hash must equal
 * R's sorted by hash, which gives the permutation of that axis (ties kept in
 * index order). An axis that is not the identity is a tensor axis carrying a
 * permutation; the ones carrying equal permutations form one layer (an axis
 * with repeated slices, e.g. a bias with equal values, joins the layer whose
 * permutation its hashes agree with). Every permuted tensor is then
 * checked value by value: U[i, .., j] has the bytes of R[p0[i], .., pn[j]].
 * Safetensors ([out, in]: rows of W1 and b1, columns of W2; convolutions
 * [out, in, h, w]) and TF.js ([in, out]: columns of W1, b1, rows of W2;
 * [h, w, in, out]) both work, since every axis is tried on every tensor. */
#include "lineage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One tensor axis whose slices U permutes. */
struct ent {
	size_t ti;  /* tensor index in U */
	int axis;   /* 0 first, 1 last */
	uint64_t n; /* slices */
	uint64_t *hu, *hr, *p;
	bool unique; /* no two of R's slices share a hash */
	int layer;
};

struct layer {
	uint64_t n, *p; /* borrowed from its first entry */
	size_t ntensors;
};

struct det {
	struct ent *e;
	size_t ne, cap;
	struct layer *l;
	int nl;
	size_t identical;
};

static void det_free(struct det *d)
{
	for (size_t i = 0; i < d->ne; i++) {
		free(d->e[i].hu);
		free(d->e[i].hr);
		free(d->e[i].p);
	}
	free(d->e);
	free(d->l);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/* Multiset hashes of t's slices along every axis k: h[k][shape[k]]
 * (NULL for an axis of length 1). */
static void hash_slices(const struct mp_tensor *t, uint64_t *const *h,
			const uint64_t *stride, uint8_t *scratch)
{
	unsigned es = mp_dtype_size(t->stored);
	for (uint64_t e0 = 0; e0 < t->numel; e0 += MP_LIN_BLK) {
		size_t n = t->numel - e0 < MP_LIN_BLK ? (size_t)(t->numel - e0)
						      : MP_LIN_BLK;
		const uint8_t *raw =
		    mp_tensor_elems(t, e0, n, scratch);
		for (size_t i = 0; i < n; i++) {
			uint64_t w = 0, e = e0 + i;
			memcpy(&w, raw + i * es, es);
			uint64_t x = mix(w);
			for (int k = 0; k < t->ndim; k++)
				if (h[k])
					h[k][e / stride[k] % t->shape[k]] += x;
		}
	}
}

/* A slice: its hash and index, sorted by hash, then index. */
struct hi {
	uint64_t h, i;
};

static int by_hash(const void *a, const void *b)
{
	const struct hi *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* The permutation taking R's slices to U's, in e->p; false when the
 * multisets differ. */
static bool match(struct ent *e, struct hi *su, struct hi *sr)
{
	for (uint64_t i = 0; i < e->n; i++) {
		su[i] = (struct hi){e->hu[i], i};
		sr[i] = (struct hi){e->hr[i], i};
	}
	qsort(su, e->n, sizeof *su, by_hash);
	qsort(sr, e->n, sizeof *sr, by_hash);
	e->unique = true;
	for (uint64_t k = 0; k < e->n; k++) {
		if (su[k].h != sr[k].h)
			return false;
		if (k && sr[k].h == sr[k - 1].h)
			e->unique = false;
		e->p[su[k].i] = sr[k].i;
	}
	return true;
}

static bool identity(const uint64_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != i)
			return false;
	return true;
}

/* Append an entry for axis of tensor ti with its hashes (taken). */
static bool add_ent(struct det *d, size_t ti, int axis, uint64_t n,
		    uint64_t *hu, uint64_t *hr)
{
	if (d->ne == d->cap) {
		size_t c = d->cap ? 2 * d->cap : 8;
		struct ent *x = realloc(d->e, c * sizeof *x);
		if (!x)
			return false;
		d->e = x;
		d->cap = c;
	}
	d->e[d->ne++] = (struct ent){ti, axis, n, hu, hr, NULL, true, -1};
	return true;
}

/* Row-major strides of t. */
static void strides(const struct mp_tensor *t, uint64_t *stride)
{
	uint64_t x = 1;
	for (int k = t->ndim - 1; k >= 0; k--) {
		stride[k] = x;
		x *= t->shape[k];
	}
}

/* The axes of one differing tensor pair that U permutes, appended to d;
 * *perm false when some axis is no permutation. */
static mp_status tensor_axes(struct det *d, size_t ti,
			     const struct mp_tensor *tu,
			     const struct mp_tensor *tr, uint8_t *scratch,
			     bool *perm)
{
	*perm = false;
	if (!tu->ndim || !tu->numel || !mp_lineage_comparable(tu, tr))
		return MP_OK;
	uint64_t stride[MP_MAX_DIMS], m = 1;
	uint64_t *hu[MP_MAX_DIMS] = {NULL}, *hr[MP_MAX_DIMS] = {NULL};
	bool ok = true;
	strides(tu, stride);
	for (int k = 0; k < tu->ndim; k++) {
		if (tu->shape[k] < 2)
			continue;
		m = tu->shape[k] > m ? tu->shape[k] : m;
		hu[k] = calloc(tu->shape[k], 8);
		hr[k] = calloc(tu->shape[k], 8);
		ok = ok && hu[k] && hr[k];
	}
	struct hi *iu = malloc(m * sizeof *iu), *ir = malloc(m * sizeof *ir);
	size_t first = d->ne;
	ok = ok && iu && ir;
	if (ok) {
		hash_slices(tu, hu, stride, scratch);
		hash_slices(tr, hr, stride, scratch);
	}
	*perm = ok;
	for (int k = 0; k < tu->ndim && ok && *perm; k++) {
		uint64_t n = tu->shape[k];
		if (n < 2)
			continue;
		if (!add_ent(d, ti, k, n, hu[k], hr[k])) {
			ok = false;
			break;
		}
		hu[k] = hr[k] = NULL;
		struct ent *e = &d->e[d->ne - 1];
		if (!(e->p = malloc(n * 8))) {
			ok = false;
			break;
		}
		if (!match(e, iu, ir))
			*perm = false;
		else if (identity(e->p, n)) {
			free(e->hu), free(e->hr), free(e->p);
			d->ne--;
		}
	}
	if (*perm && d->ne == first)
		*perm = false; /* bytes differ, yet no axis moved */
	for (int k = 0; k < tu->ndim; k++) {
		free(hu[k]);
		free(hr[k]);
	}
	free(iu);
	free(ir);
	return ok ? MP_OK : MP_ENOMEM;
}

/* Whether the slices of e agree with the permutation p. */
static bool agrees(const struct ent *e, const uint64_t *p)
{
	for (uint64_t i = 0; i < e->n; i++)
		if (e->hu[i] != e->hr[p[i]])
			return false;
	return true;
}

/* Group the entries into layers: the unique ones by equal permutations
 * first, then the others by agreement. */
static bool layers(struct det *d)
{
	d->l = calloc(d->ne ? d->ne : 1, sizeof *d->l);
	if (!d->l)
		return false;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->ne; i++) {
			struct ent *e = &d->e[i];
			if (e->unique != !pass)
				continue;
			int j;
			for (j = 0; j < d->nl; j++)
				if (d->l[j].n == e->n &&
				    (pass ? agrees(e, d->l[j].p)
					  : !memcmp(d->l[j].p, e->p, e->n * 8)))
					break;
			if (j == d->nl)
				d->l[d->nl++] = (struct layer){e->n, e->p, 0};
			else if (pass)
				memcpy(e->p, d->l[j].p, e->n * 8);
			e->layer = j;
			d->l[j].ntensors++;
		}
	return true;
}

/* U[i0, .., in] == R[p[0][i0], .., p[n][in]] bytewise (p[k] NULL: the
 * identity). */
static bool verify(const struct mp_tensor *tu, const struct mp_tensor *tr,
		   const uint64_t *const *p, uint8_t *bu, uint8_t *br)
{
	unsigned es = mp_dtype_size(tu->stored);
	uint64_t stride[MP_MAX_DIMS];
	strides(tu, stride);
	for (uint64_t e0 = 0; e0 < tu->numel; e0 += MP_LIN_BLK) {
		uint64_t n =
		    tu->numel - e0 < MP_LIN_BLK ? tu->numel - e0 : MP_LIN_BLK;
		const uint8_t *x = mp_tensor_elems(tu, e0, n, bu);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t e = e0 + i, src = 0;
			for (int k = 0; k < tu->ndim; k++) {
				uint64_t c = e / stride[k] % tu->shape[k];
				src += (p[k] ? p[k][c] : c) * stride[k];
			}
			const uint8_t *y =
			    mp_tensor_elems(tr, src, 1, br);
			if (memcmp(x + i * es, y, es))
				return false;
		}
	}
	return true;
}

/* Detect the permutation of u against r into d; *perm whether found. */
static mp_status detect(const struct mp_model *u, const struct mp_model *r,
			struct det *d, bool *perm, struct mp_error *err)
{
	memset(d, 0, sizeof *d);
	*perm = false;
	struct mp_lin_block *b = malloc(2 * sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    u->path);
	mp_status st = MP_OK;
	bool ok = true;
	size_t matched = 0;
	for (size_t i = 0; i < u->ntensors && ok && st == MP_OK; i++) {
		const struct mp_tensor *tu = &u->tensors[i];
		const struct mp_tensor *tr = mp_model_find(r, tu->name);
		if (!tr || !mp_lineage_shapes_match(tu, tr))
			continue;
		matched++;
		if (mp_lineage_same_bytes(tu, tr, &b[0], &b[1]))
			d->identical++;
		else
			st = tensor_axes(d, i, tu, tr, b[0].scratch, &ok);
	}
	if (st == MP_OK && ok && d->ne && !layers(d))
		st = MP_ENOMEM;
	for (size_t k = 0; st == MP_OK && ok && k < d->ne;) {
		size_t ti = d->e[k].ti;
		const uint64_t *p[MP_MAX_DIMS] = {NULL};
		for (; k < d->ne && d->e[k].ti == ti; k++)
			p[d->e[k].axis] = d->e[k].p;
		const struct mp_tensor *tu = &u->tensors[ti];
		ok = verify(tu, mp_model_find(r, tu->name), p, b[0].scratch,
			    b[1].scratch);
	}
	free(b);
	if (st != MP_OK)
		return mp_error_set(err, st, "%s: out of memory", u->path);
	*perm = ok && d->ne && matched;
	return MP_OK;
}

#define EV(...)                                                                \
	snprintf(l->evidence + strlen(l->evidence),                            \
		 sizeof l->evidence - strlen(l->evidence), __VA_ARGS__)

/* "rows of", "columns of" (2 axes), "values of" (1), "axis k of". */
static const char *axis_words(const struct mp_tensor *t, int axis, char buf[32])
{
	if (t->ndim == 1)
		return "values";
	if (t->ndim == 2)
		return axis ? "columns" : "rows";
	snprintf(buf, 32, "axis %d", axis);
	return buf;
}

static void verdict(struct mp_lineage *l, const struct mp_model *u,
		    const struct det *d)
{
	char nb[MP_NAME_SHOW + 8];
	l->kind = MP_LIN_PERMUTED;
	l->reversed = false;
	l->confidence =
	    l->only_u || l->only_r || l->shape_differs ? "high" : "certain";
	l->nperm_all = d->nl;
	l->nperm = d->nl < MP_LIN_PERM_MAX ? d->nl : MP_LIN_PERM_MAX;
	l->permuted = 0;
	for (size_t k = 0; k < d->ne; k++)
		if (!k || d->e[k].ti != d->e[k - 1].ti)
			l->permuted++;
	l->evidence[0] = 0;
	EV("A equals B with hidden units permuted: %zu tensors have their "
	   "slices permuted (every value checked), %zu other matched tensors "
	   "have identical bytes",
	   l->permuted, d->identical);
	for (int j = 0; j < l->nperm; j++) {
		struct mp_lineage_perm *p = &l->perm[j];
		memset(p, 0, sizeof *p);
		p->units = d->l[j].n;
		for (uint64_t i = 0; i < p->units; i++)
			p->moved += d->l[j].p[i] != i;
		for (uint64_t i = 0; i < p->units && i < MP_LIN_PERM_SHOW; i++)
			p->first[i] = d->l[j].p[i];
		EV("; permutation %d: %llu of %llu units moved, on", j + 1,
		   (unsigned long long)p->moved, (unsigned long long)p->units);
		for (size_t k = 0; k < d->ne; k++) {
			const struct ent *e = &d->e[k];
			if (e->layer != j)
				continue;
			const struct mp_tensor *t = &u->tensors[e->ti];
			if (p->ntensors < MP_LIN_PERM_TENSORS) {
				p->tensor[p->ntensors] = t->name;
				p->axis[p->ntensors] = e->axis;
			}
			char ab[32];
			EV("%s %s of %s", p->ntensors ? "," : "",
			   axis_words(t, e->axis, ab),
			   mp_printable(t->name, nb));
			p->ntensors++;
		}
		EV(" (unit i of A is unit p[i] of B; p =");
		for (uint64_t i = 0; i < p->units && i < MP_LIN_PERM_SHOW; i++)
			EV(" %llu", (unsigned long long)p->first[i]);
		EV("%s)", p->units > MP_LIN_PERM_SHOW ? " ..." : "");
	}
	mp_lineage_suffix(l, "A", "B");
}

mp_status mp_lineage_perm(const struct mp_model *u, const struct mp_model *r,
			  struct mp_lineage *l, bool *hit, struct mp_error *err)
{
	struct det d;
	mp_status st = detect(u, r, &d, hit, err);
	if (st == MP_OK && *hit)
		verdict(l, u, &d);
	det_free(&d);
	return st;
}

mp_status mp_lineage_permutation(const struct mp_model *u,
				 const struct mp_model *r, int layer,
				 uint64_t **perm, uint64_t *n,
				 struct mp_error *err)
{
	*perm = NULL;
	*n = 0;
	struct det d;
	bool hit;
	mp_status st = detect(u, r, &d, &hit, err);
	if (st == MP_OK && (!hit || layer < 0 || layer >= d.nl))
		st = mp_error_set(err, MP_ENOENT,
				  "%s: no permutation %d of hidden units "
				  "against %s",
				  u->path, layer + 1, r->path);
	if (st == MP_OK) {
		*n = d.l[layer].n;
		*perm = malloc((*n ? *n : 1) * sizeof **perm);
		if (!*perm)
			st = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					  u->path);
		else
			memcpy(*perm, d.l[layer].p, *n * sizeof **perm);
	}
	det_free(&d);
	return st;
}
