/* lsh.c — random-hyperplane codes of `tensors` fingerprints, their blob
 * form and the similarity estimate between two sets of codes (lsh.h). */
#include "lsh.h"

#include "dtype.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOB_HEAD 24
#define BLOB_REC 24

/* cos(pi * h / 64) for h = 0..64 (python3: math.cos(math.pi * h / 64),
 * 17 significant digits; h = 32 set to 0). */
/* clang-format off */
static const double cos_tab[MP_LSH_BITS + 1] = {
	1, 0.99879545620517241, 0.99518472667219693,
	0.98917650996478101, 0.98078528040323043, 0.97003125319454397,
	0.95694033573220882, 0.94154406518302081, 0.92387953251128674,
	0.90398929312344334, 0.88192126434835505, 0.85772861000027212,
	0.83146961230254524, 0.80320753148064494, 0.77301045336273699,
	0.74095112535495911, 0.70710678118654757, 0.67155895484701833,
	0.63439328416364549, 0.59569930449243347, 0.55557023301960229,
	0.51410274419322166, 0.47139673682599781, 0.4275550934302822,
	0.38268343236508984, 0.33688985339222005, 0.29028467725446233,
	0.24298017990326398, 0.19509032201612833, 0.14673047445536175,
	0.09801714032956077, 0.049067674327418126, 0,
	-0.049067674327418008, -0.098017140329560645, -0.14673047445536164,
	-0.19509032201612819, -0.24298017990326387, -0.29028467725446216,
	-0.33688985339221994, -0.38268343236508973, -0.42755509343028186,
	-0.4713967368259977, -0.51410274419322166, -0.55557023301960196,
	-0.59569930449243336, -0.63439328416364538, -0.67155895484701844,
	-0.70710678118654746, -0.74095112535495888, -0.77301045336273699,
	-0.80320753148064483, -0.83146961230254535, -0.85772861000027201,
	-0.88192126434835494, -0.90398929312344334, -0.92387953251128674,
	-0.9415440651830207, -0.95694033573220882, -0.97003125319454397,
	-0.98078528040323043, -0.98917650996478101, -0.99518472667219682,
	-0.99879545620517241, -1,
};
/* clang-format on */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t splitmix(uint64_t *s)
{
	return mix64(*s += 0x9e3779b97f4a7c15ULL);
}

/* FNV-1a over n bytes, then mixed. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t shape_hash(int ndim, const uint64_t *shape)
{
	unsigned char buf[8];
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t d = (uint64_t)ndim;
	for (int k = -1; k < ndim; k++) {
		uint64_t v = k < 0 ? d : shape[k];
		for (int i = 0; i < 8; i++)
			buf[i] = (unsigned char)(v >> (8 * i));
		h = hash_bytes(h, buf, 8);
	}
	return mix64(h);
}

static uint64_t name_hash(const char *name)
{
	return mix64(hash_bytes(0xcbf29ce484222325ULL, name, strlen(name)));
}

/* n standard Gaussians of hyperplane j (Marsaglia's polar method over
 * 53-bit uniforms from a generator keyed by j: no trigonometry). */
static void hyperplane(unsigned j, uint32_t n, double *r)
{
	uint64_t s = mix64(0x6c73680000000000ULL + j);
	for (uint32_t i = 0; i < n; i += 2) {
		double u, v, q;
		do {
			u = (double)(splitmix(&s) >> 11) * 0x1p-52 - 1.0;
			v = (double)(splitmix(&s) >> 11) * 0x1p-52 - 1.0;
			q = u * u + v * v;
		} while (q >= 1.0 || q == 0.0);
		double f = sqrt(-2.0 * log(q) / q);
		r[i] = u * f;
		if (i + 1 < n)
			r[i + 1] = v * f;
	}
}

/* Bits set in x (no popcount instruction is assumed). */
static int popcount(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (int)((x * 0x0101010101010101ULL) >> 56);
}

void mp_lsh_fp_args(const struct mp_fingerprint *fp, uint64_t *sketch_size,
		    uint64_t *seed)
{
	*sketch_size = MP_SKETCH_DEFAULT;
	*seed = 0;
	const mp_json *v =
	    fp->args ? mp_json_get(fp->args, "sketch_size") : NULL;
	uint64_t x;
	if (v && mp_json_uint(v, &x))
		*sketch_size = x;
	v = fp->args ? mp_json_get(fp->args, "seed") : NULL;
	if (v && mp_json_uint(v, &x))
		*seed = x;
}

