/* sparsity.c — bit-packed masks of non-zero weights, Hamming distances
 * by popcount, nearest features, and the module's random numbers. */
#include "sparsity.h"
#include "mapguard.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	const uint8_t *table; /* [65536] flags of each code of a 1- or
			       * 2-byte dtype, or NULL */
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
	    mp_tensor_elems(c->t, off, n, c->scratch);
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
}

/* The smallest magnitude code below which every 2-byte code is tiny,
 * when the table is the rule of a float with the sign in bit 15 (float16,
 * bfloat16): code c is non-zero iff c & 0x7fff, tiny iff c & 0x7fff <
 * that code. 0 when the table follows another rule. */
static unsigned sign_rule(const uint8_t *table)
{
	unsigned lim = 0;
	while (lim < 0x8000 && (table[lim] & TINY))
		lim++;
	for (unsigned c = 0; c < 65536; c++) {
		unsigned mag = c & 0x7fff;
		uint8_t want = (uint8_t)((mag ? NONZERO : 0) |
					 (mag < lim ? TINY : 0));
		if (table[c] != want)
			return 0;
	}
	return lim;
}

/* One range of stored rows of the tensor, filled into the mask by one
 * thread: rows [r0, r1) of scols values, bit (f, k) for stored (sr, sc). */
struct fill {
	const struct mp_model *m;
	const struct mp_tensor *t;
	struct mp_mask *out;
	const uint8_t *table;
	unsigned es, lim; /* lim: sign_rule of the table, 0 if none */
	uint64_t scols, r0, r1;
	bool swap;
	uint64_t nzero, ntiny;
	mp_status st;
	struct mp_error err;
};

/* The mask word of 64 little-endian 2-byte values at p by the sign rule
 * with limit lim (>= 1), adding the non-zero ones to *nonzero and the
 * tiny ones to *tiny. Four values to a
 * uint64_t on a little-endian machine: with m = lane & 0x7fff, bit 15 of
 * m + 0x7fff is m != 0 and bit 15 of m + 0x8000 - lim is m >= lim; a
 * multiply gathers the four bits 15 to one nibble (no two partial
 * products meet below bit 52), another sums them in bits 48.. */
static uint64_t word64(const uint8_t *p, unsigned lim, uint64_t *nonzero,
		       uint64_t *tiny)
{
	uint64_t w = 0, big = 0, non = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t mag = UINT64_C(0x7fff7fff7fff7fff),
		       top = UINT64_C(0x8000800080008000),
		       nz = UINT64_C(0x7fff7fff7fff7fff),
		       ge = UINT64_C(0x0001000100010001) * (0x8000 - lim),
		       gather = (UINT64_C(1) << 48) | (UINT64_C(1) << 33) |
				(UINT64_C(1) << 18) | (UINT64_C(1) << 3),
		       sum = UINT64_C(0x0001000100010001);
	for (unsigned k = 0; k < 16; k++) {
		uint64_t v;
		memcpy(&v, p + 8 * k, 8);
		v &= mag;
		uint64_t on = ((v + nz) & top) >> 15;
		w |= ((on * gather >> 48) & 0xf) << (4 * k);
		non += on * sum >> 48;
		big += (((v + ge) & top) >> 15) * sum >> 48;
	}
#else
	for (unsigned k = 0; k < 64; k++) {
		unsigned m = (p[2 * k] | (unsigned)p[2 * k + 1] << 8) & 0x7fff;
		w |= (uint64_t)(m != 0) << k;
		non += m != 0;
		big += m >= lim;
	}
#endif
	*nonzero += non;
	*tiny += 64 - big;
	return w;
}

/* n 2-byte values b of stored row sr, columns from sc, into the mask by
 * the sign rule, 64 at a time where they fill a word. */
