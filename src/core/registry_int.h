/* registry_int.h — what registry.c shares with registry_dir.c and
 * registry_io.c. */
#ifndef MP_REGISTRY_INT_H
#define MP_REGISTRY_INT_H

#include "registry.h"

/* Ids and method names: [A-Za-z0-9._-]{1,64}, no leading dot (they
 * become file names in the directory form). */
bool mp_reg_valid_name(const char *s);

/* An empty list read from where; NULL when out of memory. */
struct mp_registry *mp_reg_list_new(const char *where);
/* Build r->by_id (model indices sorted by id, then index); false when out
 * of memory. */
bool mp_reg_index(struct mp_registry *r);
/* Free what m holds (not m itself). */
void mp_reg_model_done(struct mp_reg_model *m);

/* --- the open registry (registry.c) ---------------------------------- */

/* The connection of db; NULL for a registry that does not exist yet. */
struct mp_sql *mp_reg_sql(struct mp_regdb *db);
/* Give db the connection sql (owned from now on). */
mp_status mp_reg_attach(struct mp_regdb *db, struct mp_sql *sql);
/* Whether db was opened for writing. */
bool mp_reg_writing(const struct mp_regdb *db);
/* The current time as "2026-12-01T10:00:00Z" in buf. */
char *mp_reg_now(char buf[32]);

/* --- storing (registry_store.c), inside the caller's transaction ------ */

enum mp_reg_id_state { MP_ID_FREE, MP_ID_LIVE, MP_ID_REMOVED };
mp_status mp_reg_id_state(struct mp_regdb *db, const char *id,
			  enum mp_reg_id_state *state, struct mp_error *err);
/* Insert model m under id (free) and its files. */
mp_status mp_reg_insert(struct mp_regdb *db, const struct mp_reg_model *m,
			const char *id, struct mp_error *err);
/* Raise registry_state.max_auto_id to id's value when id is an
 * automatic-shaped id larger than it. */
mp_status mp_reg_note_id(struct mp_regdb *db, const char *id,
			 struct mp_error *err);
/* The value of an automatic-shaped id (1 to 19 decimal digits); false for
 * any other id. */
bool mp_reg_auto_id_value(const char *id, uint64_t *v);
/* Store (replacing) the fingerprint of a live model. */
mp_status mp_reg_store_fp(struct mp_regdb *db, const char *id,
			  const struct mp_fingerprint *fp,
			  struct mp_error *err);

/* Load the fingerprint of (id, method) through sql; where (e.g. "REG:
 * fingerprint of model 3 (tensors)") prefixes errors; MP_ENOENT when it
 * is not stored. */
struct mp_sql;
mp_status mp_reg_load_fp(struct mp_sql *sql, const char *where,
			 const char *id, const char *method,
			 struct mp_fingerprint **out, struct mp_error *err);

/* --- the locality-sensitive index (registry_lsh.c) -------------------- */

/* Store (replacing) the codes of model id's `tensors` fingerprint fp in
 * lsh_codes, inside the caller's transaction; name prefixes errors. */
mp_status mp_reg_store_codes(struct mp_sql *sql, const char *name,
			     const char *id, const struct mp_fingerprint *fp,
			     struct mp_error *err);
/* Fill lsh_codes from every stored `tensors` fingerprint of a live model
 * (the migration to schema version 2, inside its transaction); one that
 * does not decode (MP_EFORMAT) gets no codes rather than blocking the
 * migration. */
mp_status mp_reg_lsh_fill(struct mp_sql *sql, struct mp_error *err);
/* The schema version db was opened at (0: no database yet). */
int mp_reg_schema(const struct mp_regdb *db);

/* --- import (registry_io.c) ------------------------------------------- */

/* Make the SQLite database db_path whole before anyone sees it: built at
 * a temporary name beside it (the schema, and the directory registry dir
 * imported when dir is not NULL), then linked into place, so that
 * concurrent first opens agree (the first link wins) and a crash leaves
 * nothing half-made; then open it for db. */
mp_status mp_reg_create_aside(struct mp_regdb *db, const char *dir,
			      const char *db_path, struct mp_error *err);

/* Import the directory-form registry in dir into a new SQLite database at
 * db_path (mp_reg_create_aside), then open it for db; in a directory we
 * cannot write, into an in-memory database. */
mp_status mp_reg_import_dir_form(struct mp_regdb *db, const char *dir,
				 const char *db_path, struct mp_error *err);

/* --- the directory form (registry_dir.c) ------------------------------ */

/* Whether dir holds a directory-form registry (DIR/models.json, of any
 * file type). */
bool mp_regdir_exists(const char *dir);

/* Read DIR/models.json: every model, fields this modelprint does not know
 * kept in extra. An id that appears twice is an error saying how to
 * repair the table. */
mp_status mp_regdir_read(const char *dir, struct mp_registry **out,
			 struct mp_error *err);

/* DIR/fingerprints/ID.METHOD.json (caller frees; NULL when out of
 * memory). */
char *mp_regdir_fp_path(const char *dir, const char *id, const char *method);

/* Load one fingerprint file; MP_ENOENT when it does not exist. */
mp_status mp_regdir_get_fp(const char *dir, const char *id,
			   const char *method, struct mp_fingerprint **out,
			   struct mp_error *err);

/* Write DIR/models.json and one fingerprint file (atomic writes). */
mp_status mp_regdir_write_table(const char *dir, const struct mp_registry *r,
				struct mp_error *err);
mp_status mp_regdir_put_fp(const char *dir, const char *id,
			   const struct mp_fingerprint *fp,
			   struct mp_error *err);

#endif
