/* sparsity.c — bit-packed masks of non-zero weights, Hamming distances
 * by popcount, nearest features, and the module's random numbers. */
#include "sparsity.h"
#include "mapguard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

bool mp_sparsity_is_matrix(const struct mp_tensor *t)
{
	return mp_dtype_is_float(t->logical) && t->ndim >= 2 && t->numel > 0;
}

mp_status mp_mask_init(struct mp_mask *mk, uint64_t nfeat, uint64_t width,
		       struct mp_error *err)
{
	memset(mk, 0, sizeof *mk);
	uint64_t words = width / 64 + (width % 64 != 0), total;
	if (!mp_mul_u64(nfeat, words, &total) || total > SIZE_MAX / 8)
		return mp_error_set(err, MP_ERANGE,
				    "mask of %llu x %llu bits is too large",
				    (unsigned long long)nfeat,
				    (unsigned long long)width);
	mk->bits = calloc(total ? total : 1, 8);
	if (!mk->bits)
		return mp_error_set(err, MP_ENOMEM, "out of memory for a mask "
						    "of %llu x %llu bits",
				    (unsigned long long)nfeat,
				    (unsigned long long)width);
	mk->nfeat = nfeat;
	mk->width = width;
	mk->words = words;
	return MP_OK;
}

void mp_mask_done(struct mp_mask *mk)
{
	if (!mk)
		return;
	free(mk->bits);
	mk->bits = NULL;
}

enum { NONZERO = 1, TINY = 2 };

struct chunk {
	const struct mp_model *m;
	const struct mp_tensor *t;
	unsigned es;
	uint8_t *scratch; /* [CHUNK * es] */
	double *v;	  /* [CHUNK] */
	uint8_t *flags;	  /* [CHUNK] NONZERO | TINY of each value */
	uint8_t *table;	  /* [65536] flags of each code of a 1- or 2-byte
			   * dtype, or NULL */
};

static uint8_t flags_of(double x)
{
	return (uint8_t)((x != 0 ? NONZERO : 0) | (fabs(x) < 1e-6 ? TINY : 0));
}

/* The flags of every code of a 1- or 2-byte stored type, decoded as the
 * tensor decodes them (dequantisation included). */
static uint8_t *code_table(const struct mp_tensor *t, unsigned es)
{
	size_t n = es == 1 ? 256 : 65536;
	uint8_t *tab = malloc(65536), *raw = malloc(n * es);
	double *v = malloc(n * sizeof *v);
	if (tab && raw && v) {
		for (size_t c = 0; c < n; c++) {
			raw[c * es] = (uint8_t)c;
			if (es == 2)
				raw[c * es + 1] = (uint8_t)(c >> 8);
		}
		mp_tensor_decode(t, raw, n, v);
		for (size_t c = 0; c < n; c++)
			tab[c] = flags_of(v[c]);
	} else {
		free(tab);
		tab = NULL;
	}
	free(raw);
	free(v);
	return tab;
}

/* The flags of values [off, off + n) of the tensor into c->flags,
 * guarded. */
static mp_status read_chunk(struct chunk *c, uint64_t off, size_t n,
			    struct mp_error *err)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g))
		return mp_mapguard_error(
		    mp_mapguard_file(g.addr, c->m->files, c->m->nfiles), err);
	const uint8_t *b =
	    mp_tensor_bytes(c->t, off * c->es, (uint64_t)n * c->es, c->scratch);
	if (c->table && c->es == 1) {
		for (size_t i = 0; i < n; i++)
			c->flags[i] = c->table[b[i]];
	} else if (c->table) {
		for (size_t i = 0; i < n; i++)
			c->flags[i] =
			    c->table[b[2 * i] | (unsigned)b[2 * i + 1] << 8];
	} else {
		mp_tensor_decode(c->t, b, n, c->v);
		for (size_t i = 0; i < n; i++)
			c->flags[i] = flags_of(c->v[i]);
	}
	mp_mapguard_end(&g);
	return MP_OK;
}

static void chunk_free(struct chunk *c)
{
	free(c->scratch);
	free(c->v);
	free(c->flags);
	free(c->table);
}

