/* fmt_gguf.c — GGUF files (llama.cpp/ggml), versions 2 and 3, little-endian.
 * Layout: "GGUF", u32 version, u64 tensor count, u64 metadata count; the
 * metadata (key string, u32 value type, value; arrays u32 element type,
 * u64 count, elements); the tensor infos (name, u32 ndim, u64 dims
 * innermost first, u32 ggml type, u64 offset into the data section); the
 * data section at the next multiple of general.alignment (default 32).
 * Every count and size is checked against the bytes left in the file.
 * Float and integer tensors become plain dtypes; block-quantized ones keep
 * their ggml type (t->ggml) and are decoded block by block. */
#include "ggml_dequant.h"
#include "mapguard.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define META_STR_MAX 1024 /* longest metadata string kept in the meta */
#define DEPTH_MAX 4	  /* nested arrays */
#define DIM_MAX (1ULL << 53) /* largest dimension (exact as a double) */

enum vtype {
	V_U8, V_I8, V_U16, V_I16, V_U32, V_I32, V_F32, V_BOOL, V_STR, V_ARR,
	V_U64, V_I64, V_F64, V_COUNT
};
static const unsigned vsize[V_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

struct cur {
	const struct mp_file *f;
	const char *path;
	uint64_t pos;
	struct mp_error *err;
};

static bool probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (mp_ends_with(path, ".gguf"))
		return true;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	char b[4];
	bool ok = fread(b, 1, 4, fp) == 4 && memcmp(b, "GGUF", 4) == 0;
	fclose(fp);
	return ok;
}

static uint64_t le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

/* Copy n bytes at the cursor (guarded); what names the field. */
static mp_status take(struct cur *c, void *dst, uint64_t n, const char *what)
{
	if (n > c->f->size - c->pos)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: truncated at byte %llu reading %s",
				    c->path, (unsigned long long)c->pos, what);
	const void *fault;
	if (n && !mp_mapguard_copy(dst, c->f->data + c->pos, (size_t)n,
				   &fault))
		return mp_mapguard_error(c->path, c->err);
	c->pos += n;
	return MP_OK;
}

static mp_status skip(struct cur *c, uint64_t n, const char *what)
{
	if (n > c->f->size - c->pos)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: truncated at byte %llu: %s of %llu "
				    "bytes runs past the end",
				    c->path, (unsigned long long)c->pos, what,
				    (unsigned long long)n);
	c->pos += n;
	return MP_OK;
}

static mp_status u32(struct cur *c, uint32_t *v, const char *what)
{
	uint8_t b[4];
	mp_status s = take(c, b, 4, what);
	*v = (uint32_t)le(b, 4);
	return s;
}

static mp_status u64(struct cur *c, uint64_t *v, const char *what)
{
	uint8_t b[8];
	mp_status s = take(c, b, 8, what);
	*v = le(b, 8);
	return s;
}

/* A string: u64 length and bytes; *out (malloc'd, NUL-terminated) when
 * out is not NULL, else skipped. Strings longer than keep are skipped
 * too, *out NULL. */
static mp_status str(struct cur *c, char **out, uint64_t keep, const char *what)
{
	uint64_t n;
	mp_status s = u64(c, &n, what);
	if (s != MP_OK)
		return s;
	if (n > c->f->size - c->pos)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: %s of %llu bytes at byte %llu runs "
				    "past the end of the file",
				    c->path, what, (unsigned long long)n,
				    (unsigned long long)c->pos);
	if (!out || n > keep) {
		if (out)
			*out = NULL;
		return skip(c, n, what);
	}
	char *p = malloc((size_t)n + 1);
	if (!p)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->path);
	if ((s = take(c, p, n, what)) != MP_OK) {
		free(p);
		return s;
	}
	p[n] = 0;
	if (strlen(p) != n) {
		free(p);
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: %s holds a NUL byte", c->path, what);
	}
	*out = p;
	return MP_OK;
}

