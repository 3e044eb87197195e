/* simmatrix_bin.c — the binary similarity-matrix file (modelprint-files(5),
 * "BINARY SIMILARITY MATRIX"): a little-endian header with the names, the
 * direction, the ids and the reasons of undefined pairs, then the values
 * row-major from a 64-byte aligned offset, so that the file can be mapped
 * and its rows read in place. */
#include "atomic_write.h"
#include "escape.h"
#include "reader.h"
#include "simmatrix.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXED 48 /* bytes of the fixed part of the header */
#define MAX_REASONS 64

static double get_value(const uint8_t *p, unsigned vsize);

bool mp_simmatrix_bin_is(const void *data, size_t len)
{
	return len >= 8 && (memcmp(data, MP_SIMBIN_MAGIC, 8) == 0 ||
			    memcmp(data, MP_TOPK_MAGIC, 8) == 0);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* A cursor over the header bytes [pos, end). */
struct cur {
	const uint8_t *d;
	uint64_t pos, end;
	const char *path, *kind;
	struct mp_error *err;
};

static mp_status short_header(struct cur *c, const char *what, uint64_t at)
{
	return mp_error_set(c->err, MP_EFORMAT,
			    "%s: %s: %s at byte %llu runs past the header's "
			    "end (byte %llu)",
			    c->path, c->kind, what, (unsigned long long)at,
			    (unsigned long long)c->end);
}

static mp_status take(struct cur *c, uint64_t len, const char *what,
		      const uint8_t **out)
{
	if (len > c->end - c->pos)
		return short_header(c, what, c->pos);
	*out = c->d + c->pos;
	c->pos += len;
	return MP_OK;
}

/* A length-prefixed UTF-8 string: u32 length, then that many bytes, no
 * NUL. *out (when out is not NULL) is a heap copy. */
static mp_status string(struct cur *c, const char *what, bool nonempty,
			char **out)
{
	const uint8_t *p = NULL;
	uint64_t at = c->pos;
	mp_status st = take(c, 4, what, &p);
	if (st != MP_OK)
		return st;
	uint32_t len = rd32(p);
	if (len > c->end - c->pos)
		return short_header(c, what, at);
	take(c, len, what, &p);
	if ((nonempty && len == 0) || memchr(p, 0, len))
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s: %s at byte %llu is %s", c->path,
				    c->kind, what, (unsigned long long)at,
				    len ? "not text (a NUL byte)" : "empty");
	char *s = malloc((size_t)len + 1);
	if (!s)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->path);
	memcpy(s, p, len);
	s[len] = 0;
	if (!mp_utf8_valid(s)) {
		free(s);
		return mp_error_set(
		    c->err, MP_EFORMAT,
		    "%s: %s: %s at byte %llu is not valid UTF-8", c->path,
		    c->kind, what, (unsigned long long)at);
	}
	if (out)
		*out = s;
	else
		free(s);
	return MP_OK;
}

/* The fixed header: what it says, every count checked against the file
 * size. */
struct hdr {
	const char *kind; /* for messages */
	bool topk;	  /* MP_TOPK_MAGIC: k neighbours a row */
	uint32_t vsize, flags, estimate, sketch, k;
	uint64_t n, hlen;
	uint64_t index_bytes; /* top-k: n*k*4 rounded up to 64 */
};

static mp_status bad(const char *path, const char *kind, struct mp_error *err,
		     const char *fmt, unsigned long long a,
		     unsigned long long b)
{
	char m[200];
	snprintf(m, sizeof m, fmt, a, b);
	return mp_error_set(err, MP_EFORMAT, "%s: %s: %s", path, kind, m);
}

/* The bytes after the header: n*n values, or for top-k n*k u32 indices
 * (padded to 64) then n*k values; false on overflow. */
static bool data_bytes(struct hdr *h, uint64_t *out)
{
	uint64_t cells;
	if (h->n > UINT32_MAX)
		return false;
	if (!h->topk)
		return mp_mul_u64(h->n, h->n, &cells) &&
		       mp_mul_u64(cells, h->vsize, out);
	cells = h->n * h->k; /* both below 2^32 */
	h->index_bytes = (cells * 4 + MP_SIMBIN_ALIGN - 1) / MP_SIMBIN_ALIGN *
			 MP_SIMBIN_ALIGN;
	return mp_mul_u64(cells, h->vsize, out) &&
	       mp_add_u64(*out, h->index_bytes, out);
}

