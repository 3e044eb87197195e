/* registry.c — the models table and fingerprint files of a registry
 * directory; writes (atomic_write.h) under an flock. */
#include "registry.h"
#include "atomic_write.h"

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
 * leading dot. */
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
	free(r->dir);
	free(r);
}

const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id)
{
	for (size_t i = 0; i < r->nmodels; i++)
		if (strcmp(r->models[i].id, id) == 0)
			return &r->models[i];
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

/* Parse models.json text into r (validating everything). */
static mp_status parse_table(struct mp_registry *r, const char *path,
			     const char *text, size_t len, struct mp_error *err)
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
		if (mp_registry_find(&(struct mp_registry){NULL, r->nmodels - 1,
							   r->models},
				     m->id)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: model id '%s' appears twice",
					  path, m->id);
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
		for (size_t k = 0; k < nf; k++) {
			mp_json *f = mp_json_at(fs, k);
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
	return st;
}

/* Read models.json (no locking); a missing file is an empty registry. */
static mp_status read_table(const char *dir, struct mp_registry **out,
			    struct mp_error *err)
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
		st = parse_table(r, path, text, len, err);
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
	mp_status st = read_table(dir, out, err);
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

mp_status mp_registry_add(const char *dir, const struct mp_reg_model *model,
			  const char *want_id, char **id_out,
			  struct mp_error *err)
{
	*id_out = NULL;
	if (want_id && !valid_name(want_id))
		return mp_error_set(err, MP_EINVAL,
				    "invalid model id '%s': use 1 to 64 letters, "
				    "digits, '.', '_' or '-', not starting with "
				    "'.'",
				    want_id);
	mp_status st = mp_mkdir_p(dir, err);
	if (st != MP_OK)
		return st;
	int fd = lock_dir(dir, true, err);
	if (fd < 0)
		return MP_ELOCK;
	struct mp_registry *r;
	st = read_table(dir, &r, err);
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
		unsigned long long next = 1;
		for (size_t i = 0; i < r->nmodels; i++) {
			char *end;
			unsigned long long v = strtoull(r->models[i].id, &end, 10);
			if (*end == '\0' && r->models[i].id[0] != '-' && v >= next)
				next = v + 1;
		}
		snprintf(idbuf, sizeof idbuf, "%llu", next);
		id = idbuf;
	}
	if (st == MP_OK) {
		struct mp_reg_model *nm =
			realloc(r->models, (r->nmodels + 1) * sizeof *nm);
		if (!nm) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		} else {
			r->models = nm;
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

static char *fp_path(const char *dir, const char *id, const char *method)
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
	mp_status st = read_table(dir, &r, err);
	if (st != MP_OK) {
		unlock_dir(fd);
		return st;
	}
	size_t i = 0;
	while (i < r->nmodels && strcmp(r->models[i].id, id) != 0)
		i++;
	if (i == r->nmodels) {
		st = mp_error_set(err, MP_ENOENT, "%s: no model with id '%s'",
				  dir, id);
	} else {
		model_done(&r->models[i]);
		memmove(&r->models[i], &r->models[i + 1],
			(r->nmodels - i - 1) * sizeof *r->models);
		r->nmodels--;
		st = write_table(r, err);
		const char *const *names = mp_method_names();
		for (int k = 0; st == MP_OK && names[k]; k++) {
			char *p = fp_path(dir, id, names[k]);
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
	mp_json *j = mp_fp_to_json(fp);
	char *text = j ? mp_json_print(j, false) : NULL;
	mp_json_free(j);
	char *path = fp_path(dir, id, fp->method);
	if (!text || !path) {
		free(text);
		free(path);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	int fd = lock_dir(dir, true, err);
	if (fd < 0)
		st = MP_ELOCK;
	else
		st = mp_atomic_write(path, text, err);
	unlock_dir(fd);
	free(text);
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
	char *path = fp_path(dir, id, method);
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
