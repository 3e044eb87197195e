/* zip.c — zip archives in mapped files (zip.h), shared by fmt_numpy.c
 * (.npz) and fmt_torch.c (torch.save archives). */
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK (1u << 30) /* bytes per zlib call */

static uint16_t le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

/* Inflate the raw deflate stream src[0..clen) to exactly ulen bytes with
 * the given CRC-32, into a buffer the model owns (*out). */
static mp_status inflate_member(struct mp_model *m, const uint8_t *src,
				uint64_t clen, uint64_t ulen, uint32_t crc,
				const uint8_t **out, const char *where,
				struct mp_error *err)
{
	uint8_t *buf = malloc(ulen ? (size_t)ulen : 1);
	if (!buf)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
		free(buf);
		return mp_error_set(err, MP_ENOMEM, "%s: cannot start zlib",
				    where);
	}
	uint64_t in = 0, done = 0;
	int r = Z_OK;
	bool over = false;
	uint8_t extra;
	for (;;) {
		bool room = done < ulen;
		uInt ci = (uInt)(clen - in > CHUNK ? CHUNK : clen - in);
		uInt co = (uInt)(!room		       ? 1
				 : ulen - done > CHUNK ? CHUNK
						       : ulen - done);
		z.next_in = (Bytef *)(uintptr_t)(src + in);
		z.avail_in = ci;
		z.next_out = room ? buf + done : &extra;
		z.avail_out = co;
		r = inflate(&z, Z_NO_FLUSH);
		uint64_t gi = ci - z.avail_in, go = co - z.avail_out;
		in += gi;
		if (!room && go) {
			over = true; /* more bytes than the directory says */
			break;
		}
		done += go;
		if (r != Z_OK || (gi == 0 && go == 0))
			break;
	}
	inflateEnd(&z);
	if (r != Z_STREAM_END || over || done != ulen) {
		free(buf);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: corrupt deflate data (%s)", where,
				    over || r == Z_STREAM_END
					? "not the size the directory gives"
					: "stream broken or cut short");
	}
	uLong c = crc32(0L, Z_NULL, 0);
	for (uint64_t o = 0; o < ulen;) {
		uInt k = (uInt)(ulen - o > CHUNK ? CHUNK : ulen - o);
		c = crc32(c, buf + o, k);
		o += k;
	}
	if ((uint32_t)c != crc) {
		free(buf);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: CRC-32 mismatch (corrupt member)",
				    where);
	}
	*out = buf;
	return mp_model_own(m, buf, err);
}

static uint64_t le64(const uint8_t *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

/* True when the ZIP64 end record that the locator before the record at p
 * names (as PyTorch's writer always adds) only repeats the values of the
 * plain record, which needs no ZIP64 field. */
static bool zip64_redundant(const uint8_t *b, uint64_t p)
{
	const uint8_t *e = b + p, *loc = b + p - 20;
	uint64_t off = le64(loc + 8);
	if (le32(loc + 4) || le32(loc + 16) > 1 || off > p - 20 ||
	    p - 20 - off < 56 || memcmp(b + off, "PK\x06\x06", 4))
		return false;
	const uint8_t *r = b + off;
	uint16_t cnt = le16(e + 10);
	uint32_t size = le32(e + 12), cdo = le32(e + 16);
	return cnt != 0xffff && size != 0xffffffffu && cdo != 0xffffffffu &&
	       !le32(r + 16) && !le32(r + 20) && le64(r + 24) == cnt &&
	       le64(r + 32) == cnt && le64(r + 40) == size &&
	       le64(r + 48) == cdo;
}

/* The end-of-central-directory record of f: *cd_off, *cd_size, *count. */
static mp_status find_eocd(const struct mp_file *f, uint64_t *cd_off,
			   uint64_t *cd_size, unsigned *count,
			   struct mp_error *err)
{
	const uint8_t *b = f->data;
	uint64_t n = f->size;
	if (n < 22)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a zip archive (too short for an "
				    "end-of-central-directory record)",
				    f->path);
	uint64_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
	for (uint64_t p = n - 22 + 1; p-- > lo;) {
		if (memcmp(b + p, "PK\x05\x06", 4) ||
		    p + 22 + le16(b + p + 20) != n)
			continue;
		uint64_t limit = p;
		if (p >= 20 && !memcmp(b + p - 20, "PK\x06\x07", 4)) {
			if (!zip64_redundant(b, p))
				return mp_error_set(err, MP_EFORMAT,
						    "%s: ZIP64 archives are "
						    "not supported",
						    f->path);
			limit = le64(b + p - 12);
		}
		if (le16(b + p + 4) || le16(b + p + 6) ||
		    le16(b + p + 8) != le16(b + p + 10))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: multi-disk zip archives are "
					    "not supported",
					    f->path);
		*count = le16(b + p + 10);
		*cd_size = le32(b + p + 12);
		*cd_off = le32(b + p + 16);
		if (*cd_off + *cd_size > limit)
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: zip central directory (bytes "
			    "%llu..%llu) lies outside the file "
			    "(the record is at %llu)",
			    f->path, (unsigned long long)*cd_off,
			    (unsigned long long)(*cd_off + *cd_size),
			    (unsigned long long)p);
		return MP_OK;
	}
	return mp_error_set(err, MP_EFORMAT,
			    "%s: not a zip archive (no end-of-central-"
			    "directory record)",
			    f->path);
}

