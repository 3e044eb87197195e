/* registry.c — the models table and fingerprint files of a registry
 * directory; writes (atomic_write.h) under an flock. */
#include "registry.h"
#include "atomic_write.h"
#include "escape.h"
#include "json_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODELS "models.json"
#define MAX_TABLE (256ULL << 20)
#define MAX_FP (1ULL << 30)

char *mp_registry_default_dir(void)
{
	const char *e = getenv("MODELPRINT_REGISTRY");
	if (e && *e)
		return mp_strdup(e);
	const char *x = getenv("XDG_DATA_HOME");
	if (x && *x)
		return mp_path_join(x, "modelprint");
	const char *h = getenv("HOME");
	return mp_path_join(h && *h ? h : ".", ".local/share/modelprint");
}

/* Ids and method names become file names: [A-Za-z0-9._-]{1,64}, no
 * leading dot. Ids read from models.json are held to this rule. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* A new id (given with --id) must also not start with '-', so that it
 * cannot be taken for an option on a command line. */
static bool valid_new_id(const char *s)
{
	return valid_name(s) && s[0] != '-';
}

/* Take the registry lock (exclusive or shared); returns the fd or -1. */
static int lock_dir(const char *dir, bool exclusive, struct mp_error *err)
{
	char *p = mp_path_join(dir, ".lock");
	if (!p)
		return mp_error_set(err, MP_ENOMEM, "out of memory"), -1;
	/* never blocks on a FIFO, never follows a planted symlink */
	int fl = O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
	int fd = open(p, O_RDWR | O_CREAT | fl, 0666);
	if (fd < 0 && !exclusive)
		fd = open(p, O_RDONLY | fl);
	if (fd < 0) {
		if (!exclusive && errno == ENOENT) {
			free(p);
			return -2; /* nothing to lock: empty registry */
		}
		mp_error_set(err, errno == EACCES ? MP_EPERM : MP_ELOCK,
			     "%s: cannot open lock: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		mp_error_set(err, MP_ELOCK, "%s: cannot lock: %s", p,
			     strerror(errno));
		close(fd);
		free(p);
		return -1;
	}
	free(p);
	return fd;
}

static void unlock_dir(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static void model_done(struct mp_reg_model *m)
{
	free(m->id);
	free(m->name);
	free(m->family);
	free(m->type);
	free(m->path);
	free(m->format);
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i]);
		free(m->sha256[i]);
	}
	free(m->files);
	free(m->sha256);
}

void mp_registry_free(struct mp_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmodels; i++)
		model_done(&r->models[i]);
	free(r->models);
	free(r->by_id);
	free(r->dir);
	free(r);
}

static int cmp_by_id(const void *a, const void *b, void *ctx)
{
	const struct mp_reg_model *m = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(m[i].id, m[j].id);
	return c ? c : (i > j) - (i < j);
}

/* Build r->by_id: model indices sorted by (id, index). */
static bool index_ids(struct mp_registry *r)
{
	free(r->by_id);
	r->by_id = malloc((r->nmodels + 1) * sizeof *r->by_id);
	if (!r->by_id)
		return false;
	for (size_t i = 0; i < r->nmodels; i++)
		r->by_id[i] = i;
	qsort_r(r->by_id, r->nmodels, sizeof *r->by_id, cmp_by_id, r->models);
	return true;
}

const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id)
{
	if (!r->by_id) {
		for (size_t i = 0; i < r->nmodels; i++)
			if (strcmp(r->models[i].id, id) == 0)
				return &r->models[i];
		return NULL;
	}
	size_t lo = 0, hi = r->nmodels; /* first entry with id >= the key */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->models[r->by_id[mid]].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->nmodels && strcmp(r->models[r->by_id[lo]].id, id) == 0)
		return &r->models[r->by_id[lo]];
	return NULL;
}

