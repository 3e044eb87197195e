/* fp_json.c — fingerprints to and from JSON (man/modelprint-files.5). The
 * reader treats its input as hostile: every field is type- and
 * range-checked and errors name the file and the field. */
#include "fingerprint.h"
#include "json_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SKETCH (1u << 20)
#define MAX_VECTOR (1u << 24) /* values of a fingerprint vector */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *p, size_t n)
{
	char *o = malloc(4 * ((n + 2) / 3) + 1), *w = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*w++ = b64[v >> 18];
		*w++ = b64[(v >> 12) & 63];
		*w++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*w++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*w = '\0';
	return o;
}

/* The value of a base64 digit, -1 for any other byte (arithmetic on the
 * alphabet's ranges: a table lookup by strchr made it the hot spot of
 * reading fingerprints). */
static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode into a new buffer; false on malformed input. */
static bool b64_decode(const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s);
	*out = NULL;
	if (len % 4)
		return false;
	uint8_t *o = malloc(len / 4 * 3 + 1);
	if (!o)
		return false;
	size_t w = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = s[i + k] == '=' ? 0 : b64_val(s[i + k]);
			if (v[k] < 0 || (s[i + k] == '=' &&
					 (i + 4 != len || k < 2 ||
					  (k == 2 && s[i + 3] != '=')))) {
				free(o);
				return false;
			}
		}
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		o[w++] = (uint8_t)(x >> 16);
		if (s[i + 2] != '=')
			o[w++] = (uint8_t)(x >> 8);
		if (s[i + 3] != '=')
			o[w++] = (uint8_t)x;
	}
	*out = o;
	*n = w;
	return true;
}

/* The sketch as base64 of its little-endian float32 values (NULL when out
 * of memory). */
static char *sketch_b64(const struct mp_tensor_fp *t)
{
	uint8_t *raw = malloc((size_t)t->nsketch * 4);
	char *enc = NULL;
	if (raw) {
		for (uint32_t i = 0; i < t->nsketch; i++) {
			uint32_t u;
			memcpy(&u, &t->sketch[i], 4);
			for (int b = 0; b < 4; b++)
				raw[4 * i + b] = (uint8_t)(u >> (8 * b));
		}
		enc = b64_encode(raw, (size_t)t->nsketch * 4);
	}
	free(raw);
	return enc;
}

static void tensor_write(struct mp_jw *w, const struct mp_tensor_fp *t)
{
	mp_jw_obj(w, NULL);
	mp_jw_str(w, "name", t->name);
	mp_jw_str(w, "dtype", mp_dtype_name(t->dtype));
	mp_jw_str(w, "stored_dtype", mp_fp_stored_name(t));
	mp_jw_arr(w, "shape");
	for (int d = 0; d < t->ndim; d++)
		mp_jw_num(w, NULL, (double)t->shape[d]);
	mp_jw_end(w);
	mp_jw_num(w, "numel", (double)t->numel);
	if (t->sha256[0])
		mp_jw_str(w, "sha256", t->sha256);
	if (t->stats) {
		struct mp_tstats st = *t->stats;
		mp_jw_obj(w, "stats");
		for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
			mp_jw_num(w, mp_tstats_field_name(i),
				  *mp_tstats_field(&st, i));
		mp_jw_num(w, "n", (double)st.n);
		mp_jw_num(w, "nonfinite", (double)st.nonfinite);
		mp_jw_end(w);
	}
	if (t->nsketch) {
		char *enc = sketch_b64(t);
		if (enc)
			mp_jw_str(w, "sketch", enc);
		else
			mp_jw_fail(w);
		free(enc);
		if (t->sketch_heads)
			mp_jw_num(w, "sketch_qk_heads", (double)t->sketch_heads);
		if (t->sketch_offset != 0)
			mp_jw_num(w, "sketch_offset", t->sketch_offset);
	}
	if (t->transposed)
		mp_jw_bool(w, "transposed", true);
	const struct mp_tensor_spec *sp = t->spec;
	if (sp) {
		mp_jw_num(w, "rows", (double)sp->rows);
		mp_jw_num(w, "cols", (double)sp->cols);
		mp_jw_arr(w, "sv");
		for (uint32_t i = 0; i < sp->nsv; i++)
			mp_jw_num(w, NULL, sp->sv[i]);
		mp_jw_end(w);
		mp_jw_num(w, "sigma1", sp->sigma1);
		mp_jw_num(w, "stable_rank", sp->stable_rank);
		mp_jw_num(w, "effective_rank", sp->effective_rank);
		mp_jw_bool(w, "sv_exact", sp->sv_exact);
	}
	mp_jw_end(w);
}

