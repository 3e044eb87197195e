/* fmt_torch.c — PyTorch checkpoints ("pytorch"): the containers, read
 * through the restricted pickle reader (pickle.h) with the globals of
 * mp_torch_allowed; torch_rebuild.c turns the pickle into tensors.
 *
 * - zip archives written by torch.save: PREFIX/data.pkl, the storages as
 *   PREFIX/data/KEY (stored members read in place, deflated ones inflated
 *   into buffers the model owns), PREFIX/byteorder "little" when present;
 * - the legacy format (torch.save with _use_new_zipfile_serialization=
 *   False): the magic-number pickle, the protocol, the system info (only
 *   little-endian), the main pickle, the storage key list, then per key
 *   an int64 element count and the raw elements;
 * - plain pickles holding tensors whose storages are
 *   torch.storage._load_from_bytes(b"...") (each a legacy torch.save);
 * - sharded checkpoints: pytorch_model.bin.index.json and its weight_map,
 *   each shard opened inside the index's directory.
 * A file holding one tensor gives one tensor named after the file without
 * its extension. */
#include "json.h"
#include "torch_int.h"
#include "zip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "pytorch_model.bin.index.json"
#define SINGLE_NAME "pytorch_model.bin"
#define INDEX_MAX (64u << 20)

static const char *const exts[] = {".pt",     ".pth", ".ckpt", ".pkl",
				   ".pickle", ".zip", NULL};

/* A zip archive, the legacy magic, or a pickle of protocol 2 to 5 whose
 * first opcode builds a container or names a global (a .bin may be a TF.js
 * shard: raw numbers). */
static bool sniff(const char *path)
{
	uint8_t b[16] = {0};
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = fread(b, 1, sizeof b, f);
	fclose(f);
	if (n >= 4 && !memcmp(b, "PK\x03\x04", 4))
		return true;
	if (n < 3 || b[0] != 0x80 || b[1] < 2 || b[1] > 5)
		return false;
	return mp_torch_is_legacy(b, n) || (b[2] && strchr("}](c", b[2])) ||
	       b[2] == 0x95 || b[2] == 0x8c;
}

static bool has_file(const char *dir, const char *name)
{
	char *p = mp_path_join(dir, name);
	struct stat st;
	bool ok = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

static bool probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	if (S_ISDIR(st.st_mode))
		return has_file(path, INDEX_NAME) ||
		       has_file(path, SINGLE_NAME);
	if (!S_ISREG(st.st_mode))
		return false;
	if (mp_ends_with(path, ".bin.index.json"))
		return true;
	for (int i = 0; exts[i]; i++)
		if (mp_ends_with(path, exts[i]))
			return true;
	return sniff(path);
}

/* --- the legacy format ------------------------------------------------ */

uint64_t mp_torch_is_legacy(const uint8_t *b, uint64_t n)
{
	/* pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2..5) */
	static const uint8_t magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
					0x46, 0xf9, 0x20, 0x6a, 0xa8,
					0x50, 0x19, '.'};
	if (n < 2 || b[0] != 0x80 || b[1] < 2 || b[1] > 5)
		return 0;
	uint64_t p = 2;
	if (n > 11 && b[2] == 0x95)
		p = 11; /* FRAME and its length */
	if (n < p + sizeof magic || memcmp(b + p, magic, sizeof magic))
		return 0;
	return p + sizeof magic;
}

void mp_torch_legacy_free(struct tlegacy *L)
{
	mp_pk_free(L->root);
	mp_pk_free(L->keys);
	free(L->st);
	free(L->stkey);
	free(L->order);
	memset(L, 0, sizeof *L);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct tkpos *)a)->key,
		      ((const struct tkpos *)b)->key);
}

/* The position of key among L's storages, or L->nst. */
static size_t find_key(const struct tlegacy *L, const char *key)
{
	size_t lo = 0, hi = L->nst;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(L->order[mid].key, key);
		if (c == 0)
			return L->order[mid].i;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return L->nst;
}