static char *str_field(const mp_json *o, const char *k, bool required,
		       bool *bad)
{
	mp_json *v = mp_json_get(o, k);
	if (!v && !required)
		return mp_strdup("");
	const char *s = mp_json_str(v);
	if (!s) {
		*bad = true;
		return NULL;
	}
	return mp_strdup(s);
}

/* After index_ids: an error naming the first id that appears twice,
 * and how to repair the table. */
static mp_status check_duplicates(const struct mp_registry *r,
				  const char *path, struct mp_error *err)
{
	for (size_t k = 1; k < r->nmodels; k++) {
		size_t a = r->by_id[k - 1], b = r->by_id[k];
		const char *id = r->models[b].id;
		if (strcmp(r->models[a].id, id) == 0)
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: model id '%s' appears twice (models[%zu] and "
			    "models[%zu]); repair with 'modelprint registry "
			    "rm %s', which removes every entry with that id, "
			    "then add the model again",
			    path, id, a, b, id);
	}
	return MP_OK;
}

/* Parse models.json text into r (validating everything); a duplicate id
 * is an error unless allow_dup (for mp_registry_remove, which repairs). */
static mp_status parse_table(struct mp_registry *r, const char *path,
			     const char *text, size_t len, bool allow_dup,
			     struct mp_error *err)
{
	mp_json *j;
	mp_status st = mp_json_parse(text, len, path, &j, err);
	if (st != MP_OK)
		return st;
	mp_json *ms = mp_json_get(j, "models");
	if (!mp_json_is_array(ms)) {
		mp_json_free(j);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: \"models\" is not an array", path);
	}
	r->models = calloc(mp_json_size(ms) + 1, sizeof *r->models);
	if (!r->models) {
		mp_json_free(j);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	size_t i = 0;
	for (mp_json *e = mp_json_child(ms); e && st == MP_OK;
	     e = mp_json_next(e), i++) {
		struct mp_reg_model *m = &r->models[r->nmodels++];
		bool bad = !mp_json_is_object(e);
		m->id = str_field(e, "id", true, &bad);
		m->name = str_field(e, "name", false, &bad);
		m->family = str_field(e, "family", false, &bad);
		m->type = str_field(e, "type", false, &bad);
		m->path = str_field(e, "path", true, &bad);
		m->format = str_field(e, "format", false, &bad);
		if (bad || !m->id || !valid_name(m->id)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: models[%zu]: needs string fields "
					  "id (letters, digits, . _ -), path and "
					  "optional name, family, type, format",
					  path, i);
			break;
		}
		mp_json *fs = mp_json_get(e, "files");
		size_t nf = mp_json_size(fs);
		if (fs && !mp_json_is_array(fs)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: model '%s': files is not an array",
					  path, m->id);
			break;
		}
		m->files = calloc(nf + 1, sizeof *m->files);
		m->sha256 = calloc(nf + 1, sizeof *m->sha256);
		if (!m->files || !m->sha256) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
			break;
		}
		mp_json *f = mp_json_child(fs);
		for (size_t k = 0; k < nf; k++, f = mp_json_next(f)) {
			const char *p = mp_json_str(mp_json_get(f, "path"));
			const char *h = mp_json_str(mp_json_get(f, "sha256"));
			if (!p || !h) {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: model '%s': files[%zu] "
						  "needs path and sha256",
						  path, m->id, k);
				break;
			}
			m->files[k] = mp_strdup(p);
			m->sha256[k] = mp_strdup(h);
			m->nfiles++;
		}
	}
	mp_json_free(j);
	if (st == MP_OK && !index_ids(r))
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	if (st == MP_OK && !allow_dup)
		st = check_duplicates(r, path, err);
	return st;
}