bool mp_fp_write_json(struct mp_jw *w, const char *key,
		      const struct mp_fingerprint *fp)
{
	mp_jw_obj(w, key);
	mp_jw_str(w, "method", fp->method ? fp->method : "");
	if (fp->model_id)
		mp_jw_str(w, "model_id", fp->model_id);
	mp_jw_str(w, "format", fp->format ? fp->format : "");
	mp_jw_value(w, "args", fp->args);
	mp_jw_num(w, "params", (double)fp->params);
	mp_jw_num(w, "seconds", fp->seconds);
	mp_jw_obj(w, "dtype_params");
	for (int d = 0; d < MP_DTYPE_COUNT; d++)
		if (fp->dtype_params[d])
			mp_jw_num(w, mp_dtype_name((enum mp_dtype)d),
				  (double)fp->dtype_params[d]);
	for (uint32_t g = 0; g < MP_FP_GGML_IDS; g++)
		if (fp->ggml_params[g] && mp_ggml_type(g))
			mp_jw_num(w, mp_ggml_type(g)->name,
				  (double)fp->ggml_params[g]);
	mp_jw_end(w);
	if (fp->nmeta) {
		mp_jw_obj(w, "meta");
		for (size_t i = 0; i < fp->nmeta; i++)
			mp_jw_str(w, fp->meta[i].key, fp->meta[i].value);
		mp_jw_end(w);
	}
	mp_jw_arr(w, "files");
	for (size_t i = 0; i < fp->nfiles; i++) {
		mp_jw_obj(w, NULL);
		mp_jw_str(w, "path", fp->files[i].path);
		mp_jw_num(w, "size", (double)fp->files[i].size);
		mp_jw_str(w, "sha256", fp->files[i].sha256);
		mp_jw_end(w);
	}
	mp_jw_end(w);
	mp_jw_arr(w, "tensors");
	for (size_t i = 0; i < fp->ntensors && !mp_jw_failed(w); i++)
		tensor_write(w, &fp->tensors[i]);
	mp_jw_end(w);
	if (fp->has_hist) {
		mp_jw_arr(w, "spectral_histogram");
		for (int i = 0; i < MP_SPECTRAL_BINS; i++)
			mp_jw_num(w, NULL, fp->hist[i]);
		mp_jw_end(w);
	}
	if (fp->vec_note)
		mp_jw_str(w, "vector_note", fp->vec_note);
	if (fp->nvec) {
		mp_jw_arr(w, "vector");
		for (size_t i = 0; i < fp->nvec; i++)
			mp_jw_num(w, NULL, fp->vec[i]);
		mp_jw_end(w);
	}
	mp_jw_end(w);
	return !mp_jw_failed(w);
}

mp_json *mp_fp_to_json(const struct mp_fingerprint *fp)
{
	struct mp_jw *w = mp_jw_tree_new();
	mp_json *j =
	    w && mp_fp_write_json(w, NULL, fp) ? mp_jw_take_tree(w) : NULL;
	mp_jw_free(w);
	return j;
}

/* --- reading ------------------------------------------------------------ */

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A number or null (NaN). */
static bool num_or_null(const mp_json *j, double *v)
{
	if (mp_json_is_null(j)) {
		*v = NAN;
		return true;
	}
	if (!mp_json_is_number(j))
		return false;
	*v = mp_json_num(j);
	return true;
}

#define BAD(...) mp_error_set(err, MP_EFORMAT, __VA_ARGS__)
#define NOMEM() mp_error_set(err, MP_ENOMEM, "%s: out of memory", where)

