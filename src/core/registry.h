/* registry.h — a directory holding the models table (models.json) and one
 * fingerprint file per model and method (fingerprints/<id>.<method>.json).
 * Every write is atomic (atomic_write.h) under an exclusive
 * flock on <dir>/.lock; readers take a shared lock. Structs returned are
 * owned by the caller and freed with the matching _free. */
#ifndef MP_REGISTRY_H
#define MP_REGISTRY_H

#include "fingerprint.h"

struct mp_reg_model {
	char *id;           /* "27" */
	char *name;         /* display name */
	char *family, *type; /* may be "" */
	char *path;         /* what mp_model_open takes: a file or directory */
	char *format;       /* "safetensors", "tfjs" */
	size_t nfiles;
	char **files;       /* [nfiles] absolute paths of the model's files */
	char **sha256;      /* [nfiles] hex digests */
};

struct mp_registry {
	char *dir;
	size_t nmodels;
	struct mp_reg_model *models;
};

/* Default directory: $MODELPRINT_REGISTRY, else
 * $XDG_DATA_HOME/modelprint, else ~/.local/share/modelprint (caller frees). */
char *mp_registry_default_dir(void);

/* Read the registry at dir (a missing directory reads as empty). */
mp_status mp_registry_load(const char *dir, struct mp_registry **out,
			   struct mp_error *err);
void mp_registry_free(struct mp_registry *r);

/* Check that dir can be written (creating it if needed) without changing
 * anything else: used before long work. Errors: "DIR: cannot write the
 * registry: REASON" (MP_EPERM). */
mp_status mp_registry_check_writable(const char *dir, struct mp_error *err);

/* Add a model under the lock; when want_id is NULL the next free numeric id
 * is chosen. The assigned id is returned in *id_out (caller frees). Adding
 * an id that exists is an error. */
mp_status mp_registry_add(const char *dir, const struct mp_reg_model *model,
			  const char *want_id, char **id_out,
			  struct mp_error *err);

/* Remove a model and its fingerprints. */
mp_status mp_registry_remove(const char *dir, const char *id,
			     struct mp_error *err);

/* Find a model in a loaded registry; NULL if absent. */
const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id);

/* Store / load the fingerprint of (id, method). Loading a missing file
 * returns MP_ENOENT. */
mp_status mp_registry_put_fp(const char *dir, const char *id,
			     const struct mp_fingerprint *fp,
			     struct mp_error *err);
mp_status mp_registry_get_fp(const char *dir, const char *id,
			     const char *method, struct mp_fingerprint **out,
			     struct mp_error *err);

#endif