static void fast_fill(struct fill *f, const uint8_t *b, size_t n,
		      uint64_t sr, uint64_t sc)
{
	uint64_t *row = f->out->bits + sr * f->out->words;
	unsigned lim = f->lim;
	uint64_t nz = 0, tiny = 0;
	size_t i = 0;
	for (; i < n && sc % 64; i++, sc++) {
		unsigned mag = (b[2 * i] | (unsigned)b[2 * i + 1] << 8) & 0x7fff;
		row[sc / 64] |= (uint64_t)(mag != 0) << (sc % 64);
		nz += mag != 0;
		tiny += mag < lim;
	}
	for (; i + 64 <= n; i += 64, sc += 64)
		row[sc / 64] = word64(b + 2 * i, lim, &nz, &tiny);
	for (; i < n; i++, sc++) {
		unsigned mag = (b[2 * i] | (unsigned)b[2 * i + 1] << 8) & 0x7fff;
		row[sc / 64] |= (uint64_t)(mag != 0) << (sc % 64);
		nz += mag != 0;
		tiny += mag < lim;
	}
	f->nzero += n - nz;
	f->ntiny += tiny;
}

/* fast_fill of values [off, off + n) of the tensor, guarded. */
static mp_status fast_chunk(struct fill *f, uint8_t *scratch, uint64_t off,
			    size_t n, uint64_t sr, uint64_t sc)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g))
		return mp_mapguard_error(
		    mp_mapguard_file(g.addr, f->m->files, f->m->nfiles),
		    &f->err);
	fast_fill(f, mp_tensor_elems(f->t, off, n, scratch),
		  n, sr, sc);
	mp_mapguard_end(&g);
	return MP_OK;
}

static mp_status fill_rows(struct fill *f)
{
	struct mp_mask *out = f->out;
	struct chunk c = {f->m, f->t, f->es, NULL, NULL, NULL, NULL};
	c.table = f->table;
	c.scratch = malloc((size_t)CHUNK * c.es);
	c.v = malloc(CHUNK * sizeof *c.v);
	c.flags = malloc(CHUNK);
	if (!c.scratch || !c.v || !c.flags) {
		chunk_free(&c);
		return mp_error_set(&f->err, MP_ENOMEM, "out of memory");
	}
	mp_status st = MP_OK;
	uint64_t scols = f->scols, sr = f->r0, sc = 0,
		 end = f->r1 * scols;
	for (uint64_t off = f->r0 * scols; off < end && st == MP_OK;
	     off += CHUNK) {
		size_t n = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		size_t i = 0;
		if (f->lim && !f->swap) {
			while (i < n && st == MP_OK) { /* row by row */
				size_t m = (size_t)(scols - sc < n - i
							? scols - sc
							: n - i);
				st = fast_chunk(f, c.scratch, off + i, m, sr, sc);
				i += m;
				if ((sc += m) == scols) {
					sc = 0;
					sr++;
				}
			}
			continue;
		}
		if ((st = read_chunk(&c, off, n, &f->err)) != MP_OK)
			break;
		while (!f->swap && i < n) { /* along a row: no branch per bit */
			uint64_t *row = out->bits + sr * out->words;
			size_t e = i + (size_t)(scols - sc < n - i ? scols - sc
								 : n - i);
			for (; i < e; i++, sc++) {
				uint8_t fl = c.flags[i];
				row[sc / 64] |= (uint64_t)(fl & NONZERO)
						<< (sc % 64);
				f->nzero += !(fl & NONZERO);
				f->ntiny += fl >> 1;
			}
			if (sc == scols) {
				sc = 0;
				sr++;
			}
		}
		for (; i < n; i++) {
			uint8_t fl = c.flags[i];
			if (fl & NONZERO) {
				if (f->swap)
					mp_mask_set(out, sc, sr);
				else
					mp_mask_set(out, sr, sc);
			} else {
				f->nzero++;
			}
			f->ntiny += fl >> 1;
			if (++sc == scols) {
				sc = 0;
				sr++;
			}
		}
	}
	chunk_free(&c);
	return st;
}

static void *fill_thread(void *arg)
{
	struct fill *f = arg;
	f->st = fill_rows(f);
	return NULL;
}

/* Tensors below this many values are read on one thread. */
#define THREAD_MIN (UINT64_C(1) << 20)

mp_status mp_mask_from_tensor(const struct mp_model *m,
			      const struct mp_tensor *t,
			      enum mp_sparsity_axis axis, bool as_vector,
			      struct mp_mask *out, struct mp_error *err)
{
	return mp_mask_from_tensor_mt(m, t, axis, as_vector, 0, out, err);
}