static mp_status dtype_from(const mp_json *j, const char *where,
			    const char *name, const char *field,
			    enum mp_dtype *out, struct mp_error *err)
{
	const char *s = mp_json_str(j);
	int d = s ? mp_dtype_parse(s) : -1;
	if (d < 0)
		return BAD("%s: tensor '%s': %s is not a known dtype name",
			   where, name, field);
	*out = (enum mp_dtype)d;
	return MP_OK;
}

static mp_status stats_from(const mp_json *st, const char *where,
			    const char *name, struct mp_tstats *o,
			    struct mp_error *err)
{
	if (!mp_json_is_object(st))
		return BAD("%s: tensor '%s': stats is not an object", where,
			   name);
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		if (!num_or_null(mp_json_get(st, mp_tstats_field_name(i)),
				 mp_tstats_field(o, i)))
			return BAD("%s: tensor '%s': stats.%s is missing or "
				   "not a number",
				   where, name, mp_tstats_field_name(i));
	if (!mp_json_uint(mp_json_get(st, "n"), &o->n))
		return BAD("%s: tensor '%s': stats.n is not a non-negative "
			   "integer",
			   where, name);
	if (!mp_json_uint(mp_json_get(st, "nonfinite"), &o->nonfinite))
		return BAD("%s: tensor '%s': stats.nonfinite is not a "
			   "non-negative integer",
			   where, name);
	return MP_OK;
}

static mp_status sketch_from(const mp_json *sk, const char *where,
			     struct mp_tensor_fp *t, struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	const char *name = mp_printable(t->name, show);
	uint8_t *raw;
	size_t n;
	if (mp_json_is_string(sk) &&
	    strlen(mp_json_str(sk)) / 4 * 3 > (size_t)MAX_SKETCH * 4 + 2)
		return BAD("%s: tensor '%s': sketch has more than %u values",
			   where, name, MAX_SKETCH);
	if (!mp_json_is_string(sk) || !b64_decode(mp_json_str(sk), &raw, &n))
		return BAD("%s: tensor '%s': sketch is not a base64 string",
			   where, name);
	if (n % 4 || n / 4 > MAX_SKETCH || n / 4 > t->numel) {
		free(raw);
		return BAD("%s: tensor '%s': sketch decodes to %zu bytes, not "
			   "a multiple of 4 of at most min(numel, %u) values",
			   where, name, n, MAX_SKETCH);
	}
	t->nsketch = (uint32_t)(n / 4);
	if (n == 0) { /* an empty sketch is no sketch */
		free(raw);
		return MP_OK;
	}
	t->sketch = malloc(n);
	if (!t->sketch) {
		free(raw);
		return NOMEM();
	}
	for (uint32_t i = 0; i < t->nsketch; i++) {
		uint32_t u = (uint32_t)raw[4 * i] |
			     (uint32_t)raw[4 * i + 1] << 8 |
			     (uint32_t)raw[4 * i + 2] << 16 |
			     (uint32_t)raw[4 * i + 3] << 24;
		memcpy(&t->sketch[i], &u, 4);
	}
	free(raw);
	return MP_OK;
}

