/* ident_registry.c — identify's references from a registry: every model
 * with a `tensors` fingerprint, or the candidates of the registry's
 * locality-sensitive index when it is large (identify.h). */
#include "identify.h"
#include "registry.h"

#include <stdlib.h>
#include <string.h>

void mp_ident_refset_free(struct mp_ident_refset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		mp_fp_free(s->fps[i]);
	for (size_t i = 0; i < s->nstrs; i++)
		free(s->strs[i]);
	free(s->refs);
	free(s->fps);
	free(s->strs);
	free(s);
}

static const char *keep(struct mp_ident_refset *s, const char *str)
{
	char *d = mp_strdup(str ? str : "");
	if (!d)
		return NULL;
	s->strs[s->nstrs++] = d;
	return d;
}

/* Add model m with its fingerprint fp (owned from then on). */
static mp_status add(struct mp_ident_refset *s, const struct mp_reg_model *m,
		     struct mp_fingerprint *fp, struct mp_error *err)
{
	const char *id = keep(s, m->id), *name = keep(s, m->name),
		   *path = keep(s, m->path);
	if (!id || !name || !path) {
		mp_fp_free(fp);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	s->fps[s->n] = fp;
	s->refs[s->n++] = (struct mp_ident_ref){id, name, path, fp};
	return MP_OK;
}

static mp_status alloc(struct mp_ident_refset *s, size_t n,
		       struct mp_error *err)
{
	n = n ? n : 1;
	s->refs = calloc(n, sizeof *s->refs);
	s->fps = calloc(n, sizeof *s->fps);
	s->strs = calloc(3 * n, sizeof *s->strs);
	return s->refs && s->fps && s->strs
		   ? MP_OK
		   : mp_error_set(err, MP_ENOMEM, "out of memory");
}

static mp_status full_scan(struct mp_regdb *db, struct mp_ident_refset *s,
			   struct mp_error *err)
{
	struct mp_registry *list;
	mp_status st = mp_regdb_list(db, NULL, &list, err);
	if (st != MP_OK)
		return st;
	st = alloc(s, list->nmodels, err);
	for (size_t i = 0; st == MP_OK && i < list->nmodels; i++) {
		const struct mp_reg_model *m = &list->models[i];
		struct mp_fingerprint *fp;
		st = mp_regdb_get_fp(db, m->id, "tensors", &fp, err);
		if (st == MP_ENOENT) {
			s->without++;
			st = MP_OK;
			continue;
		}
		if (st == MP_OK)
			st = add(s, m, fp, err);
	}
	mp_registry_free(list);
	return st;
}

mp_status mp_ident_refs_load(struct mp_regdb *db,
			     const struct mp_fingerprint *unknown,
			     size_t scan_max, size_t k,
			     struct mp_ident_refset **out,
			     struct mp_error *err)
{
	*out = NULL;
	struct mp_ident_refset *s = calloc(1, sizeof *s);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	struct mp_lsh_hit *hits = NULL;
	size_t nh = 0;
	struct mp_error e2;
	/* one more than scan_max tells a large registry from a small one */
	mp_status st = mp_regdb_lsh_candidates(db, unknown, scan_max + 1,
					       &hits, &nh, &e2);
	if (st == MP_EINVAL) /* nothing to index by: every model */
		nh = 0;
	else if (st != MP_OK) {
		free(s);
		*err = e2;
		return st;
	}
	if (nh <= scan_max) {
		st = full_scan(db, s, err);
	} else {
		s->indexed = true;
		size_t want = k < nh ? k : nh;
		st = alloc(s, want, err);
		for (size_t i = 0; st == MP_OK && i < want; i++) {
			struct mp_reg_model *m;
			struct mp_fingerprint *fp;
			if ((st = mp_regdb_get(db, hits[i].id, &m, err)))
				break;
			st = mp_regdb_get_fp(db, m->id, "tensors", &fp, err);
			if (st == MP_OK)
				st = add(s, m, fp, err);
			mp_reg_model_free(m);
		}
	}
	mp_lsh_hits_free(hits, nh);
	if (st != MP_OK) {
		mp_ident_refset_free(s);
		return st;
	}
	*out = s;
	return MP_OK;
}
