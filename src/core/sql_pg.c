/* sql_pg.c — sql.h over PostgreSQL (libpq): '?' placeholders numbered
 * $1..$n, text parameters sent as text and blobs as binary bytea, results
 * in binary (the raw bytes of text and bytea columns), errors mapped by
 * SQLSTATE. */
#include "sql_pg.h"

#include "escape.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs (pg_type.dat) whose binary form is their raw bytes. */
#define OID_BYTEA 17
#define OID_CHAR 18
#define OID_NAME 19
#define OID_TEXT 25
#define OID_JSON 114
#define OID_UNKNOWN 705
#define OID_BPCHAR 1042
#define OID_VARCHAR 1043

#define CONNECT_TIMEOUT "10" /* seconds, unless the URL or env says */

/* Where the passwords are in a connection string: libpq's messages about a
 * malformed one quote the bad token, which may be one. */
#define MAX_SECRETS 8
struct secrets {
	size_t n;
	bool overflow; /* more than MAX_SECRETS */
	const char *p[MAX_SECRETS];
	size_t len[MAX_SECRETS];
};

static void add_secret(struct secrets *sec, const char *p, size_t len)
{
	if (len == 0)
		return;
	if (sec->n == MAX_SECRETS) {
		sec->overflow = true;
		return;
	}
	sec->p[sec->n] = p;
	sec->len[sec->n++] = len;
}

/* --- names: the password hidden ------------------------------------------- */

static bool is_url(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Whether the n bytes at k, percent-decoded as libpq decodes URL query
 * keys, spell "password". */
static bool key_is_password(const char *k, size_t n)
{
	static const char want[] = "password";
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (c == '%' && i + 2 < n && mp_hex_digit(k[i + 1]) >= 0 &&
		    mp_hex_digit(k[i + 2]) >= 0) {
			c = (char)(mp_hex_digit(k[i + 1]) * 16 +
				   mp_hex_digit(k[i + 2]));
			i += 2;
		}
		if (w >= sizeof want - 1 || c != want[w])
			return false;
		w++;
	}
	return w == sizeof want - 1;
}

/* URL: user:PASSWORD@host and ?password=PASSWORD (or &password=). */
static void hide_url(const char *s, char *o, struct secrets *sec)
{
	const char *p = strstr(s, "://") + 3;
	size_t auth = strcspn(p, "/?");
	const char *at = NULL;
	for (const char *q = p; q < p + auth; q++)
		if (*q == '@')
			at = q;
	const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (colon) {
		add_secret(sec, colon + 1, (size_t)(at - colon - 1));
		size_t n = (size_t)(colon + 1 - s);
		memcpy(o, s, n);
		o += n;
		o += sprintf(o, "***");
		s = at;
	}
	const char *qm = strchr(s, '?');
	if (!qm) {
		strcpy(o, s);
		return;
	}
	size_t n = (size_t)(qm + 1 - s);
	memcpy(o, s, n);
	o += n;
	s = qm + 1;
	while (*s) {
		size_t plen = strcspn(s, "&");
		const char *eq = memchr(s, '=', plen);
		if (eq && key_is_password(s, (size_t)(eq - s))) {
			n = (size_t)(eq + 1 - s);
			add_secret(sec, eq + 1, plen - n);
			memcpy(o, s, n);
			o += n;
			o += sprintf(o, "***");
		} else {
			memcpy(o, s, plen);
			o += plen;
		}
		s += plen;
		if (*s == '&')
			*o++ = *s++;
	}
	*o = '\0';
}

/* key=value string: password=VALUE (VALUE bare or '...' with \ escapes). */
static void hide_keyvalue(const char *s, char *o, struct secrets *sec)
{
	while (*s) {
		while (is_space(*s))
			*o++ = *s++;
		const char *key = s;
		while (*s && *s != '=' && !is_space(*s))
			s++;
		size_t klen = (size_t)(s - key);
		memcpy(o, key, klen);
		o += klen;
		while (is_space(*s))
			*o++ = *s++;
		if (*s != '=') /* malformed: libpq refuses it; copy as is */
			continue;
		*o++ = *s++;
		while (is_space(*s))
			*o++ = *s++;
		const char *val = s;
		if (*s == '\'') {
			s++;
			while (*s && *s != '\'') {
				if (*s == '\\' && s[1])
					s++;
				s++;
			}
			if (*s)
				s++;
		} else {
			while (*s && !is_space(*s)) {
				if (*s == '\\' && s[1])
					s++;
				s++;
			}
		}
		if (klen == 8 && memcmp(key, "password", 8) == 0) {
			size_t vlen = (size_t)(s - val);
			if (vlen >= 2 && *val == '\'')
				add_secret(sec, val + 1, vlen - 2);
			else
				add_secret(sec, val, vlen);
			o += sprintf(o, "***");
		} else {
			memcpy(o, val, (size_t)(s - val));
			o += s - val;
		}
	}
	*o = '\0';
}

