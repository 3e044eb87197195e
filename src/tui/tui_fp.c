/* tui_fp.c — one model's fingerprint for the detail and pair views: from
 * the fingerprints.json of the run whose matrices are shown (they are the
 * fingerprints the scores came from), else from the registry. */
#include "json.h"
#include "tui_data.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_RUN_FP (4ULL << 30)

/* fp of id by method in a run's fingerprints.json ({"fingerprints":
 * {method: {id: fingerprint}}}): MP_ENOENT when the file lacks it. */
static mp_status from_run(const char *path, const char *id,
			  const char *method, struct mp_fingerprint **out,
			  struct mp_error *err)
{
	mp_json *j;
	mp_status st = mp_json_load(path, MAX_RUN_FP, &j, err);
	if (st != MP_OK)
		return st;
	const mp_json *root = mp_json_get(j, "fingerprints");
	const mp_json *fp = mp_json_get(mp_json_get(root, method), id);
	if (!mp_json_is_object(root))
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: no \"fingerprints\" object", path);
	else if (!fp)
		st = MP_ENOENT;
	else
		st = mp_fp_from_json(fp, path, out, err);
	mp_json_free(j);
	return st;
}

mp_status mp_tui_data_fp(const struct mp_tui_data *d, size_t mi,
			 const char *method, struct mp_fingerprint **out,
			 char why[MP_ERRMSG_MAX])
{
	const struct mp_tui_model *mo = &d->models[mi];
	struct mp_error err;
	mp_status st = MP_ENOENT;
	*out = NULL;
	if (d->fp_file) {
		st = from_run(d->fp_file, mo->id, method, out, &err);
		if (st != MP_OK && st != MP_ENOENT) {
			snprintf(why, MP_ERRMSG_MAX, "%s", err.msg);
			return st;
		}
	}
	if (st == MP_ENOENT && d->registry && mo->in_registry)
		st = mp_regdb_get_fp(d->registry, mo->id, method, out,
					&err);
	if (st == MP_OK)
		return MP_OK;
	if (st != MP_ENOENT)
		snprintf(why, MP_ERRMSG_MAX, "%s", err.msg);
	else if (d->fp_file)
		snprintf(why, MP_ERRMSG_MAX, "no %s fingerprint in the run's "
			 "fingerprints.json%s", method,
			 d->registry && mo->in_registry ? " or the registry"
							    : "");
	else if (d->registry && mo->in_registry)
		snprintf(why, MP_ERRMSG_MAX, "no %s fingerprint in the registry",
			 method);
	else
		snprintf(why, MP_ERRMSG_MAX, "not in the registry and no run "
			 "fingerprints (give --results DIR)");
	return st;
}
