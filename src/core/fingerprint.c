/* fingerprint.c — the method table, the fingerprint engine (file hashing in
 * a thread in parallel with the method), tensor lookup by name and sketch
 * positions. The JSON form is in fp_json.c. */
#include "fingerprint.h"
#include "gguf_names.h"
#include "mapguard.h"
#include "metric.h"
#include "names.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct mp_method *const methods[] = {
    &mp_method_tensors,
    &mp_method_spectral,
    &mp_method_weight,
    &mp_method_input_output,
};
#define NMETHODS (sizeof methods / sizeof methods[0])

bool mp_method_never_applies(const struct mp_method *me, const char *format)
{
	for (const char *const *f = me ? me->never_formats : NULL;
	     f && *f && format; f++)
		if (strcmp(*f, format) == 0)
			return true;
	return false;
}

const struct mp_method *mp_method_find(const char *name)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return methods[i];
	return NULL;
}

static const char *method_names[NMETHODS + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void fill_names(void)
{
	for (size_t i = 0; i < NMETHODS; i++)
		method_names[i] = methods[i]->name;
}

const char *const *mp_method_names(void)
{
	pthread_once(&names_once, fill_names);
	return method_names;
}

/* "a, b, c" into buf. */
static void join_names(const char *const *names, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; names[i]; i++) {
		strncat(buf, i ? ", " : "", size - strlen(buf) - 1);
		strncat(buf, names[i], size - strlen(buf) - 1);
	}
}

mp_status mp_method_check_args(const struct mp_method *me, const mp_json *args,
			       struct mp_error *err)
{
	if (!args || mp_json_is_null(args))
		return MP_OK;
	if (!mp_json_is_object(args))
		return mp_error_set(
		    err, MP_EINVAL,
		    "arguments of method '%s' must be an object", me->name);
	for (mp_json *a = mp_json_child(args); a; a = mp_json_next(a)) {
		bool ok = false;
		for (int i = 0; me->arg_names[i] && !ok; i++)
			ok = strcmp(me->arg_names[i], mp_json_key(a)) == 0;
		if (!ok) {
			char valid[256], nb[MP_NAME_SHOW + 8];
			join_names(me->arg_names, valid, sizeof valid);
			return mp_error_set(err, MP_EINVAL,
					    "method '%s' has no argument '%s' "
					    "(valid: %s)",
					    me->name,
					    mp_printable(mp_json_key(a), nb),
					    valid);
		}
		if (!me->check_args && !mp_json_is_number(a))
			return mp_error_set(
			    err, MP_EINVAL,
			    "method '%s': argument '%s' must be "
			    "a number",
			    me->name, mp_json_key(a));
	}
	return me->check_args ? me->check_args(args, err) : MP_OK;
}

/* Feed all of f to ctx, guarded: false when f shrank meanwhile. */
static bool digest_file(EVP_MD_CTX *ctx, const struct mp_file *f)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g))
		return false;
	const uint64_t chunk = 8u << 20;
	for (uint64_t off = 0; off < f->size; off += chunk) {
		uint64_t n = f->size - off < chunk ? f->size - off : chunk;
		mp_file_prefetch(f, off, n);
		EVP_DigestUpdate(ctx, f->data + off, (size_t)n);
		mp_file_release(f, off, n);
	}
	mp_mapguard_end(&g);
	return true;
}

mp_status mp_fp_hash_file(const struct mp_file *f, char hex[MP_SHA256_HEX],
			  struct mp_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[MP_SHA256_LEN];
	hex[0] = '\0';
	mp_status st = MP_OK;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		st = mp_error_set(err, MP_ENOMEM,
				  "%s: cannot start SHA-256 (out of memory)",
				  f->path);
	else if (!digest_file(ctx, f))
		st = mp_mapguard_error(f->path, err);
	else if (EVP_DigestFinal_ex(ctx, md, NULL))
		mp_hex(md, MP_SHA256_LEN, hex);
	EVP_MD_CTX_free(ctx);
	return st;
}

struct hash_job {
	const struct mp_model *m;
	struct mp_fingerprint *fp;
	mp_status status;
	struct mp_error err;
};