/* Skip a value of type t; *count gets the element count of an array. */
static mp_status value_skip(struct cur *c, uint32_t t, int depth,
			    uint64_t *count, const char *key)
{
	char kb[MP_NAME_SHOW + 8];
	if (t >= V_COUNT)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata '%s': unknown value type %u",
				    c->path, mp_printable(key, kb), t);
	if (t != V_ARR && t != V_STR)
		return skip(c, vsize[t], "metadata value");
	if (t == V_STR)
		return str(c, NULL, 0, "metadata string");
	if (depth >= DEPTH_MAX)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata '%s': arrays nested over %d "
				    "deep",
				    c->path, mp_printable(key, kb), DEPTH_MAX);
	uint32_t et;
	uint64_t n;
	mp_status s = u32(c, &et, "array type");
	if (s == MP_OK)
		s = u64(c, &n, "array count");
	if (s != MP_OK)
		return s;
	if (count)
		*count = n;
	if (et >= V_COUNT)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: metadata '%s': unknown array element "
				    "type %u",
				    c->path, mp_printable(key, kb), et);
	if (et != V_ARR && et != V_STR) {
		uint64_t bytes;
		if (!mp_mul_u64(n, vsize[et], &bytes) ||
		    bytes > c->f->size - c->pos)
			return mp_error_set(c->err, MP_ETRUNC,
					    "%s: metadata '%s': array of %llu "
					    "elements runs past the end of the "
					    "file",
					    c->path, mp_printable(key, kb),
					    (unsigned long long)n);
		return skip(c, bytes, "array");
	}
	/* every string or array takes at least 8 bytes */
	if (n > (c->f->size - c->pos) / 8)
		return mp_error_set(c->err, MP_ETRUNC,
				    "%s: metadata '%s': array of %llu elements "
				    "runs past the end of the file",
				    c->path, mp_printable(key, kb),
				    (unsigned long long)n);
	for (uint64_t i = 0; i < n && s == MP_OK; i++)
		s = value_skip(c, et, depth + 1, NULL, key);
	return s;
}

static bool kept(const char *key)
{
	return strncmp(key, "general.", 8) == 0 ||
	       strcmp(key, "tokenizer.ggml.model") == 0 ||
	       strstr(key, ".block_count") || strstr(key, ".context_length") ||
	       strstr(key, ".embedding_length") ||
	       strstr(key, ".attention.head_count") ||
	       /* the forward pass's hyper-parameters (llm_config.c) */
	       strstr(key, ".feed_forward_length") || strstr(key, ".rope.") ||
	       strstr(key, ".attention.layer_norm") ||
	       strstr(key, ".attention.key_length");
}

/* A scalar as text into buf. */
static mp_status scalar_text(struct cur *c, uint32_t t, char *buf, size_t len)
{
	uint8_t b[8];
	mp_status s = take(c, b, vsize[t], "metadata value");
	if (s != MP_OK)
		return s;
	uint64_t u = le(b, vsize[t]);
	switch (t) {
	case V_I8: snprintf(buf, len, "%d", (int)(int8_t)u); break;
	case V_I16: snprintf(buf, len, "%d", (int)(int16_t)u); break;
	case V_I32: snprintf(buf, len, "%ld", (long)(int32_t)u); break;
	case V_I64: snprintf(buf, len, "%lld", (long long)(int64_t)u); break;
	case V_BOOL: snprintf(buf, len, "%s", u ? "true" : "false"); break;
	case V_F32: {
		uint32_t w = (uint32_t)u;
		float f;
		memcpy(&f, &w, 4);
		snprintf(buf, len, "%.9g", (double)f);
		break;
	}
	case V_F64: {
		double d;
		memcpy(&d, &u, 8);
		snprintf(buf, len, "%.17g", d);
		break;
	}
	default: snprintf(buf, len, "%llu", (unsigned long long)u);
	}
	return MP_OK;
}