static mp_status spectral_from(const mp_json *j, const mp_json *sv,
			       const char *where, struct mp_tensor_fp *t,
			       struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	const char *name = mp_printable(t->name, show);
	size_t n = mp_json_size(sv);
	if (!mp_json_is_array(sv) || n == 0 || n > MP_SPECTRAL_MAX_SV)
		return BAD("%s: tensor '%s': sv must be an array of 1 to %d "
			   "numbers",
			   where, name, MP_SPECTRAL_MAX_SV);
	struct mp_tensor_spec *sp = mp_tensor_fp_spec(t, (uint32_t)n);
	if (!sp)
		return NOMEM();
	size_t k = 0;
	for (mp_json *v = mp_json_child(sv); v; v = mp_json_next(v), k++) {
		sp->sv[k] = mp_json_num(v);
		if (!mp_json_is_number(v) || !isfinite(sp->sv[k]) ||
		    sp->sv[k] < 0)
			return BAD("%s: tensor '%s': sv[%zu] is not a "
				   "non-negative number",
				   where, name, k);
	}
	static const char *const fields[] = {"sigma1", "stable_rank",
					     "effective_rank"};
	double *dst[] = {&sp->sigma1, &sp->stable_rank, &sp->effective_rank};
	if (!mp_json_uint(mp_json_get(j, "rows"), &sp->rows))
		return BAD(
		    "%s: tensor '%s': rows is not a non-negative integer",
		    where, name);
	if (!mp_json_uint(mp_json_get(j, "cols"), &sp->cols))
		return BAD(
		    "%s: tensor '%s': cols is not a non-negative integer",
		    where, name);
	for (int i = 0; i < 3; i++)
		if (!num_or_null(mp_json_get(j, fields[i]), dst[i]))
			return BAD("%s: tensor '%s': %s is missing or not a "
				   "number",
				   where, name, fields[i]);
	mp_json *ex = mp_json_get(j, "sv_exact");
	if (ex && !mp_json_is_bool(ex))
		return BAD("%s: tensor '%s': sv_exact is not a boolean", where,
			   name);
	sp->sv_exact = mp_json_true(ex);
	return MP_OK;
}

/* "sketch_offset": the converter's offset taken off the sketch of a
 * GGUF norm; absent from a fingerprint written before modelprint took it
 * off (or of another tensor): then taken off here when the architecture's
 * mapping says the converter added one (mp_gguf_names_offset). */
static mp_status offset_from(const mp_json *o, const char *where,
			     const char *name, const char *arch,
			     struct mp_tensor_fp *t, struct mp_error *err)
{
	if (o) {
		double v = mp_json_num(o);
		if (!mp_json_is_number(o) || !isfinite(v) || v == 0 ||
		    !t->nsketch)
			return BAD("%s: tensor '%s': sketch_offset must be a "
				   "finite nonzero number beside a sketch",
				   where, name);
		t->sketch_offset = v;
		return MP_OK;
	}
	mp_fp_unshift_sketch(t, arch);
	return MP_OK;
}

/* "sketch_qk_heads" (absent: 0): the heads of llama.cpp's Q/K row
 * permutation undone in the sketch, which rows / (2 * heads) must be a
 * whole number of pairs of. */
static mp_status qk_heads_from(const mp_json *h, const char *where,
			       const char *name, struct mp_tensor_fp *t,
			       struct mp_error *err)
{
	uint64_t v;
	if (!h)
		return MP_OK;
	if (!mp_json_uint(h, &v) || !v || v > UINT32_MAX || t->ndim != 2 ||
	    !t->nsketch ||
	    t->shape[0] / 2 < v || t->shape[0] % (2 * v))
		return BAD("%s: tensor '%s': sketch_qk_heads must be a head "
			   "count dividing the rows of a matrix with a sketch "
			   "into pairs",
			   where, name);
	t->sketch_heads = (uint32_t)v;
	return MP_OK;
}