mp_status mp_mask_from_tensor(const struct mp_model *m,
			      const struct mp_tensor *t,
			      enum mp_sparsity_axis axis, bool as_vector,
			      struct mp_mask *out, struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	memset(out, 0, sizeof *out);
	if (!mp_dtype_is_float(t->logical))
		return mp_error_set(err, MP_EINVAL,
				    "%s: tensor %s is %s, not floating",
				    m->path, mp_printable(t->name, show),
				    mp_dtype_name(t->logical));
	if (!as_vector && t->ndim < 2)
		return mp_error_set(err, MP_EINVAL,
				    "%s: tensor %s has %d dimension%s: a "
				    "matrix needs 2 or more",
				    m->path, mp_printable(t->name, show),
				    t->ndim, t->ndim == 1 ? "" : "s");
	if (!t->numel)
		return mp_error_set(err, MP_EINVAL, "%s: tensor %s is empty",
				    m->path, mp_printable(t->name, show));
	bool out_last = t->ndim >= 2 && t->output_last;
	uint64_t rows = 1, cols = t->numel;
	if (t->ndim >= 2) {
		rows = out_last ? t->shape[t->ndim - 1] : t->shape[0];
		cols = rows ? t->numel / rows : 0;
	}
	bool tr = axis == MP_SPARSITY_COLS;
	struct mp_error e;
	mp_status st = mp_mask_init(out, tr ? cols : rows, tr ? rows : cols,
				    &e);
	if (st != MP_OK)
		return mp_error_set(err, st, "%s: tensor %s: %s", m->path,
				    mp_printable(t->name, show), e.msg);
	out->rows = rows;
	out->cols = cols;
	struct chunk c = {m, t, mp_dtype_size(t->stored), NULL, NULL, NULL,
			  NULL};
	c.scratch = malloc((size_t)CHUNK * c.es);
	c.v = malloc(CHUNK * sizeof *c.v);
	c.flags = malloc(CHUNK);
	bool need_table = c.es <= 2 && t->numel >= 65536;
	if (need_table)
		c.table = code_table(t, c.es);
	if (!c.scratch || !c.v || !c.flags || (need_table && !c.table)) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto fail;
	}
	/* stored row-major: scols values per stored row; bit (f, k) of the
	 * mask for stored element (sr, sc) */
	uint64_t scols = out_last ? rows : cols;
	bool swap = out_last != tr; /* f = sc, k = sr */
	uint64_t sr = 0, sc = 0;
	for (uint64_t off = 0; off < t->numel; off += CHUNK) {
		size_t n = t->numel - off < CHUNK ? (size_t)(t->numel - off)
						  : CHUNK;
		if ((st = read_chunk(&c, off, n, err)) != MP_OK)
			goto fail;
		size_t i = 0;
		while (!swap && i < n) { /* along a row: no branch per bit */
			uint64_t *row = out->bits + sr * out->words;
			size_t end = i + (size_t)(scols - sc < n - i ? scols - sc
								   : n - i);
			for (; i < end; i++, sc++) {
				uint8_t fl = c.flags[i];
				row[sc / 64] |= (uint64_t)(fl & NONZERO)
						<< (sc % 64);
				out->nzero += !(fl & NONZERO);
				out->ntiny += fl >> 1;
			}
			if (sc == scols) {
				sc = 0;
				sr++;
			}
		}
		for (; i < n; i++) {
			uint8_t fl = c.flags[i];
			if (fl & NONZERO) {
				if (swap)
					mp_mask_set(out, sc, sr);
				else
					mp_mask_set(out, sr, sc);
			} else {
				out->nzero++;
			}
			out->ntiny += fl >> 1;
			if (++sc == scols) {
				sc = 0;
				sr++;
			}
		}
	}
	chunk_free(&c);
	return MP_OK;
fail:
	chunk_free(&c);
	mp_mask_done(out);
	return st;
}

uint64_t mp_mask_hamming(const struct mp_mask *mk, uint64_t a, uint64_t b)
{
	const uint64_t *x = mk->bits + a * mk->words,
		       *y = mk->bits + b * mk->words;
	uint64_t d = 0;
	for (uint64_t w = 0; w < mk->words; w++)
		d += (uint64_t)__builtin_popcountll(x[w] ^ y[w]);
	return d;
}

uint64_t mp_mask_count(const struct mp_mask *mk, uint64_t f)
{
	const uint64_t *x = mk->bits + f * mk->words;
	uint64_t d = 0;
	for (uint64_t w = 0; w < mk->words; w++)
		d += (uint64_t)__builtin_popcountll(x[w]);
	return d;
}

struct cand {
	uint64_t d, i;
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

mp_status mp_mask_nearest(const struct mp_mask *mk, uint64_t f, size_t n,
			  uint64_t *idx, uint64_t *dist, struct mp_error *err)
{
	if (f >= mk->nfeat)
		return mp_error_set(err, MP_EINVAL,
				    "feature %llu does not exist (%llu "
				    "features)",
				    (unsigned long long)f,
				    (unsigned long long)mk->nfeat);
	if (n == 0 || n > mk->nfeat - 1)
		return mp_error_set(err, MP_EINVAL,
				    "%zu nearest features asked for, but "
				    "there are %llu other features",
				    n, (unsigned long long)(mk->nfeat - 1));
	struct cand *c = malloc((size_t)(mk->nfeat - 1) * sizeof *c);
	if (!c)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	size_t k = 0;
	for (uint64_t i = 0; i < mk->nfeat; i++)
		if (i != f)
			c[k++] = (struct cand){mp_mask_hamming(mk, f, i), i};
	qsort(c, k, sizeof *c, cand_cmp);
	for (size_t i = 0; i < n; i++) {
		idx[i] = c[i].i;
		dist[i] = c[i].d;
	}
	free(c);
	return MP_OK;
}

void mp_rng_init(struct mp_rng *r, uint64_t seed)
{
	r->s = seed;
}

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

void mp_rng_skip(struct mp_rng *r, uint64_t n)
{
	r->s += n * GOLDEN;
}

uint64_t mp_rng_next(struct mp_rng *r)
{
	uint64_t z = (r->s += GOLDEN);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double mp_rng_unit(struct mp_rng *r)
{
	return (double)(mp_rng_next(r) >> 11) * 0x1.0p-53;
}

const char *mp_sparsity_grade(double ratio)
{
	if (isnan(ratio))
		return "undefined";
	if (ratio > 2)
		return "excellent";
	if (ratio > 1)
		return "good";
	if (ratio > 0.5)
		return "moderate";
	return "poor";
}