/* One key/value; the alignment is read from general.alignment. */
static mp_status meta_kv(struct mp_model *m, struct cur *c, uint64_t *align)
{
	char *key = NULL, *val = NULL;
	char buf[64];
	uint32_t t;
	mp_status s = str(c, &key, 65536, "metadata key");
	if (s == MP_OK && !key)
		s = mp_error_set(c->err, MP_ERANGE,
				 "%s: metadata key over 65536 bytes", c->path);
	if (s == MP_OK)
		s = u32(c, &t, "metadata type");
	if (s != MP_OK) {
		free(key);
		return s;
	}
	bool keep = kept(key) && c->f == &m->files[0];
	if (t < V_COUNT && t != V_STR && t != V_ARR) {
		s = scalar_text(c, t, buf, sizeof buf);
		if (s == MP_OK && strcmp(key, "general.alignment") == 0) {
			uint64_t a = strtoull(buf, NULL, 10);
			if (t != V_U32 || a == 0 || (a & (a - 1)) || a > 65536)
				s = mp_error_set(c->err, MP_EFORMAT,
						 "%s: general.alignment %s is "
						 "not a power of two u32",
						 c->path, buf);
			*align = a;
		}
		if (s == MP_OK && keep)
			s = mp_model_add_meta(m, key, buf, c->err);
	} else if (t == V_STR) {
		s = str(c, keep ? &val : NULL, META_STR_MAX, "metadata string");
		if (s == MP_OK && val)
			s = mp_model_add_meta(m, key, val, c->err);
	} else {
		uint64_t n = 0;
		s = value_skip(c, t, 0, &n, key);
		if (s == MP_OK && strcmp(key, "tokenizer.ggml.tokens") == 0) {
			snprintf(buf, sizeof buf, "%llu", (unsigned long long)n);
			s = mp_model_add_meta(m, "tokenizer.ggml.vocab_size",
					      buf, c->err);
		}
	}
	free(val);
	free(key);
	return s;
}