static int cmp_rec(const void *pa, const void *pb)
{
	const struct mp_lsh_rec *a = pa, *b = pb;
	if (a->shape_hash != b->shape_hash)
		return a->shape_hash < b->shape_hash ? -1 : 1;
	if (a->name_hash != b->name_hash)
		return a->name_hash < b->name_hash ? -1 : 1;
	return (a->code > b->code) - (a->code < b->code);
}

/* The m values of t's sketch that are projected: positions k n / m
 * (rounded down), k < m, centred on their mean over the finite ones
 * (non-finite ones set to 0), in c[0..m); false when they are constant
 * or none is finite. */
static bool centre(const struct mp_tensor_fp *t, uint32_t m, double *c)
{
	double sum = 0;
	uint32_t fin = 0, n = t->nsketch;
	for (uint32_t k = 0; k < m; k++) {
		c[k] = t->sketch[(uint64_t)k * n / m];
		if (isfinite(c[k])) {
			sum += c[k];
			fin++;
		}
	}
	if (fin == 0)
		return false;
	double mean = sum / fin;
	bool varies = false;
	for (uint32_t k = 0; k < m; k++) {
		c[k] = isfinite(c[k]) ? c[k] - mean : 0;
		varies = varies || c[k] != 0;
	}
	return varies;
}

/* The code of c[0..m) against the 64 hyperplanes planes[j * stride + i]:
 * four planes at a time (four independent sums, each in index order, so
 * the result is that of one plane at a time). */
static uint64_t project(const double *planes, uint32_t stride, uint32_t m,
			const double *c)
{
	uint64_t code = 0;
	for (unsigned j = 0; j < MP_LSH_BITS; j += 4) {
		const double *r0 = planes + (size_t)j * stride,
			     *r1 = r0 + stride, *r2 = r1 + stride,
			     *r3 = r2 + stride;
		double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
		for (uint32_t i = 0; i < m; i++) {
			d0 += r0[i] * c[i];
			d1 += r1[i] * c[i];
			d2 += r2[i] * c[i];
			d3 += r3[i] * c[i];
		}
		code |= (uint64_t)(d0 > 0) << j |
			(uint64_t)(d1 > 0) << (j + 1) |
			(uint64_t)(d2 > 0) << (j + 2) |
			(uint64_t)(d3 > 0) << (j + 3);
	}
	return code;
}

static bool eligible(const struct mp_tensor_fp *t)
{
	return mp_dtype_is_float(t->dtype) && t->sketch &&
	       t->nsketch >= MP_LSH_MIN_SKETCH;
}