/* The dtype of every storage key the persistent ids under v name. */
static mp_status scan_pids(const struct mp_pk *v, const char *where,
			   struct tlegacy *L, uint64_t *visits,
			   struct mp_error *err)
{
	if (++*visits > (1u << 22))
		return mp_error_set(err, MP_ERANGE,
				    "%s: the pickle's values are reached too "
				    "many times (shared values nested too "
				    "often)",
				    where);
	if (v->kind == MP_PK_PERSID) {
		struct tpid p;
		mp_status s = mp_torch_pid(where, v, &p, err);
		if (s != MP_OK)
			return s;
		size_t i = find_key(L, p.key);
		if (i < L->nst)
			L->st[i].dt = p.dt;
		return MP_OK;
	}
	const struct mp_pk *sub[3] = {v->fn, v->args, v->state};
	for (size_t i = 0; i < v->n; i++) {
		mp_status s = scan_pids(v->items[i], where, L, visits, err);
		if (s != MP_OK)
			return s;
	}
	for (int i = 0; i < 3; i++)
		if (sub[i]) {
			mp_status s = scan_pids(sub[i], where, L, visits, err);
			if (s != MP_OK)
				return s;
		}
	return MP_OK;
}

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

mp_status mp_torch_legacy(const uint8_t *b, uint64_t n, const char *where,
			  struct tlegacy *L, struct mp_error *err)
{
	memset(L, 0, sizeof *L);
	uint64_t pos = mp_torch_is_legacy(b, n);
	if (!pos)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a legacy torch.save file (no "
				    "magic number)",
				    where);
	size_t used = 0;
	struct mp_pk *v = NULL;
	mp_status s = mp_pickle_parse_prefix(b + pos, n - pos, where,
					     mp_torch_allowed, &v, &used, err);
	if (s == MP_OK && (v->kind != MP_PK_INT || v->i != 1001))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: unsupported legacy protocol version "
				 "(want 1001)",
				 where);
	mp_pk_free(v);
	v = NULL;
	pos += used;
	if (s == MP_OK)
		s = mp_pickle_parse_prefix(b + pos, n - pos, where,
					   mp_torch_allowed, &v, &used, err);
	if (s == MP_OK) {
		const struct mp_pk *le = mp_pk_get(v, "little_endian");
		if (!le || le->kind != MP_PK_BOOL)
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: the system info has no "
					 "little_endian flag",
					 where);
		else if (!le->i)
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: written on a big-endian machine, "
					 "which is not supported",
					 where);
	}
	mp_pk_free(v);
	pos += used;
	if (s == MP_OK)
		s = mp_pickle_parse_prefix(b + pos, n - pos, where,
					   mp_torch_allowed, &L->root, &used,
					   err);
	pos += used;
	if (s == MP_OK)
		s = mp_pickle_parse_prefix(b + pos, n - pos, where,
					   mp_torch_allowed, &L->keys, &used,
					   err);
	pos += used;
	if (s != MP_OK)
		return s;
	const struct mp_pk *k = L->keys;
	if (k->kind != MP_PK_LIST)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: the storage key list is not a list",
				    where);
	L->nst = k->n;
	L->st = calloc(k->n ? k->n : 1, sizeof *L->st);
	L->stkey = calloc(k->n ? k->n : 1, sizeof *L->stkey);
	L->order = calloc(k->n ? k->n : 1, sizeof *L->order);
	if (!L->st || !L->stkey || !L->order)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	for (size_t i = 0; i < k->n; i++) {
		if (k->items[i]->kind != MP_PK_STR)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: storage key %zu is not a "
					    "string",
					    where, i);
		L->stkey[i] = k->items[i]->s;
		L->st[i].dt = MP_DTYPE_COUNT;
		L->order[i] = (struct tkpos){L->stkey[i], i};
	}
	qsort(L->order, L->nst, sizeof *L->order, cmp_key);
	uint64_t visits = 0;
	s = scan_pids(L->root, where, L, &visits, err);
	char kb[MP_NAME_SHOW + 8];
	for (size_t i = 0; i < L->nst && s == MP_OK; i++) {
		const char *key = L->stkey[i];
		if (L->st[i].dt == MP_DTYPE_COUNT)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: storage '%s' is in the key "
					    "list but no tensor gives its type",
					    where, mp_printable(key, kb));
		uint64_t cnt, nb;
		if (n - pos < 8)
			return mp_error_set(err, MP_ETRUNC,
					    "%s: truncated: storage '%s' "
					    "(%zu of %zu) is missing",
					    where, mp_printable(key, kb), i + 1,
					    L->nst);
		cnt = le64(b + pos);
		pos += 8;
		if (!mp_mul_u64(cnt, mp_dtype_size(L->st[i].dt), &nb) ||
		    nb > n - pos)
			return mp_error_set(err, MP_ETRUNC,
					    "%s: truncated: storage '%s' needs "
					    "%" PRIu64 " elements of %u bytes "
					    "but %" PRIu64 " bytes remain",
					    where, mp_printable(key, kb), cnt,
					    mp_dtype_size(L->st[i].dt),
					    n - pos);
		L->st[i].data = b + pos;
		L->st[i].nbytes = nb;
		pos += nb;
	}
	return s;
}

