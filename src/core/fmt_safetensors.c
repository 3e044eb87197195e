/* fmt_safetensors.c — safetensors files, sharded checkpoints (index JSON)
 * and directories of shards. Layout of one file: u64 little-endian header
 * length N, N bytes of JSON {name: {dtype, shape, data_offsets}, ...,
 * "__metadata__": {str: str}}, then the data area; offsets are relative to
 * the data area. Tensor data is borrowed from the mapped files. */
#include "json.h"
#include "model.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_MAX (100ull * 1024 * 1024)
#define INDEX_NAME "model.safetensors.index.json"
#define SINGLE_NAME "model.safetensors"

/* One header entry, validated, before it becomes a tensor. */
struct entry {
	const char *name; /* borrowed from the parsed header */
	enum mp_dtype dt;
	int ndim;
	uint64_t shape[MP_MAX_DIMS];
	uint64_t begin, end;
	size_t order; /* position in the header, breaks offset ties */
};

static bool is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_magic(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	unsigned char b[9];
	ssize_t r = read(fd, b, sizeof b);
	close(fd);
	return r == (ssize_t)sizeof b && b[8] == '{';
}

static bool dir_has_file(const char *dir, const char *name)
{
	char *p = mp_path_join(dir, name);
	bool ok = p && is_regular(p);
	free(p);
	return ok;
}

static bool is_shard_name(const char *name)
{
	return name[0] != '.' && mp_ends_with(name, ".safetensors");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted paths of the regular *.safetensors files of dir. */
static mp_status list_shards(const char *dir, char ***out, size_t *n,
			     struct mp_error *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return mp_error_set(err, MP_EIO, "%s: cannot read directory",
				    dir);
	char **v = NULL;
	size_t cap = 0;
	mp_status s = MP_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_shard_name(de->d_name))
			continue;
		char *p = mp_path_join(dir, de->d_name);
		if (p && !is_regular(p)) {
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
		if (!p) {
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 dir);
			break;
		}
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
		qsort(v, *n, sizeof *v, cmp_str);
	*out = v;
	return MP_OK;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	if (S_ISREG(st.st_mode))
		return mp_ends_with(path, ".safetensors") ||
		       mp_ends_with(path, ".safetensors.index.json") ||
		       has_magic(path);
	if (!S_ISDIR(st.st_mode))
		return false;
	if (dir_has_file(path, INDEX_NAME) || dir_has_file(path, SINGLE_NAME))
		return true;
	char **v;
	size_t n;
	if (list_shards(path, &v, &n, NULL) != MP_OK)
		return false;
	free_list(v, n);
	return n > 0;
}

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static bool meta_has(const struct mp_model *m, const char *key)
{
	for (size_t i = 0; i < m->nmeta; i++)
		if (strcmp(m->meta[i].key, key) == 0)
			return true;
	return false;
}

static mp_status bad_dtype(const char *path, const char *name,
			   const char *dtype, struct mp_error *err)
{
	char list[256] = "", nb[MP_NAME_SHOW + 8], db[MP_NAME_SHOW + 8];
	size_t n = 0;
	for (int i = 0; i < MP_DTYPE_COUNT; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
				      i ? ", " : "", mp_dtype_name(i));
	return mp_error_set(err, MP_EDTYPE,
			    "%s: tensor '%s': unknown dtype '%s' (valid: %s)",
			    path, mp_printable(name, nb), mp_printable(dtype, db), list);
}

/* Validate one header entry j (name e->name) against the data area of
 * data_size bytes. */