static mp_status tensor_from(const mp_json *j, const char *where, size_t idx,
			     struct mp_fingerprint *fp, struct mp_tensor_fp *t,
			     struct mp_error *err)
{
	if (!mp_json_is_object(j))
		return BAD("%s: tensors[%zu] is not an object", where, idx);
	const char *raw = mp_json_str(mp_json_get(j, "name"));
	if (!raw)
		return BAD("%s: tensors[%zu]: name is missing or not a string",
			   where, idx);
	char show[MP_NAME_SHOW + 8]; /* the name as messages show it */
	const char *name = mp_printable(raw, show);
	mp_status s = dtype_from(mp_json_get(j, "dtype"), where, name, "dtype",
				 &t->dtype, err);
	if (s != MP_OK)
		return s;
	t->stored = t->dtype;
	mp_json *sd = mp_json_get(j, "stored_dtype");
	const char *sds = mp_json_str(sd);
	if (sds && (t->ggml = mp_fp_ggml_named(sds)))
		t->stored = MP_F32;
	else if (sd && (s = dtype_from(sd, where, name, "stored_dtype",
				       &t->stored, err)) != MP_OK)
		return s;
	mp_json *sh = mp_json_get(j, "shape");
	if (!mp_json_is_array(sh) || mp_json_size(sh) > MP_MAX_DIMS)
		return BAD("%s: tensor '%s': shape must be an array of at most "
			   "%d integers",
			   where, name, MP_MAX_DIMS);
	uint64_t numel = 1, shape[MP_MAX_DIMS];
	int ndim = 0;
	for (mp_json *e = mp_json_child(sh); e; e = mp_json_next(e), ndim++) {
		if (!mp_json_uint(e, &shape[ndim]))
			return BAD("%s: tensor '%s': shape[%d] is not a "
				   "non-negative integer",
				   where, name, ndim);
		if (!mp_mul_u64(numel, shape[ndim], &numel))
			return BAD("%s: tensor '%s': shape product overflows",
				   where, name);
	}
	if (mp_tensor_fp_init(t, raw, ndim, shape) != MP_OK)
		return NOMEM();
	if (!mp_json_uint(mp_json_get(j, "numel"), &t->numel) ||
	    t->numel != numel)
		return BAD("%s: tensor '%s': numel is not the product of the "
			   "shape (%llu)",
			   where, name, (unsigned long long)numel);
	mp_json *h = mp_json_get(j, "sha256");
	if (h) {
		if (!is_hex64(mp_json_str(h)))
			return BAD(
			    "%s: tensor '%s': sha256 is not 64 lowercase "
			    "hex digits",
			    where, name);
		memcpy(t->sha256, mp_json_str(h), MP_SHA256_HEX);
	}
	mp_json *st = mp_json_get(j, "stats");
	if (st) {
		struct mp_tstats v;
		if ((s = stats_from(st, where, name, &v, err)) != MP_OK)
			return s;
		if (mp_fp_set_stats(fp, t, &v) != MP_OK)
			return NOMEM();
	}
	mp_json *sk = mp_json_get(j, "sketch");
	if (sk && (s = sketch_from(sk, where, t, err)) != MP_OK)
		return s;
	if ((s = qk_heads_from(mp_json_get(j, "sketch_qk_heads"), where, name,
			       t, err)) != MP_OK)
		return s;
	const char *arch =
	    mp_meta_get(fp->meta, fp->nmeta, "general.architecture");
	if ((s = offset_from(mp_json_get(j, "sketch_offset"), where, name,
			     arch, t, err)) != MP_OK)
		return s;
	mp_json *tr = mp_json_get(j, "transposed");
	if (tr && (!mp_json_is_bool(tr) || t->ndim != 2))
		return BAD("%s: tensor '%s': transposed must be a boolean of a "
			   "matrix",
			   where, name);
	t->transposed = tr && mp_json_true(tr);
	mp_fp_sketch_order(t, arch);
	mp_json *sv = mp_json_get(j, "sv");
	if (sv && (s = spectral_from(j, sv, where, t, err)) != MP_OK)
		return s;
	return MP_OK;
}

static mp_status files_from(const mp_json *files, const char *where,
			    struct mp_fingerprint *fp, struct mp_error *err)
{
	if (!mp_json_is_array(files))
		return BAD("%s: \"files\" is missing or not an array", where);
	size_t n = mp_json_size(files);
	if (!(fp->files = calloc(n + 1, sizeof *fp->files)))
		return NOMEM();
	mp_json *f = mp_json_child(files);
	for (size_t i = 0; i < n; i++, f = mp_json_next(f)) {
		if (!mp_json_is_object(f))
			return BAD("%s: files[%zu] is not an object", where, i);
		const char *p = mp_json_str(mp_json_get(f, "path"));
		const char *h = mp_json_str(mp_json_get(f, "sha256"));
		if (!p)
			return BAD("%s: files[%zu].path is missing or not a "
				   "string",
				   where, i);
		if (!mp_json_uint(mp_json_get(f, "size"), &fp->files[i].size))
			return BAD("%s: files[%zu].size is not a non-negative "
				   "integer",
				   where, i);
		if (!is_hex64(h))
			return BAD("%s: files[%zu].sha256 is not 64 lowercase "
				   "hex digits",
				   where, i);
		if (!(fp->files[i].path = mp_strdup(p)))
			return NOMEM();
		memcpy(fp->files[i].sha256, h, MP_SHA256_HEX);
		fp->nfiles++;
	}
	return MP_OK;
}