mp_status mp_torch_legacy_find(const struct tlegacy *L, const struct tpid *p,
			       const char *where, struct tstore *out,
			       struct mp_error *err)
{
	size_t i = find_key(L, p->key);
	if (i < L->nst) {
		*out = L->st[i];
		return MP_OK;
	}
	char kb[MP_NAME_SHOW + 8];
	return mp_error_set(err, MP_EFORMAT,
			    "%s: storage '%s' is not in the file's storage "
			    "key list",
			    where, mp_printable(p->key, kb));
}

static mp_status legacy_resolve(struct tctx *c, const struct tpid *p,
				struct tstore *out, struct mp_error *err)
{
	return mp_torch_legacy_find(c->arg, p, c->where, out, err);
}

static mp_status plain_resolve(struct tctx *c, const struct tpid *p,
			       struct tstore *out, struct mp_error *err)
{
	(void)out;
	char kb[MP_NAME_SHOW + 8];
	return mp_error_set(err, MP_EFORMAT,
			    "%s: storage '%s' is named by a persistent id, "
			    "but a plain pickle holds no storages",
			    c->where, mp_printable(p->key, kb));
}

/* --- the zip archive -------------------------------------------------- */

struct tzip {
	struct mp_zip z;
	char *prefix; /* "archive/" */
};

static mp_status zip_resolve(struct tctx *c, const struct tpid *p,
			     struct tstore *out, struct mp_error *err)
{
	struct tzip *tz = c->arg;
	char kb[MP_NAME_SHOW + 8];
	size_t nl = strlen(tz->prefix) + strlen(p->key) + 8;
	char *name = malloc(nl);
	if (!name)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    c->where);
	snprintf(name, nl, "%sdata/%s", tz->prefix, p->key);
	struct mp_zip_entry *e = mp_zip_find(&tz->z, name);
	mp_status s = MP_OK;
	if (!e)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: storage '%s' is missing from the archive "
				 "(no member %sdata/%s)",
				 c->where, mp_printable(p->key, kb), tz->prefix,
				 kb);
	size_t wl = strlen(c->where) + MP_NAME_SHOW + 32;
	char *where = s == MP_OK ? malloc(wl) : NULL;
	if (s == MP_OK && !where)
		s = mp_error_set(err, MP_ENOMEM, "%s: out of memory", c->where);
	if (s == MP_OK) {
		snprintf(where, wl, "%s: member '%s'", c->where,
			 mp_printable(name, kb));
		s = mp_zip_check(&tz->z, e, where, err);
	}
	if (s == MP_OK)
		s = mp_zip_read(c->m, &tz->z, e, c->budget, &out->data, where,
				err);
	if (s == MP_OK)
		out->nbytes = e->ulen;
	free(where);
	free(name);
	return s;
}

/* The member PREFIX/data.pkl of z: its prefix into tz->prefix. */
static mp_status find_pickle(struct tzip *tz, const char *path,
			     struct mp_zip_entry **out, struct mp_error *err)
{
	struct mp_zip_entry *found = NULL;
	for (size_t i = 0; i < tz->z.n; i++) {
		struct mp_zip_entry *e = &tz->z.e[i];
		const char *nm = e->name;
		size_t l = strlen(nm);
		if (l != e->name_len || !mp_ends_with(nm, "data.pkl") ||
		    (l > 8 && nm[l - 9] != '/'))
			continue;
		/* only PREFIX/data.pkl with one directory level, or data.pkl */
		const char *sl = strchr(nm, '/');
		if (sl && sl != nm + l - 9)
			continue;
		if (found)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: two data.pkl members", path);
		found = e;
	}
	if (!found)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a zip archive without a data.pkl "
				    "member (not a torch.save archive)",
				    path);
	tz->prefix = mp_strdup(found->name);
	if (!tz->prefix)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	tz->prefix[found->name_len - 8] = '\0';
	*out = found;
	return MP_OK;
}

/* Parse the main pickle of archive f (opened into tz) into *root, its
 * member into *ep; the pickle's bytes are owned by c->m. */