static mp_status parse_entry(const char *path, const mp_json *j,
			     uint64_t data_size, struct entry *e,
			     struct mp_error *err)
{
	char nb[MP_NAME_SHOW + 8];
	const char *nm = mp_printable(e->name, nb);
	if (!mp_json_is_object(j))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s': entry is not an object",
				    path, nm);
	const char *dtype = mp_json_str(mp_json_get(j, "dtype"));
	if (!dtype)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s': missing or non-string "
				    "dtype",
				    path, nm);
	int dt = mp_dtype_parse(dtype);
	if (dt < 0)
		return bad_dtype(path, e->name, dtype, err);
	e->dt = (enum mp_dtype)dt;

	const mp_json *shape = mp_json_get(j, "shape");
	if (!mp_json_is_array(shape))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s': shape is not an array",
				    path, nm);
	size_t nd = mp_json_size(shape);
	if (nd > MP_MAX_DIMS)
		return mp_error_set(err, MP_ERANGE,
				    "%s: tensor '%s' has %zu dimensions (at "
				    "most %d supported)",
				    path, nm, nd, MP_MAX_DIMS);
	e->ndim = (int)nd;
	for (size_t i = 0; i < nd; i++)
		if (!mp_json_uint(mp_json_at(shape, i), &e->shape[i]))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: tensor '%s': shape must be an "
					    "array of non-negative integers "
					    "below 2^53",
					    path, nm);
	struct mp_tensor tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.name = nb;
	tmp.stored = e->dt;
	mp_status s = mp_tensor_set_shape(&tmp, e->ndim, e->shape, path, err);
	if (s != MP_OK)
		return s;

	const mp_json *off = mp_json_get(j, "data_offsets");
	if (!mp_json_is_array(off) || mp_json_size(off) != 2 ||
	    !mp_json_uint(mp_json_at(off, 0), &e->begin) ||
	    !mp_json_uint(mp_json_at(off, 1), &e->end) || e->begin > e->end)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s': data_offsets must be "
				    "[begin, end] with 0 <= begin <= end",
				    path, nm);
	if (e->end > data_size)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: tensor '%s': data_offsets end %llu is "
				    "beyond the data area (%llu bytes)",
				    path, nm, (unsigned long long)e->end,
				    (unsigned long long)data_size);
	if (e->end - e->begin != tmp.nbytes)
		return mp_error_set(
		    err, MP_EFORMAT,
		    "%s: tensor '%s': data_offsets span %llu "
		    "bytes but %llu %s values need %llu",
		    path, nm, (unsigned long long)(e->end - e->begin),
		    (unsigned long long)tmp.numel, mp_dtype_name(e->dt),
		    (unsigned long long)tmp.nbytes);
	return MP_OK;
}

static mp_status parse_metadata(struct mp_model *m, const char *path,
				const mp_json *md, struct mp_error *err)
{
	if (!mp_json_is_object(md))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: __metadata__ is not an object", path);
	for (mp_json *c = mp_json_child(md); c; c = mp_json_next(c)) {
		char nb[MP_NAME_SHOW + 8];
		const char *v = mp_json_str(c);
		if (!v)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: __metadata__ value of '%s' is "
					    "not a string",
					    path, mp_printable(mp_json_key(c), nb));
		if (meta_has(m, mp_json_key(c)))
			continue;
		mp_status s = mp_model_add_meta(m, mp_json_key(c), v, err);
		if (s != MP_OK)
			return s;
	}
	return MP_OK;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static mp_status check_overlap(const char *path, const struct entry *e,
			       size_t n, struct mp_error *err)
{
	const struct entry *last = NULL; /* non-empty one ending furthest */
	for (size_t i = 0; i < n; i++) {
		if (e[i].begin == e[i].end)
			continue;
		if (last && e[i].begin < last->end) {
			char a[MP_NAME_SHOW + 8], b[MP_NAME_SHOW + 8];
			return mp_error_set(err, MP_EFORMAT,
					    "%s: tensors '%s' and '%s' overlap "
					    "in the data area",
					    path, mp_printable(last->name, a),
					    mp_printable(e[i].name, b));
		}
		if (!last || e[i].end > last->end)
			last = &e[i];
	}
	return MP_OK;
}

/* Parse the header of the mapped file at index fi and append its tensors
 * and metadata. */
static mp_status load_header(struct mp_model *m, int fi, mp_json *hdr,
			     uint64_t data_start, struct mp_error *err)
{
	const struct mp_file *f = &m->files[fi];
	const char *path = f->path;
	uint64_t data_size = f->size - data_start;
	if (!mp_json_is_object(hdr))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: header is not a JSON object", path);
	size_t cap = mp_json_size(hdr), n = 0;
	struct entry *e = calloc(cap ? cap : 1, sizeof *e);
	if (!e)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	mp_status s = MP_OK;
	for (mp_json *c = mp_json_child(hdr); c && s == MP_OK;
	     c = mp_json_next(c)) {
		const char *key = mp_json_key(c);
		if (strcmp(key, "__metadata__") == 0) {
			s = parse_metadata(m, path, c, err);
			continue;
		}
		e[n].name = key;
		e[n].order = n;
		s = parse_entry(path, c, data_size, &e[n], err);
		n++;
	}
	if (s == MP_OK && n > 1) {
		qsort(e, n, sizeof *e, cmp_entry);
		s = check_overlap(path, e, n, err);
	}
	for (size_t i = 0; i < n && s == MP_OK; i++) {
		struct mp_tensor *t;
		s = mp_model_add_tensor(m, e[i].name, &t, err);
		if (s != MP_OK)
			break;
		t->stored = t->logical = e[i].dt;
		t->quant.kind = MP_QUANT_NONE;
		s = mp_tensor_set_shape(t, e[i].ndim, e[i].shape, path, err);
		if (s != MP_OK)
			break;
		f = &m->files[fi];
		t->file_index = fi;
		t->offset = data_start + e[i].begin;
		t->nseg = 1;
		t->seg[0].data = f->data + t->offset;
		t->seg[0].len = t->nbytes;
		t->output_last = false;
	}
	free(e);
	return s;
}

