/* fmt_safetensors.c — safetensors files, sharded checkpoints (index JSON)
 * and directories of shards. Layout of one file: u64 little-endian header
 * length N, N bytes of JSON {name: {dtype, shape, data_offsets}, ...,
 * "__metadata__": {str: str}}, then the data area; offsets are relative to
 * the data area. Tensor data is borrowed from the mapped files. */
#include "json.h"
#include "mapguard.h"
#include "model.h"
#include "names.h"

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
};

static bool is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_magic(const char *path)
{
	int fd;
	if (mp_open_input(path, &fd, NULL) != MP_OK)
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

/* A regular *.safetensors file. */
static bool is_shard(const char *path)
{
	const char *slash = strrchr(path, '/');
	return is_shard_name(slash ? slash + 1 : path) && is_regular(path);
}

/* Sorted paths of the regular *.safetensors files of dir. */
static mp_status list_shards(const char *dir, char ***out, size_t *n,
			     struct mp_error *err)
{
	return mp_dir_list(dir, is_shard, out, n, err);
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

/* The metadata keys m had before a file's are indexed once: a header may
 * hold a million of them (keys within one object are already unique). */
struct known {
	struct mp_names r;
	size_t *index;
};

static mp_status known_init(struct known *k, const struct mp_model *m,
			    const char *path, struct mp_error *err)
{
	k->r = (struct mp_names){m->meta, m->nmeta, sizeof *m->meta,
				 offsetof(struct mp_meta, key)};
	k->index = mp_names_index(&k->r);
	if (!k->index && m->nmeta)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	return MP_OK;
}

static bool known_has(const struct known *k, const char *key)
{
	return k->r.n && mp_names_find(&k->r, k->index, key) >= 0;
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
	struct known k;
	mp_status s = known_init(&k, m, path, err);
	for (mp_json *c = mp_json_child(md); c && s == MP_OK;
	     c = mp_json_next(c)) {
		char nb[MP_NAME_SHOW + 8];
		const char *v = mp_json_str(c);
		if (!v)
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: __metadata__ value of '%s' is "
					 "not a string",
					 path, mp_printable(mp_json_key(c), nb));
		else if (!known_has(&k, mp_json_key(c)))
			s = mp_model_add_meta(m, mp_json_key(c), v, err);
	}
	free(k.index);
	return s;
}

/* Order of tensors in the data area; ties by header position. */
static int cmp_placed(const void *a, const void *b)
{
	const struct mp_tensor *x = *(const struct mp_tensor *const *)a;
	const struct mp_tensor *y = *(const struct mp_tensor *const *)b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Tensors [first, m->ntensors) in data order, and no two overlapping. */
static mp_status order_and_check(struct mp_model *m, size_t first,
				 const char *path, struct mp_error *err)
{
	size_t n = m->ntensors - first;
	if (n < 2)
		return MP_OK;
	struct mp_tensor **v = malloc(n * sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < n; i++)
		v[i] = &m->tensors[first + i];
	qsort(v, n, sizeof *v, cmp_placed);
	const struct mp_tensor *last = NULL; /* non-empty one ending furthest */
	mp_status s = MP_OK;
	for (size_t i = 0; i < n && s == MP_OK; i++) {
		const struct mp_tensor *t = v[i];
		if (t->nbytes == 0)
			continue;
		if (last && t->offset < last->offset + last->nbytes) {
			char a[MP_NAME_SHOW + 8], b[MP_NAME_SHOW + 8];
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: tensors '%s' and '%s' overlap in "
					 "the data area",
					 path, mp_printable(last->name, a),
					 mp_printable(t->name, b));
		}
		if (!last || t->offset + t->nbytes > last->offset + last->nbytes)
			last = t;
	}
	/* put v[i] at position i in place, one cycle at a time (a sorted
	 * copy would double the peak for millions of tensors) */
	struct mp_tensor *base = &m->tensors[first];
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		struct mp_tensor hold = base[i];
		size_t at = i;
		while (v[at] != &base[i]) {
			size_t from = (size_t)(v[at] - base);
			base[at] = *v[at];
			v[at] = NULL;
			at = from;
		}
		base[at] = hold;
		v[at] = NULL;
	}
	free(v);
	return s;
}

/* A name twice among tensors [first, m->ntensors): a key twice in the
 * header object. */
static mp_status repeated_name(const struct mp_model *m, size_t first,
			       const char *where, struct mp_error *err)
{
	struct mp_names r = {m->tensors + first, m->ntensors - first,
			     sizeof *m->tensors, offsetof(struct mp_tensor, name)};
	if (r.n < 2)
		return MP_OK;
	size_t *index = mp_names_index(&r), a, b;
	if (!index)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	bool rep = mp_names_repeat(&r, index, &a, &b);
	free(index);
	char nb[MP_NAME_SHOW + 8];
	return rep ? mp_error_set(err, MP_EJSON,
				  "%s: duplicate key '%s' in the object at the "
				  "top level",
				  where, mp_printable(m->tensors[first + b].name, nb))
		   : MP_OK;
}

