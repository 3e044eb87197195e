/* fmt_numpy.c — NumPy arrays: a .npy file (one tensor named after the file
 * without ".npy") and a .npz archive (a zip of .npy members, each a tensor
 * named after the member without ".npy").
 *
 * .npy: "\x93NUMPY", major, minor, the header length (u16 for version 1.0,
 * u32 for 2.0 and 3.0), the header (a Python dict literal with exactly
 * 'descr', 'fortran_order' and 'shape'), then the array bytes, which must
 * fill the rest of the file exactly. Little-endian ('<') and
 * byte-order-free ('|') numeric C-order arrays are read in place;
 * big-endian ('>') arrays and Fortran-order arrays (of more than one axis
 * longer than 1) are converted to little-endian C order in a buffer the
 * model owns, as the core reads only those bytes. Object arrays ('|O',
 * which need pickle) and structured dtypes are refused.
 *
 * .npz: the end-of-central-directory record, the central directory and
 * each member's local header are checked against the file; ZIP64,
 * multi-disk and encrypted archives are refused. Stored members are read in
 * place; deflated ones are inflated with zlib into buffers the model owns
 * (at most OWNED_MAX bytes with the converted arrays), their CRC-32
 * checked. */
#include "model.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OWNED_MAX (4ull << 30) /* bytes inflated or converted, per model */
#define NPY_HEADER_MAX (1u << 20)

static uint16_t le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static bool probe(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       (mp_ends_with(path, ".npy") || mp_ends_with(path, ".npz"));
}

/* --- the .npy header ------------------------------------------------ */

struct hdr {
	const char *p, *end;
};

static void skip_ws(struct hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' ||
				 *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static bool eat(struct hdr *h, char c)
{
	skip_ws(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return true;
	}
	return false;
}

/* A quoted Python string of at most cap-1 plain characters into buf. */
static bool str_lit(struct hdr *h, char *buf, size_t cap)
{
	skip_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return false;
	char q = *h->p++;
	size_t n = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || n + 1 >= cap)
			return false;
		buf[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return false;
	h->p++;
	buf[n] = '\0';
	return true;
}

static bool word(struct hdr *h, const char *w)
{
	skip_ws(h);
	size_t n = strlen(w);
	if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n))
		return false;
	h->p += n;
	return true;
}

/* A tuple of non-negative integers: (), (3,), (3, 4), (3, 4,). */
static mp_status shape_lit(struct hdr *h, uint64_t *dims, int *nd,
			   const char *where, struct mp_error *err)
{
	*nd = 0;
	if (!eat(h, '('))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: .npy header: 'shape' is not a tuple",
				    where);
	for (;;) {
		skip_ws(h);
		if (eat(h, ')'))
			break;
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return mp_error_set(err, MP_EFORMAT,
					    "%s: .npy header: 'shape' entry %d "
					    "is not a non-negative integer",
					    where, *nd);
		if (*nd == MP_MAX_DIMS)
			return mp_error_set(err, MP_ERANGE,
					    "%s: array has more than %d "
					    "dimensions",
					    where, MP_MAX_DIMS);
		uint64_t v = 0;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			if (!mp_mul_u64(v, 10, &v) ||
			    !mp_add_u64(v, (uint64_t)(*h->p - '0'), &v))
				return mp_error_set(
				    err, MP_ERANGE,
				    "%s: .npy header: 'shape' "
				    "entry %d overflows 64 bits",
				    where, *nd);
			h->p++;
		}
		dims[(*nd)++] = v;
		if (eat(h, ')')) {
			if (*nd == 1)
				return mp_error_set(err, MP_EFORMAT,
						    "%s: .npy header: 'shape' "
						    "(n) is not a tuple (want "
						    "(n,))",
						    where);
			break;
		}
		if (!eat(h, ','))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: .npy header: 'shape' is not a "
					    "tuple of integers",
					    where);
	}
	return MP_OK;
}