static mp_status hist_from(const mp_json *h, const char *where,
			   struct mp_fingerprint *fp, struct mp_error *err)
{
	if (!mp_json_is_array(h) || mp_json_size(h) != MP_SPECTRAL_BINS)
		return BAD("%s: spectral_histogram must be an array of exactly "
			   "%d numbers",
			   where, MP_SPECTRAL_BINS);
	for (int k = 0; k < MP_SPECTRAL_BINS; k++) {
		mp_json *v = mp_json_at(h, (size_t)k);
		fp->hist[k] = mp_json_num(v);
		if (!mp_json_is_number(v) || !isfinite(fp->hist[k]) ||
		    fp->hist[k] < 0)
			return BAD("%s: spectral_histogram[%d] is not a finite "
				   "non-negative number",
				   where, k);
	}
	fp->has_hist = true;
	return MP_OK;
}

/* The "vector" of a vector method: 1..MAX_VECTOR finite numbers. */
static mp_status vec_from(const mp_json *v, const char *where,
			  struct mp_fingerprint *fp, struct mp_error *err)
{
	size_t n = mp_json_is_array(v) ? (size_t)mp_json_size(v) : 0;
	if (n < 1 || n > MAX_VECTOR)
		return BAD("%s: \"vector\" must be an array of 1 to %u numbers",
			   where, MAX_VECTOR);
	if (!(fp->vec = malloc(n * sizeof(double))))
		return NOMEM();
	size_t k = 0;
	for (mp_json *e = mp_json_child(v); e; e = mp_json_next(e), k++) {
		fp->vec[k] = mp_json_num(e);
		if (!mp_json_is_number(e) || !isfinite(fp->vec[k]))
			return BAD("%s: vector[%zu] is not a finite number",
				   where, k);
	}
	fp->nvec = n;
	return MP_OK;
}

/* Optional string member: absent is fine (*out stays NULL), other types
 * are an error. */
static mp_status opt_str(const mp_json *j, const char *key, const char *where,
			 const char **out, struct mp_error *err)
{
	mp_json *v = mp_json_get(j, key);
	*out = NULL;
	if (!v)
		return MP_OK;
	if (!(*out = mp_json_str(v)))
		return BAD("%s: \"%s\" is not a string", where, key);
	return MP_OK;
}