static mp_status fixed(const struct mp_file *map, struct hdr *h,
		       struct mp_error *err)
{
	const char *path = map->path;
	const uint8_t *d = map->data;
	uint64_t size = map->size;
	h->topk = size >= 8 && !memcmp(d, MP_TOPK_MAGIC, 8);
	h->kind = h->topk ? "top-k neighbour file" : "binary similarity matrix";
	if (size < FIXED)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: %s truncated: the header needs %d "
				    "bytes, the file has %llu",
				    path, h->kind, FIXED,
				    (unsigned long long)size);
	uint32_t version = rd32(d + 8);
	if (version != MP_SIMBIN_VERSION)
		return bad(path, h->kind, err,
			   "version %llu (this build reads %llu)", version,
			   MP_SIMBIN_VERSION);
	h->vsize = rd32(d + 12);
	h->n = rd64(d + 16);
	h->hlen = rd64(d + 24);
	h->flags = rd32(d + 32);
	h->estimate = rd32(d + 36);
	h->sketch = rd32(d + 40);
	if (h->vsize != 4 && h->vsize != 8)
		return bad(path, h->kind, err,
			   "value size %llu (not 4 or 8)%.0llu", h->vsize, 0);
	if (h->flags & ~1u)
		return bad(path, h->kind, err, "unknown flags 0x%llx%.0llu",
			   h->flags, 0);
	if (h->estimate > MP_ESTIMATE_RANDOMIZED ||
	    (h->sketch && h->estimate != MP_ESTIMATE_SKETCH))
		return bad(path, h->kind, err,
			   "estimate %llu with sketch size %llu", h->estimate,
			   h->sketch);
	h->k = rd32(d + 44);
	if (!h->topk && h->k)
		return bad(path, h->kind, err,
			   "reserved field is %llu, not 0%.0llu", h->k, 0);
	if (h->topk && (h->k == 0 || h->k >= h->n))
		return bad(path, h->kind, err,
			   "k = %llu neighbours for %llu models", h->k, h->n);
	if (h->hlen < FIXED || h->hlen % MP_SIMBIN_ALIGN)
		return bad(path, h->kind, err,
			   "header length %llu is not a multiple of 64 of at "
			   "least %llu",
			   h->hlen, FIXED);
	if (h->hlen > size)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: %s truncated: header length %llu is "
				    "past the end of the file (%llu bytes)",
				    path, h->kind, (unsigned long long)h->hlen,
				    (unsigned long long)size);
	uint64_t bytes = 0, total = 0;
	if (!data_bytes(h, &bytes) || !mp_add_u64(bytes, h->hlen, &total) ||
	    total != size)
		return mp_error_set(err, size < total ? MP_ETRUNC : MP_EFORMAT,
				    "%s: %s: %llu models of %u-byte values do "
				    "not match the %llu bytes after the "
				    "%llu-byte header",
				    path, h->kind, (unsigned long long)h->n,
				    h->vsize,
				    (unsigned long long)(size - h->hlen),
				    (unsigned long long)h->hlen);
	return MP_OK;
}

/* Parse the whole header; with ids ([n] allocated), keep the ids, with
 * reason ([n*n], dense only) fill the reasons of undefined pairs. method
 * and metric are heap copies when wanted. A top-k file has no reasons. */