/* The dtype of a descr string such as "<f4" or "|u1". */
static mp_status parse_descr(const char *d, enum mp_dtype *dt, bool *swap,
			     const char *where, struct mp_error *err)
{
	static const struct {
		const char *code;
		enum mp_dtype dt;
	} known[] = {
	    {"f2", MP_F16}, {"f4", MP_F32}, {"f8", MP_F64}, {"i1", MP_I8},
	    {"i2", MP_I16}, {"i4", MP_I32}, {"i8", MP_I64}, {"u1", MP_U8},
	    {"u2", MP_U16}, {"u4", MP_U32}, {"u8", MP_U64}, {"b1", MP_BOOL},
	};
	char db[MP_NAME_SHOW + 8];
	if (d[0] == 'O' || (d[0] && d[1] == 'O'))
		return mp_error_set(err, MP_EDTYPE,
				    "%s: object array (dtype '%s') refused: it "
				    "needs pickle",
				    where, mp_printable(d, db));
	char bo = d[0];
	const char *code =
	    bo == '<' || bo == '>' || bo == '|' || bo == '=' ? d + 1 : d;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strcmp(code, known[i].code))
			continue;
		bool one = mp_dtype_size(known[i].dt) == 1;
		*swap = bo == '>' && !one;
		if (code == d || bo == '=' || (bo == '|' && !one))
			return mp_error_set(err, MP_EDTYPE,
					    "%s: dtype '%s' has no explicit "
					    "byte order (want '<' or, for one "
					    "byte, '|')",
					    where, mp_printable(d, db));
		*dt = known[i].dt;
		return MP_OK;
	}
	return mp_error_set(err, MP_EDTYPE,
			    "%s: unsupported dtype '%s' (valid: f2 f4 f8 i1 i2 "
			    "i4 i8 u1 u2 u4 u8 b1, with '<' or '>')",
			    where, mp_printable(d, db));
}

/* How the array bytes differ from little-endian C order. */
struct layout {
	bool swap;    /* big-endian multi-byte elements */
	bool fortran; /* column-major with more than one axis longer than 1 */
};

/* The dict of h: descr, fortran_order, shape, each once. */
static mp_status parse_dict(struct hdr *h, enum mp_dtype *dt,
			    struct layout *lay, uint64_t *dims, int *nd,
			    const char *where, struct mp_error *err)
{
	bool seen[3] = {false, false, false}, fortran = false;
	if (!eat(h, '{'))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: .npy header is not a dict", where);
	mp_status s = MP_OK;
	while (s == MP_OK && !eat(h, '}')) {
		char key[32], val[64], kb[MP_NAME_SHOW + 8];
		if (!str_lit(h, key, sizeof key) || !eat(h, ':'))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: .npy header: malformed dict "
					    "(want 'key': value)",
					    where);
		int k = !strcmp(key, "descr")		? 0
			: !strcmp(key, "fortran_order") ? 1
			: !strcmp(key, "shape")		? 2
							: -1;
		if (k < 0)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: .npy header: unknown key '%s'",
					    where, mp_printable(key, kb));
		if (seen[k])
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: .npy header: key '%s' repeated", where, key);
		seen[k] = true;
		if (k == 0) {
			skip_ws(h);
			if (h->p < h->end && *h->p == '[')
				return mp_error_set(err, MP_EDTYPE,
						    "%s: structured dtypes are "
						    "not supported",
						    where);
			if (!str_lit(h, val, sizeof val))
				return mp_error_set(err, MP_EFORMAT,
						    "%s: .npy header: 'descr' "
						    "is not a dtype string",
						    where);
			s = parse_descr(val, dt, &lay->swap, where, err);
		} else if (k == 1) {
			if (word(h, "True"))
				fortran = true;
			else if (!word(h, "False"))
				return mp_error_set(err, MP_EFORMAT,
						    "%s: .npy header: "
						    "'fortran_order' is not "
						    "True or False",
						    where);
		} else {
			s = shape_lit(h, dims, nd, where, err);
		}
		if (s == MP_OK && !eat(h, ',')) {
			if (!eat(h, '}'))
				return mp_error_set(
				    err, MP_EFORMAT,
				    "%s: .npy header: malformed "
				    "dict (want ',' or '}')",
				    where);
			break;
		}
	}
	if (s != MP_OK)
		return s;
	skip_ws(h);
	if (h->p != h->end)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: .npy header: text after the dict",
				    where);
	if (!seen[0] || !seen[1] || !seen[2])
		return mp_error_set(err, MP_EFORMAT,
				    "%s: .npy header lacks '%s'", where,
				    !seen[0]   ? "descr"
				    : !seen[1] ? "fortran_order"
					       : "shape");
	/* Fortran order is the same bytes when at most one axis exceeds 1 */
	int big = 0;
	for (int i = 0; i < *nd; i++)
		big += dims[i] > 1;
	lay->fortran = fortran && big > 1;
	return MP_OK;
}