/* Append the tensor of a validated header entry of the file at fi. */
static mp_status add_entry(struct mp_model *m, int fi, const struct entry *e,
			   uint64_t data_start, struct mp_error *err)
{
	const char *path = m->files[fi].path;
	struct mp_tensor *t;
	mp_status s = mp_model_add_tensor(m, e->name, &t, err);
	if (s != MP_OK)
		return s;
	t->stored = t->logical = e->dt;
	t->quant.kind = MP_QUANT_NONE;
	s = mp_tensor_set_shape(t, e->ndim, e->shape, path, err);
	if (s != MP_OK)
		return s;
	t->file_index = fi;
	t->offset = data_start + e->begin;
	t->nseg = 1;
	t->seg1.data = m->files[fi].data + t->offset;
	t->seg1.len = t->nbytes;
	t->output_last = false;
	return MP_OK;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* End of the JSON value at p: the ',' or closing bracket after it at
 * nesting depth 0, or end (the member parser checks the text itself). */
static const char *value_end(const char *p, const char *end)
{
	int depth = 0;
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return end;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth-- == 0)
				return p;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
	}
	return end;
}

/* The header text [h, h+n) of the mapped file at index fi, read one member
 * at a time so that only one entry's tree is alive: a header of a million
 * entries costs its tensors, not a tree of nodes as well. Tensors are
 * appended in data order. */
static mp_status load_header(struct mp_model *m, int fi, const char *h,
			     size_t n, const char *where, uint64_t data_start,
			     struct mp_error *err)
{
	const char *path = m->files[fi].path;
	uint64_t data_size = m->files[fi].size - data_start;
	const char *p = h, *end = h + n;
	size_t first = m->ntensors;
	bool had_meta = false;
	while (p < end && is_ws(*p))
		p++;
	if (p == end || *p != '{') {
		mp_json *whole;
		mp_status s = mp_json_parse(h, n, where, &whole, err);
		mp_json_free(whole);
		return s != MP_OK ? s
				  : mp_error_set(err, MP_EFORMAT,
						 "%s: header is not a JSON object",
						 path);
	}
	p++;
	mp_status s = MP_OK;
	for (bool more = true, start = true; more && s == MP_OK; start = false) {
		while (p < end && is_ws(*p))
			p++;
		if (start && p < end && *p == '}') { /* {} */
			p++;
			break;
		}
		/* the key: a string, up to the ':' */
		const char *k = p;
		while (k < end && *k != ':') {
			if (*k == '"')
				for (k++; k < end && *k != '"'; k++)
					if (*k == '\\')
						k++;
			k++;
		}
		if (p >= end || *p != '"' || k >= end)
			return mp_error_set(err, MP_EJSON,
					    "%s: invalid JSON near byte %zu",
					    where, (size_t)(p - h));
		mp_json *kj = NULL, *vj = NULL;
		s = mp_json_parse_member(p, (size_t)(k - p), (size_t)(p - h),
					 NULL, where, &kj, err);
		const char *key = mp_json_str(kj);
		if (s == MP_OK && !key)
			s = mp_error_set(err, MP_EJSON,
					 "%s: invalid JSON near byte %zu", where,
					 (size_t)(p - h));
		const char *v = k + 1, *ve = value_end(v, end);
		if (s == MP_OK && (ve >= end || (*ve != ',' && *ve != '}')))
			s = mp_error_set(err, MP_EJSON,
					 "%s: invalid JSON near byte %zu", where,
					 (size_t)(ve - h));
		if (s == MP_OK)
			s = mp_json_parse_member(v, (size_t)(ve - v),
						 (size_t)(v - h), key, where,
						 &vj, err);
		if (s == MP_OK && strcmp(key, "__metadata__") == 0) {
			char nb[MP_NAME_SHOW + 8];
			s = had_meta ? mp_error_set(err, MP_EJSON,
						    "%s: duplicate key '%s' in "
						    "the object at the top level",
						    where, mp_printable(key, nb))
				     : parse_metadata(m, path, vj, err);
			had_meta = true;
		} else if (s == MP_OK) {
			struct entry e = {.name = key};
			s = parse_entry(path, vj, data_size, &e, err);
			if (s == MP_OK)
				s = add_entry(m, fi, &e, data_start, err);
		}
		mp_json_free(vj);
		mp_json_free(kj);
		if (s == MP_OK) {
			more = *ve == ',';
			p = ve + 1;
		}
	}
	while (s == MP_OK && p < end && is_ws(*p))
		p++;
	if (s == MP_OK && p != end)
		s = mp_error_set(err, MP_EJSON, "%s: invalid JSON near byte %zu",
				 where, (size_t)(p - h));
	if (s == MP_OK)
		s = repeated_name(m, first, where, err);
	if (s == MP_OK)
		s = order_and_check(m, first, path, err);
	return s;
}

/* Map one safetensors file (named as `named` says, NULL when the user named it)
 * and append its tensors. */