/* Map one safetensors file and append its tensors. */
static mp_status load_file(struct mp_model *m, const char *path,
			   struct mp_error *err)
{
	int fi;
	mp_status s = mp_model_add_file(m, path, &fi, err);
	if (s != MP_OK)
		return s;
	const struct mp_file *f = &m->files[fi];
	if (f->size < 8)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: file of %llu bytes is too short for a "
				    "safetensors header length",
				    path, (unsigned long long)f->size);
	uint64_t n = le64(f->data);
	if (n > f->size - 8)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: header length %llu exceeds file size "
				    "%llu minus 8",
				    path, (unsigned long long)n,
				    (unsigned long long)f->size);
	if (n > HEADER_MAX)
		return mp_error_set(err, MP_ERANGE,
				    "%s: header length %llu is over the %llu "
				    "byte limit",
				    path, (unsigned long long)n,
				    (unsigned long long)HEADER_MAX);
	size_t wl = strlen(path) + 16;
	char *where = malloc(wl);
	if (!where)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	snprintf(where, wl, "%s: header", path);
	mp_json *hdr;
	s = mp_json_parse((const char *)f->data + 8, (size_t)n, where, &hdr,
			  err);
	free(where);
	if (s != MP_OK)
		return s;
	s = load_header(m, fi, hdr, 8 + n, err);
	mp_json_free(hdr);
	return s;
}

static int cmp_tensor_name(const void *a, const void *b)
{
	const struct mp_tensor *x = *(const struct mp_tensor *const *)a;
	const struct mp_tensor *y = *(const struct mp_tensor *const *)b;
	return strcmp(x->name, y->name);
}

/* Names must be unique across all files of the model. */
static mp_status check_unique(const struct mp_model *m, struct mp_error *err)
{
	if (m->ntensors < 2)
		return MP_OK;
	const struct mp_tensor **v = malloc(m->ntensors * sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	for (size_t i = 0; i < m->ntensors; i++)
		v[i] = &m->tensors[i];
	qsort(v, m->ntensors, sizeof *v, cmp_tensor_name);
	mp_status s = MP_OK;
	for (size_t i = 1; i < m->ntensors && s == MP_OK; i++) {
		if (strcmp(v[i - 1]->name, v[i]->name) != 0)
			continue;
		char nb[MP_NAME_SHOW + 8];
		const char *a = m->files[v[i - 1]->file_index].path;
		const char *b = m->files[v[i]->file_index].path;
		if (strcmp(a, b) == 0)
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: tensor '%s' appears twice", a,
					 mp_printable(v[i]->name, nb));
		else
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: tensor '%s' appears in both %s "
					 "and %s",
					 m->path, mp_printable(v[i]->name, nb), a, b);
	}
	free(v);
	return s;
}

static mp_status load_files(struct mp_model *m, const char *const *paths,
			    size_t n, struct mp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		mp_status s = load_file(m, paths[i], err);
		if (s != MP_OK)
			return s;
	}
	return check_unique(m, err);
}

static mp_status index_meta(struct mp_model *m, const char *path,
			    const mp_json *md, struct mp_error *err)
{
	if (!md)
		return MP_OK;
	if (!mp_json_is_object(md))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: \"metadata\" is not an object", path);
	for (mp_json *c = mp_json_child(md); c; c = mp_json_next(c)) {
		char *own = NULL;
		const char *v = mp_json_str(c);
		if (!v)
			v = own = mp_json_print(c, false);
		if (!v)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		mp_status s =
		    meta_has(m, mp_json_key(c))
			? MP_OK
			: mp_model_add_meta(m, mp_json_key(c), v, err);
		free(own);
		if (s != MP_OK)
			return s;
	}
	return MP_OK;
}

/* Every weight_map entry naming shard (tensors [first, m->ntensors) came
 * from it) must be one of its tensors. */
static mp_status check_weight_map(const struct mp_model *m, const char *path,
				  const mp_json *wm, const char *shard,
				  size_t first, struct mp_error *err)
{
	size_t n = m->ntensors - first;
	const char **names = malloc((n ? n : 1) * sizeof *names);
	if (!names)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < n; i++)
		names[i] = m->tensors[first + i].name;
	qsort(names, n, sizeof *names, cmp_str);
	mp_status s = MP_OK;
	for (mp_json *c = mp_json_child(wm); c && s == MP_OK;
	     c = mp_json_next(c)) {
		if (strcmp(mp_json_str(c), shard) != 0)
			continue;
		const char *name = mp_json_key(c);
		if (n && bsearch(&name, names, n, sizeof *names, cmp_str))
			continue;
		char nb[MP_NAME_SHOW + 8], sb[MP_NAME_SHOW + 8];
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: weight_map tensor '%s' is not in shard "
				 "'%s'",
				 path, mp_printable(name, nb), mp_printable(shard, sb));
	}
	free(names);
	return s;
}