mp_status mp_lsh_codes(const struct mp_fingerprint *fp,
		       struct mp_lsh_codes **out, struct mp_error *err)
{
	*out = NULL;
	if (!fp->method || strcmp(fp->method, "tensors") != 0)
		return mp_error_set(err, MP_EINVAL,
				    "locality-sensitive codes need a 'tensors' "
				    "fingerprint");
	uint32_t dim = 0;
	size_t np = 0;
	for (size_t i = 0; i < fp->ntensors; i++)
		if (eligible(&fp->tensors[i])) {
			np++;
			if (fp->tensors[i].nsketch > dim)
				dim = fp->tensors[i].nsketch;
		}
	if (dim > MP_LSH_DIM)
		dim = MP_LSH_DIM;
	struct mp_lsh_codes *c = calloc(1, sizeof *c);
	double *planes =
	    malloc(((size_t)dim * MP_LSH_BITS + 1) * sizeof *planes);
	double *cen = malloc(((size_t)dim + 1) * sizeof *cen);
	if (c)
		c->recs = malloc((np ? np : 1) * sizeof *c->recs);
	if (!c || !planes || !cen || !c->recs) {
		free(planes);
		free(cen);
		mp_lsh_codes_free(c);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	mp_lsh_fp_args(fp, &c->sketch_size, &c->seed);
	for (unsigned j = 0; j < MP_LSH_BITS; j++)
		hyperplane(j, dim, planes + (size_t)j * dim);
	for (size_t i = 0; i < fp->ntensors; i++) {
		const struct mp_tensor_fp *t = &fp->tensors[i];
		uint32_t m = t->nsketch < dim ? t->nsketch : dim;
		if (!eligible(t) || !centre(t, m, cen))
			continue;
		c->recs[c->n++] = (struct mp_lsh_rec){
		    shape_hash(t->ndim, t->shape), name_hash(t->name),
		    project(planes, dim, m, cen)};
	}
	qsort(c->recs, c->n, sizeof *c->recs, cmp_rec);
	free(planes);
	free(cen);
	*out = c;
	return MP_OK;
}

void mp_lsh_codes_free(struct mp_lsh_codes *c)
{
	if (c)
		free(c->recs);
	free(c);
}

static void put64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

mp_status mp_lsh_encode(const struct mp_lsh_codes *c, unsigned char **blob,
			size_t *len, struct mp_error *err)
{
	*blob = NULL;
	if (c->n > UINT32_MAX)
		return mp_error_set(err, MP_EINVAL, "too many tensor codes");
	size_t n = BLOB_HEAD + c->n * BLOB_REC;
	unsigned char *b = calloc(1, n);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	b[0] = MP_LSH_BLOB_VERSION;
	for (int i = 0; i < 4; i++)
		b[4 + i] = (unsigned char)((uint64_t)c->n >> (8 * i));
	put64(b + 8, c->sketch_size);
	put64(b + 16, c->seed);
	for (size_t i = 0; i < c->n; i++) {
		unsigned char *r = b + BLOB_HEAD + i * BLOB_REC;
		put64(r, c->recs[i].shape_hash);
		put64(r + 8, c->recs[i].name_hash);
		put64(r + 16, c->recs[i].code);
	}
	*blob = b;
	*len = n;
	return MP_OK;
}

mp_status mp_lsh_decode(const void *blob, size_t len, const char *where,
			struct mp_lsh_codes **out, struct mp_error *err)
{
	*out = NULL;
	const unsigned char *b = blob;
	if (!b || len < BLOB_HEAD)
		return mp_error_set(
		    err, MP_EFORMAT,
		    "%s: tensor codes of %zu bytes, shorter than "
		    "their %d-byte header",
		    where, len, BLOB_HEAD);
	if (b[0] != MP_LSH_BLOB_VERSION || b[1] || b[2] || b[3])
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor codes of version %u (this "
				    "modelprint reads version %d)",
				    where, (unsigned)b[0], MP_LSH_BLOB_VERSION);
	uint64_t n = (uint64_t)b[4] | (uint64_t)b[5] << 8 |
		     (uint64_t)b[6] << 16 | (uint64_t)b[7] << 24;
	if ((len - BLOB_HEAD) % BLOB_REC || (len - BLOB_HEAD) / BLOB_REC != n)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor codes declare %llu records but "
				    "hold %zu bytes",
				    where, (unsigned long long)n, len);
	struct mp_lsh_codes *c = calloc(1, sizeof *c);
	if (c)
		c->recs = malloc((n ? n : 1) * sizeof *c->recs);
	if (!c || !c->recs) {
		mp_lsh_codes_free(c);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	c->n = n;
	c->sketch_size = get64(b + 8);
	c->seed = get64(b + 16);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *r = b + BLOB_HEAD + i * BLOB_REC;
		c->recs[i] =
		    (struct mp_lsh_rec){get64(r), get64(r + 8), get64(r + 16)};
		if (i && cmp_rec(&c->recs[i - 1], &c->recs[i]) > 0) {
			mp_lsh_codes_free(c);
			return mp_error_set(err, MP_EFORMAT,
					    "%s: tensor codes are not sorted "
					    "(record %zu)",
					    where, i);
		}
	}
	*out = c;
	return MP_OK;
}

double mp_lsh_estimate(uint64_t a, uint64_t b)
{
	return cos_tab[popcount(a ^ b)];
}

double mp_lsh_similarity(const struct mp_lsh_codes *unknown,
			 const struct mp_lsh_codes *ref)
{
	if (unknown->n == 0)
		return 0;
	/* both sorted by (shape, name): one merge pass; g is the first
	 * record of ref of the current shape, i the first at or after the
	 * current (shape, name) */
	const struct mp_lsh_rec *r = ref->recs;
	size_t rn = ref->n, g = 0, i = 0;
	double sum = 0;
	for (size_t k = 0; k < unknown->n; k++) {
		const struct mp_lsh_rec *u = &unknown->recs[k];
		while (g < rn && r[g].shape_hash < u->shape_hash)
			g++;
		if (i < g)
			i = g;
		while (i < rn && r[i].shape_hash == u->shape_hash &&
		       r[i].name_hash < u->name_hash)
			i++;
		int best = -1;
		if (i < rn && r[i].shape_hash == u->shape_hash &&
		    r[i].name_hash == u->name_hash)
			best = popcount(u->code ^ r[i].code);
		else
			for (size_t s = g;
			     s < rn && r[s].shape_hash == u->shape_hash; s++) {
				int h = popcount(u->code ^ r[s].code);
				if (best < 0 || h < best)
					best = h;
			}
		if (best >= 0)
			sum += cos_tab[best];
	}
	return sum / (double)unknown->n;
}