static mp_status load_file(struct mp_model *m, const char *path,
			   const struct mp_named *named, struct mp_error *err)
{
	int fi;
	mp_status s = mp_model_add_named(m, path, named, &fi, err);
	if (s != MP_OK)
		return s;
	const struct mp_file *f = &m->files[fi];
	if (f->size < 8)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: file of %llu bytes is too short for a "
				    "safetensors header length",
				    path, (unsigned long long)f->size);
	uint8_t len8[8];
	const void *fault;
	if (!mp_mapguard_copy(len8, f->data, 8, &fault))
		return mp_mapguard_error(path, err);
	uint64_t n = le64(len8);
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
	/* parsed from a copy: the parser allocates, and the map may shrink */
	char *text = malloc((size_t)n + 1);
	if (!text)
		s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	else if (!mp_mapguard_copy(text, f->data + 8, (size_t)n, &fault))
		s = mp_mapguard_error(path, err);
	else
		s = load_header(m, fi, text, (size_t)n, where, 8 + n, err);
	free(text);
	free(where);
	mp_file_release(&m->files[fi], 0, 8 + n); /* read once, done with */
	return s;
}

/* Names must be unique across all files of the model. who is the
 * directory the files were listed from (no index), NULL otherwise: there
 * a name in two files means separate models, not shards of one
 * (MP_EMANY). */
static mp_status check_unique(struct mp_model *m, const char *who,
			      struct mp_error *err)
{
	bool rep;
	size_t x, y;
	mp_status s = mp_model_index(m, &rep, &x, &y, err);
	if (s != MP_OK || !rep)
		return s;
	char nb[MP_NAME_SHOW + 8];
	const char *a = m->files[m->tensors[x].file_index].path;
	const char *b = m->files[m->tensors[y].file_index].path;
	if (strcmp(a, b) == 0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s' appears twice", a,
				    mp_printable(m->tensors[y].name, nb));
	if (who)
		return mp_error_set(err, MP_EMANY,
				    "%s: looks like several models, not one "
				    "in shards: tensor '%s' is in both %s and "
				    "%s",
				    who, mp_printable(m->tensors[y].name, nb), a,
				    b);
	return mp_error_set(err, MP_EFORMAT,
			    "%s: tensor '%s' appears in both %s and %s",
			    m->path, mp_printable(m->tensors[y].name, nb), a, b);
}

/* Load paths[0..n); who is the directory they were found in, NULL when the
 * user named the one file. */
static mp_status load_files(struct mp_model *m, const char *const *paths,
			    size_t n, const char *who, struct mp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/');
		struct mp_named nm = {m->dir, who, "shard",
				      slash ? slash + 1 : paths[i]};
		mp_status s = load_file(m, paths[i], who ? &nm : NULL, err);
		if (s != MP_OK)
			return s;
	}
	return check_unique(m, n > 1 ? who : NULL, err);
}

static mp_status index_meta(struct mp_model *m, const char *path,
			    const mp_json *md, struct mp_error *err)
{
	if (!md)
		return MP_OK;
	if (!mp_json_is_object(md))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: \"metadata\" is not an object", path);
	struct known k;
	mp_status s = known_init(&k, m, path, err);
	for (mp_json *c = mp_json_child(md); c && s == MP_OK;
	     c = mp_json_next(c)) {
		char *own = NULL;
		const char *v = mp_json_str(c);
		if (!v)
			v = own = mp_json_print(c, false);
		if (!v)
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 path);
		else if (!known_has(&k, mp_json_key(c)))
			s = mp_model_add_meta(m, mp_json_key(c), v, err);
		free(own);
	}
	free(k.index);
	return s;
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

mp_status mp_index_shards(const char *path, const mp_json *wm,
			  const char ***out, size_t *n, struct mp_error *err)
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
		s = mp_index_shards(path, wm, &shards, &nshards, err);
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
			s = load_file(m, sp,
				      &(struct mp_named){m->dir, path, "shard",
							 shards[i]},
				      err);
		free(sp);
		if (s == MP_OK)
			s = check_weight_map(m, path, wm, shards[i], first,
					     err);
	}
	if (s == MP_OK)
		s = check_unique(m, NULL, err);
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
		return load_files(m, &path, 1, NULL, err);
	}
	bool index = dir_has_file(path, INDEX_NAME);
	if (index || dir_has_file(path, SINGLE_NAME)) {
		char *p = mp_path_join(path, index ? INDEX_NAME : SINGLE_NAME);
		if (!p)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		const char *cp = p;
		mp_status s = mp_path_check_inside(
		    p, -1,
		    &(struct mp_named){m->dir, path, "file",
				       index ? INDEX_NAME : SINGLE_NAME},
		    err);
		if (s == MP_OK)
			s = index ? load_index(m, p, err)
				  : load_files(m, &cp, 1, path, err);
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
		s = load_files(m, (const char *const *)v, n, path, err);
	free_list(v, n);
	return s;
}

const struct mp_format_ops mp_fmt_safetensors = {"safetensors", probe,
						 open_model};