/* Distinct shard names of a weight_map, sorted; borrowed from wm. */
static mp_status index_shards(const char *path, const mp_json *wm,
			      const char ***out, size_t *n,
			      struct mp_error *err)
{
	size_t cnt = mp_json_size(wm), k = 0;
	const char **v = malloc((cnt ? cnt : 1) * sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	for (mp_json *c = mp_json_child(wm); c; c = mp_json_next(c)) {
		char nb[MP_NAME_SHOW + 8];
		const char *s = mp_json_str(c);
		if (!s) {
			free(v);
			return mp_error_set(err, MP_EFORMAT,
					    "%s: weight_map value of '%s' is "
					    "not a string",
					    path, mp_printable(mp_json_key(c), nb));
		}
		if (!mp_path_is_safe_relative(s)) {
			free(v);
			return mp_error_set(err, MP_EFORMAT,
					    "%s: shard path '%s' must be "
					    "relative without '..' components",
					    path, mp_printable(s, nb));
		}
		v[k++] = s;
	}
	if (k)
		qsort(v, k, sizeof *v, cmp_str);
	size_t d = 0;
	for (size_t i = 0; i < k; i++)
		if (d == 0 || strcmp(v[d - 1], v[i]) != 0)
			v[d++] = v[i];
	*out = v;
	*n = d;
	return MP_OK;
}

static mp_status load_index(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	mp_json *idx;
	mp_status s = mp_json_load(path, HEADER_MAX, &idx, err);
	if (s != MP_OK)
		return s;
	const mp_json *wm = mp_json_get(idx, "weight_map");
	const char **shards = NULL;
	size_t nshards = 0;
	char *dir = NULL;
	if (!mp_json_is_object(idx))
		s = mp_error_set(err, MP_EFORMAT, "%s: not a JSON object",
				 path);
	else if (!mp_json_is_object(wm) || mp_json_size(wm) == 0)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: missing or empty \"weight_map\" object",
				 path);
	if (s == MP_OK)
		s = index_meta(m, path, mp_json_get(idx, "metadata"), err);
	if (s == MP_OK)
		s = index_shards(path, wm, &shards, &nshards, err);
	const char *slash = strrchr(path, '/');
	if (s == MP_OK && slash) {
		dir = malloc((size_t)(slash - path) + 2);
		if (!dir)
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 path);
		else if (slash == path)
			strcpy(dir, "/");
		else {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
		}
	}
	for (size_t i = 0; i < nshards && s == MP_OK; i++) {
		char *sp =
		    dir ? mp_path_join(dir, shards[i]) : mp_strdup(shards[i]);
		if (!sp) {
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 path);
			break;
		}
		size_t first = m->ntensors;
		char nb[MP_NAME_SHOW + 8], pb[MP_NAME_SHOW + 8];
		if (access(sp, F_OK) != 0)
			s = mp_error_set(err, MP_ENOENT,
					 "%s: shard '%s' listed in weight_map "
					 "is missing (%s)",
					 path, mp_printable(shards[i], nb),
					 mp_printable(sp, pb));
		else
			s = load_file(m, sp, err);
		free(sp);
		if (s == MP_OK)
			s = check_weight_map(m, path, wm, shards[i], first,
					     err);
	}
	if (s == MP_OK)
		s = check_unique(m, err);
	free(dir);
	free(shards);
	mp_json_free(idx);
	return s;
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return mp_error_set(err, MP_ENOENT,
				    "%s: no such file or directory", path);
	if (!S_ISDIR(st.st_mode)) {
		if (mp_ends_with(path, ".index.json"))
			return load_index(m, path, err);
		return load_files(m, &path, 1, err);
	}
	bool index = dir_has_file(path, INDEX_NAME);
	if (index || dir_has_file(path, SINGLE_NAME)) {
		char *p = mp_path_join(path, index ? INDEX_NAME : SINGLE_NAME);
		if (!p)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		const char *cp = p;
		mp_status s =
		    index ? load_index(m, p, err) : load_files(m, &cp, 1, err);
		free(p);
		return s;
	}
	char **v;
	size_t n;
	mp_status s = list_shards(path, &v, &n, err);
	if (s != MP_OK)
		return s;
	if (n == 0)
		s = mp_error_set(err, MP_ENOENT,
				 "%s: no .safetensors files in directory",
				 path);
	else
		s = load_files(m, (const char *const *)v, n, err);
	free_list(v, n);
	return s;
}

const struct mp_format_ops mp_fmt_safetensors = {"safetensors", probe,
						 open_model};