static void *hash_files(void *arg)
{
	struct hash_job *j = arg;
	for (size_t i = 0; i < j->m->nfiles && j->status == MP_OK; i++)
		j->status = mp_fp_hash_file(&j->m->files[i],
					    j->fp->files[i].sha256, &j->err);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

mp_status mp_fp_compute(const struct mp_model *m, const char *method,
			const mp_json *args, int threads,
			const struct mp_progress *prog,
			struct mp_fingerprint **out, struct mp_error *err)
{
	*out = NULL;
	const struct mp_method *me = mp_method_find(method);
	if (!me) {
		char valid[256];
		join_names(mp_method_names(), valid, sizeof valid);
		return mp_error_set(err, MP_EINVAL,
				    "unknown method '%s' (valid: %s)", method,
				    valid);
	}
	mp_status s = mp_method_check_args(me, args, err);
	if (s != MP_OK)
		return s;
	double t0 = now();
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	if (!fp)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	fp->method = mp_strdup(me->name);
	fp->format = mp_strdup(m->format);
	fp->args = args && !mp_json_is_null(args) ? mp_json_dup(args)
						  : mp_json_object();
	fp->files = calloc(m->nfiles ? m->nfiles : 1, sizeof *fp->files);
	if (!fp->method || !fp->format || !fp->args || !fp->files) {
		mp_fp_free(fp);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	}
	fp->nfiles = m->nfiles;
	for (size_t i = 0; i < m->nfiles; i++) {
		fp->files[i].size = m->files[i].size;
		if (!(fp->files[i].path = mp_strdup(m->files[i].path))) {
			mp_fp_free(fp);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		fp->params += t->numel;
		if (t->ggml && t->ggml->id < MP_FP_GGML_IDS)
			fp->ggml_params[t->ggml->id] += t->numel;
		else
			fp->dtype_params[t->logical] += t->numel;
	}
	if (strcmp(m->format, "gguf") == 0 && m->nmeta) {
		if (!(fp->meta = calloc(m->nmeta, sizeof *fp->meta))) {
			mp_fp_free(fp);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < m->nmeta; i++, fp->nmeta++)
			if (!(fp->meta[i].key = mp_strdup(m->meta[i].key)) ||
			    !(fp->meta[i].value = mp_strdup(m->meta[i].value))) {
				free(fp->meta[i].key);
				mp_fp_free(fp);
				return mp_error_set(err, MP_ENOMEM,
						    "out of memory");
			}
	}
	struct hash_job job = {m, fp, MP_OK, {{0}}};
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, hash_files, &job) == 0;
	if (!threaded)
		hash_files(&job);
	s = me->compute(m, fp->args, threads, prog, fp, err);
	if (threaded)
		pthread_join(th, NULL);
	if (s == MP_OK && job.status != MP_OK)
		s = mp_error_set(err, job.status, "%s", job.err.msg);
	if (s == MP_OK)
		s = mp_fp_index(fp, err);
	if (s != MP_OK) {
		mp_fp_free(fp);
		return s;
	}
	fp->seconds = now() - t0;
	*out = fp;
	return MP_OK;
}

void mp_fp_free(struct mp_fingerprint *fp)
{
	if (!fp)
		return;
	for (size_t i = 0; i < fp->ntensors; i++) {
		free(fp->tensors[i].name);
		free(fp->tensors[i].sketch);
		free(fp->tensors[i].spec);
		if (!fp->tensors[i].stats_shared)
			free(fp->tensors[i].stats);
	}
	free(fp->shared);
	for (size_t i = 0; i < fp->nmeta; i++) {
		free(fp->meta[i].key);
		free(fp->meta[i].value);
	}
	free(fp->meta);
	for (size_t i = 0; i < fp->nfiles; i++)
		free(fp->files[i].path);
	free(fp->tensors);
	free(fp->vec);
	free(fp->vec_note);
	free(fp->by_name);
	free(fp->files);
	free(fp->method);
	free(fp->model_id);
	free(fp->format);
	mp_json_free(fp->args);
	free(fp);
}

const struct mp_ggml_type_info *mp_fp_ggml_named(const char *name)
{
	for (uint32_t id = 0; id < MP_FP_GGML_IDS; id++) {
		const struct mp_ggml_type_info *g = mp_ggml_type(id);
		if (g && g->block > 1 && strcmp(g->name, name) == 0)
			return g;
	}
	return NULL;
}

const char *mp_fp_stored_name(const struct mp_tensor_fp *t)
{
	return t->ggml ? t->ggml->name : mp_dtype_name(t->stored);
}

static struct mp_names fp_names(const struct mp_fingerprint *fp)
{
	return (struct mp_names){fp->tensors, fp->ntensors, sizeof *fp->tensors,
				 offsetof(struct mp_tensor_fp, name)};
}

mp_status mp_fp_index(struct mp_fingerprint *fp, struct mp_error *err)
{
	free(fp->by_name);
	struct mp_names r = fp_names(fp);
	fp->by_name = mp_names_index(&r);
	if (!fp->by_name && fp->ntensors)
		return mp_error_set(err, MP_ENOMEM,
				    "out of memory indexing %zu tensors",
				    fp->ntensors);
	fp->names_arch = mp_gguf_names_arch_of(
	    mp_gguf_names_default(),
	    mp_meta_get(fp->meta, fp->nmeta, "general.architecture"), &r);
	return MP_OK;
}

static long fp_find(const void *ctx, const char *name)
{
	const struct mp_fingerprint *fp = ctx;
	struct mp_names r = fp_names(fp);
	return mp_names_find(&r, fp->by_name, name);
}

const struct mp_tensor_fp *mp_fp_find(const struct mp_fingerprint *fp,
				      const char *name)
{
	long i = fp_find(fp, name);
	if (i < 0)
		i = mp_gguf_names_find(name, fp->names_arch, fp_find, fp);
	return i < 0 ? NULL : &fp->tensors[i];
}

bool mp_fp_sketches_aligned(const struct mp_tensor_fp *a,
			    const struct mp_tensor_fp *b)
{
	return a->sketch_permuted == b->sketch_permuted;
}

void mp_fp_sketch_order(struct mp_tensor_fp *t, const char *arch)
{
	const struct mp_gguf_names *map = mp_gguf_names_default();
	t->sketch_permuted = t->nsketch && !t->sketch_heads && t->ndim == 2 &&
			     mp_gguf_names_permuted(map, arch, t->name);
	if (!t->transposed && t->ndim == 2 &&
	    mp_gguf_names_transposed(map, arch, t->name)) {
		t->transposed = true;
		t->sketch_permuted |= t->nsketch > 0;
	}
}

void mp_fp_unshift_sketch(struct mp_tensor_fp *t, const char *arch)
{
	double off = t->nsketch ? mp_gguf_names_offset(mp_gguf_names_default(),
						       arch, t->name)
				: 0;
	for (uint32_t p = 0; off != 0 && p < t->nsketch; p++)
		t->sketch[p] = (float)((double)t->sketch[p] - off);
	t->sketch_offset = off;
}

bool mp_fp_shapes_match(const struct mp_tensor_fp *a,
			const struct mp_tensor_fp *b)
{
	if (mp_metric_shapes_match(a->ndim, a->shape, a->numel, b->ndim,
				   b->shape, b->numel))
		return true;
	return a->transposed != b->transposed && a->ndim == 2 &&
	       b->ndim == 2 && a->shape[0] == b->shape[1] &&
	       a->shape[1] == b->shape[0];
}

/* splitmix64 step. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t mp_sketch_positions(const uint64_t *shape, int ndim, uint64_t numel,
			     uint64_t seed, uint32_t k, uint64_t *pos)
{
	if (numel <= k) {
		for (uint64_t i = 0; i < numel; i++)
			pos[i] = i;
		return (uint32_t)numel;
	}
	uint64_t st = seed ^ 0x6d6f64656c707269ULL;
	st ^= mix(&st) + (uint64_t)ndim;
	for (int d = 0; d < ndim; d++) {
		st ^= shape[d];
		st ^= mix(&st);
	}
	for (uint32_t i = 0; i < k; i++) {
		/* stratum [floor(i*numel/k), floor((i+1)*numel/k)), width >= 1
		 * since numel > k */
		__extension__ unsigned __int128 a =
		    (unsigned __int128)i * numel / k;
		__extension__ unsigned __int128 b =
		    (unsigned __int128)(i + 1) * numel / k;
		uint64_t width = (uint64_t)(b - a);
		pos[i] = (uint64_t)a + mix(&st) % width;
	}
	return k;
}

