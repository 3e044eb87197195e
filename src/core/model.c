/* model.c — format detection and the model container. */
#include "model.h"
#include "gguf_names.h"
#include "names.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct mp_format_ops *const formats[] = {
	&mp_fmt_numpy, /* first: a .npy header may look like safetensors' */
	&mp_fmt_safetensors,
	&mp_fmt_tfjs,
	&mp_fmt_gguf,
	&mp_fmt_llama2c, /* no magic: only an exact header-implied size */
	&mp_fmt_torch, /* last: it sniffs pickles and zips */
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const char *const *mp_model_formats(void)
{
	static const char *names[NFORMATS + 1];
	for (size_t i = 0; i < NFORMATS; i++)
		names[i] = formats[i]->name;
	return names;
}

/* The canonical directory of a model named path: path itself when a
 * directory, else the directory holding it (not the target of a symlink:
 * the files a model names are looked up next to the name the user gave). */
static mp_status model_dir(const char *path, bool is_dir, char **out,
			   struct mp_error *err)
{
	char *dir = mp_strdup(path);
	if (!dir)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	char *slash = strrchr(dir, '/');
	if (!is_dir && slash)
		slash[slash == dir] = '\0'; /* "/x" -> "/" */
	*out = realpath(is_dir || slash ? dir : ".", NULL);
	int e = errno;
	free(dir);
	if (!*out)
		return mp_error_set(err, MP_EIO,
				    "%s: cannot resolve the model directory: %s",
				    path, strerror(e));
	return MP_OK;
}

mp_status mp_model_open(const char *path, struct mp_model **out,
			struct mp_error *err)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) != 0)
		return mp_error_set(err, MP_ENOENT, "%s: no such file or directory",
				    path);
	if (!S_ISDIR(st.st_mode)) { /* a FIFO is refused before any probe */
		int fd;
		mp_status s = mp_open_input(path, &fd, err);
		if (s != MP_OK)
			return s;
		close(fd);
	}
	const struct mp_format_ops *ops = NULL;
	for (size_t i = 0; i < NFORMATS && !ops; i++)
		if (formats[i]->probe(path))
			ops = formats[i];
	if (!ops)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a model file of a known format "
				    "(safetensors, TF.js model.json, NumPy "
				    ".npy/.npz, PyTorch checkpoint, GGUF, "
				    "llama2.c checkpoint)",
				    path);
	struct mp_model *m = calloc(1, sizeof *m);
	if (!m || !(m->path = mp_strdup(path))) {
		free(m);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	mp_status s = model_dir(path, S_ISDIR(st.st_mode), &m->dir, err);
	if (s != MP_OK) {
		mp_model_free(m);
		return s;
	}
	m->format = ops->name;
	s = ops->open(m, path, err);
	bool rep;
	size_t a, b;
	if (s == MP_OK && !m->by_name)
		s = mp_model_index(m, &rep, &a, &b, err);
	if (s != MP_OK) {
		mp_model_free(m);
		return s;
	}
	*out = m;
	return MP_OK;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether path is a regular file or a directory some format accepts. */
static bool is_model(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return false; /* a FIFO is never probed */
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i]->probe(path))
			return true;
	return false;
}

mp_status mp_dir_list(const char *dir, bool (*keep)(const char *path),
		      char ***paths, size_t *n, struct mp_error *err)
{
	*paths = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return mp_error_set(err, errno == ENOTDIR ? MP_EINVAL : MP_EIO,
				    "%s: cannot read the directory: %s", dir,
				    strerror(errno));
	char **v = NULL;
	size_t cap = 0;
	mp_status s = MP_OK;
	struct dirent *de;
	while (s == MP_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *p = mp_path_join(dir, de->d_name);
		if (p && !keep(p)) {
			free(p);
			continue;
		}
		if (p && *n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nv = realloc(v, nc * sizeof *v);
			if (nv) {
				v = nv;
				cap = nc;
			} else {
				free(p);
				p = NULL;
			}
		}
		if (!p)
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", dir);
		else
			v[(*n)++] = p;
	}
	closedir(d);
	if (s != MP_OK) {
		for (size_t i = 0; i < *n; i++)
			free(v[i]);
		free(v);
		*n = 0;
		return s;
	}
	if (*n)
		qsort(v, *n, sizeof *v, cmp_path);
	*paths = v;
	return MP_OK;
}

