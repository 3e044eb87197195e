/* fp_json.c — fingerprints to and from JSON (man/modelprint-files.5). The
 * reader treats its input as hostile: every field is type- and
 * range-checked and errors name the file and the field. */
#include "fingerprint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SKETCH (1u << 20)

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

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
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

static mp_json *tensor_json(const struct mp_tensor_fp *t)
{
	mp_json *o = mp_json_object();
	if (!o)
		return NULL;
	mp_json_add_str(o, "name", t->name);
	mp_json_add_str(o, "dtype", mp_dtype_name(t->dtype));
	mp_json_add_str(o, "stored_dtype", mp_dtype_name(t->stored));
	mp_json *sh = mp_json_add_arr(o, "shape");
	for (int d = 0; d < t->ndim; d++)
		mp_json_push_num(sh, (double)t->shape[d]);
	mp_json_add_num(o, "numel", (double)t->numel);
	if (t->sha256[0])
		mp_json_add_str(o, "sha256", t->sha256);
	if (t->has_stats) {
		struct mp_tstats st = t->stats;
		mp_json *js = mp_json_add_obj(o, "stats");
		for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
			mp_json_add_num(js, mp_tstats_field_name(i),
					*mp_tstats_field(&st, i));
		mp_json_add_num(js, "n", (double)st.n);
		mp_json_add_num(js, "nonfinite", (double)st.nonfinite);
	}
	if (t->nsketch) {
		uint8_t *raw = malloc((size_t)t->nsketch * 4);
		if (raw) {
			for (uint32_t i = 0; i < t->nsketch; i++) {
				uint32_t u;
				memcpy(&u, &t->sketch[i], 4);
				for (int b = 0; b < 4; b++)
					raw[4 * i + b] = (uint8_t)(u >> (8 * b));
			}
			char *enc = b64_encode(raw, (size_t)t->nsketch * 4);
			if (enc)
				mp_json_add_str(o, "sketch", enc);
			free(enc);
			free(raw);
		}
	}
	if (t->nsv) {
		mp_json_add_num(o, "rows", (double)t->rows);
		mp_json_add_num(o, "cols", (double)t->cols);
		mp_json *sv = mp_json_add_arr(o, "sv");
		for (uint32_t i = 0; i < t->nsv; i++)
			mp_json_push_num(sv, t->sv[i]);
		mp_json_add_num(o, "sigma1", t->sigma1);
		mp_json_add_num(o, "stable_rank", t->stable_rank);
		mp_json_add_num(o, "effective_rank", t->effective_rank);
		mp_json_add_bool(o, "sv_exact", t->sv_exact);
	}
	return o;
}

mp_json *mp_fp_to_json(const struct mp_fingerprint *fp)
{
	mp_json *o = mp_json_object();
	if (!o)
		return NULL;
	mp_json_add_str(o, "method", fp->method);
	if (fp->model_id)
		mp_json_add_str(o, "model_id", fp->model_id);
	mp_json_add_str(o, "format", fp->format ? fp->format : "");
	mp_json_set(o, "args", fp->args ? mp_json_dup(fp->args) : mp_json_object());
	mp_json_add_num(o, "params", (double)fp->params);
	mp_json_add_num(o, "seconds", fp->seconds);
	mp_json *dp = mp_json_add_obj(o, "dtype_params");
	for (int d = 0; d < MP_DTYPE_COUNT; d++)
		if (fp->dtype_params[d])
			mp_json_add_num(dp, mp_dtype_name((enum mp_dtype)d),
					(double)fp->dtype_params[d]);
	mp_json *files = mp_json_add_arr(o, "files");
	for (size_t i = 0; i < fp->nfiles; i++) {
		mp_json *f = mp_json_object();
		mp_json_add_str(f, "path", fp->files[i].path);
		mp_json_add_num(f, "size", (double)fp->files[i].size);
		mp_json_add_str(f, "sha256", fp->files[i].sha256);
		mp_json_push(files, f);
	}
	mp_json *ts = mp_json_add_arr(o, "tensors");
	for (size_t i = 0; i < fp->ntensors; i++)
		if (!mp_json_push(ts, tensor_json(&fp->tensors[i]))) {
			mp_json_free(o);
			return NULL;
		}
	if (fp->has_hist) {
		mp_json *h = mp_json_add_arr(o, "spectral_histogram");
		for (int i = 0; i < MP_SPECTRAL_BINS; i++)
			mp_json_push_num(h, fp->hist[i]);
	}
	return o;
}

/* --- reading ------------------------------------------------------------ */

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
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