static mp_status header(const struct mp_file *map, struct hdr *h, char **method,
			char **metric, char **ids, const char **reasons,
			struct mp_error *err)
{
	mp_status st = fixed(map, h, err);
	if (st != MP_OK)
		return st;
	struct cur c = {.d = map->data,
			.pos = FIXED,
			.end = h->hlen,
			.path = map->path,
			.kind = h->kind,
			.err = err};
	char *me = NULL, *mt = NULL;
	if ((st = string(&c, "method name", true, &me)) != MP_OK ||
	    (st = string(&c, "metric name", true, &mt)) != MP_OK)
		goto out;
	/* each id takes at least 4 bytes: a lying n ends here, before the
	 * loop */
	uint64_t need;
	if (!mp_mul_u64(h->n, 4, &need) || need > c.end - c.pos) {
		st = bad(map->path, h->kind, err,
			 "%llu ids cannot fit in the header's %llu bytes left",
			 h->n, c.end - c.pos);
		goto out;
	}
	for (uint64_t i = 0; i < h->n; i++)
		if ((st = string(&c, "model id", false,
				 ids ? &ids[i] : NULL)) != MP_OK)
			goto out;
	const uint8_t *p = NULL;
	if ((st = take(&c, 4, "reason count", &p)) != MP_OK)
		goto out;
	uint32_t nr = rd32(p);
	const char *reason[MAX_REASONS];
	if (nr > (h->topk ? 0 : MAX_REASONS)) {
		st = bad(map->path, h->kind, err, "%llu reasons (at most %llu)",
			 nr, MAX_REASONS);
		goto out;
	}
	for (uint32_t r = 0; r < nr; r++) {
		char *s;
		if ((st = string(&c, "reason", true, &s)) != MP_OK)
			goto out;
		reason[r] = mp_simmatrix_intern_reason(s);
		free(s);
	}
	if ((st = take(&c, 8, "undefined-pair count", &p)) != MP_OK)
		goto out;
	uint64_t np = rd64(p);
	if (!mp_mul_u64(np, 12, &need) || need > c.end - c.pos) {
		st = bad(map->path, h->kind, err,
			 "%llu undefined pairs cannot fit in the header's %llu "
			 "bytes left",
			 np, c.end - c.pos);
		goto out;
	}
	for (uint64_t k = 0; k < np; k++) {
		take(&c, 12, "undefined pair", &p);
		uint32_t i = rd32(p), j = rd32(p + 4), r = rd32(p + 8);
		if (i > j || j >= h->n || r >= nr) {
			st = bad(map->path, h->kind, err,
				 "undefined pair %llu names a cell or reason "
				 "out of range (row %llu)",
				 k, i);
			goto out;
		}
		if (reasons)
			reasons[(size_t)i * h->n + j] =
			    reasons[(size_t)j * h->n + i] = reason[r];
	}
	for (uint64_t k = c.pos; k < c.end; k++)
		if (map->data[k]) {
			st = bad(map->path, h->kind, err,
				 "nonzero byte %llu in the header's padding "
				 "(which starts at byte %llu)",
				 k, c.pos);
			goto out;
		}
out:
	if (st == MP_OK && method) {
		*method = me;
		*metric = mt;
	} else {
		free(me);
		free(mt);
	}
	return st;
}

mp_status mp_simmatrix_bin_open(struct mp_simmatrix_file *f,
				struct mp_error *err)
{
	const struct mp_file *map = f->map;
	struct hdr h;
	char *method, *metric;
	mp_status st = header(map, &h, &method, &metric, NULL, NULL, err);
	if (st != MP_OK)
		return st;
	if (h.topk) {
		free(method);
		free(metric);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a top-k neighbour file (%u neighbours "
				    "of each model), not a whole matrix: "
				    "'modelprint analyze' lists its neighbours",
				    map->path, h.k);
	}
	f->method = malloc(sizeof *f->method);
	f->metric = malloc(sizeof *f->metric);
	f->off = calloc(1, sizeof *f->off);
	if (!f->method || !f->metric || !f->off) {
		free(method);
		free(metric);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    map->path);
	}
	f->method[0] = method;
	f->metric[0] = metric;
	f->n = 1;
	f->binary = h.vsize;
	return MP_OK;
}

mp_status mp_simmatrix_bin_get(const struct mp_simmatrix_file *f,
			       struct mp_simmatrix **out, struct mp_error *err)
{
	const struct mp_file *map = f->map;
	struct hdr h;
	*out = NULL;
	mp_status st = fixed(map, &h, err);
	if (st != MP_OK)
		return st;
	struct mp_simmatrix *mx =
	    mp_simmatrix_new(f->method[0], f->metric[0], (size_t)h.n);
	if (!mx)
		return mp_error_set(err, MP_ENOMEM,
				    "%s: out of memory for %llu models",
				    map->path, (unsigned long long)h.n);
	size_t n = mx->n, cells = n * n;
	for (size_t k = 0; k < cells; k++)
		mx->reason[k] = NULL;
	if ((st = header(map, &h, NULL, NULL, mx->ids, mx->reason, err)) !=
	    MP_OK)
		goto fail;
	mx->higher_is_more_alike = h.flags & 1;
	mx->estimate = (enum mp_estimate)h.estimate;
	mx->sketch_values = h.sketch;
	const uint8_t *v = map->data + h.hlen;
	mp_file_prefetch(map, h.hlen, (uint64_t)cells * h.vsize);
	for (size_t k = 0; k < cells; k++) {
		double x = get_value(v + (size_t)h.vsize * k, h.vsize);
		if (isinf(x)) {
			st =
			    bad(map->path, h.kind, err,
				"value [%llu][%llu] is infinite", k / n, k % n);
			goto fail;
		}
		mx->value[k] = x;
		if (isnan(x) && !mx->reason[k])
			mx->reason[k] = "undefined";
		else if (!isnan(x))
			mx->reason[k] = NULL;
	}
	long dup = mp_simmatrix_dup_id(mx->ids, n);
	if (dup == -2) {
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				  map->path);
		goto fail;
	}
	if (dup >= 0) {
		char show[MP_NAME_SHOW + 8];
		st = mp_error_set(
		    err, MP_EFORMAT, "%s: %s: model id '%s' appears twice",
		    map->path, h.kind, mp_printable(mx->ids[dup], show));
		goto fail;
	}
	if ((st = mp_simmatrix_check_symmetric(mx, map->path, err)) != MP_OK)
		goto fail;
	*out = mx;
	return MP_OK;