/* Whether paths[i] is a GGUF shard after another shard of its set among
 * the sorted paths[0..n): the first shard is there, or the entry before
 * it is of the same set (when shards are missing, one of them is left to
 * report it). */
static bool later_shard(char *const *paths, size_t n, size_t i)
{
	size_t stem, stem2;
	unsigned k, cnt, k2, cnt2;
	if (!mp_gguf_shard_name(paths[i], &stem, &k, &cnt) || k == 1)
		return false;
	if (i > 0 && mp_gguf_shard_name(paths[i - 1], &stem2, &k2, &cnt2) &&
	    stem2 == stem && cnt2 == cnt && !strncmp(paths[i - 1], paths[i], stem))
		return true;
	char *first = malloc(stem + 32);
	if (!first)
		return false;
	memcpy(first, paths[i], stem);
	snprintf(first + stem, 32, "-%05u-of-%05u.gguf", 1u, cnt);
	bool found = bsearch(&first, paths, n, sizeof *paths, cmp_path) != NULL;
	free(first);
	return found;
}

mp_status mp_model_list_dir(const char *dir, char ***paths, size_t *n,
			    struct mp_error *err)
{
	mp_status s = mp_dir_list(dir, is_model, paths, n, err);
	if (s == MP_OK) { /* drop the later shards of GGUF shard sets */
		char **v = *paths;
		bool *drop = calloc(*n ? *n : 1, sizeof *drop);
		if (!drop) {
			for (size_t i = 0; i < *n; i++)
				free(v[i]);
			free(v);
			*paths = NULL;
			*n = 0;
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    dir);
		}
		for (size_t i = 0; i < *n; i++)
			drop[i] = later_shard(v, *n, i);
		size_t kept = 0;
		for (size_t i = 0; i < *n; i++) {
			if (drop[i])
				free(v[i]);
			else
				v[kept++] = v[i];
		}
		*n = kept;
		free(drop);
	}
	if (s == MP_OK && *n == 0) {
		free(*paths);
		*paths = NULL;
		s = mp_error_set(err, MP_ENOENT,
				 "%s: no model files or model directories in "
				 "it",
				 dir);
	}
	return s;
}

void mp_model_free(struct mp_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfiles; i++)
		mp_file_close(&m->files[i]);
	for (size_t i = 0; i < m->ntensors; i++) {
		free(m->tensors[i].name);
		mp_tensor_done(&m->tensors[i]);
	}
	free(m->by_name);
	for (size_t i = 0; i < m->nowned; i++)
		free(m->owned[i]);
	free(m->owned);
	for (size_t i = 0; i < m->nmeta; i++) {
		free(m->meta[i].key);
		free(m->meta[i].value);
	}
	free(m->files);
	free(m->tensors);
	free(m->meta);
	free(m->path);
	free(m->dir);
	free(m);
}

/* Grow an array of elem-sized items to hold n+1. */
static void *grow(void *arr, size_t n, size_t elem)
{
	if ((n & (n - 1)) != 0 && n != 0)
		return arr; /* capacity is the next power of two */
	size_t cap = n ? n * 2 : 4;
	return realloc(arr, cap * elem);
}

mp_status mp_model_add_file(struct mp_model *m, const char *path, int *index,
			    struct mp_error *err)
{
	return mp_model_add_named(m, path, NULL, index, err);
}