static mp_status zip_tree(struct tctx *c, const struct mp_file *f,
			  struct tzip *tz, struct mp_zip_entry **ep,
			  struct mp_pk **root, struct mp_error *err)
{
	struct mp_zip_entry *e = NULL;
	const uint8_t *pk = NULL;
	mp_status s = mp_zip_open(f, &tz->z, err);
	if (s == MP_OK)
		s = find_pickle(tz, f->path, &e, err);
	char where[MP_NAME_SHOW * 2 + 64], nb[MP_NAME_SHOW + 8];
	if (s == MP_OK) {
		snprintf(where, sizeof where, "%s: member '%s'", f->path,
			 mp_printable(e->name, nb));
		s = mp_zip_check(&tz->z, e, where, err);
	}
	if (s == MP_OK)
		s = mp_zip_read(c->m, &tz->z, e, c->budget, &pk, where, err);
	if (s == MP_OK) {
		char bo[64];
		snprintf(bo, sizeof bo, "%.40sbyteorder", tz->prefix);
		struct mp_zip_entry *b = mp_zip_find(&tz->z, bo);
		const uint8_t *bd = NULL;
		if (b)
			s = mp_zip_check(&tz->z, b, where, err);
		if (b && s == MP_OK)
			s = mp_zip_read(c->m, &tz->z, b, c->budget, &bd, where,
					err);
		if (b && s == MP_OK &&
		    (b->ulen != 6 || memcmp(bd, "little", 6)))
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: byteorder is not \"little\" "
					 "(big-endian archives are not "
					 "supported)",
					 f->path);
	}
	if (s == MP_OK)
		s = mp_pickle_parse(pk, e->ulen, f->path, mp_torch_allowed,
				    root, err);
	*ep = e;
	return s;
}

static mp_status load_zip(struct tctx *c, const struct mp_file *f,
			  struct mp_error *err)
{
	struct tzip tz = {.prefix = NULL};
	struct mp_zip_entry *e = NULL;
	struct mp_pk *root = NULL;
	mp_status s = zip_tree(c, f, &tz, &e, &root, err);
	if (s == MP_OK) {
		c->resolve = zip_resolve;
		c->arg = &tz;
		s = mp_torch_tensors(c, root, err);
	}
	mp_pk_free(root);
	free(tz.prefix);
	mp_zip_free(&tz.z);
	return s;
}

/* --- files and the index ---------------------------------------------- */

/* Load the mapped file fi of m (zip, legacy or plain pickle). */
static mp_status load_file(struct mp_model *m, int fi, uint64_t *budget,
			   struct mp_error *err)
{
	const struct mp_file *f = &m->files[fi];
	const char *slash = strrchr(f->path, '/');
	char *single = mp_strdup(slash ? slash + 1 : f->path);
	if (!single)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    f->path);
	char *dot = strrchr(single, '.');
	if (dot && dot != single)
		*dot = '\0';
	struct tctx c = {.m = m,
			 .where = f->path,
			 .file_index = fi,
			 .budget = budget,
			 .single = single};
	mp_status s;
	if (f->size == 0) {
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: empty file (not a PyTorch checkpoint)",
				 f->path);
	} else if (f->size >= 4 && !memcmp(f->data, "PK\x03\x04", 4)) {
		s = load_zip(&c, f, err);
	} else if (mp_torch_is_legacy(f->data, f->size)) {
		struct tlegacy L;
		s = mp_torch_legacy(f->data, f->size, f->path, &L, err);
		c.resolve = legacy_resolve;
		c.arg = &L;
		if (s == MP_OK)
			s = mp_torch_tensors(&c, L.root, err);
		mp_torch_legacy_free(&L);
	} else {
		struct mp_pk *root = NULL;
		s = mp_pickle_parse(f->data, f->size, f->path, mp_torch_allowed,
				    &root, err);
		c.resolve = plain_resolve;
		if (s == MP_OK)
			s = mp_torch_tensors(&c, root, err);
		mp_pk_free(root);
	}
	free(single);
	return s;
}