mp_status mp_mask_from_tensor_mt(const struct mp_model *m,
				 const struct mp_tensor *t,
				 enum mp_sparsity_axis axis, bool as_vector,
				 int threads, struct mp_mask *out,
				 struct mp_error *err)
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
	unsigned es = mp_dtype_size(t->stored);
	uint8_t *table = NULL;
	if (es <= 2 && t->numel >= 65536 && !(table = code_table(t, es))) {
		mp_mask_done(out);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	/* stored row-major: scols values per stored row; bit (f, k) of the
	 * mask for stored element (sr, sc); swap: f = sc, k = sr. Threads
	 * take ranges of 64 stored rows, so that no two write one word. */
	uint64_t scols = out_last ? rows : cols, srows = t->numel / scols;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	uint64_t blocks = (srows + 63) / 64;
	if (t->numel < THREAD_MIN)
		threads = 1;
	if ((uint64_t)threads > blocks)
		threads = (int)blocks;
	struct fill *f = calloc((size_t)threads, sizeof *f);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	bool *started = calloc((size_t)threads, sizeof *started);
	if (!f || !tid || !started) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto done;
	}
	unsigned lim = table && es == 2 ? sign_rule(table) : 0;
	for (int i = 0; i < threads; i++) {
		uint64_t b0 = blocks * (uint64_t)i / (uint64_t)threads,
			 b1 = blocks * (uint64_t)(i + 1) / (uint64_t)threads;
		f[i] = (struct fill){.m = m, .t = t, .out = out, .table = table,
				     .es = es, .lim = lim, .scols = scols,
				     .r0 = b0 * 64,
				     .r1 = b1 * 64 < srows ? b1 * 64 : srows,
				     .swap = out_last != tr};
		if (i > 0)
			started[i] = pthread_create(&tid[i], NULL, fill_thread,
						    &f[i]) == 0;
	}
	fill_thread(&f[0]);
	for (int i = 1; i < threads; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			fill_thread(&f[i]);
	}
	for (int i = 0; i < threads; i++) {
		out->nzero += f[i].nzero;
		out->ntiny += f[i].ntiny;
		if (f[i].st != MP_OK && st == MP_OK)
			st = mp_error_set(err, f[i].st, "%s", f[i].err.msg);
	}
done:
	free(f);
	free(tid);
	free(started);
	free(table);
	if (st != MP_OK)
		mp_mask_done(out);
	return st;
}

/* Popcount of x[i] ^ y[i] (y NULL: of x[i]) over n words. On x86-64
 * Linux a POPCNT clone chosen at load time when the CPU has it (the build
 * needs no -mpopcnt); elsewhere the compiler's builtin. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
__attribute__((target_clones("popcnt", "default")))
#endif
static uint64_t count_words(const uint64_t *x, const uint64_t *y,
			    uint64_t n)
{
	uint64_t d = 0;
	for (uint64_t w = 0; w < n; w++)
		d += (uint64_t)__builtin_popcountll(x[w] ^ (y ? y[w] : 0));
	return d;
}

/* The clones are of a static function: clang 14 emits no symbol for an
 * external one with target_clones. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
__attribute__((target_clones("popcnt", "default")))
#endif
static uint64_t dot_planes(const uint64_t *x, const uint64_t *planes,
			   unsigned nb, uint64_t n)
{
	uint64_t t = 0;
	for (unsigned b = 0; b < nb; b++) {
		const uint64_t *p = planes + b * n;
		uint64_t d = 0;
		for (uint64_t w = 0; w < n; w++)
			d += (uint64_t)__builtin_popcountll(x[w] & p[w]);
		t += d << b;
	}
	return t;
}

uint64_t mp_bits_dot_planes(const uint64_t *x, const uint64_t *planes,
			    unsigned nb, uint64_t n)
{
	return dot_planes(x, planes, nb, n);
}

uint64_t mp_mask_hamming(const struct mp_mask *mk, uint64_t a, uint64_t b)
{
	return count_words(mk->bits + a * mk->words, mk->bits + b * mk->words,
			   mk->words);
}

uint64_t mp_mask_count(const struct mp_mask *mk, uint64_t f)
{
	return count_words(mk->bits + f * mk->words, NULL, mk->words);
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
