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
	/* Private: [nmodels] model indices sorted by id, built by
	 * mp_registry_load; NULL (a table built by hand) means
	 * mp_registry_find scans linearly. */
	size_t *by_id;
};

/* Default directory: $MODELPRINT_REGISTRY, else
 * $XDG_DATA_HOME/modelprint, else ~/.local/share/modelprint (caller frees). */
char *mp_registry_default_dir(void);

/* Read the registry at dir (a missing directory reads as empty). An id
 * that appears twice is an error saying how to repair the table. */
mp_status mp_registry_load(const char *dir, struct mp_registry **out,
			   struct mp_error *err);
void mp_registry_free(struct mp_registry *r);

/* Check that dir can be written (creating it if needed) without changing
 * anything else: used before long work. Errors: "DIR: cannot write the
 * registry: REASON" (MP_EPERM). */
mp_status mp_registry_check_writable(const char *dir, struct mp_error *err);

/* Add a model under the lock. want_id must be 1 to 64 of [A-Za-z0-9._-],
 * not starting with '.' or '-'; when it is NULL an automatic id is chosen:
 * one more than the largest id of at most 19 decimal digits, or, when that
 * would take 20 digits, the smallest free positive number (never an id in
 * use). The assigned id is returned in *id_out (caller frees). Adding an id
 * that exists is an error. */
mp_status mp_registry_add(const char *dir, const struct mp_reg_model *model,
			  const char *want_id, char **id_out,
			  struct mp_error *err);

/* Remove a model and its fingerprints: every entry with that id, so that
 * a table in which the id appears twice is repaired. */
mp_status mp_registry_remove(const char *dir, const char *id,
			     struct mp_error *err);

/* Find a model in a loaded registry, O(log n) through by_id; NULL if
 * absent. */
const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id);

/* Path of the fingerprint file of (id, method) in dir (caller frees;
 * NULL when out of memory). */
char *mp_registry_fp_path(const char *dir, const char *id, const char *method);

/* Store / load the fingerprint of (id, method). Loading a missing file
 * returns MP_ENOENT. */
mp_status mp_registry_put_fp(const char *dir, const char *id,
			     const struct mp_fingerprint *fp,
			     struct mp_error *err);
mp_status mp_registry_get_fp(const char *dir, const char *id,
			     const char *method, struct mp_fingerprint **out,
			     struct mp_error *err);

#endif