mp_status mp_model_add_named(struct mp_model *m, const char *path,
			     const struct mp_named *n, int *index,
			     struct mp_error *err)
{
	struct mp_file f;
	mp_status s = mp_file_open_named(&f, path, n, err);
	if (s != MP_OK)
		return s;
	void *nf = grow(m->files, m->nfiles, sizeof *m->files);
	if (!nf) {
		mp_file_close(&f);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	m->files = nf;
	m->files[m->nfiles] = f;
	*index = (int)m->nfiles++;
	return MP_OK;
}

mp_status mp_model_own(struct mp_model *m, void *p, struct mp_error *err)
{
	void *no = grow(m->owned, m->nowned, sizeof *m->owned);
	if (!no) {
		free(p);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	}
	m->owned = no;
	m->owned[m->nowned++] = p;
	return MP_OK;
}

mp_status mp_model_add_tensor(struct mp_model *m, const char *name,
			      struct mp_tensor **out, struct mp_error *err)
{
	void *nt = grow(m->tensors, m->ntensors, sizeof *m->tensors);
	if (!nt)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	m->tensors = nt;
	free(m->by_name);
	m->by_name = NULL;
	struct mp_tensor *t = &m->tensors[m->ntensors];
	memset(t, 0, sizeof *t);
	if (!(t->name = mp_strdup(name)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	m->ntensors++;
	*out = t;
	return MP_OK;
}

mp_status mp_model_add_meta(struct mp_model *m, const char *key,
			    const char *value, struct mp_error *err)
{
	void *nm = grow(m->meta, m->nmeta, sizeof *m->meta);
	if (!nm)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	m->meta = nm;
	struct mp_meta *e = &m->meta[m->nmeta];
	e->key = mp_strdup(key);
	e->value = mp_strdup(value);
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	}
	m->nmeta++;
	return MP_OK;
}

mp_status mp_tensor_set_shape(struct mp_tensor *t, int ndim,
			      const uint64_t *shape, const char *where,
			      struct mp_error *err)
{
	char nb[MP_NAME_SHOW + 8];
	if (ndim < 0 || ndim > MP_MAX_DIMS)
		return mp_error_set(err, MP_ERANGE,
				    "%s: tensor '%s' has %d dimensions (at most "
				    "%d supported)",
				    where, mp_printable(t->name, nb), ndim,
				    MP_MAX_DIMS);
	uint64_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (!mp_mul_u64(n, shape[i], &n))
			return mp_error_set(err, MP_ERANGE,
					    "%s: tensor '%s': shape product "
					    "overflows 64 bits",
					    where, mp_printable(t->name, nb));
		t->shape[i] = shape[i];
	}
	t->ndim = ndim;
	t->numel = n;
	if (!mp_mul_u64(n, mp_dtype_size(t->stored), &t->nbytes))
		return mp_error_set(err, MP_ERANGE,
				    "%s: tensor '%s': byte size overflows 64 bits",
				    where, mp_printable(t->name, nb));
	return MP_OK;
}

mp_status mp_tensor_set_segs(struct mp_tensor *t, const struct mp_seg *v,
			     int n, const char *where, struct mp_error *err)
{
	mp_tensor_done(t);
	t->nseg = 0;
	if (n < 1 || n > MP_MAX_SEGS) {
		char nb[MP_NAME_SHOW + 8];
		return mp_error_set(err, MP_ERANGE,
				    "%s: tensor '%s' has %d segments (1 to %d "
				    "supported)",
				    where, mp_printable(t->name, nb), n,
				    MP_MAX_SEGS);
	}
	if (n == 1) {
		t->seg1 = v[0];
	} else {
		if (!(t->segs = malloc((size_t)n * sizeof *t->segs)))
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    where);
		memcpy(t->segs, v, (size_t)n * sizeof *t->segs);
	}
	t->nseg = n;
	return MP_OK;
}

