/* registry_schema.h — the registry's tables, and the migrations that bring
 * a database to the schema this modelprint uses (modelprint-files(5)). */
#ifndef MP_REGISTRY_SCHEMA_H
#define MP_REGISTRY_SCHEMA_H

#include "sql.h"

#define MP_REG_SCHEMA_VERSION 2
/* The oldest version read without migrating (a read-only open): version 1
 * lacks only lsh_codes, whose queries then compute codes from the stored
 * fingerprints. */
#define MP_REG_SCHEMA_READABLE 1

/* The schema version of db: 0 when it holds no registry tables. */
mp_status mp_regschema_version(struct mp_sql *db, int *version,
			       struct mp_error *err);

/* Bring db to MP_REG_SCHEMA_VERSION in one transaction (concurrent
 * callers queue). A newer version than this modelprint knows is refused
 * (MP_EFORMAT, naming both versions). */
mp_status mp_regschema_migrate(struct mp_sql *db, struct mp_error *err);

#endif