/* A heap copy of where with any password replaced by "***" (NULL on
 * allocation failure), the passwords' places in *sec. Each replacement adds
 * at most 3 bytes, and there are fewer replacements than bytes. */
static char *hide_password(const char *where, struct secrets *sec)
{
	size_t len = strlen(where);
	if (len > SIZE_MAX / 4 - 8)
		return NULL;
	char *o = malloc(len * 4 + 8);
	if (!o)
		return NULL;
	if (is_url(where))
		hide_url(where, o, sec);
	else
		hide_keyvalue(where, o, sec);
	return o;
}

/* msg with every password of sec replaced by "***" (heap; NULL on
 * allocation failure); a placeholder when there were too many to track. */
static char *scrub(const char *msg, const struct secrets *sec)
{
	if (sec->overflow)
		return mp_strdup("(libpq's message is hidden: the connection "
				 "string holds many passwords)");
	size_t len = strlen(msg);
	if (len > SIZE_MAX / 3 - 1)
		return NULL;
	char *o = malloc(len * 3 + 1), *w = o;
	if (!o)
		return NULL;
	while (*msg) {
		size_t hit = 0;
		for (size_t i = 0; i < sec->n; i++) /* the longest */
			if (sec->len[i] > hit &&
			    strncmp(msg, sec->p[i], sec->len[i]) == 0)
				hit = sec->len[i];
		if (hit) {
			w += sprintf(w, "***");
			msg += hit;
		} else {
			*w++ = *msg++;
		}
	}
	*w = '\0';
	return o;
}

/* --- errors --------------------------------------------------------------- */

/* "NAME: WHAT MSG" with msg on one line (runs of white space become one
 * space) and both name and message made safe for a terminal. */
static mp_status fail(struct mp_error *err, mp_status st, const char *name,
		      const char *what, const char *msg)
{
	char line[MP_ERRMSG_MAX], shown_msg[MP_ERRMSG_MAX], shown_name[256];
	size_t n = 0;
	bool space = false;
	for (const char *p = msg ? msg : ""; *p && n < sizeof line - 1; p++) {
		if (is_space(*p)) {
			space = n > 0;
			continue;
		}
		if (space && n < sizeof line - 2)
			line[n++] = ' ';
		space = false;
		line[n++] = *p;
	}
	line[n] = '\0';
	mp_escape_term(line, shown_msg, sizeof shown_msg);
	mp_escape_term(name, shown_name, sizeof shown_name);
	return mp_error_set(err, st, "%s: %s%s", shown_name, what, shown_msg);
}

static bool state_is(const char *state, const char *want)
{
	return strncmp(state, want, strlen(want)) == 0;
}

/* The status and message of a failed command (res may be NULL). */
static mp_status exec_fail(struct mp_sql *db, const PGresult *res,
			   struct mp_error *err)
{
	PGconn *c = db->conn;
	const char *state =
		res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
		res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if ((!msg || !*msg) && res)
		msg = PQresultErrorMessage(res);
	if (!msg || !*msg)
		msg = PQerrorMessage(c);
	if (!state)
		state = "";
	/* A result without SQLSTATE is libpq's own error: the connection
	 * broke (its status is updated only by the next call). */
	if (PQstatus(c) == CONNECTION_BAD || !*state || state_is(state, "08") ||
	    state_is(state, "57P01") || state_is(state, "57P02") ||
	    state_is(state, "57P03"))
		return fail(err, MP_EIO, db->name, "server went away: ", msg);
	mp_status st = MP_EFORMAT;
	if (state_is(state, "23505"))
		st = MP_EEXIST;
	else if (state_is(state, "42501") || state_is(state, "25006"))
		st = MP_EPERM;
	else if (state_is(state, "40001") || state_is(state, "40P01") ||
		 state_is(state, "55P03"))
		st = MP_ELOCK;
	return fail(err, st, db->name, "", msg);
}

static bool command_ok(const PGresult *res)
{
	ExecStatusType s = PQresultStatus(res);
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ||
	       s == PGRES_EMPTY_QUERY;
}

/* --- connections ---------------------------------------------------------- */

static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void mp_pg_close(struct mp_sql *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->name);
	free(db);
}