void mp_shape_text(int ndim, const uint64_t *shape, char *buf, size_t len)
{
	size_t at = 0;
	if (!len)
		return;
	buf[0] = '\0';
	for (int d = 0; d < ndim && at < len; d++) {
		int w = snprintf(buf + at, len - at, "%s%llu", d ? "x" : "",
				 (unsigned long long)shape[d]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	if (ndim == 0)
		snprintf(buf, len, "scalar");
}

void mp_tensor_done(struct mp_tensor *t)
{
	free(t->segs);
	t->segs = NULL;
}

const uint8_t *mp_tensor_bytes(const struct mp_tensor *t, uint64_t off,
			       uint64_t len, uint8_t *scratch)
{
	const struct mp_seg *seg = mp_tensor_segs(t);
	uint64_t base = 0;
	int i = 0;
	while (i < t->nseg && off >= base + seg[i].len)
		base += seg[i++].len;
	if (i < t->nseg && off + len <= base + seg[i].len)
		return seg[i].data + (off - base);
	uint64_t done = 0;
	while (done < len && i < t->nseg) {
		uint64_t in = off + done - base;
		uint64_t take = seg[i].len - in;
		if (take > len - done)
			take = len - done;
		memcpy(scratch + done, seg[i].data + in, (size_t)take);
		done += take;
		base += seg[i++].len;
	}
	return scratch;
}

static struct mp_names model_names(const struct mp_model *m)
{
	return (struct mp_names){m->tensors, m->ntensors, sizeof *m->tensors,
				 offsetof(struct mp_tensor, name)};
}

mp_status mp_model_index(struct mp_model *m, bool *repeated, size_t *dup_a,
			 size_t *dup_b, struct mp_error *err)
{
	free(m->by_name);
	struct mp_names r = model_names(m);
	m->by_name = mp_names_index(&r);
	*repeated = false;
	if (!m->by_name && m->ntensors)
		return mp_error_set(err, MP_ENOMEM,
				    "%s: out of memory indexing %zu tensors",
				    m->path, m->ntensors);
	if (m->by_name)
		*repeated = mp_names_repeat(&r, m->by_name, dup_a, dup_b);
	m->names_arch = mp_gguf_names_arch_of(
	    mp_gguf_names_default(),
	    mp_meta_get(m->meta, m->nmeta, "general.architecture"), &r);
	return MP_OK;
}

static long model_find(const void *ctx, const char *name)
{
	const struct mp_model *m = ctx;
	struct mp_names r = model_names(m);
	return mp_names_find(&r, m->by_name, name);
}

const struct mp_tensor *mp_model_find(const struct mp_model *m,
				      const char *name)
{
	long i = model_find(m, name);
	if (i < 0)
		i = mp_gguf_names_find(name, m->names_arch, model_find, m);
	return i < 0 ? NULL : &m->tensors[i];
}

const uint8_t *mp_tensor_elems(const struct mp_tensor *t, uint64_t e0,
			       uint64_t n, uint8_t *scratch)
{
	const struct mp_ggml_type_info *g = t->ggml;
	if (!g)
		return mp_tensor_bytes(t, e0 * mp_dtype_size(t->stored),
				       n * mp_dtype_size(t->stored), scratch);
	uint8_t tmp[MP_GGML_BYTES_MAX];
	float v[MP_GGML_BLOCK_MAX];
	uint64_t done = 0;
	while (done < n) {
		uint64_t e = e0 + done, bi = e / g->block, in = e % g->block;
		const uint8_t *b =
		    mp_tensor_bytes(t, bi * g->bytes, g->bytes, tmp);
		g->dequant(b, v, 1);
		uint64_t k = g->block - in < n - done ? g->block - in : n - done;
		memcpy(scratch + done * 4, v + in, (size_t)k * 4);
		done += k;
	}
	return scratch;
}

void mp_tensor_decode_blocks(const struct mp_tensor *t, const uint8_t *bytes,
			     size_t nblocks, float *out)
{
	t->ggml->dequant(bytes, out, nblocks);
}

void mp_tensor_decode(const struct mp_tensor *t, const uint8_t *bytes,
		      size_t n, double *out)
{
	mp_dtype_to_double(t->stored, bytes, n, out);
	if (t->quant.kind != MP_QUANT_AFFINE)
		return;
	bool to_int = t->logical == MP_I32;
	for (size_t i = 0; i < n; i++) {
		double v = out[i] * t->quant.scale + t->quant.min;
		out[i] = to_int ? floor(v + 0.5) : (double)(float)v; /* Math.round */
	}
}

const char *mp_meta_get(const struct mp_meta *meta, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (meta[i].key && !strcmp(meta[i].key, key))
			return meta[i].value;
	return NULL;
}

void mp_tensor_advise(const struct mp_model *m, const struct mp_tensor *t,
		      uint64_t off, uint64_t len,
		      void (*fn)(const struct mp_file *, uint64_t, uint64_t))
{
	const struct mp_seg *seg = mp_tensor_segs(t);
	uint64_t base = 0, end = off + len;
	for (int s = 0; s < t->nseg && base < end; s++) {
		uint64_t lo = off > base ? off : base;
		uint64_t hi =
		    base + seg[s].len < end ? base + seg[s].len : end;
		const uint8_t *p = seg[s].data;
		for (size_t f = 0; lo < hi && f < m->nfiles; f++) {
			const struct mp_file *mf = &m->files[f];
			if (mf->data && p >= mf->data &&
			    (uint64_t)(p - mf->data) < mf->size) {
				fn(mf, (uint64_t)(p - mf->data) + (lo - base),
				   hi - lo);
				break;
			}
		}
		base += seg[s].len;
	}
}