/* Read models.json (no locking); a missing file is an empty registry. */
static mp_status read_table(const char *dir, bool allow_dup,
			    struct mp_registry **out, struct mp_error *err)
{
	*out = NULL;
	struct mp_registry *r = calloc(1, sizeof *r);
	if (!r || !(r->dir = mp_strdup(dir))) {
		free(r);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	char *path = mp_path_join(dir, MODELS);
	char *text = NULL;
	size_t len;
	mp_status st = path ? mp_read_text(path, MAX_TABLE, &text, &len, err)
			    : mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_ENOENT)
		st = MP_OK;
	else if (st == MP_OK)
		st = parse_table(r, path, text, len, allow_dup, err);
	free(text);
	free(path);
	if (st != MP_OK) {
		mp_registry_free(r);
		return st;
	}
	*out = r;
	return MP_OK;
}

mp_status mp_registry_load(const char *dir, struct mp_registry **out,
			   struct mp_error *err)
{
	int fd = lock_dir(dir, false, err);
	if (fd == -1)
		return MP_ELOCK;
	mp_status st = read_table(dir, false, out, err);
	unlock_dir(fd);
	return st;
}

static mp_status write_table(const struct mp_registry *r, struct mp_error *err)
{
	mp_json *root = mp_json_object();
	mp_json_add_num(root, "version", 1);
	mp_json *ms = mp_json_add_arr(root, "models");
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct mp_reg_model *m = &r->models[i];
		mp_json *o = mp_json_object();
		mp_json_add_str(o, "id", m->id);
		mp_json_add_str(o, "name", m->name ? m->name : "");
		mp_json_add_str(o, "family", m->family ? m->family : "");
		mp_json_add_str(o, "type", m->type ? m->type : "");
		mp_json_add_str(o, "path", m->path ? m->path : "");
		mp_json_add_str(o, "format", m->format ? m->format : "");
		mp_json *fs = mp_json_add_arr(o, "files");
		for (size_t k = 0; k < m->nfiles; k++) {
			mp_json *f = mp_json_object();
			mp_json_add_str(f, "path", m->files[k]);
			mp_json_add_str(f, "sha256", m->sha256[k]);
			mp_json_push(fs, f);
		}
		mp_json_push(ms, o);
	}
	char *text = mp_json_print(root, true);
	mp_json_free(root);
	char *path = mp_path_join(r->dir, MODELS);
	mp_status st = text && path ? mp_atomic_write(path, text, err)
				    : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(text);
	free(path);
	return st;
}

static bool copy_model(struct mp_reg_model *d, const struct mp_reg_model *s,
		       const char *id)
{
	memset(d, 0, sizeof *d);
	d->id = mp_strdup(id);
	d->name = mp_strdup(s->name ? s->name : "");
	d->family = mp_strdup(s->family ? s->family : "");
	d->type = mp_strdup(s->type ? s->type : "");
	d->path = mp_strdup(s->path ? s->path : "");
	d->format = mp_strdup(s->format ? s->format : "");
	d->files = calloc(s->nfiles + 1, sizeof *d->files);
	d->sha256 = calloc(s->nfiles + 1, sizeof *d->sha256);
	if (!d->id || !d->name || !d->family || !d->type || !d->path ||
	    !d->format || !d->files || !d->sha256)
		return false;
	for (size_t k = 0; k < s->nfiles; k++) {
		d->files[k] = mp_strdup(s->files[k]);
		d->sha256[k] = mp_strdup(s->sha256[k] ? s->sha256[k] : "");
		d->nfiles++;
		if (!d->files[k] || !d->sha256[k])
			return false;
	}
	return true;
}

mp_status mp_registry_check_writable(const char *dir, struct mp_error *err)
{
	return mp_dir_prepare(dir, "registry", err);
}

/* The first text of m that is not valid UTF-8 (what it is in *what), or
 * NULL: models.json is JSON, such text would be stored changed and a path
 * would no longer name the model. */