/* Copy the array src (t's bytes as the layout says) to dst in
 * little-endian C order. */
static void convert(const struct mp_tensor *t, const struct layout *lay,
		    const uint8_t *src, uint8_t *dst)
{
	unsigned sz = mp_dtype_size(t->stored);
	int nd = t->ndim;
	uint64_t stride[MP_MAX_DIMS], idx[MP_MAX_DIMS] = {0}, from = 0;
	/* the source offset (in elements) of C index idx: Fortran strides
	 * grow from the first axis, C strides from the last */
	uint64_t acc = 1;
	for (int k = 0; k < nd; k++) {
		int a = lay->fortran ? k : nd - 1 - k;
		stride[a] = acc;
		acc *= t->shape[a];
	}
	for (uint64_t i = 0; i < t->numel; i++) {
		const uint8_t *e = src + from * sz;
		uint8_t *o = dst + i * sz;
		for (unsigned c = 0; c < sz; c++)
			o[c] = lay->swap ? e[sz - 1 - c] : e[c];
		for (int k = nd - 1; k >= 0; k--) {
			from += stride[k];
			if (++idx[k] < t->shape[k])
				break;
			from -= stride[k] * t->shape[k];
			idx[k] = 0;
		}
	}
}

/* Parse the .npy bytes b[0..n) into a tensor named name, its data
 * borrowed from b, or converted into a buffer the model owns (*owned
 * counts those bytes). where names the file (and member) for errors. */
static mp_status load_npy(struct mp_model *m, const uint8_t *b, uint64_t n,
			  const char *name, uint64_t *owned, const char *where,
			  struct mp_error *err)
{
	if (n < 10 || memcmp(b, "\x93NUMPY", 6))
		return mp_error_set(
		    err, MP_EFORMAT,
		    "%s: not a .npy array (no \\x93NUMPY magic)", where);
	unsigned major = b[6], minor = b[7];
	uint64_t hlen, start;
	if (major == 1 && minor == 0) {
		hlen = le16(b + 8);
		start = 10;
	} else if ((major == 2 || major == 3) && minor == 0) {
		if (n < 12)
			return mp_error_set(err, MP_ETRUNC,
					    "%s: truncated .npy header length",
					    where);
		hlen = le32(b + 8);
		start = 12;
	} else {
		return mp_error_set(err, MP_EFORMAT,
				    "%s: unsupported .npy version %u.%u "
				    "(valid: 1.0, 2.0, 3.0)",
				    where, major, minor);
	}
	if (hlen > NPY_HEADER_MAX)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: .npy header length %llu over the "
				    "limit of %u",
				    where, (unsigned long long)hlen,
				    NPY_HEADER_MAX);
	if (start + hlen > n)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: truncated: the .npy header needs %llu "
				    "bytes but the file holds %llu",
				    where, (unsigned long long)(start + hlen),
				    (unsigned long long)n);
	struct hdr h = {(const char *)b + start,
			(const char *)b + start + hlen};
	for (const char *c = h.p; c < h.end; c++)
		if (*c == '\0')
			return mp_error_set(err, MP_EFORMAT,
					    "%s: .npy header holds a NUL byte",
					    where);
	enum mp_dtype dt = MP_F32;
	uint64_t dims[MP_MAX_DIMS];
	int nd = 0;
	struct layout lay = {false, false};
	mp_status s = parse_dict(&h, &dt, &lay, dims, &nd, where, err);
	struct mp_tensor *t;
	if (s == MP_OK)
		s = mp_model_add_tensor(m, name, &t, err);
	if (s != MP_OK)
		return s;
	t->stored = t->logical = dt;
	s = mp_tensor_set_shape(t, nd, dims, where, err);
	if (s != MP_OK)
		return s;
	uint64_t data = start + hlen, left = n - data;
	if (t->nbytes > left)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: truncated: the array needs %llu bytes "
				    "of data but %llu follow the header",
				    where, (unsigned long long)t->nbytes,
				    (unsigned long long)left);
	if (t->nbytes < left)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %llu bytes after the array data (the "
				    "header's shape or dtype is wrong)",
				    where,
				    (unsigned long long)(left - t->nbytes));
	struct mp_seg seg = {t->nbytes ? b + data : (const uint8_t *)"",
			     t->nbytes};
	if (t->nbytes && (lay.swap || lay.fortran)) {
		if (t->nbytes > OWNED_MAX - *owned)
			return mp_error_set(err, MP_ERANGE,
					    "%s: converting %llu bytes to "
					    "little-endian C order would pass "
					    "the limit of %llu for the model",
					    where,
					    (unsigned long long)t->nbytes,
					    (unsigned long long)OWNED_MAX);
		uint8_t *c = malloc((size_t)t->nbytes);
		if (!c)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    where);
		convert(t, &lay, b + data, c);
		*owned += t->nbytes;
		s = mp_model_own(m, c, err);
		if (s != MP_OK)
			return s;
		seg.data = c;
	}
	return mp_tensor_set_segs(t, &seg, 1, where, err);
}