fail:
	mp_simmatrix_free(mx);
	return st;
}

/* Append a length-prefixed string at *at in buf (sized by the caller). */
static void put_string(uint8_t *buf, size_t *at, const char *s)
{
	size_t len = strlen(s);
	wr32(buf + *at, (uint32_t)len);
	memcpy(buf + *at + 4, s, len);
	*at += 4 + len;
}

/* Index of s->reason[k] among the known reasons, -1 for none. */
static long reason_index(const char *r, const char *const *known, size_t nk)
{
	if (!r || !strcmp(r, "undefined"))
		return -1;
	for (size_t i = 0; i < nk; i++)
		if (!strcmp(r, known[i]))
			return (long)i;
	return -1;
}

/* What a header says: a dense matrix (dense, with its reasons) or a
 * top-k file (k > 0). */
struct desc {
	const char *magic, *method, *metric;
	bool higher;
	enum mp_estimate estimate;
	uint32_t sketch, vsize, k;
	size_t n;
	char *const *ids;
	const struct mp_simmatrix *dense;
};

/* The header of d: *len bytes, a multiple of 64; NULL when out of
 * memory. */
static uint8_t *make_header(const struct desc *d, size_t *len)
{
	size_t nk = 0, n = d->n, np = 0;
	const char *const *known = mp_metric_reasons(&nk);
	const struct mp_simmatrix *s = d->dense;
	if (!s || nk > MAX_REASONS)
		nk = s ? MAX_REASONS : 0;
	size_t need = FIXED + 8 + strlen(d->method) + strlen(d->metric) + 4 + 8;
	for (size_t i = 0; i < n; i++)
		need += 4 + strlen(d->ids[i]);
	for (size_t i = 0; i < nk; i++)
		need += 4 + strlen(known[i]);
	for (size_t i = 0; s && i < n; i++)
		for (size_t j = i; j < n; j++)
			np +=
			    isnan(s->value[i * n + j]) &&
			    reason_index(s->reason[i * n + j], known, nk) >= 0;
	need += 12 * np;
	need += (MP_SIMBIN_ALIGN - need % MP_SIMBIN_ALIGN) % MP_SIMBIN_ALIGN;
	uint8_t *b = calloc(1, need);
	if (!b)
		return NULL;
	memcpy(b, d->magic, 8);
	wr32(b + 8, MP_SIMBIN_VERSION);
	wr32(b + 12, d->vsize);
	wr64(b + 16, n);
	wr64(b + 24, need);
	wr32(b + 32, d->higher ? 1 : 0);
	wr32(b + 36, (uint32_t)d->estimate);
	wr32(b + 40, d->estimate == MP_ESTIMATE_SKETCH ? d->sketch : 0);
	wr32(b + 44, d->k);
	size_t at = FIXED;
	put_string(b, &at, d->method);
	put_string(b, &at, d->metric);
	for (size_t i = 0; i < n; i++)
		put_string(b, &at, d->ids[i]);
	wr32(b + at, (uint32_t)nk);
	at += 4;
	for (size_t i = 0; i < nk; i++)
		put_string(b, &at, known[i]);
	wr64(b + at, np);
	at += 8;
	for (size_t i = 0; s && i < n; i++)
		for (size_t j = i; j < n; j++) {
			long r = reason_index(s->reason[i * n + j], known, nk);
			if (!isnan(s->value[i * n + j]) || r < 0)
				continue;
			wr32(b + at, (uint32_t)i);
			wr32(b + at + 4, (uint32_t)j);
			wr32(b + at + 8, (uint32_t)r);
			at += 12;
		}
	*len = need;
	return b;
}