/* ggml's name of type id, for errors about types no ggml_*.c knows. */
static const char *type_name(uint32_t id)
{
	static const char *const names[] = {
	    "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1",
	    "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
	    "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
	    "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
	    "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0",
	    "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
	return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

static enum mp_dtype plain(uint32_t id, bool *ok)
{
	*ok = true;
	switch (id) {
	case MP_GGML_F32: return MP_F32;
	case MP_GGML_F16: return MP_F16;
	case MP_GGML_BF16: return MP_BF16;
	case MP_GGML_F64: return MP_F64;
	case MP_GGML_I8: return MP_I8;
	case MP_GGML_I16: return MP_I16;
	case MP_GGML_I32: return MP_I32;
	case MP_GGML_I64: return MP_I64;
	default: *ok = false; return MP_F32;
	}
}

/* One tensor info; offsets relative to the data section, fixed later. */
static mp_status tensor_info(struct mp_model *m, struct cur *c, int fi)
{
	char *name = NULL;
	char nb[MP_NAME_SHOW + 8];
	mp_status s = str(c, &name, 65536, "tensor name");
	if (s == MP_OK && !name)
		s = mp_error_set(c->err, MP_ERANGE,
				 "%s: tensor name over 65536 bytes", c->path);
	if (s != MP_OK)
		return s;
	uint32_t nd, type;
	uint64_t dims[MP_MAX_DIMS], shape[MP_MAX_DIMS], off;
	s = u32(c, &nd, "tensor dimension count");
	if (s == MP_OK && nd > MP_MAX_DIMS)
		s = mp_error_set(c->err, MP_ERANGE,
				 "%s: tensor '%s' has %u dimensions (at most "
				 "%d)",
				 c->path, mp_printable(name, nb), nd,
				 MP_MAX_DIMS);
	for (uint32_t i = 0; s == MP_OK && i < nd; i++)
		if ((s = u64(c, &dims[i], "tensor dimension")) == MP_OK &&
		    dims[i] > DIM_MAX) /* fingerprints keep shapes as JSON numbers */
			s = mp_error_set(c->err, MP_ERANGE,
					 "%s: tensor '%s': dimension %llu is "
					 "over 2^53",
					 c->path, mp_printable(name, nb),
					 (unsigned long long)dims[i]);
	if (s == MP_OK)
		s = u32(c, &type, "tensor type");
	if (s == MP_OK)
		s = u64(c, &off, "tensor offset");
	const struct mp_ggml_type_info *gt = NULL;
	if (s == MP_OK && !(gt = mp_ggml_type(type)))
		s = mp_error_set(c->err, MP_EDTYPE,
				 "%s: tensor '%s': ggml type %u (%s) is not "
				 "supported",
				 c->path, mp_printable(name, nb), type,
				 type_name(type));
	if (s == MP_OK && (gt->block > MP_GGML_BLOCK_MAX ||
			   gt->bytes > MP_GGML_BYTES_MAX))
		s = mp_error_set(c->err, MP_EDTYPE,
				 "%s: tensor '%s': ggml type %s has blocks "
				 "too large to read",
				 c->path, mp_printable(name, nb), gt->name);
	if (s == MP_OK && nd && dims[0] % gt->block)
		s = mp_error_set(c->err, MP_EFORMAT,
				 "%s: tensor '%s': row of %llu values is not a "
				 "multiple of the %s block of %u",
				 c->path, mp_printable(name, nb),
				 (unsigned long long)dims[0], gt->name,
				 gt->block);
	struct mp_tensor *t = NULL;
	if (s == MP_OK)
		s = mp_model_add_tensor(m, name, &t, c->err);
	free(name);
	if (s != MP_OK)
		return s;
	bool ok;
	t->stored = t->logical = plain(type, &ok);
	if (!ok)
		t->ggml = gt;
	for (uint32_t i = 0; i < nd; i++)
		shape[i] = dims[nd - 1 - i];
	s = mp_tensor_set_shape(t, (int)nd, shape, c->path, c->err);
	if (s != MP_OK)
		return s;
	if (t->ggml)
		t->nbytes = t->numel / gt->block * gt->bytes;
	if (!gt->block || (t->numel % gt->block))
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: tensor '%s': %llu values are not whole "
				    "%s blocks",
				    c->path, mp_printable(t->name, nb),
				    (unsigned long long)t->numel, gt->name);
	t->file_index = fi;
	t->offset = off;
	return MP_OK;
}

static int cmp_off(const void *a, const void *b)
{
	const struct mp_tensor *x = *(const struct mp_tensor *const *)a;
	const struct mp_tensor *y = *(const struct mp_tensor *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Place tensors first..m->ntensors in the data section at data: aligned,
 * inside the file, not overlapping. */
static mp_status place(struct mp_model *m, size_t first, const struct cur *c,
		       uint64_t data, uint64_t align)
{
	size_t n = m->ntensors - first;
	char nb[MP_NAME_SHOW + 8], nb2[MP_NAME_SHOW + 8];
	if (!n)
		return MP_OK;
	struct mp_tensor **v = malloc(n * sizeof *v);
	if (!v)
		return mp_error_set(c->err, MP_ENOMEM, "%s: out of memory",
				    c->path);
	mp_status s = MP_OK;
	for (size_t i = 0; i < n; i++)
		v[i] = &m->tensors[first + i];
	qsort(v, n, sizeof *v, cmp_off);
	uint64_t size = c->f->size;
	for (size_t i = 0; i < n && s == MP_OK; i++) {
		struct mp_tensor *t = v[i];
		uint64_t end;
		if (t->offset % align)
			s = mp_error_set(c->err, MP_EFORMAT,
					 "%s: tensor '%s': offset %llu is not "
					 "a multiple of the alignment %llu",
					 c->path, mp_printable(t->name, nb),
					 (unsigned long long)t->offset,
					 (unsigned long long)align);
		else if (data > size || t->offset > size - data ||
			 !mp_add_u64(t->offset, t->nbytes, &end) ||
			 end > size - data)
			s = mp_error_set(c->err, MP_ETRUNC,
					 "%s: tensor '%s': %llu bytes at data "
					 "offset %llu run past the end of the "
					 "file",
					 c->path, mp_printable(t->name, nb),
					 (unsigned long long)t->nbytes,
					 (unsigned long long)t->offset);
		else if (i + 1 < n && end > v[i + 1]->offset)
			s = mp_error_set(c->err, MP_EFORMAT,
					 "%s: tensors '%s' and '%s' overlap",
					 c->path, mp_printable(t->name, nb),
					 mp_printable(v[i + 1]->name, nb2));
	}
	for (size_t i = 0; i < n && s == MP_OK; i++) {
		struct mp_tensor *t = v[i];
		t->offset += data;
		struct mp_seg sg = {c->f->data + t->offset, t->nbytes};
		if (!t->nbytes)
			sg.data = NULL;
		s = mp_tensor_set_segs(t, &sg, 1, c->path, c->err);
	}
	free(v);
	return s;
}

/* Read one file; named is NULL for the file the user named, else how the
 * shard is found (it must resolve inside the model directory). */
static mp_status load_file(struct mp_model *m, const char *path,
			   const struct mp_named *named, struct mp_error *err)
{
	int fi;
	mp_status s = named ? mp_model_add_named(m, path, named, &fi, err)
			    : mp_model_add_file(m, path, &fi, err);
	if (s != MP_OK)
		return s;
	struct cur c = {&m->files[fi], path, 0, err};
	uint8_t h[8];
	if ((s = take(&c, h, 8, "the GGUF header")) != MP_OK)
		return s;
	if (memcmp(h, "GGUF", 4) != 0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a GGUF file (no GGUF magic)", path);
	uint32_t ver = (uint32_t)le(h + 4, 4);
	if (ver > 0xFFFF && (ver & 0xFFFF) == 0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: big-endian GGUF (version %u byte-"
				    "swapped) is not supported",
				    path, (unsigned)(ver >> 24));
	if (ver != 2 && ver != 3)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: GGUF version %u is not supported (2 "
				    "and 3 are)",
				    path, ver);
	uint64_t nt, nkv;
	if ((s = u64(&c, &nt, "the tensor count")) != MP_OK ||
	    (s = u64(&c, &nkv, "the metadata count")) != MP_OK)
		return s;
	/* a key/value takes at least 12 bytes, a tensor info at least 24 */
	if (nkv > (c.f->size - c.pos) / 12 || nt > (c.f->size - c.pos) / 24)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: %llu tensors and %llu metadata entries "
				    "cannot fit in the file",
				    path, (unsigned long long)nt,
				    (unsigned long long)nkv);
	uint64_t align = 32;
	for (uint64_t i = 0; i < nkv && s == MP_OK; i++)
		s = meta_kv(m, &c, &align);
	size_t first = m->ntensors;
	for (uint64_t i = 0; i < nt && s == MP_OK; i++)
		s = tensor_info(m, &c, fi);
	if (s != MP_OK)
		return s;
	uint64_t data = (c.pos + align - 1) / align * align;
	return place(m, first, &c, data, align);
}

bool mp_gguf_shard_name(const char *path, size_t *stem, unsigned *k,
			unsigned *n)
{
	size_t len = strlen(path);
	const char *tail = "-00000-of-00000.gguf";
	size_t tl = strlen(tail);
	if (len < tl)
		return false;
	const char *p = path + len - tl;
	if (sscanf(p, "-%5u-of-%5u.gguf", k, n) != 2 || p[6] != '-' ||
	    strcmp(p + 15, ".gguf") != 0)
		return false;
	*stem = len - tl;
	return *k >= 1 && *k <= *n;
}

static mp_status load_all(struct mp_model *m, const char *path,
			 struct mp_error *err)
{
	size_t stem;
	unsigned k, n;
	if (!mp_gguf_shard_name(path, &stem, &k, &n) || n == 1)
		return load_file(m, path, NULL, err);
	char *p = malloc(stem + 32);
	if (!p)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	mp_status s = MP_OK;
	for (unsigned i = 1; i <= n && s == MP_OK; i++) {
		memcpy(p, path, stem);
		snprintf(p + stem, 32, "-%05u-of-%05u.gguf", i, n);
		const char *slash = strrchr(p, '/');
		struct mp_named nm = {m->dir, path, "shard",
				      slash ? slash + 1 : p};
		s = load_file(m, p, i == k ? NULL : &nm, err);
	}
	free(p);
	return s;
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	m->format = "gguf";
	mp_status s = load_all(m, path, err);
	bool rep;
	size_t a, b;
	if (s == MP_OK)
		s = mp_model_index(m, &rep, &a, &b, err);
	char nb[MP_NAME_SHOW + 8];
	if (s == MP_OK && rep)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: tensor '%s' appears twice", path,
				 mp_printable(m->tensors[b].name, nb));
	return s;
}

const struct mp_format_ops mp_fmt_gguf = {"gguf", probe, open_model};
