/* registry.h — the registry: models, their files and their stored
 * fingerprints in a database (SQLite for a local registry, PostgreSQL for
 * a team's global one), schema in registry_schema.c. A registry is named
 * by a location string:
 *   - a directory: the SQLite file DIR/registry.db; a directory registry
 *     of earlier versions (DIR/models.json, DIR/fingerprints/) found there
 *     without registry.db is imported on first open, its files untouched;
 *   - a file path: that SQLite file (for a small team on one machine);
 *   - a postgresql:// or postgres:// URL: a PostgreSQL database whose
 *     schema an administrator created with mp_regdb_init.
 * Structs returned are owned by the caller and freed with the matching
 * _free. A handle is not shared between threads. */
#ifndef MP_REGISTRY_H
#define MP_REGISTRY_H

#include "fingerprint.h"

struct mp_reg_model {
	char *id;            /* "27" */
	char *name;          /* display name */
	char *family, *type; /* may be "" */
	char *path;          /* what mp_model_open takes: a file or directory */
	char *format;        /* "safetensors", "tfjs" */
	char *added;         /* "2026-12-01T10:00:00Z"; "" when unknown */
	size_t nfiles;
	char **files;        /* [nfiles] absolute paths of the model's files */
	char **sha256;       /* [nfiles] hex digests */
	uint64_t *sizes;     /* [nfiles] bytes; may be NULL (unknown) */
	char *extra;         /* JSON object text of fields this modelprint
			      * does not know, kept through import and
			      * export; NULL when there are none */
};

/* A list of models (all of a registry, or those a filter kept). */
struct mp_registry {
	char *dir; /* the location it was read from */
	size_t nmodels;
	struct mp_reg_model *models;
	/* Private: [nmodels] model indices sorted by id, built when the list
	 * is read; NULL (a table built by hand) means mp_registry_find scans
	 * linearly. */
	size_t *by_id;
};

struct mp_regdb; /* an open registry */

/* Default location: $MODELPRINT_REGISTRY, else
 * $XDG_DATA_HOME/modelprint, else ~/.local/share/modelprint (caller frees). */
char *mp_registry_default_dir(void);

/* Whether where names a PostgreSQL database (a postgresql:// or
 * postgres:// URL). */
bool mp_registry_is_url(const char *where);

/* Whether where holds a registry already (a URL always counts). */
bool mp_registry_exists(const char *where);

/* Open the registry at where. With write false a registry that does not
 * exist reads as empty and nothing is created; with write true the
 * directory and database are created when missing. A database of a newer
 * schema version than this modelprint knows is refused (MP_EFORMAT); an
 * older one is migrated (write) or refused (read-only, naming the
 * command that migrates it). */
mp_status mp_regdb_open(const char *where, bool write, struct mp_regdb **out,
			struct mp_error *err);
void mp_regdb_close(struct mp_regdb *db);
/* The location as errors show it (a URL without its password). */
const char *mp_regdb_name(const struct mp_regdb *db);

/* Check, without changing anything, that this connection may add, remove
 * and store fingerprints: used before long work. Errors (MP_EPERM) name
 * the missing privilege or the read-only file or directory. */
mp_status mp_regdb_check_write(struct mp_regdb *db, struct mp_error *err);

/* What registry list keeps; NULL or empty fields keep everything. name is
 * a shell glob (fnmatch) on the display name. */
struct mp_reg_filter {
	const char *family, *type, *name_glob, *format;
};

/* The models the filter keeps (filter may be NULL), sorted by id as
 * numbers first (numerically), then the other ids (bytewise). */
mp_status mp_regdb_list(struct mp_regdb *db, const struct mp_reg_filter *f,
			struct mp_registry **out, struct mp_error *err);

/* One model into *out (caller frees with mp_reg_model_free); MP_ENOENT
 * naming the registry and the id when absent. */
mp_status mp_regdb_get(struct mp_regdb *db, const char *id,
		       struct mp_reg_model **out, struct mp_error *err);
void mp_reg_model_free(struct mp_reg_model *m);

/* Add a model in one transaction. want_id must be 1 to 64 of
 * [A-Za-z0-9._-], not starting with '.' or '-'; when NULL the next
 * automatic id is taken: one more than the largest decimal id (at most 19
 * digits) the registry has ever held, so ids are never reused after rm.
 * Any id the registry ever held (removed ones too) is refused. A model
 * whose files have the same SHA-256s as a registered model is refused with
 * MP_EEXIST naming that model, unless MP_REG_FORCE. The id is returned in
 * *id_out (caller frees). */
