/* check_sql_pg.c — the PostgreSQL backend (sql_pg.c) and the registry's
 * roles (registry_pg.c) against a real server: tests/pg.sh starts one and
 * sets MP_PG_URL, MP_PG_CTL. Run alone, without MP_PG_URL, the suite
 * fails under CI=true and says how to run it otherwise; in the full run it
 * is empty (tests/pg.sh runs it). Expected values are written out by hand
 * or computed by the server (octet_length, encode(..., 'hex')). */
#include "check_suites.h"
#include "registry_pg.h"
#include "sql_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url(void)
{
	return getenv("MP_PG_URL");
}

static struct mp_sql *open_url(const char *where, unsigned flags)
{
	struct mp_sql *db = NULL;
	struct mp_error e = {{0}};
	mp_status st = mp_pg_open(where, flags, &db, &e);
	ck_assert_msg(st == MP_OK, "open %s: %s", where, e.msg);
	return db;
}

static void run(struct mp_sql *db, const char *sql)
{
	struct mp_error e = {{0}};
	ck_assert_msg(mp_pg_script(db, sql, &e) == MP_OK, "%s: %s", sql,
		      e.msg);
}

/* Rows of a statement with text parameters (NULL-terminated list). */
static struct mp_sql_res *rows(struct mp_sql *db, const char *sql,
			       const struct mp_sql_val *p, size_t np)
{
	struct mp_sql_res *r = NULL;
	struct mp_error e = {{0}};
	mp_status st = mp_pg_exec(db, sql, p, np, &r, &e);
	ck_assert_msg(st == MP_OK, "%s: %s", sql, e.msg);
	return r;
}

static const char *cell(const struct mp_sql_res *r, size_t row, size_t col)
{
	ck_assert_uint_lt(row, r->nrows);
	ck_assert_uint_lt(col, r->ncols);
	return r->cells[row * r->ncols + col];
}

/* The status of one statement expected to fail; its message in e. */
static mp_status fails(struct mp_sql *db, const char *sql,
		       const struct mp_sql_val *p, size_t np,
		       struct mp_error *e)
{
	e->msg[0] = '\0';
	mp_status st = mp_pg_exec(db, sql, p, np, NULL, e);
	ck_assert_msg(st != MP_OK, "%s succeeded", sql);
	ck_assert_msg(strchr(e->msg, '\n') == NULL, "two lines: %s", e->msg);
	return st;
}

START_TEST(test_no_url)
{
	ck_abort_msg("MP_PG_URL is not set: run tests/pg.sh (make check "
		     "TESTS=tests/pg.sh), which starts a PostgreSQL server");
}
END_TEST