static mp_status load_index(struct mp_model *m, const char *path,
			    uint64_t *budget, struct mp_error *err)
{
	mp_json *idx;
	mp_status s = mp_json_load(path, INDEX_MAX, &idx, err);
	if (s != MP_OK)
		return s;
	const mp_json *wm = mp_json_get(idx, "weight_map");
	const char **shards = NULL;
	size_t nshards = 0;
	if (!mp_json_is_object(idx) || !mp_json_is_object(wm) ||
	    mp_json_size(wm) == 0)
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: missing or empty \"weight_map\" object",
				 path);
	if (s == MP_OK)
		s = mp_index_shards(path, wm, &shards, &nshards, err);
	for (size_t i = 0; i < nshards && s == MP_OK; i++) {
		char *sp = mp_path_join(m->dir, shards[i]);
		char nb[MP_NAME_SHOW + 8];
		int fi;
		if (!sp)
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 path);
		else if (access(sp, F_OK) != 0)
			s = mp_error_set(err, MP_ENOENT,
					 "%s: shard '%s' listed in weight_map "
					 "is missing",
					 path, mp_printable(shards[i], nb));
		else
			s = mp_model_add_named(m, sp,
					       &(struct mp_named){m->dir, path,
								  "shard",
								  shards[i]},
					       &fi, err);
		if (s == MP_OK)
			s = load_file(m, fi, budget, err);
		free(sp);
	}
	bool rep = false;
	size_t a, b;
	if (s == MP_OK)
		s = mp_model_index(m, &rep, &a, &b, err);
	for (mp_json *e = s == MP_OK ? mp_json_child(wm) : NULL; e;
	     e = mp_json_next(e)) {
		char nb[MP_NAME_SHOW + 8];
		if (!mp_model_find(m, mp_json_key(e))) {
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: weight_map tensor '%s' is in "
					 "none of the shards",
					 path,
					 mp_printable(mp_json_key(e), nb));
			break;
		}
	}
	free(shards);
	mp_json_free(idx);
	return s;
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	struct stat st;
	uint64_t budget = TORCH_OWNED_MAX;
	mp_status s = MP_OK;
	if (stat(path, &st) != 0)
		return mp_error_set(err, MP_ENOENT,
				    "%s: no such file or directory", path);
	char *own = NULL;
	if (S_ISDIR(st.st_mode)) {
		own = mp_path_join(path, has_file(path, INDEX_NAME)
					     ? INDEX_NAME
					     : SINGLE_NAME);
		if (!own)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		path = own;
	}
	if (mp_ends_with(path, ".index.json")) {
		s = load_index(m, path, &budget, err);
	} else {
		int fi;
		s = mp_model_add_file(m, path, &fi, err);
		if (s == MP_OK)
			s = load_file(m, fi, &budget, err);
	}
	bool rep = false;
	size_t a, b;
	if (s == MP_OK)
		s = mp_model_index(m, &rep, &a, &b, err);
	if (s == MP_OK && rep) {
		char nb[MP_NAME_SHOW + 8];
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: tensor '%s' is stored twice", path,
				 mp_printable(m->tensors[b].name, nb));
	}
	free(own);
	return s;
}

mp_status mp_torch_open_tree(const char *path, struct mp_model **out,
			     struct mp_pk **root, struct mp_error *err)
{
	*out = NULL;
	*root = NULL;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, err);
	if (s == MP_OK &&
	    (strcmp(m->format, mp_fmt_torch.name) || m->nfiles != 1))
		s = mp_error_set(err, MP_EFORMAT,
				 "%s: not a single-file PyTorch checkpoint or "
				 "pickle (it reads as %s)",
				 path, m->format);
	if (s != MP_OK) {
		mp_model_free(m);
		return s;
	}
	const struct mp_file *f = &m->files[0];
	uint64_t budget = TORCH_OWNED_MAX;
	struct tctx c = {.m = m, .where = f->path, .budget = &budget};
	if (f->size >= 4 && !memcmp(f->data, "PK\x03\x04", 4)) {
		struct tzip tz = {.prefix = NULL};
		struct mp_zip_entry *e = NULL;
		s = zip_tree(&c, f, &tz, &e, root, err);
		free(tz.prefix);
		mp_zip_free(&tz.z);
	} else if (mp_torch_is_legacy(f->data, f->size)) {
		struct tlegacy L;
		s = mp_torch_legacy(f->data, f->size, f->path, &L, err);
		if (s == MP_OK) {
			*root = L.root;
			L.root = NULL;
		}
		mp_torch_legacy_free(&L);
	} else {
		s = mp_pickle_parse(f->data, f->size, f->path, mp_torch_allowed,
				    root, err);
	}
	if (s != MP_OK) {
		mp_pk_free(*root);
		*root = NULL;
		mp_model_free(m);
	} else {
		*out = m;
	}
	return s;
}

const struct mp_format_ops mp_fmt_torch = {"pytorch", probe, open_model};