void mp_zip_free(struct mp_zip *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z->sorted);
	z->e = NULL;
	z->sorted = NULL;
	z->n = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp((*(struct mp_zip_entry *const *)a)->name,
		      (*(struct mp_zip_entry *const *)b)->name);
}

mp_status mp_zip_open(const struct mp_file *f, struct mp_zip *z,
		      struct mp_error *err)
{
	uint64_t cd_size = 0;
	unsigned count = 0;
	memset(z, 0, sizeof *z);
	z->f = f;
	mp_status s = find_eocd(f, &z->cd_off, &cd_size, &count, err);
	if (s != MP_OK)
		return s;
	if (count && !(z->e = calloc(count, sizeof *z->e)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    f->path);
	uint64_t pos = z->cd_off, end = z->cd_off + cd_size;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = f->data + pos;
		uint64_t left = end - pos;
		if (left < 46 || memcmp(e, "PK\x01\x02", 4))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: malformed zip central "
					    "directory",
					    f->path);
		unsigned nl = le16(e + 28), xl = le16(e + 30),
			 cl = le16(e + 32);
		uint64_t used = 46ull + nl + xl + cl;
		if (used > left)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: zip central directory entry "
					    "runs past the directory",
					    f->path);
		struct mp_zip_entry *x = &z->e[z->n];
		if (!(x->name = malloc(nl + 1u)))
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    f->path);
		z->n++;
		memcpy(x->name, e + 46, nl);
		x->name[nl] = '\0';
		x->name_len = nl;
		x->flags = le16(e + 8);
		x->method = le16(e + 10);
		x->crc = le32(e + 16);
		x->clen = le32(e + 20);
		x->ulen = le32(e + 24);
		x->data_off = le32(e + 42); /* the local header, for now */
		pos += used;
	}
	if (!(z->sorted = malloc((z->n ? z->n : 1) * sizeof *z->sorted)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    f->path);
	for (size_t i = 0; i < z->n; i++)
		z->sorted[i] = &z->e[i];
	qsort(z->sorted, z->n, sizeof *z->sorted, cmp_entry);
	return MP_OK;
}

mp_status mp_zip_check(const struct mp_zip *z, struct mp_zip_entry *e,
		       const char *where, struct mp_error *err)
{
	const struct mp_file *f = z->f;
	uint64_t loc = e->data_off, cd_off = z->cd_off;
	if (e->clen == 0xffffffffu || e->ulen == 0xffffffffu ||
	    loc == 0xffffffffu)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: ZIP64 members are not supported",
				    where);
	if (e->flags & 1u)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: encrypted members are not supported",
				    where);
	if (e->method != 0 && e->method != 8)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: compression method %u is not "
				    "supported (valid: stored, deflate)",
				    where, e->method);
	if (e->method == 0 && e->clen != e->ulen)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: stored member of %llu bytes claims "
				    "%llu uncompressed",
				    where, (unsigned long long)e->clen,
				    (unsigned long long)e->ulen);
	if (loc + 30 > cd_off || memcmp(f->data + loc, "PK\x03\x04", 4))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: local header offset %llu does not "
				    "point at a local header before the "
				    "central directory",
				    where, (unsigned long long)loc);
	const uint8_t *lh = f->data + loc;
	uint64_t dstart = loc + 30 + le16(lh + 26) + le16(lh + 28);
	if (le16(lh + 26) != e->name_len || dstart > cd_off ||
	    memcmp(lh + 30, e->name, e->name_len))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: local header disagrees with the "
				    "central directory",
				    where);
	if (e->clen > cd_off - dstart)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: data (bytes %llu..%llu) runs past "
				    "the member area (%llu)",
				    where, (unsigned long long)dstart,
				    (unsigned long long)(dstart + e->clen),
				    (unsigned long long)cd_off);
	e->data_off = dstart;
	return MP_OK;
}

mp_status mp_zip_read(struct mp_model *m, const struct mp_zip *z,
		      const struct mp_zip_entry *e, uint64_t *budget,
		      const uint8_t **out, const char *where,
		      struct mp_error *err)
{
	if (e->method == 0) {
		*out = z->f->data + e->data_off;
		return MP_OK;
	}
	if (e->ulen > *budget)
		return mp_error_set(err, MP_ERANGE,
				    "%s: inflating %llu bytes would pass the "
				    "limit of %llu for the archive",
				    where, (unsigned long long)e->ulen,
				    (unsigned long long)*budget);
	*budget -= e->ulen;
	return inflate_member(m, z->f->data + e->data_off, e->clen, e->ulen,
			      e->crc, out, where, err);
}

struct mp_zip_entry *mp_zip_find(const struct mp_zip *z, const char *name)
{
	size_t lo = 0, hi = z->sorted ? z->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct mp_zip_entry *e = z->sorted[mid];
		int c = strcmp(e->name, name);
		if (c == 0)
			return strlen(e->name) == e->name_len ? e : NULL;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