START_TEST(test_placeholders)
{
	struct mp_sql *db = open_url(url(), 0);
	struct mp_sql_val p[2] = {MP_SQL_TEXT("one"), MP_SQL_TEXT("two")};
	/* '?' in a literal, a doubled quote, a comment, an E'' string with
	 * an escaped quote, a quoted identifier, a dollar quote and a line
	 * comment stay; only the two bare ones are parameters */
	struct mp_sql_res *r = rows(db,
				    "SELECT ?, '?', 'it''s ?' /* ? */, "
				    "E'\\' ?', ? AS \"a?\", $$ ? $$ -- ?\n",
				    p, 2);
	ck_assert_uint_eq(r->nrows, 1);
	ck_assert_uint_eq(r->ncols, 6);
	ck_assert_str_eq(cell(r, 0, 0), "one");
	ck_assert_str_eq(cell(r, 0, 1), "?");
	ck_assert_str_eq(cell(r, 0, 2), "it's ?");
	ck_assert_str_eq(cell(r, 0, 3), "' ?");
	ck_assert_str_eq(cell(r, 0, 4), "two");
	ck_assert_str_eq(cell(r, 0, 5), " ? ");
	ck_assert_uint_eq(r->lens[5], 3);
	mp_sql_res_free(r);
	/* more than nine: $10 is not $1 followed by 0 */
	struct mp_sql_val ten[10];
	const char *v[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
	for (int i = 0; i < 10; i++)
		ten[i] = MP_SQL_TEXT(v[i]);
	r = rows(db, "SELECT ? || ? || ? || ? || ? || ? || ? || ? || ? || ?",
		 ten, 10);
	ck_assert_str_eq(cell(r, 0, 0), "abcdefghij");
	mp_sql_res_free(r);
	struct mp_error e;
	ck_assert_int_eq(fails(db, "SELECT ?, ?", p, 1, &e), MP_EINVAL);
	ck_assert_msg(strstr(e.msg, "2 placeholders but 1 parameters"), "%s",
		      e.msg);
	mp_pg_close(db);
}
END_TEST

START_TEST(test_text_and_blobs)
{
	struct mp_sql *db = open_url(url(), 0);
	run(db, "CREATE TEMP TABLE b (t text, x bytea)");
	static const unsigned char blob[5] = {'a', 0, 'b', 0, 0xff};
	struct mp_sql_val p[2] = {MP_SQL_TEXT("caf\xc3\xa9 ?"),
				  MP_SQL_BLOB(blob, sizeof blob)};
	struct mp_error e = {{0}};
	ck_assert_msg(mp_pg_exec(db, "INSERT INTO b VALUES (?, ?)", p, 2, NULL,
				 &e) == MP_OK,
		      "%s", e.msg);
	struct mp_sql_res *r = rows(db, "SELECT t, x, CAST(octet_length(x) "
					"AS TEXT), encode(x, 'hex') FROM b",
				    NULL, 0);
	ck_assert_uint_eq(r->nrows, 1);
	ck_assert_uint_eq(r->lens[0], 7); /* c a f C3 A9 ' ' ? */
	ck_assert_str_eq(cell(r, 0, 0), "caf\xc3\xa9 ?");
	ck_assert_uint_eq(r->lens[1], 5);
	ck_assert(memcmp(cell(r, 0, 1), blob, 5) == 0);
	ck_assert_int_eq(cell(r, 0, 1)[5], '\0'); /* NUL-terminated too */
	ck_assert_str_eq(cell(r, 0, 2), "5");
	ck_assert_str_eq(cell(r, 0, 3), "61006200ff");
	mp_sql_res_free(r);
	/* an empty blob is an empty cell, not NULL */
	struct mp_sql_val empty = MP_SQL_BLOB("", 0);
	r = rows(db, "SELECT CAST(? AS BYTEA)", &empty, 1);
	ck_assert_ptr_nonnull(cell(r, 0, 0));
	ck_assert_uint_eq(r->lens[0], 0);
	mp_sql_res_free(r);
	mp_pg_close(db);
}
END_TEST

START_TEST(test_nulls_and_types)
{
	struct mp_sql *db = open_url(url(), 0);
	struct mp_sql_val p[2] = {MP_SQL_TEXT(NULL), MP_SQL_BLOB(NULL, 0)};
	struct mp_sql_res *r = rows(db,
				    "SELECT CAST(NULL AS TEXT), 'x', "
				    "CAST(? AS TEXT), CAST(? AS BYTEA)",
				    p, 2);
	ck_assert_ptr_null(cell(r, 0, 0));
	ck_assert_str_eq(cell(r, 0, 1), "x");
	ck_assert_ptr_null(cell(r, 0, 2));
	ck_assert_ptr_null(cell(r, 0, 3));
	mp_sql_res_free(r);
	r = rows(db, "SELECT 'a' WHERE false", NULL, 0);
	ck_assert_uint_eq(r->nrows, 0);
	ck_assert_uint_eq(r->ncols, 1);
	mp_sql_res_free(r);
	/* a number's binary form is not its text: refused */
	struct mp_error e;
	struct mp_sql_res *none = NULL;
	ck_assert_int_eq(mp_pg_exec(db, "SELECT 'a', 1 AS n", NULL, 0, &none,
				    &e),
			 MP_EINVAL);
	ck_assert_ptr_null(none);
	ck_assert_msg(strstr(e.msg, "column 2 is of type oid 23, not text or "
				    "bytea: n"),
		      "%s", e.msg);
	mp_pg_close(db);
}
END_TEST

START_TEST(test_unique_and_errors)
{
	struct mp_sql *db = open_url(url(), 0);
	run(db, "CREATE TEMP TABLE u (id text PRIMARY KEY)");
	struct mp_sql_val p = MP_SQL_TEXT("a");
	struct mp_error e = {{0}};
	ck_assert_int_eq(
		mp_pg_exec(db, "INSERT INTO u VALUES (?)", &p, 1, NULL, &e),
		MP_OK);
	ck_assert_int_eq(fails(db, "INSERT INTO u VALUES (?)", &p, 1, &e),
			 MP_EEXIST);
	char want[600];
	snprintf(want, sizeof want,
		 "%s: duplicate key value violates unique constraint "
		 "\"u_pkey\"",
		 mp_pg_name(db));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(fails(db, "SELECT nosuch FROM u", NULL, 0, &e),
			 MP_EFORMAT);
	snprintf(want, sizeof want, "%s: column \"nosuch\" does not exist",
		 mp_pg_name(db));
	ck_assert_str_eq(e.msg, want);
	/* a script stops at its first error, with the same mapping */
	ck_assert_int_eq(mp_pg_script(db,
				      "INSERT INTO u VALUES ('b'); "
				      "INSERT INTO u VALUES ('b')",
				      &e),
			 MP_EEXIST);
	mp_pg_close(db);
}
END_TEST

START_TEST(test_lock_timeout)
{
	struct mp_sql *a = open_url(url(), 0), *b = open_url(url(), 0);
	run(a, "CREATE SCHEMA IF NOT EXISTS t_lk; "
	       "CREATE TABLE IF NOT EXISTS t_lk.l (x text)");
	run(a, "BEGIN; LOCK TABLE t_lk.l");
	run(b, "SET lock_timeout = '50ms'");
	struct mp_error e;
	ck_assert_int_eq(fails(b, "SELECT x FROM t_lk.l", NULL, 0, &e),
			 MP_ELOCK);
	run(a, "ROLLBACK");
	mp_pg_close(a);
	mp_pg_close(b);
}
END_TEST

START_TEST(test_readonly)
{
	struct mp_sql *w = open_url(url(), 0);
	run(w, "CREATE SCHEMA IF NOT EXISTS t_ro; "
	       "CREATE TABLE IF NOT EXISTS t_ro.w (x text)");
	struct mp_sql *ro = open_url(url(), MP_SQL_READONLY);
	struct mp_sql_res *r = rows(ro, "SELECT x FROM t_ro.w", NULL, 0);
	mp_sql_res_free(r);
	struct mp_sql_val p = MP_SQL_TEXT("a");
	struct mp_error e;
	ck_assert_int_eq(fails(ro, "INSERT INTO t_ro.w VALUES (?)", &p, 1, &e),
			 MP_EPERM);
	char want[600];
	snprintf(want, sizeof want,
		 "%s: cannot execute INSERT in a read-only transaction",
		 mp_pg_name(ro));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(mp_regpg_check_write(ro, &e), MP_EPERM);
	snprintf(want, sizeof want, "%s: the connection is read-only",
		 mp_pg_name(ro));
	ck_assert_str_eq(e.msg, want);
	/* the writable one was not affected */
	ck_assert_int_eq(
		mp_pg_exec(w, "INSERT INTO t_ro.w VALUES (?)", &p, 1, NULL, &e),
		MP_OK);
	mp_pg_close(ro);
	mp_pg_close(w);
}
END_TEST

/* check_write as role, on a fresh connection (a session caches its
 * search path across SET ROLE, not across a GRANT of a role to it) */
static void check_write_is(const char *role, mp_status want, const char *tail)
{
	char sql[200], msg[900];
	struct mp_sql *db = open_url(url(), 0);
	snprintf(sql, sizeof sql, "SET search_path = t_reg; SET ROLE %s",
		 role);
	run(db, sql);
	struct mp_error e = {{0}};
	mp_status st = mp_regpg_check_write(db, &e);
	ck_assert_msg(st == want, "%s: status %d (%s)", role, st, e.msg);
	if (tail) {
		snprintf(msg, sizeof msg, "%s: %s", mp_pg_name(db), tail);
		ck_assert_str_eq(e.msg, msg);
	}
	mp_pg_close(db);
}

START_TEST(test_roles)
{
	struct mp_sql *db = open_url(url(), 0);
	run(db, "DROP SCHEMA IF EXISTS t_reg CASCADE; CREATE SCHEMA t_reg; "
		"SET search_path = t_reg; "
		"CREATE TABLE schema_version (v text); "
		"CREATE TABLE registry_state (k text PRIMARY KEY, v text); "
		"CREATE TABLE models (id text PRIMARY KEY, name text); "
		"CREATE TABLE model_files (model text REFERENCES models, "
		"path text, sha256 text); "
		"CREATE TABLE fingerprints (model text REFERENCES models, "
		"method text, fp bytea, n bigserial); "
		"CREATE TABLE lsh_codes (model text, codes bytea); "
		"DROP ROLE IF EXISTS mp_alice; CREATE ROLE mp_alice NOLOGIN; "
		"DROP ROLE IF EXISTS mp_bob; CREATE ROLE mp_bob NOLOGIN");
	struct mp_error e = {{0}};
	ck_assert_msg(mp_regpg_grant_roles(db, &e) == MP_OK, "%s", e.msg);
	ck_assert_msg(mp_regpg_grant_roles(db, &e) == MP_OK, "again: %s",
		      e.msg);
	struct mp_sql_res *r = rows(
		db,
		"SELECT CAST(has_table_privilege('modelprint_writer', "
		"'t_reg.models', 'DELETE') AS TEXT), "
		"CAST(has_table_privilege('modelprint_reader', "
		"'t_reg.models', 'INSERT') AS TEXT), "
		"CAST(has_table_privilege('modelprint_reader', "
		"'t_reg.fingerprints', 'SELECT') AS TEXT), "
		"CAST(has_schema_privilege('modelprint_reader', 't_reg', "
		"'USAGE') AS TEXT), "
		"CAST(has_sequence_privilege('modelprint_writer', "
		"'t_reg.fingerprints_n_seq', 'USAGE') AS TEXT), "
		"CAST((SELECT count(*) FROM pg_roles WHERE rolname LIKE "
		"'modelprint\\_%' AND NOT rolcanlogin) AS TEXT)",
		NULL, 0);
	const char *want[6] = {"true", "false", "true", "true", "true", "2"};
	for (size_t c = 0; c < 6; c++)
		ck_assert_str_eq(cell(r, 0, c), want[c]);
	mp_sql_res_free(r);

	ck_assert_msg(mp_regpg_check_write(db, &e) == MP_OK, "superuser: %s",
		      e.msg);
	check_write_is("mp_alice", MP_EPERM,
		       "role 'mp_alice' lacks USAGE on schema t_reg; an "
		       "administrator grants it with: GRANT modelprint_writer "
		       "TO mp_alice");
	run(db, "GRANT modelprint_reader TO mp_alice");
	check_write_is("mp_alice", MP_EPERM,
		       "role 'mp_alice' lacks INSERT on table schema_version; "
		       "an administrator grants it with: GRANT "
		       "modelprint_writer TO mp_alice");
	run(db, "REVOKE modelprint_reader FROM mp_alice; "
		"GRANT modelprint_writer TO mp_alice");
	check_write_is("mp_alice", MP_OK, NULL);
	/* every table and privilege is checked, in order */
	run(db, "GRANT USAGE ON SCHEMA t_reg TO mp_bob; "
		"GRANT INSERT, UPDATE, DELETE ON schema_version, "
		"registry_state, models, model_files TO mp_bob; "
		"GRANT INSERT, DELETE ON fingerprints TO mp_bob");
	check_write_is("mp_bob", MP_EPERM,
		       "role 'mp_bob' lacks UPDATE on table fingerprints; an "
		       "administrator grants it with: GRANT modelprint_writer "
		       "TO mp_bob");
	run(db, "DROP TABLE fingerprints");
	ck_assert_int_eq(mp_regpg_check_write(db, &e), MP_EFORMAT);
	char msg[600];
	snprintf(msg, sizeof msg,
		 "%s: table fingerprints is missing: the registry schema was "
		 "not created (modelprint registry init --global URL)",
		 mp_pg_name(db));
	ck_assert_str_eq(e.msg, msg);
	mp_pg_close(db);
}
END_TEST

/* The value of key=VALUE in the test server's URL (e.g. host, user). */
static void url_param(const char *key, char *out, size_t cap)
{
	char k[32];
	snprintf(k, sizeof k, "%s=", key);
	const char *p = strstr(url(), k);
	ck_assert_ptr_nonnull(p);
	p += strlen(k);
	size_t n = strcspn(p, "&");
	ck_assert_uint_lt(n, cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

START_TEST(test_password_hidden)
{
	char host[200], user[64], where[400], want[400];
	url_param("host", host, sizeof host);
	url_param("user", user, sizeof user);
	/* trust authentication: the password is sent nowhere, but must not
	 * be shown */
	snprintf(where, sizeof where, "%s&password=secret", url());
	struct mp_sql *db = open_url(where, 0);
	snprintf(want, sizeof want, "%s&password=***", url());
	ck_assert_str_eq(mp_pg_name(db), want);
	mp_pg_close(db);
	snprintf(where, sizeof where,
		 "host=%s dbname=mp user=%s password = 'se cr\\'et' "
		 "application_name=t",
		 host, user);
	db = open_url(where, 0);
	snprintf(want, sizeof want,
		 "host=%s dbname=mp user=%s password = *** application_name=t",
		 host, user);
	ck_assert_str_eq(mp_pg_name(db), want);
	mp_pg_close(db);
	snprintf(where, sizeof where,
		 "postgresql://%s:se%%40cret@/mp?host=%s&%%70assword=x2", user,
		 host);
	db = open_url(where, 0);
	snprintf(want, sizeof want,
		 "postgresql://%s:***@/mp?host=%s&%%70assword=***", user, host);
	ck_assert_str_eq(mp_pg_name(db), want);
	mp_pg_close(db);
	/* and in the error of a failed connection */
	struct mp_error e;
	ck_assert_int_eq(mp_pg_open("postgres://bob:secret@/mp?host=/nonexistent"
				    "/mp-nosrv",
				    0, &db, &e),
			 MP_EIO);
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(e.msg, "postgres://bob:***@/mp?host=/nonexistent"
				    "/mp-nosrv: cannot connect: ") == e.msg,
		      "%s", e.msg);
	ck_assert_msg(!strstr(e.msg, "secret"), "%s", e.msg);
	/* libpq quotes a malformed token, which may be the password */
	const char *bad[3] = {
		"postgresql://bob:se%zzcret@/mp?host=/nonexistent",
		"postgresql:///mp?host=/nonexistent&password=se%zzcret",
		"postgresql://bob:se%zzcret@/mp?host=/x&password=se%zzcret2"};
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(mp_pg_open(bad[i], 0, &db, &e), MP_EIO);
		ck_assert_msg(strstr(e.msg, "cannot connect: invalid "
					    "percent-encoded token: \"***"),
			      "%s", e.msg);
		ck_assert_msg(!strstr(e.msg, "cret"), "%s", e.msg);
	}
}
END_TEST

START_TEST(test_dead_socket)
{
	struct mp_sql *db = (struct mp_sql *)&db;
	struct mp_error e;
	const char *dead = "postgresql:///mp?host=/nonexistent/mp-nosrv";
	ck_assert_int_eq(mp_pg_open(dead, 0, &db, &e), MP_EIO);
	ck_assert_ptr_null(db);
	const char *want = "postgresql:///mp?host=/nonexistent/mp-nosrv: "
			   "cannot connect: ";
	ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "No such file or directory"), "%s", e.msg);
	ck_assert_msg(!strpbrk(e.msg, "\n\t"), "not one line: %s", e.msg);
	ck_assert_int_eq(mp_pg_open("host=/nonexistent/mp-nosrv dbname=mp "
				    "password=pw",
				    0, &db, &e),
			 MP_EIO);
	ck_assert_msg(strstr(e.msg, "host=/nonexistent/mp-nosrv dbname=mp "
				    "password=***: cannot connect: ") == e.msg,
		      "%s", e.msg);
	ck_assert_int_eq(mp_pg_open("not a conninfo", 0, &db, &e), MP_EIO);
	ck_assert_msg(!strchr(e.msg, '\n'), "%s", e.msg);
}
END_TEST