static const char *not_utf8(const struct mp_reg_model *m, const char **what)
{
	const char *text[] = {m->name, m->family, m->type, m->path};
	static const char *const label[] = {"name", "family", "type", "path"};
	for (size_t i = 0; i < 4; i++)
		if (text[i] && !mp_utf8_valid(text[i]))
			return *what = label[i], text[i];
	for (size_t i = 0; i < m->nfiles; i++)
		if (!mp_utf8_valid(m->files[i]))
			return *what = "file", m->files[i];
	return NULL;
}

/* Automatic ids are decimal numbers of at most 19 digits (below 10^19, so
 * no overflow): one more than the largest such id, or when that would take
 * 20 digits the smallest positive number not in use. Ids of other shapes
 * (names, longer numbers) are never produced, so they cannot collide. */
#define AUTO_ID_DIGITS 19

/* The value of an automatic-shaped id; false for any other id. */
static bool auto_id_value(const char *id, uint64_t *v)
{
	size_t n = strspn(id, "0123456789");
	if (n == 0 || n > AUTO_ID_DIGITS || id[n] != '\0')
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (uint64_t)(id[i] - '0');
	return true;
}

static mp_status next_id(const struct mp_registry *r, char buf[32],
			 struct mp_error *err)
{
	const uint64_t limit = 9999999999999999999ULL; /* 10^19 - 1 */
	uint64_t max = 0, v;
	for (size_t i = 0; i < r->nmodels; i++)
		if (auto_id_value(r->models[i].id, &v) && v > max)
			max = v;
	if (max < limit) {
		snprintf(buf, 32, "%llu", (unsigned long long)(max + 1));
		return MP_OK;
	}
	/* Among n ids some number in 1..n+1 is free. */
	size_t n = r->nmodels;
	bool *used = calloc(n + 2, sizeof *used);
	if (!used)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (auto_id_value(r->models[i].id, &v) && v <= n + 1)
			used[v] = true;
	size_t k = 1;
	while (used[k])
		k++;
	free(used);
	snprintf(buf, 32, "%zu", k);
	if (mp_registry_find(r, buf)) /* cannot happen: k's digits mark k */
		return mp_error_set(err, MP_EINVAL,
				    "%s: no free automatic id; give one with "
				    "--id",
				    r->dir);
	return MP_OK;
}

