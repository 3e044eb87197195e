/* modelinfo.h — who each model is: display name, family and type, from a
 * model-info file (seed 000: a JSON array of {"model_id", "family",
 * "model_type", "display_name"}) or from a registry's models table. The set
 * owns every string. */
#ifndef MP_MODELINFO_H
#define MP_MODELINFO_H

#include "registry.h"

struct mp_model_info {
	char *id;     /* "27" */
	char *name;   /* display name; the id when the file gives none */
	char *family; /* "" when unknown */
	char *type;   /* "" when unknown */
};

struct mp_model_info_set {
	size_t n;
	struct mp_model_info *v; /* [n], ids unique */
	size_t *by_id;           /* [n] indices into v sorted by id (strcmp) */
};

/* Read a model-info file. Not an array, an entry that is not an object, a
 * missing or non-string model_id, a duplicate id: errors naming the file and
 * the entry index. */
mp_status mp_model_info_load(const char *path, struct mp_model_info_set **out,
			     struct mp_error *err);

/* The same from a loaded registry (name, family, type of each model). */
mp_status mp_model_info_from_registry(const struct mp_registry *r,
				      struct mp_model_info_set **out,
				      struct mp_error *err);

/* Entry of id, NULL if absent (binary search, O(log n)). */
const struct mp_model_info *mp_model_info_find(const struct mp_model_info_set *s,
					       const char *id);

void mp_model_info_free(struct mp_model_info_set *s);

#endif