/* --- the .npz archive ----------------------------------------------- */

/* Member e of z: a NAME.npy array, loaded as tensor NAME. */
static mp_status load_member(struct mp_model *m, const struct mp_zip *z,
			     struct mp_zip_entry *e, uint64_t *inflated,
			     struct mp_error *err)
{
	const struct mp_file *f = z->f;
	char nb[MP_NAME_SHOW + 8];
	size_t wl = strlen(f->path) + MP_NAME_SHOW + 32;
	char *where = malloc(wl);
	if (!where)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    f->path);
	snprintf(where, wl, "%s: member '%s'", f->path,
		 mp_printable(e->name, nb));
	mp_status s = MP_OK;
	const uint8_t *data = NULL;
	size_t nl = e->name_len;
	if (strlen(e->name) != nl || !mp_ends_with(e->name, ".npy") || nl == 4)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: not a .npy array (an .npz holds only "
				 "NAME.npy members)",
				 where);
	if (s == MP_OK)
		s = mp_zip_check(z, e, where, err);
	uint64_t budget = OWNED_MAX - *inflated;
	if (s == MP_OK)
		s = mp_zip_read(m, z, e, &budget, &data, where, err);
	*inflated = OWNED_MAX - budget;
	if (s == MP_OK) {
		e->name[nl - 4] = '\0';
		s = load_npy(m, data, e->ulen, e->name, inflated, where, err);
	}
	free(where);
	return s;
}

static mp_status load_npz(struct mp_model *m, const struct mp_file *f,
			  struct mp_error *err)
{
	struct mp_zip z;
	uint64_t inflated = 0;
	mp_status s = mp_zip_open(f, &z, err);
	if (s == MP_OK && z.n == 0)
		s = mp_error_set(err, MP_EFORMAT, "%s: the archive is empty",
				 f->path);
	for (size_t i = 0; i < z.n && s == MP_OK; i++)
		s = load_member(m, &z, &z.e[i], &inflated, err);
	mp_zip_free(&z);
	return s;
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	int fi;
	mp_status s = mp_model_add_file(m, path, &fi, err);
	if (s != MP_OK)
		return s;
	const struct mp_file *f = &m->files[fi];
	if (mp_ends_with(path, ".npz")) {
		s = load_npz(m, f, err);
	} else {
		const char *slash = strrchr(path, '/');
		char *name = mp_strdup(slash ? slash + 1 : path);
		if (!name)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		name[strlen(name) - 4] = '\0';
		uint64_t owned = 0;
		s = f->size
			? load_npy(m, f->data, f->size, name, &owned, path, err)
			: mp_error_set(err, MP_EFORMAT,
				       "%s: empty file (not a .npy array)",
				       path);
		free(name);
	}
	bool rep = false;
	size_t a, b;
	if (s == MP_OK)
		s = mp_model_index(m, &rep, &a, &b, err);
	if (s == MP_OK && rep) {
		char nb[MP_NAME_SHOW + 8];
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: array '%s' is stored twice", path,
				 mp_printable(m->tensors[b].name, nb));
	}
	for (size_t i = 0; i < m->ntensors && s == MP_OK; i++)
		m->tensors[i].file_index = fi;
	return s;
}

const struct mp_format_ops mp_fmt_numpy = {"numpy", probe, open_model};