mp_status mp_tensor_fp_init(struct mp_tensor_fp *t, const char *name, int ndim,
			    const uint64_t *shape)
{
	size_t len = strlen(name) + 1, at = (len + 7) / 8 * 8;
	if (ndim < 0 || ndim > MP_MAX_DIMS)
		return MP_EINVAL;
	char *mem = malloc(at + (size_t)ndim * sizeof *shape);
	if (!mem)
		return MP_ENOMEM;
	memcpy(mem, name, len);
	t->name = mem;
	t->shape = (uint64_t *)(void *)(mem + at);
	if (ndim)
		memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
	t->ndim = ndim;
	return MP_OK;
}

struct mp_tensor_spec *mp_tensor_fp_spec(struct mp_tensor_fp *t, uint32_t nsv)
{
	free(t->spec);
	t->spec = calloc(1, sizeof *t->spec + (size_t)nsv * sizeof(double));
	if (t->spec)
		t->spec->nsv = nsv;
	return t->spec;
}

mp_status mp_fp_set_stats(struct mp_fingerprint *fp, struct mp_tensor_fp *t,
			  const struct mp_tstats *s)
{
	if (!t->stats_shared)
		free(t->stats);
	t->stats = NULL;
	t->stats_shared = false;
	bool none = s->n == 0 && s->nonfinite == 0;
	for (int i = 0; none && i < fp->nshared; i++)
		if (!memcmp(&fp->shared[i], s, sizeof *s)) {
			t->stats = &fp->shared[i];
			t->stats_shared = true;
			return MP_OK;
		}
	if (none && fp->nshared < MP_FP_SHARED) {
		if (!fp->shared &&
		    !(fp->shared = calloc(MP_FP_SHARED, sizeof *fp->shared)))
			return MP_ENOMEM;
		fp->shared[fp->nshared] = *s;
		t->stats = &fp->shared[fp->nshared++];
		t->stats_shared = true;
		return MP_OK;
	}
	if (!(t->stats = malloc(sizeof *t->stats)))
		return MP_ENOMEM;
	*t->stats = *s;
	return MP_OK;
}