START_TEST(test_server_stops)
{
	const char *ctl = getenv("MP_PG_CTL");
	ck_assert_msg(ctl != NULL, "MP_PG_CTL is not set (tests/pg.sh)");
	struct mp_sql *db = open_url(url(), 0);
	struct mp_sql_res *r = rows(db, "SELECT 'up'", NULL, 0);
	mp_sql_res_free(r);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "%s -w -m immediate stop >/dev/null", ctl);
	ck_assert_int_eq(system(cmd), 0);
	struct mp_error e;
	mp_status st = fails(db, "SELECT 'down'", NULL, 0, &e);
	ck_assert_msg(st == MP_EIO, "status %d: %s", st, e.msg);
	ck_assert_msg(strstr(e.msg, ": server went away: "), "%s", e.msg);
	ck_assert_msg(!strpbrk(e.msg, "\n\t"), "%s", e.msg);
	/* and again: the connection stays broken, the error stays clear */
	ck_assert_int_eq(fails(db, "SELECT 'down'", NULL, 0, &e), MP_EIO);
	mp_pg_close(db);
	snprintf(cmd, sizeof cmd, "%s -w start >/dev/null", ctl);
	ck_assert_int_eq(system(cmd), 0);
	db = open_url(url(), 0);
	mp_pg_close(db);
}
END_TEST

Suite *suite_sql_pg(void)
{
	Suite *s = suite_create("sql_pg");
	TCase *tc = tcase_create("sql_pg");
	tcase_set_timeout(tc, 60);
	const char *only = getenv("CK_RUN_SUITE");
	bool asked = only && strcmp(only, "sql_pg") == 0;
	const char *ci = getenv("CI");
	if (!url()) {
		/* the full run leaves it to tests/pg.sh */
		if (asked && ci && strcmp(ci, "true") == 0)
			tcase_add_test(tc, test_no_url);
		else if (asked)
			fprintf(stderr, "sql_pg: MP_PG_URL is not set, nothing "
					"run: use tests/pg.sh\n");
		suite_add_tcase(s, tc);
		return s;
	}
	tcase_add_test(tc, test_placeholders);
	tcase_add_test(tc, test_text_and_blobs);
	tcase_add_test(tc, test_nulls_and_types);
	tcase_add_test(tc, test_unique_and_errors);
	tcase_add_test(tc, test_lock_timeout);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_password_hidden);
	tcase_add_test(tc, test_dead_socket);
	tcase_add_test(tc, test_server_stops); /* last: it restarts the server */
	suite_add_tcase(s, tc);
	return s;
}
