/* tui_ident.c — identify for the interface: the references are the models
 * of the loaded data with a `tensors` fingerprint (registry or run), the
 * unknown a model file or one of those models. */
#include "tui_ident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_tui_ident_free(struct mp_tui_ident *id)
{
	if (!id)
		return;
	mp_ident_result_free(id->result); /* borrows the signatures' names */
	for (size_t i = 0; i < id->nrefs; i++)
		mp_fp_free(id->fps[i]);
	free(id->fps);
	free(id->refs);
	mp_fp_free(id->ufp);
	mp_arch_free(id->arch);
	free(id->unknown);
	free(id);
}

/* The references: every model of d but skip with a tensors fingerprint. */
static mp_status gather(const struct mp_tui_data *d, size_t skip,
			struct mp_tui_ident *id, struct mp_error *err)
{
	size_t n = d->n ? d->n : 1;
	id->refs = calloc(n, sizeof *id->refs);
	id->fps = calloc(n, sizeof *id->fps);
	if (!id->refs || !id->fps)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n; i++) {
		char why[MP_ERRMSG_MAX];
		struct mp_fingerprint *fp;
		if (i == skip || !d->models[i].has_fp ||
		    mp_tui_data_fp(d, i, "tensors", &fp, why) != MP_OK)
			continue;
		id->fps[id->nrefs] = fp;
		id->refs[id->nrefs++] = (struct mp_ident_ref){
			d->models[i].id, d->models[i].name, NULL, fp};
	}
	return MP_OK;
}

mp_status mp_tui_ident_build(const struct mp_tui_data *d,
			     struct mp_fingerprint *ufp, const char *name,
			     const char *path, size_t skip,
			     const char *sigfile, struct mp_tui_ident **out,
			     struct mp_error *err)
{
	*out = NULL;
	struct mp_tui_ident *id = calloc(1, sizeof *id);
	if (!id) {
		mp_fp_free(ufp);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	id->ufp = ufp;
	mp_status st = MP_OK;
	if (!(id->unknown = mp_strdup(name ? name : "?")))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = mp_arch_load_default(sigfile, &id->arch, err);
	if (st == MP_OK)
		st = gather(d, skip, id, err);
	if (st == MP_OK) {
		struct mp_ident_opts o = {.arch = id->arch,
					  .unknown_path = path};
		st = mp_identify(ufp, id->refs, id->nrefs, &o, &id->result,
				 err);
	}
	if (st != MP_OK) {
		mp_tui_ident_free(id);
		return st;
	}
	*out = id;
	return MP_OK;
}

mp_status mp_tui_ident_file(const struct mp_tui_data *d, const char *path,
			    const char *sigfile, struct mp_tui_ident **out,
			    struct mp_error *err)
{
	struct mp_model *m;
	struct mp_fingerprint *fp = NULL;
	*out = NULL;
	mp_status st = mp_model_open(path, &m, err);
	if (st != MP_OK)
		return st;
	st = mp_fp_compute(m, "tensors", NULL, 0, NULL, &fp, err);
	mp_model_free(m);
	if (st != MP_OK)
		return st;
	const char *slash = strrchr(path, '/');
	const char *name = slash && slash[1] ? slash + 1 : path;
	return mp_tui_ident_build(d, fp, name, path, (size_t)-1, sigfile, out,
				  err);
}

mp_status mp_tui_ident_model(const struct mp_tui_data *d, size_t mi,
			     const char *sigfile, struct mp_tui_ident **out,
			     struct mp_error *err)
{
	char why[MP_ERRMSG_MAX];
	struct mp_fingerprint *fp;
	*out = NULL;
	if (mi >= d->n)
		return mp_error_set(err, MP_EINVAL, "no such model");
	mp_status st = mp_tui_data_fp(d, mi, "tensors", &fp, why);
	if (st != MP_OK)
		return mp_error_set(err, st, "%s: %s", d->models[mi].name, why);
	return mp_tui_ident_build(d, fp, d->models[mi].name, NULL, mi, sigfile,
				  out, err);
}
