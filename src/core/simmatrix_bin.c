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

#define FIXED 48 /* bytes of the fixed part of the header */
#define MAX_REASONS 64

bool mp_simmatrix_bin_is(const void *data, size_t len)
{
	return len >= 8 && memcmp(data, MP_SIMBIN_MAGIC, 8) == 0;
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
	const char *path;
	struct mp_error *err;
};

static mp_status short_header(struct cur *c, const char *what, uint64_t at)
{
	return mp_error_set(c->err, MP_EFORMAT,
			    "%s: binary similarity matrix: %s at byte %llu runs "
			    "past the header's end (byte %llu)",
			    c->path, what, (unsigned long long)at,
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
				    "%s: binary similarity matrix: %s at byte "
				    "%llu is %s",
				    c->path, what, (unsigned long long)at,
				    len ? "not text (a NUL byte)" : "empty");
	char *s = malloc((size_t)len + 1);
	if (!s)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->path);
	memcpy(s, p, len);
	s[len] = 0;
	if (!mp_utf8_valid(s)) {
		free(s);
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: binary similarity matrix: %s at byte "
				    "%llu is not valid UTF-8",
				    c->path, what, (unsigned long long)at);
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
	uint32_t vsize, flags, estimate, sketch;
	uint64_t n, hlen;
};

static mp_status bad(const char *path, struct mp_error *err, const char *fmt,
		     unsigned long long a, unsigned long long b)
{
	char m[200];
	snprintf(m, sizeof m, fmt, a, b);
	return mp_error_set(err, MP_EFORMAT, "%s: binary similarity matrix: %s",
			    path, m);
}

static mp_status fixed(const struct mp_file *map, struct hdr *h,
		       struct mp_error *err)
{
	const char *path = map->path;
	const uint8_t *d = map->data;
	uint64_t size = map->size;
	if (size < FIXED)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: binary similarity matrix truncated: "
				    "the header needs %d bytes, the file has "
				    "%llu",
				    path, FIXED, (unsigned long long)size);
	uint32_t version = rd32(d + 8);
	if (version != MP_SIMBIN_VERSION)
		return bad(path, err, "version %llu (this build reads %llu)",
			   version, MP_SIMBIN_VERSION);
	h->vsize = rd32(d + 12);
	h->n = rd64(d + 16);
	h->hlen = rd64(d + 24);
	h->flags = rd32(d + 32);
	h->estimate = rd32(d + 36);
	h->sketch = rd32(d + 40);
	if (h->vsize != 4 && h->vsize != 8)
		return bad(path, err, "value size %llu (not 4 or 8)%.0llu",
			   h->vsize, 0);
	if (h->flags & ~1u)
		return bad(path, err, "unknown flags 0x%llx%.0llu", h->flags, 0);
	if (h->estimate > MP_ESTIMATE_RANDOMIZED ||
	    (h->sketch && h->estimate != MP_ESTIMATE_SKETCH))
		return bad(path, err, "estimate %llu with sketch size %llu",
			   h->estimate, h->sketch);
	if (rd32(d + 44))
		return bad(path, err, "reserved field is %llu, not 0%.0llu",
			   rd32(d + 44), 0);
	if (h->hlen < FIXED || h->hlen % MP_SIMBIN_ALIGN)
		return bad(path, err,
			   "header length %llu is not a multiple of 64 of at "
			   "least %llu",
			   h->hlen, FIXED);
	if (h->hlen > size)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: binary similarity matrix truncated: "
				    "header length %llu is past the end of the "
				    "file (%llu bytes)",
				    path, (unsigned long long)h->hlen,
				    (unsigned long long)size);
	uint64_t cells = 0, bytes = 0, total = 0;
	if (h->n > UINT32_MAX || !mp_mul_u64(h->n, h->n, &cells) ||
	    !mp_mul_u64(cells, h->vsize, &bytes) ||
	    !mp_add_u64(bytes, h->hlen, &total) || total != size)
		return mp_error_set(err, size < total ? MP_ETRUNC : MP_EFORMAT,
				    "%s: binary similarity matrix: %llu models "
				    "of %u-byte values do not match the %llu "
				    "bytes after the %llu-byte header",
				    path, (unsigned long long)h->n, h->vsize,
				    (unsigned long long)(size - h->hlen),
				    (unsigned long long)h->hlen);
	return MP_OK;
}

