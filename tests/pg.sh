#!/bin/sh
# tests/pg.sh — the PostgreSQL backend (the sql_pg Check suite: sql_pg.c,
# registry_pg.c) against a throw-away server started here (pgserver.sh).
# Never skipped: without PostgreSQL it fails naming the package.
. "$MP_SRCDIR/tests/lib.sh"
. "$MP_SRCDIR/tests/pgserver.sh"
CHECK=$(dirname "$MP_BIN")/../tests/check_modelprint
pg_start
if CK_RUN_SUITE=sql_pg "$CHECK"; then
	ok "sql_pg suite"
else
	fail "sql_pg suite"
fi
finish