#define MP_REG_FORCE 1u
mp_status mp_regdb_add(struct mp_regdb *db, const struct mp_reg_model *model,
		       const char *want_id, unsigned flags, char **id_out,
		       struct mp_error *err);

/* Remove a model, its files and fingerprints; its id stays taken. */
mp_status mp_regdb_remove(struct mp_regdb *db, const char *id,
			  struct mp_error *err);

/* Store (replacing) / load the fingerprint of (id, fp->method), in one
 * transaction. Loading a missing one returns MP_ENOENT. */
mp_status mp_regdb_put_fp(struct mp_regdb *db, const char *id,
			  const struct mp_fingerprint *fp,
			  struct mp_error *err);
/* Store n fingerprints of model id (of different methods) in one
 * transaction: all of them or none. */
mp_status mp_regdb_put_fps(struct mp_regdb *db, const char *id,
			   const struct mp_fingerprint *const *fps, size_t n,
			   struct mp_error *err);
mp_status mp_regdb_get_fp(struct mp_regdb *db, const char *id,
			  const char *method, struct mp_fingerprint **out,
			  struct mp_error *err);

/* The methods of the fingerprints stored for id, sorted, as a
 * NULL-terminated array (caller frees with mp_strv_free). */
mp_status mp_regdb_fp_methods(struct mp_regdb *db, const char *id,
			      char ***out, struct mp_error *err);
void mp_strv_free(char **v);

/* One candidate of mp_regdb_lsh_candidates. */
struct mp_lsh_hit {
	char *id;	   /* owned */
	double similarity; /* estimated Pearson, mp_lsh_similarity (lsh.h) */
};

/* The k live models whose `tensors` fingerprint (computed with the same
 * sketch_size and seed as unknown) has the highest estimated similarity
 * to unknown (a `tensors` fingerprint) by their locality-sensitive codes
 * (lsh.h), best first (ties by id, bytewise); *n <= k (0 for an empty
 * registry or no comparable model). Reads only the lsh_codes table in one
 * query; a registry at schema version 1 (opened read-only, so not
 * migrated) has no codes, and they are computed from every stored
 * `tensors` fingerprint instead: the same answer, slower. Errors:
 * MP_EINVAL when unknown is not a `tensors` fingerprint or has no
 * floating tensor with a sketch of at least 16 values (nothing to compare
 * by); MP_EFORMAT naming the model whose stored codes are malformed.
 * Free *hits with mp_lsh_hits_free. */
mp_status mp_regdb_lsh_candidates(struct mp_regdb *db,
				  const struct mp_fingerprint *unknown,
				  size_t k, struct mp_lsh_hit **hits,
				  size_t *n, struct mp_error *err);
void mp_lsh_hits_free(struct mp_lsh_hit *hits, size_t n);

/* Write the registry in the directory form (DIR/models.json and
 * DIR/fingerprints/ID.METHOD.json, modelprint-files(5)); DIR is created
 * when missing and must not hold a registry already. */
mp_status mp_regdb_export(struct mp_regdb *db, const char *dir,
			  struct mp_error *err);

/* Merge the registry at src (any location form) into db: each model of src
 * whose id db has never held is added with its fingerprints; a model whose
 * id db holds with the same files is skipped, with other files it is an
 * error naming the id (nothing is imported). Counts in *added, *skipped. */
mp_status mp_regdb_import(struct mp_regdb *db, const char *src,
			  size_t *added, size_t *skipped,
			  struct mp_error *err);

/* Create the schema and the roles of a global PostgreSQL registry
 * (modelprint_reader: SELECT; modelprint_writer: also INSERT, UPDATE,
 * DELETE), or a SQLite file's schema. Run once by an administrator;
 * running it again changes nothing. */
mp_status mp_regdb_init(const char *where, struct mp_error *err);

/* --- conveniences over the calls above ------------------------------- */

/* Read every model of the registry at where (a missing registry reads as
 * empty). */
mp_status mp_registry_load(const char *where, struct mp_registry **out,
			   struct mp_error *err);
void mp_registry_free(struct mp_registry *r);

/* Find a model in a list, O(log n) through by_id; NULL if absent. */
const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id);

#endif