/* Parse the whole header; with mx (n ids allocated), keep the ids and
 * fill the reasons. method and metric are heap copies when wanted. */
static mp_status header(const struct mp_file *map, struct hdr *h,
			char **method, char **metric, struct mp_simmatrix *mx,
			struct mp_error *err)
{
	mp_status st = fixed(map, h, err);
	if (st != MP_OK)
		return st;
	struct cur c = {.d = map->data, .pos = FIXED, .end = h->hlen,
			.path = map->path, .err = err};
	char *me = NULL, *mt = NULL;
	if ((st = string(&c, "method name", true, &me)) != MP_OK ||
	    (st = string(&c, "metric name", true, &mt)) != MP_OK)
		goto out;
	/* each id takes at least 4 bytes: a lying n ends here, before the
	 * loop */
	uint64_t need;
	if (!mp_mul_u64(h->n, 4, &need) || need > c.end - c.pos) {
		st = bad(map->path, err,
			 "%llu ids cannot fit in the header's %llu bytes left",
			 h->n, c.end - c.pos);
		goto out;
	}
	for (uint64_t i = 0; i < h->n; i++)
		if ((st = string(&c, "model id", false,
				 mx ? &mx->ids[i] : NULL)) != MP_OK)
			goto out;
	const uint8_t *p = NULL;
	if ((st = take(&c, 4, "reason count", &p)) != MP_OK)
		goto out;
	uint32_t nr = rd32(p);
	const char *reason[MAX_REASONS];
	if (nr > MAX_REASONS) {
		st = bad(map->path, err, "%llu reasons (at most %llu)", nr,
			 MAX_REASONS);
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
		st = bad(map->path, err,
			 "%llu undefined pairs cannot fit in the header's %llu "
			 "bytes left",
			 np, c.end - c.pos);
		goto out;
	}
	for (uint64_t k = 0; k < np; k++) {
		take(&c, 12, "undefined pair", &p);
		uint32_t i = rd32(p), j = rd32(p + 4), r = rd32(p + 8);
		if (i > j || j >= h->n || r >= nr) {
			st = bad(map->path, err,
				 "undefined pair %llu names a cell or reason "
				 "out of range (row %llu)",
				 k, i);
			goto out;
		}
		if (mx)
			mx->reason[(size_t)i * h->n + j] =
				mx->reason[(size_t)j * h->n + i] = reason[r];
	}
	for (uint64_t k = c.pos; k < c.end; k++)
		if (map->data[k]) {
			st = bad(map->path, err,
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
	mp_status st = header(map, &h, &method, &metric, NULL, err);
	if (st != MP_OK)
		return st;
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
	if ((st = header(map, &h, NULL, NULL, mx, err)) != MP_OK)
		goto fail;
	mx->higher_is_more_alike = h.flags & 1;
	mx->estimate = (enum mp_estimate)h.estimate;
	mx->sketch_values = h.sketch;
	const uint8_t *v = map->data + h.hlen;
	mp_file_prefetch(map, h.hlen, (uint64_t)cells * h.vsize);
	for (size_t k = 0; k < cells; k++) {
		double x;
		if (h.vsize == 4) {
			uint32_t b = rd32(v + 4 * k);
			float y;
			memcpy(&y, &b, sizeof y);
			x = y;
		} else {
			uint64_t b = rd64(v + 8 * k);
			memcpy(&x, &b, sizeof x);
		}
		if (isinf(x)) {
			st = bad(map->path, err,
				 "value [%llu][%llu] is infinite",
				 k / n, k % n);
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
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: binary similarity matrix: model id '%s' "
				  "appears twice",
				  map->path, mp_printable(mx->ids[dup], show));
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

/* The header of s: *len bytes, a multiple of 64. NULL when out of memory
 * or a name is too long. */
static uint8_t *make_header(const struct mp_simmatrix *s, unsigned vsize,
			    size_t *len)
{
	size_t nk, n = s->n, np = 0;
	const char *const *known = mp_metric_reasons(&nk);
	if (nk > MAX_REASONS)
		nk = MAX_REASONS;
	size_t need = FIXED + 8 + strlen(s->method) + strlen(s->metric) + 4 +
		      8;
	for (size_t i = 0; i < n; i++)
		need += 4 + strlen(s->ids[i]);
	for (size_t i = 0; i < nk; i++)
		need += 4 + strlen(known[i]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			np += isnan(s->value[i * n + j]) &&
			      reason_index(s->reason[i * n + j], known, nk) >= 0;
	need += 12 * np;
	need += (MP_SIMBIN_ALIGN - need % MP_SIMBIN_ALIGN) % MP_SIMBIN_ALIGN;
	uint8_t *b = calloc(1, need);
	if (!b)
		return NULL;
	memcpy(b, MP_SIMBIN_MAGIC, 8);
	wr32(b + 8, MP_SIMBIN_VERSION);
	wr32(b + 12, vsize);
	wr64(b + 16, n);
	wr64(b + 24, need);
	wr32(b + 32, s->higher_is_more_alike ? 1 : 0);
	wr32(b + 36, (uint32_t)s->estimate);
	wr32(b + 40, s->estimate == MP_ESTIMATE_SKETCH ? s->sketch_values : 0);
	size_t at = FIXED;
	put_string(b, &at, s->method);
	put_string(b, &at, s->metric);
	for (size_t i = 0; i < n; i++)
		put_string(b, &at, s->ids[i]);
	wr32(b + at, (uint32_t)nk);
	at += 4;
	for (size_t i = 0; i < nk; i++)
		put_string(b, &at, known[i]);
	wr64(b + at, np);
	at += 8;
	for (size_t i = 0; i < n; i++)
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

mp_status mp_simmatrix_bin_write(const struct mp_simmatrix *s,
				 const char *path, unsigned vsize,
				 struct mp_error *err)
{
	if (vsize != 4 && vsize != 8)
		return mp_error_set(err, MP_EINVAL, "%s: value size %u", path,
				    vsize);
	if (s->n > UINT32_MAX)
		return mp_error_set(err, MP_ERANGE, "%s: %zu models (at most "
						    "2^32 - 1)",
				    path, s->n);
	size_t n = s->n, hlen = 0;
	if (vsize == 4)
		for (size_t k = 0; k < n * n; k++)
			if (isfinite(s->value[k]) &&
			    fabs(s->value[k]) > FLT_MAX)
				return mp_error_set(
					err, MP_ERANGE,
					"%s: value [%zu][%zu] = %g does not fit "
					"a float32",
					path, k / n, k % n, s->value[k]);
	uint8_t *h = make_header(s, vsize, &hlen);
	uint8_t *row = malloc(n ? n * vsize : 1);
	if (!h || !row) {
		free(h);
		free(row);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	struct mp_atomic a;
	mp_status st = mp_atomic_open(&a, path, err);
	if (st != MP_OK)
		goto out;
	bool ok = fwrite(h, 1, hlen, a.fp) == hlen;
	for (size_t i = 0; ok && i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			double x = s->value[i * n + j];
			if (vsize == 4) {
				float y = (float)x;
				uint32_t b;
				memcpy(&b, &y, sizeof b);
				wr32(row + 4 * j, b);
			} else {
				uint64_t b;
				memcpy(&b, &x, sizeof b);
				wr64(row + 8 * j, b);
			}
		}
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