/* Encode v as a little-endian float32 or float64 at p. */
static void put_value(uint8_t *p, unsigned vsize, double x)
{
	if (vsize == 4) {
		float y = (float)x;
		uint32_t b;
		memcpy(&b, &y, sizeof b);
		wr32(p, b);
	} else {
		uint64_t b;
		memcpy(&b, &x, sizeof b);
		wr64(p, b);
	}
}

static double get_value(const uint8_t *p, unsigned vsize)
{
	if (vsize == 4) {
		uint32_t b = rd32(p);
		float y;
		memcpy(&y, &b, sizeof y);
		return y;
	}
	uint64_t b = rd64(p);
	double x;
	memcpy(&x, &b, sizeof x);
	return x;
}

/* Checks shared by the writers: value size, model count, and with
 * vsize 4 every finite value of v[0..cells) within float32's range. */
static mp_status writable(const char *path, unsigned vsize, size_t n,
			  const double *v, size_t cells, struct mp_error *err)
{
	if (vsize != 4 && vsize != 8)
		return mp_error_set(err, MP_EINVAL, "%s: value size %u", path,
				    vsize);
	if (n > UINT32_MAX)
		return mp_error_set(err, MP_ERANGE,
				    "%s: %zu models (at most 2^32 - 1)", path,
				    n);
	for (size_t c = 0; vsize == 4 && c < cells; c++)
		if (isfinite(v[c]) && fabs(v[c]) > FLT_MAX)
			return mp_error_set(err, MP_ERANGE,
					    "%s: value %zu = %g does not fit "
					    "a float32",
					    path, c, v[c]);
	return MP_OK;
}