mp_status mp_pg_open(const char *where, unsigned flags, struct mp_sql **out,
		     struct mp_error *err)
{
	*out = NULL;
	if (!where)
		return mp_error_set(err, MP_EINVAL, "no PostgreSQL URL given");
	struct mp_sql *db = calloc(1, sizeof *db);
	if (!db)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	db->kind = MP_SQL_PG;
	struct secrets sec = {0};
	db->name = hide_password(where, &sec);
	if (!db->name) {
		mp_pg_close(db);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	/* where is expanded last, so that its own settings override these
	 * defaults (a server that never answers must not hang us). */
	const char *keys[4], *vals[4];
	int k = 0;
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[k] = "connect_timeout";
		vals[k++] = CONNECT_TIMEOUT;
	}
	keys[k] = "fallback_application_name";
	vals[k++] = "modelprint";
	keys[k] = "dbname";
	vals[k++] = where;
	keys[k] = NULL;
	vals[k] = NULL;
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		mp_pg_close(db);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	db->conn = c;
	if (PQstatus(c) != CONNECTION_OK) {
		char *msg = scrub(PQerrorMessage(c), &sec);
		mp_status st = msg ? fail(err, MP_EIO, db->name,
					  "cannot connect: ", msg)
				   : mp_error_set(err, MP_ENOMEM,
						  "out of memory");
		free(msg);
		mp_pg_close(db);
		return st;
	}
	PQsetNoticeProcessor(c, drop_notice, NULL);
	mp_status st = mp_pg_script(
		db,
		(flags & MP_SQL_READONLY)
			? "SET client_min_messages = warning; "
			  "SET default_transaction_read_only = on"
			: "SET client_min_messages = warning",
		err);
	if (st != MP_OK) {
		mp_pg_close(db);
		return st;
	}
	*out = db;
	return MP_OK;
}

const char *mp_pg_name(const struct mp_sql *db)
{
	return db->name;
}

/* --- placeholders --------------------------------------------------------- */

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	       (unsigned char)c >= 0x80;
}

/* When sql[i] starts quoted text or a comment ('...', E'...', "...",
 * $tag$...$tag$, -- ..., / * ... * /), the index just after it (the end of
 * sql when it is not closed); else i. */
static size_t skip_quoted(const char *sql, size_t i)
{
	size_t k = i + 1;
	switch (sql[i]) {
	case '\'': {
		bool esc = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
			   (i < 2 || !ident_char(sql[i - 2]));
		while (sql[k]) {
			if (esc && sql[k] == '\\' && sql[k + 1])
				k += 2;
			else if (sql[k] == '\'' && sql[k + 1] == '\'')
				k += 2;
			else if (sql[k] == '\'')
				return k + 1;
			else
				k++;
		}
		return k;
	}
	case '"':
		while (sql[k] && sql[k] != '"')
			k++;
		return sql[k] ? k + 1 : k;
	case '-':
		if (sql[k] != '-')
			return i;
		while (sql[k] && sql[k] != '\n')
			k++;
		return k;
	case '/': {
		if (sql[k] != '*')
			return i;
		int depth = 1;
		k++;
		while (sql[k] && depth > 0) {
			if (sql[k] == '/' && sql[k + 1] == '*') {
				depth++;
				k += 2;
			} else if (sql[k] == '*' && sql[k + 1] == '/') {
				depth--;
				k += 2;
			} else {
				k++;
			}
		}
		return k;
	}
	case '$': {
		if ((i > 0 && ident_char(sql[i - 1])) ||
		    (sql[k] >= '0' && sql[k] <= '9'))
			return i;
		while (sql[k] && sql[k] != '$' && ident_char(sql[k]))
			k++;
		if (sql[k] != '$')
			return i;
		size_t tlen = k + 1 - i;
		const char *end = sql + k + 1;
		while ((end = strchr(end, '$')) && strncmp(end, sql + i, tlen))
			end++;
		return end ? (size_t)(end - sql) + tlen : strlen(sql);
	}
	default:
		return i;
	}
}

/* sql with its '?' placeholders numbered $1, $2, ... (heap; NULL on
 * allocation failure); their count in *n. */
static char *number_placeholders(const char *sql, size_t *n)
{
	size_t len = strlen(sql), count = 0;
	for (size_t i = 0; sql[i];) {
		size_t j = skip_quoted(sql, i);
		if (j == i && sql[i] == '?')
			count++;
		i = j > i ? j : i + 1;
	}
	*n = count;
	if (count > (SIZE_MAX - len - 1) / 21)
		return NULL;
	char *o = malloc(len + count * 21 + 1), *w = o;
	if (!o)
		return NULL;
	size_t num = 0;
	for (size_t i = 0; sql[i];) {
		size_t j = skip_quoted(sql, i);
		if (j > i) {
			memcpy(w, sql + i, j - i);
			w += j - i;
			i = j;
		} else if (sql[i] == '?') {
			w += sprintf(w, "$%zu", ++num);
			i++;
		} else {
			*w++ = sql[i++];
		}
	}
	*w = '\0';
	return o;
}

