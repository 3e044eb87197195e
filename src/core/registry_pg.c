/* registry_pg.c — roles and privilege checks of a PostgreSQL registry. */
#include "registry_pg.h"

#include "sql_pg.h"

#include <stdlib.h>
#include <string.h>

/* Roles are per cluster, grants per database and schema: the DO blocks
 * create a role only when pg_roles lacks it (and shrug off a concurrent
 * creator), then grant on the current schema. */
static const char grant_sql[] =
	"DO $mp$\n"
	"DECLARE\n"
	"  s text := current_schema();\n"
	"  r text;\n"
	"BEGIN\n"
	"  IF s IS NULL THEN\n"
	"    RAISE EXCEPTION 'no current schema (search_path is empty)';\n"
	"  END IF;\n"
	"  FOREACH r IN ARRAY ARRAY['modelprint_reader', 'modelprint_writer'] LOOP\n"
	"    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN\n"
	"      BEGIN\n"
	"        EXECUTE format('CREATE ROLE %I NOLOGIN', r);\n"
	"      EXCEPTION WHEN duplicate_object OR unique_violation THEN\n"
	"        NULL;\n"
	"      END;\n"
	"    END IF;\n"
	"  END LOOP;\n"
	"  EXECUTE format('GRANT USAGE ON SCHEMA %I TO modelprint_reader', s);\n"
	"  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I"
	" TO modelprint_reader', s);\n"
	"  GRANT modelprint_reader TO modelprint_writer;\n"
	"  EXECUTE format('GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I"
	" TO modelprint_writer', s);\n"
	"  EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I"
	" TO modelprint_writer', s);\n"
	"END\n"
	"$mp$";

mp_status mp_regpg_grant_roles(struct mp_sql *db, struct mp_error *err)
{
	return mp_pg_script(db, grant_sql, err);
}

/* The first (table, privilege) missing, in table then privilege order:
 * what is missing ('table' absent from the search path, 'schema' USAGE
 * on the schema that holds it, or 'privilege'), the table, the privilege,
 * the schema, current_user and quote_ident(current_user). */
static const char check_sql[] =
	"WITH t(name, i) AS (SELECT * FROM unnest(ARRAY['schema_version',"
	" 'registry_state', 'models', 'model_files', 'fingerprints',"
	" 'lsh_codes'])"
	" WITH ORDINALITY),\n"
	" p(priv, j) AS (SELECT * FROM unnest(ARRAY['INSERT', 'UPDATE',"
	" 'DELETE']) WITH ORDINALITY),\n"
	" hidden AS (SELECT t.name, min(CAST(n.nspname AS TEXT)) AS nsp"
	" FROM t JOIN pg_class c ON c.relname = t.name"
	" JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE NOT has_schema_privilege(n.oid, 'USAGE')"
	" AND n.nspname = ANY (array_replace(string_to_array(replace("
	"replace(current_setting('search_path'), ' ', ''), '\"', ''), ','),"
	" '$user', CAST(current_user AS TEXT)))"
	" GROUP BY t.name)\n"
	"SELECT CASE WHEN to_regclass(quote_ident(t.name)) IS NOT NULL"
	" THEN 'privilege' WHEN h.nsp IS NOT NULL THEN 'schema'"
	" ELSE 'table' END,"
	" t.name, p.priv, coalesce(h.nsp, ''),"
	" CAST(current_user AS TEXT), quote_ident(current_user)"
	" FROM t CROSS JOIN p LEFT JOIN hidden h ON h.name = t.name"
	" WHERE to_regclass(quote_ident(t.name)) IS NULL"
	" OR NOT has_table_privilege(to_regclass(quote_ident(t.name)), p.priv)"
	" ORDER BY t.i, p.j LIMIT 1";

/* Text of cell c of row 0 (never NULL: the query selects no NULLs). */
static const char *cell(const struct mp_sql_res *r, size_t c)
{
	const char *s = r->cells[c];
	return s ? s : "";
}

mp_status mp_regpg_check_write(struct mp_sql *db, struct mp_error *err)
{
	const char *name = mp_pg_name(db);
	struct mp_sql_res *r;
	mp_status st = mp_pg_exec(
		db, "SELECT current_setting('transaction_read_only')", NULL,
		0, &r, err);
	if (st != MP_OK)
		return st;
	bool ro = r->nrows == 1 && r->cells[0] && !strcmp(r->cells[0], "on");
	mp_sql_res_free(r);
	if (ro)
		return mp_error_set(err, MP_EPERM,
				    "%s: the connection is read-only", name);
	st = mp_pg_exec(db, check_sql, NULL, 0, &r, err);
	if (st != MP_OK)
		return st;
	if (r->nrows == 0) {
		mp_sql_res_free(r);
		return MP_OK;
	}
	char b1[MP_NAME_SHOW + 8], b2[MP_NAME_SHOW + 8], b3[MP_NAME_SHOW + 8];
	const char *what = cell(r, 0), *table = cell(r, 1);
	const char *user = mp_printable(cell(r, 4), b1);
	const char *quser = mp_printable(cell(r, 5), b2);
	if (!strcmp(what, "table"))
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: table %s is missing: the registry "
				  "schema was not created (modelprint registry "
				  "init --global URL)",
				  name, table);
	else if (!strcmp(what, "schema"))
		st = mp_error_set(err, MP_EPERM,
				  "%s: role '%s' lacks USAGE on schema %s; an "
				  "administrator grants it with: GRANT "
				  "modelprint_writer TO %s",
				  name, user, mp_printable(cell(r, 3), b3),
				  quser);
	else
		st = mp_error_set(err, MP_EPERM,
				  "%s: role '%s' lacks %s on table %s; an "
				  "administrator grants it with: GRANT "
				  "modelprint_writer TO %s",
				  name, user, cell(r, 2), table, quser);
	mp_sql_res_free(r);
	return st;
}