mp_status mp_simmatrix_bin_write(const struct mp_simmatrix *s, const char *path,
				 unsigned vsize, struct mp_error *err)
{
	size_t n = s->n, hlen = 0;
	mp_status st = writable(path, vsize, n, s->value, n * n, err);
	if (st != MP_OK)
		return st;
	struct desc d = {MP_SIMBIN_MAGIC,
			 s->method,
			 s->metric,
			 s->higher_is_more_alike,
			 s->estimate,
			 s->sketch_values,
			 vsize,
			 0,
			 n,
			 s->ids,
			 s};
	uint8_t *h = make_header(&d, &hlen);
	uint8_t *row = malloc(n ? n * vsize : 1);
	if (!h || !row) {
		free(h);
		free(row);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	struct mp_atomic a;
	if ((st = mp_atomic_open(&a, path, err)) != MP_OK)
		goto out;
	bool ok = fwrite(h, 1, hlen, a.fp) == hlen;
	for (size_t i = 0; ok && i < n; i++) {
		for (size_t j = 0; j < n; j++)
			put_value(row + vsize * j, vsize, s->value[i * n + j]);
		ok = fwrite(row, vsize, n, a.fp) == n;
	}
	if (!ok) {
		mp_atomic_abort(&a);
		st = mp_error_set(err, MP_EIO, "%s: cannot write", path);
		goto out;
	}
	st = mp_atomic_commit(&a, err);
out:
	free(h);
	free(row);
	return st;
}

mp_status mp_simtopk_write(const struct mp_simtopk *t, const char *path,
			   unsigned vsize, struct mp_error *err)
{
	size_t n = t->n, k = t->k, cells = n * k, hlen = 0;
	mp_status st = writable(path, vsize, n, t->score, cells, err);
	if (st != MP_OK)
		return st;
	if (k == 0 || k >= n || k > UINT32_MAX)
		return mp_error_set(err, MP_EINVAL, "%s: k = %zu of %zu models",
				    path, k, n);
	struct desc d = {MP_TOPK_MAGIC,
			 t->method,
			 t->metric,
			 t->higher_is_more_alike,
			 t->estimate,
			 t->sketch_values,
			 vsize,
			 (uint32_t)k,
			 n,
			 t->ids,
			 NULL};
	uint8_t *h = make_header(&d, &hlen);
	size_t ib = (cells * 4 + MP_SIMBIN_ALIGN - 1) / MP_SIMBIN_ALIGN *
		    MP_SIMBIN_ALIGN;
	uint8_t *body = calloc(1, ib + cells * vsize + 1);
	if (!h || !body) {
		free(h);
		free(body);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	for (size_t c = 0; c < cells; c++) {
		wr32(body + 4 * c, t->index[c]);
		put_value(body + ib + vsize * c, vsize,
			  t->index[c] == MP_TOPK_NONE ? NAN : t->score[c]);
	}
	struct mp_atomic a;
	if ((st = mp_atomic_open(&a, path, err)) != MP_OK)
		goto out;
	if (fwrite(h, 1, hlen, a.fp) != hlen ||
	    fwrite(body, 1, ib + cells * vsize, a.fp) != ib + cells * vsize) {
		mp_atomic_abort(&a);
		st = mp_error_set(err, MP_EIO, "%s: cannot write", path);
		goto out;
	}
	st = mp_atomic_commit(&a, err);
out:
	free(h);
	free(body);
	return st;
}

bool mp_simtopk_is_file(const char *path)
{
	int fd;
	struct mp_error err;
	if (mp_open_input(path, &fd, &err) != MP_OK)
		return false;
	char b[8];
	bool is = read(fd, b, 8) == 8 && !memcmp(b, MP_TOPK_MAGIC, 8);
	close(fd);
	return is;
}

/* Row i's entries: defined ones (index < n, not i, finite score) first,
 * in order, then MP_TOPK_NONE with NaN. */
static mp_status check_row(const struct mp_simtopk *t, size_t i,
			   const char *path, struct mp_error *err)
{
	const uint32_t *ix = t->index + i * t->k;
	const double *sc = t->score + i * t->k;
	for (size_t p = 0; p < t->k; p++) {
		const char *why = NULL;
		if (ix[p] == MP_TOPK_NONE) {
			if (!isnan(sc[p]))
				why = "an absent neighbour has a score";
		} else if (ix[p] >= t->n || ix[p] == i) {
			why = "index out of range or the model itself";
		} else if (!isfinite(sc[p])) {
			why = "score not finite";
		} else if (p &&
			   (ix[p - 1] == MP_TOPK_NONE ||
			    (t->higher_is_more_alike ? sc[p] > sc[p - 1]
						     : sc[p] < sc[p - 1]) ||
			    (sc[p] == sc[p - 1] && ix[p] <= ix[p - 1]))) {
			why = "neighbours out of order";
		}
		if (why)
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: top-k neighbour file: row %zu, "
			    "neighbour %zu: %s",
			    path, i, p, why);
	}
	return MP_OK;
}

mp_status mp_simtopk_read(const char *path, struct mp_simtopk **out,
			  struct mp_error *err)
{
	*out = NULL;
	struct mp_file map;
	mp_status st = mp_file_open(&map, path, err);
	if (st != MP_OK)
		return st;
	struct hdr h;
	char *method = NULL, *metric = NULL;
	struct mp_simtopk *t = NULL;
	if (map.size < 8 || memcmp(map.data, MP_TOPK_MAGIC, 8)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: not a top-k neighbour file (no MPTOPK1 "
				  "magic)",
				  path);
		goto out;
	}
	if ((st = header(&map, &h, &method, &metric, NULL, NULL, err)) != MP_OK)
		goto out;
	if (!(t = mp_simtopk_new(method, metric, (size_t)h.n, h.k))) {
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((st = header(&map, &h, NULL, NULL, t->ids, NULL, err)) != MP_OK)
		goto out;
	t->higher_is_more_alike = h.flags & 1;
	t->estimate = (enum mp_estimate)h.estimate;
	t->sketch_values = h.sketch;
	size_t cells = t->n * t->k;
	const uint8_t *d = map.data + h.hlen;
	for (size_t c = 0; c < cells; c++) {
		t->index[c] = rd32(d + 4 * c);
		t->score[c] =
		    get_value(d + h.index_bytes + h.vsize * c, h.vsize);
	}
	for (size_t i = 0; st == MP_OK && i < t->n; i++)
		st = check_row(t, i, path, err);
	long dup = st == MP_OK ? mp_simmatrix_dup_id(t->ids, t->n) : -1;
	if (dup == -2)
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	if (dup >= 0) {
		char show[MP_NAME_SHOW + 8];
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: top-k neighbour file: model id '%s' "
				  "appears twice",
				  path, mp_printable(t->ids[dup], show));
	}
out:
	free(method);
	free(metric);
	mp_file_close(&map);
	if (st != MP_OK)
		mp_simtopk_free(t);
	else
		*out = t;
	return st;
}
