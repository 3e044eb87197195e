/* registry_schema.c — DDL and migrations of the registry database, the
 * same on SQLite and PostgreSQL except for the blob type. */
#include "registry_schema.h"
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Migration k brings version k to k + 1: a script ("@BLOB@" is the
 * dialect's blob type), then fill (when not NULL) in the same
 * transaction. Rows of models are never deleted: rm sets removed_at, so
 * that an id is never given to another model. */
static const struct {
	const char *script;
	mp_status (*fill)(struct mp_sql *db, struct mp_error *err);
} migrations[MP_REG_SCHEMA_VERSION] = {
	{"CREATE TABLE schema_version (version INTEGER NOT NULL);\n"
	"CREATE TABLE registry_state (key TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL);\n"
	"INSERT INTO registry_state (key, value) VALUES ('max_auto_id', '0');\n"
	"CREATE TABLE models (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  family TEXT NOT NULL DEFAULT '',\n"
	"  type TEXT NOT NULL DEFAULT '',\n"
	"  path TEXT NOT NULL,\n"
	"  format TEXT NOT NULL DEFAULT '',\n"
	"  added_at TEXT NOT NULL DEFAULT '',\n"
	"  removed_at TEXT,\n"
	"  extra TEXT);\n"
	"CREATE INDEX models_family ON models (family);\n"
	"CREATE INDEX models_type ON models (type);\n"
	"CREATE TABLE model_files (\n"
	"  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL,\n"
	"  path TEXT NOT NULL,\n"
	"  size BIGINT,\n"
	"  sha256 TEXT NOT NULL,\n"
	"  PRIMARY KEY (model_id, seq));\n"
	"CREATE INDEX model_files_sha256 ON model_files (sha256);\n"
	"CREATE TABLE fingerprints (\n"
	"  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,\n"
	"  method TEXT NOT NULL,\n"
	"  args TEXT NOT NULL,\n"
	"  version TEXT NOT NULL,\n"
	"  created_at TEXT NOT NULL,\n"
	"  encoding TEXT NOT NULL,\n"
	"  raw_size BIGINT NOT NULL,\n"
	"  data @BLOB@ NOT NULL,\n"
	"  PRIMARY KEY (model_id, method));\n"
	"INSERT INTO schema_version (version) VALUES (1);\n", NULL},
	/* 2: the locality-sensitive codes of each model's `tensors`
	 * fingerprint (lsh.h), with the arguments they depend on */
	{"CREATE TABLE lsh_codes (\n"
	 "  model_id TEXT PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,\n"
	 "  sketch_size BIGINT NOT NULL,\n"
	 "  seed BIGINT NOT NULL,\n"
	 "  codes @BLOB@ NOT NULL);\n"
	 "CREATE INDEX lsh_codes_args ON lsh_codes (sketch_size, seed);\n",
	 mp_reg_lsh_fill},
};

/* The script with @BLOB@ replaced for db's dialect (caller frees). */
static char *dialect(const struct mp_sql *db, const char *script)
{
	const char *blob = mp_sql_kind(db) == MP_SQL_PG ? "BYTEA" : "BLOB";
	size_t n = strlen(script) + 1;
	for (const char *p = script; (p = strstr(p, "@BLOB@")); p += 6)
		n += strlen(blob);
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	for (const char *p = script; *p;) {
		if (strncmp(p, "@BLOB@", 6) == 0) {
			o = stpcpy(o, blob);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* Whether the schema_version table exists. A SQLite database without it
 * must hold no table at all (one statement, so one snapshot: a concurrent
 * first writer's schema is seen whole or not at all): another program's
 * database is neither read as an empty registry nor written into. */
static mp_status has_version_table(struct mp_sql *db, bool *has,
				   struct mp_error *err)
{
	bool pg = mp_sql_kind(db) == MP_SQL_PG;
	const char *q =
		pg ? "SELECT CAST(count(*) AS TEXT), '0' FROM "
		     "information_schema.tables WHERE table_schema = "
		     "current_schema() AND table_name = 'schema_version'"
		   : "SELECT CAST(sum(name = 'schema_version') AS TEXT), "
		     "CAST(count(*) AS TEXT) FROM sqlite_master WHERE type = "
		     "'table'";
	struct mp_sql_res *r;
	mp_status st = mp_sql_exec(db, q, NULL, 0, &r, err);
	if (st != MP_OK)
		return st;
	const char *n = mp_sql_res_text(r, 0, 0), *all = mp_sql_res_text(r, 0, 1);
	*has = n && strcmp(n, "0") != 0;
	bool foreign = !*has && all && strcmp(all, "0") != 0;
	mp_sql_res_free(r);
	if (foreign)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a SQLite database that is not a "
				    "modelprint registry (it has tables of its "
				    "own)",
				    mp_sql_name(db));
	return MP_OK;
}

mp_status mp_regschema_version(struct mp_sql *db, int *version,
			       struct mp_error *err)
{
	*version = 0;
	bool has;
	mp_status st = has_version_table(db, &has, err);
	if (st != MP_OK || !has)
		return st;
	struct mp_sql_res *r;
	st = mp_sql_exec(db, "SELECT CAST(max(version) AS TEXT) FROM "
			     "schema_version",
			 NULL, 0, &r, err);
	if (st != MP_OK)
		return st;
	const char *v = mp_sql_res_text(r, 0, 0);
	*version = v ? atoi(v) : 0;
	mp_sql_res_free(r);
	if (*version <= 0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: the schema_version table holds no "
				    "version",
				    mp_sql_name(db));
	return MP_OK;
}

mp_status mp_regschema_migrate(struct mp_sql *db, struct mp_error *err)
{
	mp_status st = mp_sql_begin(db, true, err);
	if (st != MP_OK)
		return st;
	/* PostgreSQL: concurrent first opens queue on one lock (SQLite's
	 * BEGIN IMMEDIATE already does that). */
	if (mp_sql_kind(db) == MP_SQL_PG)
		st = mp_sql_exec(db, "SELECT CAST(pg_advisory_xact_lock("
				     "727011) AS TEXT)",
				 NULL, 0, NULL, err);
	int v = 0;
	if (st == MP_OK)
		st = mp_regschema_version(db, &v, err);
	if (st == MP_OK && v > MP_REG_SCHEMA_VERSION)
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: registry schema version %d is newer than "
				  "this modelprint's (%d); use a newer "
				  "modelprint",
				  mp_sql_name(db), v, MP_REG_SCHEMA_VERSION);
	for (; st == MP_OK && v < MP_REG_SCHEMA_VERSION; v++) {
		char *script = dialect(db, migrations[v].script);
		st = script ? mp_sql_script(db, script, err)
			    : mp_error_set(err, MP_ENOMEM, "out of memory");
		free(script);
		if (st == MP_OK && migrations[v].fill)
			st = migrations[v].fill(db, err);
		if (st == MP_OK && v > 0) {
			char q[96];
			snprintf(q, sizeof q,
				 "UPDATE schema_version SET version = %d", v + 1);
			st = mp_sql_exec(db, q, NULL, 0, NULL, err);
		}
	}
	if (st == MP_OK)
		return mp_sql_commit(db, err);
	mp_sql_rollback(db);
	return st;
}