static mp_status tensor_from(const mp_json *j, const char *where, size_t idx,
			     struct mp_tensor_fp *t, struct mp_error *err)
{
	const char *name = mp_json_str(mp_json_get(j, "name"));
	if (!name)
		return BAD("%s: tensor %zu has no name", where, idx);
	if (!(t->name = mp_strdup(name)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	int dt = mp_dtype_parse(mp_json_str(mp_json_get(j, "dtype")) ?: "");
	int sdt = mp_json_get(j, "stored_dtype")
			  ? mp_dtype_parse(mp_json_str(mp_json_get(j, "stored_dtype")) ?: "")
			  : dt;
	if (dt < 0 || sdt < 0)
		return BAD("%s: tensor '%s': unknown dtype", where, name);
	t->dtype = (enum mp_dtype)dt;
	t->stored = (enum mp_dtype)sdt;
	mp_json *sh = mp_json_get(j, "shape");
	if (!mp_json_is_array(sh) || mp_json_size(sh) > MP_MAX_DIMS)
		return BAD("%s: tensor '%s': shape must be an array of at most "
			   "%d integers",
			   where, name, MP_MAX_DIMS);
	t->ndim = (int)mp_json_size(sh);
	uint64_t numel = 1;
	for (int d = 0; d < t->ndim; d++)
		if (!mp_json_uint(mp_json_at(sh, (size_t)d), &t->shape[d]) ||
		    !mp_mul_u64(numel, t->shape[d], &numel))
			return BAD("%s: tensor '%s': bad shape", where, name);
	if (!mp_json_uint(mp_json_get(j, "numel"), &t->numel) || t->numel != numel)
		return BAD("%s: tensor '%s': numel does not match the shape",
			   where, name);
	mp_json *h = mp_json_get(j, "sha256");
	if (h) {
		if (!is_hex64(mp_json_str(h)))
			return BAD("%s: tensor '%s': sha256 is not 64 lowercase "
				   "hex digits",
				   where, name);
		memcpy(t->sha256, mp_json_str(h), MP_SHA256_HEX);
	}
	mp_json *st = mp_json_get(j, "stats");
	if (st) {
		if (!mp_json_is_object(st))
			return BAD("%s: tensor '%s': stats is not an object",
				   where, name);
		for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
			if (!num_or_null(mp_json_get(st, mp_tstats_field_name(i)),
					 mp_tstats_field(&t->stats, i)))
				return BAD("%s: tensor '%s': stats.%s is not a "
					   "number",
					   where, name, mp_tstats_field_name(i));
		if (!mp_json_uint(mp_json_get(st, "n"), &t->stats.n) ||
		    !mp_json_uint(mp_json_get(st, "nonfinite"),
				  &t->stats.nonfinite))
			return BAD("%s: tensor '%s': stats.n/nonfinite missing",
				   where, name);
		t->has_stats = true;
	}
	mp_json *sk = mp_json_get(j, "sketch");
	if (sk) {
		uint8_t *raw;
		size_t n;
		if (!mp_json_is_string(sk) || !b64_decode(mp_json_str(sk), &raw, &n))
			return BAD("%s: tensor '%s': sketch is not base64", where,
				   name);
		if (n % 4 || n / 4 > MAX_SKETCH || n / 4 > t->numel) {
			free(raw);
			return BAD("%s: tensor '%s': sketch has a bad length",
				   where, name);
		}
		t->nsketch = (uint32_t)(n / 4);
		t->sketch = malloc((n ? n : 1));
		if (!t->sketch) {
			free(raw);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		for (uint32_t i = 0; i < t->nsketch; i++) {
			uint32_t u = (uint32_t)raw[4 * i] |
				     (uint32_t)raw[4 * i + 1] << 8 |
				     (uint32_t)raw[4 * i + 2] << 16 |
				     (uint32_t)raw[4 * i + 3] << 24;
			memcpy(&t->sketch[i], &u, 4);
		}
		free(raw);
	}
	mp_json *sv = mp_json_get(j, "sv");
	if (sv) {
		size_t n = mp_json_size(sv);
		if (!mp_json_is_array(sv) || n == 0 || n > MP_SPECTRAL_MAX_SV * 4)
			return BAD("%s: tensor '%s': sv must be a non-empty array",
				   where, name);
		if (!(t->sv = malloc(n * sizeof *t->sv)))
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		t->nsv = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			t->sv[i] = mp_json_num(mp_json_at(sv, i));
			if (!isfinite(t->sv[i]) || t->sv[i] < 0)
				return BAD("%s: tensor '%s': sv[%zu] is not a "
					   "non-negative number",
					   where, name, i);
		}
		if (!mp_json_uint(mp_json_get(j, "rows"), &t->rows) ||
		    !mp_json_uint(mp_json_get(j, "cols"), &t->cols) ||
		    !num_or_null(mp_json_get(j, "sigma1"), &t->sigma1) ||
		    !num_or_null(mp_json_get(j, "stable_rank"), &t->stable_rank) ||
		    !num_or_null(mp_json_get(j, "effective_rank"),
				 &t->effective_rank))
			return BAD("%s: tensor '%s': rows, cols, sigma1, "
				   "stable_rank or effective_rank missing",
				   where, name);
		t->sv_exact = mp_json_true(mp_json_get(j, "sv_exact"));
	}
	return MP_OK;
}

mp_status mp_fp_from_json(const mp_json *j, const char *where,
			  struct mp_fingerprint **out, struct mp_error *err)
{
	*out = NULL;
	if (!mp_json_is_object(j))
		return BAD("%s: fingerprint is not an object", where);
	const char *method = mp_json_str(mp_json_get(j, "method"));
	if (!method || !mp_method_find(method))
		return BAD("%s: missing or unknown \"method\"", where);
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	if (!fp)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	mp_status s = MP_OK;
	fp->method = mp_strdup(method);
	const char *id = mp_json_str(mp_json_get(j, "model_id"));
	if (id)
		fp->model_id = mp_strdup(id);
	const char *format = mp_json_str(mp_json_get(j, "format"));
	fp->format = mp_strdup(format ? format : "");
	mp_json *args = mp_json_get(j, "args");
	fp->args = args ? mp_json_dup(args) : mp_json_object();
	if (args && !mp_json_is_object(args))
		s = BAD("%s: \"args\" is not an object", where);
	else if (!mp_json_uint(mp_json_get(j, "params"), &fp->params))
		s = BAD("%s: \"params\" is not a non-negative integer", where);
	else if (!num_or_null(mp_json_get(j, "seconds"), &fp->seconds))
		s = BAD("%s: \"seconds\" is not a number", where);
	mp_json *dp = mp_json_get(j, "dtype_params");
	for (mp_json *e = mp_json_child(dp); e && s == MP_OK; e = mp_json_next(e)) {
		int d = mp_dtype_parse(mp_json_key(e));
		if (d < 0 || !mp_json_uint(e, &fp->dtype_params[d]))
			s = BAD("%s: dtype_params: bad entry '%s'", where,
				mp_json_key(e));
	}
	mp_json *files = mp_json_get(j, "files");
	if (s == MP_OK && !mp_json_is_array(files))
		s = BAD("%s: \"files\" is not an array", where);
	if (s == MP_OK) {
		fp->files = calloc(mp_json_size(files) + 1, sizeof *fp->files);
		if (!fp->files)
			s = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; s == MP_OK && i < mp_json_size(files); i++) {
		mp_json *f = mp_json_at(files, i);
		const char *p = mp_json_str(mp_json_get(f, "path"));
		const char *h = mp_json_str(mp_json_get(f, "sha256"));
		if (!p || !is_hex64(h) ||
		    !mp_json_uint(mp_json_get(f, "size"), &fp->files[i].size)) {
			s = BAD("%s: files[%zu] needs path, size and sha256",
				where, i);
			break;
		}
		fp->files[i].path = mp_strdup(p);
		memcpy(fp->files[i].sha256, h, MP_SHA256_HEX);
		fp->nfiles++;
	}
	mp_json *ts = mp_json_get(j, "tensors");
	if (s == MP_OK && !mp_json_is_array(ts))
		s = BAD("%s: \"tensors\" is not an array", where);
	if (s == MP_OK) {
		fp->tensors = calloc(mp_json_size(ts) + 1, sizeof *fp->tensors);
		if (!fp->tensors)
			s = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	size_t i = 0;
	for (mp_json *t = mp_json_child(ts); s == MP_OK && t;
	     t = mp_json_next(t), i++) {
		fp->ntensors++;
		s = tensor_from(t, where, i, &fp->tensors[i], err);
	}
	mp_json *h = mp_json_get(j, "spectral_histogram");
	if (s == MP_OK && h) {
		if (!mp_json_is_array(h) || mp_json_size(h) != MP_SPECTRAL_BINS)
			s = BAD("%s: spectral_histogram must have %d numbers",
				where, MP_SPECTRAL_BINS);
		for (int k = 0; s == MP_OK && k < MP_SPECTRAL_BINS; k++) {
			fp->hist[k] = mp_json_num(mp_json_at(h, (size_t)k));
			if (!isfinite(fp->hist[k]) || fp->hist[k] < 0)
				s = BAD("%s: spectral_histogram[%d] is not a "
					"non-negative number",
					where, k);
		}
		fp->has_hist = s == MP_OK;
	}
	if (s == MP_OK && (!fp->method || !fp->format || !fp->args))
		s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	if (s != MP_OK) {
		mp_fp_free(fp);
		return s;
	}
	*out = fp;
	return MP_OK;
}