/* The "meta" object (absent: none): string values only. */
static mp_status meta_from(const mp_json *mj, const char *where,
			   struct mp_fingerprint *fp, struct mp_error *err)
{
	if (!mj)
		return MP_OK;
	if (!mp_json_is_object(mj))
		return BAD("%s: \"meta\" is not an object", where);
	size_t n = (size_t)mp_json_size(mj);
	if (n && !(fp->meta = calloc(n, sizeof *fp->meta)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	for (mp_json *e = mp_json_child(mj); e; e = mp_json_next(e)) {
		const char *v = mp_json_str(e);
		char kb[MP_NAME_SHOW + 8];
		if (!v)
			return BAD("%s: meta.%s is not a string", where,
				   mp_printable(mp_json_key(e), kb));
		struct mp_meta *m = &fp->meta[fp->nmeta];
		if (!(m->key = mp_strdup(mp_json_key(e))) ||
		    !(m->value = mp_strdup(v))) {
			free(m->key);
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
		}
		fp->nmeta++;
	}
	return MP_OK;
}

static mp_status fp_from(const mp_json *j, const char *where,
			 struct mp_fingerprint *fp, struct mp_error *err)
{
	const char *method = mp_json_str(mp_json_get(j, "method"));
	if (!method || !mp_method_find(method))
		return BAD("%s: \"method\" is missing or not a known method",
			   where);
	if (!(fp->method = mp_strdup(method)))
		return NOMEM();
	const char *id, *format;
	mp_status s = opt_str(j, "model_id", where, &id, err);
	if (s == MP_OK)
		s = opt_str(j, "format", where, &format, err);
	if (s != MP_OK)
		return s;
	if ((id && !(fp->model_id = mp_strdup(id))) ||
	    !(fp->format = mp_strdup(format ? format : "")))
		return NOMEM();
	mp_json *args = mp_json_get(j, "args");
	if (args && !mp_json_is_object(args))
		return BAD("%s: \"args\" is not an object", where);
	if (!(fp->args = args ? mp_json_dup(args) : mp_json_object()))
		return NOMEM();
	if (!mp_json_uint(mp_json_get(j, "params"), &fp->params))
		return BAD("%s: \"params\" is missing or not a non-negative "
			   "integer",
			   where);
	mp_json *sec = mp_json_get(j, "seconds");
	if (sec && !num_or_null(sec, &fp->seconds))
		return BAD("%s: \"seconds\" is not a number", where);
	mp_json *dp = mp_json_get(j, "dtype_params");
	if (dp && !mp_json_is_object(dp))
		return BAD("%s: \"dtype_params\" is not an object", where);
	for (mp_json *e = mp_json_child(dp); e; e = mp_json_next(e)) {
		int d = mp_dtype_parse(mp_json_key(e));
		const struct mp_ggml_type_info *g =
		    d < 0 ? mp_fp_ggml_named(mp_json_key(e)) : NULL;
		if (g) {
			if (!mp_json_uint(e, &fp->ggml_params[g->id]))
				return BAD("%s: dtype_params.%s is not a "
					   "non-negative integer",
					   where, mp_json_key(e));
			continue;
		}
		if (d < 0)
			return BAD("%s: dtype_params: '%s' is not a dtype name",
				   where, mp_json_key(e));
		if (!mp_json_uint(e, &fp->dtype_params[d]))
			return BAD("%s: dtype_params.%s is not a non-negative "
				   "integer",
				   where, mp_json_key(e));
	}
	if ((s = meta_from(mp_json_get(j, "meta"), where, fp, err)) != MP_OK)
		return s;
	if ((s = files_from(mp_json_get(j, "files"), where, fp, err)) != MP_OK)
		return s;
	mp_json *ts = mp_json_get(j, "tensors");
	if (!mp_json_is_array(ts))
		return BAD("%s: \"tensors\" is missing or not an array", where);
	if (!(fp->tensors = calloc(mp_json_size(ts) + 1, sizeof *fp->tensors)))
		return NOMEM();
	size_t i = 0;
	for (mp_json *t = mp_json_child(ts); t; t = mp_json_next(t), i++) {
		fp->ntensors++;
		if ((s = tensor_from(t, where, i, fp, &fp->tensors[i], err)) !=
		    MP_OK)
			return s;
	}
	mp_json *h = mp_json_get(j, "spectral_histogram");
	if (h && (s = hist_from(h, where, fp, err)) != MP_OK)
		return s;
	const char *note;
	if ((s = opt_str(j, "vector_note", where, &note, err)) != MP_OK)
		return s;
	if (note && !(fp->vec_note = mp_strdup(note)))
		return NOMEM();
	mp_json *vec = mp_json_get(j, "vector");
	if (vec && (s = vec_from(vec, where, fp, err)) != MP_OK)
		return s;
	return mp_fp_index(fp, err);
}

mp_status mp_fp_from_json(const mp_json *j, const char *where,
			  struct mp_fingerprint **out, struct mp_error *err)
{
	*out = NULL;
	if (!mp_json_is_object(j))
		return BAD("%s: fingerprint is not an object", where);
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	if (!fp)
		return NOMEM();
	mp_status s = fp_from(j, where, fp, err);
	if (s != MP_OK) {
		mp_fp_free(fp);
		return s;
	}
	*out = fp;
	return MP_OK;
}