/* --- statements ----------------------------------------------------------- */

static bool raw_bytes_type(Oid t)
{
	return t == OID_TEXT || t == OID_BYTEA || t == OID_VARCHAR ||
	       t == OID_BPCHAR || t == OID_NAME || t == OID_CHAR ||
	       t == OID_JSON || t == OID_UNKNOWN;
}

/* The rows of res as a struct mp_sql_res. */
static mp_status copy_rows(struct mp_sql *db, const PGresult *res,
			   struct mp_sql_res **out, struct mp_error *err)
{
	size_t nr = (size_t)PQntuples(res), nc = (size_t)PQnfields(res);
	for (size_t c = 0; c < nc; c++) {
		Oid t = PQftype(res, (int)c);
		if (!raw_bytes_type(t)) {
			char what[96];
			snprintf(what, sizeof what,
				 "column %zu is of type oid %u, not text or "
				 "bytea: ",
				 c + 1, (unsigned)t);
			return fail(err, MP_EINVAL, db->name, what,
				    PQfname(res, (int)c));
		}
	}
	struct mp_sql_res *r = calloc(1, sizeof *r);
	if (!r)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    db->name);
	size_t ncell = nr * nc; /* both below INT_MAX */
	if (ncell > 0) {
		r->cells = calloc(ncell, sizeof *r->cells);
		r->lens = calloc(ncell, sizeof *r->lens);
		if (!r->cells || !r->lens) {
			mp_sql_res_free(r);
			return mp_error_set(err, MP_ENOMEM,
					    "%s: out of memory", db->name);
		}
	}
	r->nrows = nr;
	r->ncols = nc;
	for (size_t i = 0; i < nr; i++) {
		for (size_t c = 0; c < nc; c++) {
			if (PQgetisnull(res, (int)i, (int)c))
				continue;
			size_t len = (size_t)PQgetlength(res, (int)i, (int)c);
			char *cell = malloc(len + 1);
			if (!cell) {
				mp_sql_res_free(r);
				return mp_error_set(err, MP_ENOMEM,
						    "%s: out of memory",
						    db->name);
			}
			memcpy(cell, PQgetvalue(res, (int)i, (int)c), len);
			cell[len] = '\0';
			r->cells[i * nc + c] = cell;
			r->lens[i * nc + c] = len;
		}
	}
	*out = r;
	return MP_OK;
}

mp_status mp_pg_exec(struct mp_sql *db, const char *sql,
		     const struct mp_sql_val *params, size_t np,
		     struct mp_sql_res **out, struct mp_error *err)
{
	if (out)
		*out = NULL;
	size_t nph;
	char *text = number_placeholders(sql, &nph);
	if (!text)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    db->name);
	if (nph != np || np > 65535) {
		free(text);
		return mp_error_set(err, MP_EINVAL,
				    "%s: statement has %zu placeholders but "
				    "%zu parameters were given",
				    db->name, nph, np);
	}
	const char **vals = NULL;
	int *lens = NULL, *fmts = NULL;
	Oid *types = NULL;
	mp_status st = MP_OK;
	if (np > 0) {
		vals = calloc(np, sizeof *vals);
		lens = calloc(np, sizeof *lens);
		fmts = calloc(np, sizeof *fmts);
		types = calloc(np, sizeof *types);
		if (!vals || !lens || !fmts || !types)
			st = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					  db->name);
	}
	for (size_t i = 0; st == MP_OK && i < np; i++) {
		vals[i] = params[i].p;
		if (params[i].p && params[i].blob) {
			if (params[i].n > INT_MAX) {
				st = mp_error_set(err, MP_EINVAL,
						  "%s: parameter %zu is a blob "
						  "of %zu bytes, over 2 GiB",
						  db->name, i + 1,
						  params[i].n);
				break;
			}
			lens[i] = (int)params[i].n;
			fmts[i] = 1;
			types[i] = OID_BYTEA;
		}
	}
	PGresult *res = NULL;
	if (st == MP_OK) {
		res = PQexecParams(db->conn, text, (int)np, types, vals, lens,
				   fmts, 1);
		if (!res || !command_ok(res))
			st = exec_fail(db, res, err);
		else if (out)
			st = copy_rows(db, res, out, err);
	}
	PQclear(res);
	free(text);
	free(vals);
	free(lens);
	free(fmts);
	free(types);
	return st;
}

mp_status mp_pg_script(struct mp_sql *db, const char *sql,
		       struct mp_error *err)
{
	PGresult *res = PQexec(db->conn, sql);
	mp_status st = MP_OK;
	if (!res || !command_ok(res))
		st = exec_fail(db, res, err);
	PQclear(res);
	return st;
}