mp_status mp_registry_add(const char *dir, const struct mp_reg_model *model,
			  const char *want_id, char **id_out,
			  struct mp_error *err)
{
	*id_out = NULL;
	char show[MP_NAME_SHOW + 8];
	if (want_id && !valid_new_id(want_id))
		return mp_error_set(err, MP_EINVAL,
				    "invalid model id '%s': use 1 to 64 letters, "
				    "digits, '.', '_' or '-', not starting with "
				    "'.' or '-'",
				    mp_printable(want_id, show));
	const char *what, *bad = not_utf8(model, &what);
	if (bad) {
		char nb[MP_NAME_SHOW + 8];
		return mp_error_set(
		    err, MP_EINVAL,
		    "%s: the model's %s '%s' is not valid UTF-8 "
		    "and cannot be stored in the registry",
		    dir, what, mp_printable(bad, nb));
	}
	mp_status st = mp_mkdir_p(dir, err);
	if (st != MP_OK)
		return st;
	int fd = lock_dir(dir, true, err);
	if (fd < 0)
		return MP_ELOCK;
	struct mp_registry *r;
	st = read_table(dir, false, &r, err);
	if (st != MP_OK) {
		unlock_dir(fd);
		return st;
	}
	char idbuf[32];
	const char *id = want_id;
	if (id && mp_registry_find(r, id)) {
		st = mp_error_set(err, MP_EINVAL,
				  "%s: model id '%s' already exists", dir, id);
	} else if (!id) {
		st = next_id(r, idbuf, err);
		id = idbuf;
	}
	if (st == MP_OK) {
		struct mp_reg_model *nm =
			realloc(r->models, (r->nmodels + 1) * sizeof *nm);
		if (!nm) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		} else {
			r->models = nm;
			free(r->by_id); /* stale once the table grows */
			r->by_id = NULL;
			bool ok = copy_model(&nm[r->nmodels], model, id);
			r->nmodels++;
			st = ok ? write_table(r, err)
				: mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	}
	if (st == MP_OK && !(*id_out = mp_strdup(id)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_registry_free(r);
	unlock_dir(fd);
	return st;
}

char *mp_registry_fp_path(const char *dir, const char *id, const char *method)
{
	size_t n = strlen(dir) + strlen(id) + strlen(method) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/fingerprints/%s.%s.json", dir, id, method);
	return p;
}

mp_status mp_registry_remove(const char *dir, const char *id,
			     struct mp_error *err)
{
	int fd = lock_dir(dir, true, err);
	if (fd < 0)
		return MP_ELOCK;
	struct mp_registry *r;
	mp_status st = read_table(dir, true, &r, err);
	if (st != MP_OK) {
		unlock_dir(fd);
		return st;
	}
	/* Every entry with the id goes, so that rm repairs a table in which
	 * an id appears twice. */
	size_t kept = 0;
	for (size_t i = 0; i < r->nmodels; i++) {
		if (strcmp(r->models[i].id, id) == 0)
			model_done(&r->models[i]);
		else
			r->models[kept++] = r->models[i];
	}
	if (kept == r->nmodels) {
		char show[MP_NAME_SHOW + 8];
		st = mp_error_set(err, MP_ENOENT, "%s: no model with id '%s'",
				  dir, mp_printable(id, show));
	} else {
		r->nmodels = kept;
		st = write_table(r, err);
		const char *const *names = mp_method_names();
		for (int k = 0; st == MP_OK && names[k]; k++) {
			char *p = mp_registry_fp_path(dir, id, names[k]);
			if (p)
				unlink(p);
			free(p);
		}
	}
	mp_registry_free(r);
	unlock_dir(fd);
	return st;
}

mp_status mp_registry_put_fp(const char *dir, const char *id,
			     const struct mp_fingerprint *fp,
			     struct mp_error *err)
{
	if (!valid_name(id) || !valid_name(fp->method))
		return mp_error_set(err, MP_EINVAL, "invalid id or method name");
	char *sub = mp_path_join(dir, "fingerprints");
	mp_status st = sub ? mp_mkdir_p(sub, err)
			   : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(sub);
	if (st != MP_OK)
		return st;
	char *path = mp_registry_fp_path(dir, id, fp->method);
	if (!path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	int fd = lock_dir(dir, true, err);
	struct mp_atomic a = {0};
	if (fd < 0)
		st = MP_ELOCK;
	else
		st = mp_atomic_open(&a, path, err);
	if (st == MP_OK) {
		/* streamed: no tree of the whole fingerprint in memory */
		struct mp_jw *w = mp_jw_new(a.fp, false);
		bool ok = w && mp_fp_write_json(w, NULL, fp);
		if (!mp_jw_free(w) || !ok) {
			mp_atomic_abort(&a);
			st = mp_error_set(err, MP_EIO, "%s: cannot write", path);
		} else {
			st = mp_atomic_commit(&a, err);
		}
	}
	unlock_dir(fd);
	free(path);
	return st;
}

mp_status mp_registry_get_fp(const char *dir, const char *id,
			     const char *method, struct mp_fingerprint **out,
			     struct mp_error *err)
{
	*out = NULL;
	if (!valid_name(id) || !valid_name(method))
		return mp_error_set(err, MP_EINVAL, "invalid id or method name");
	char *path = mp_registry_fp_path(dir, id, method);
	if (!path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_json *j;
	int fd = lock_dir(dir, false, err);
	mp_status st = fd == -1 ? MP_ELOCK : mp_json_load(path, MAX_FP, &j, err);
	unlock_dir(fd);
	if (st == MP_OK) {
		st = mp_fp_from_json(j, path, out, err);
		mp_json_free(j);
	}
	free(path);
	return st;
}
