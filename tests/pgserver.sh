# tests/pgserver.sh — a throw-away PostgreSQL server for tests and
# benchmarks (sourced by sh scripts). Never skips: without the server
# binaries pg_start fails.
#
#   pg_start      initdb into a fresh directory, start a server listening on
#                 a Unix socket in that directory only (no TCP), fsync off,
#                 create database mp; as root the server runs as the
#                 `postgres` user. Exports:
#                   MP_PG_DIR  the directory (socket, data/, log)
#                   MP_PG_URL  postgresql:///mp?host=DIR&user=SUPERUSER
#                   MP_PG_CTL  "pg_ctl -D DIR/data -l DIR/log" as the server
#                              user: append e.g. "-w -m immediate stop" or
#                              "-w start" (for tests that stop the server)
#                 and sets an EXIT trap that calls pg_stop (chained with
#                 the EXIT trap already set by the caller, e.g. lib.sh's).
#   pg_psql SQL...  run each SQL with psql as the superuser on mp (-X -q -A
#                 -t, stops at the first error).
#   pg_stop       stop the server, remove the directory (idempotent).
# MP_PG_BINDIR overrides where initdb and pg_ctl are looked for (default:
# the last /usr/lib/postgresql/*/bin in glob order).

pg_fail() {
	echo "pgserver: $*" >&2
	exit 99
}

pg_start() {
	# MP_PG_BINDIR: another installation's bin directory
	PG_BIN=${MP_PG_BINDIR:-}
	if [ -z "$PG_BIN" ]; then
		for d in /usr/lib/postgresql/*/bin; do
			[ -x "$d/initdb" ] && PG_BIN=$d
		done
	fi
	PG_PSQL=$PG_BIN/psql
	[ -x "$PG_PSQL" ] || PG_PSQL=$(command -v psql || :)
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] &&
		[ -n "$PG_PSQL" ] ||
		pg_fail "PostgreSQL server binaries (initdb, pg_ctl, psql) not found: install postgresql (./autogen.sh --deps)"
	# The socket path must stay under 107 bytes: a short directory in /tmp
	# unless TMPDIR is short too.
	base=${TMPDIR:-/tmp}
	[ ${#base} -le 40 ] || base=/tmp
	MP_PG_DIR=$(mktemp -d "$base/mppg.XXXXXX") ||
		pg_fail "cannot create a temporary directory in $base"
	# the previous EXIT trap (lib.sh removes its directory), kept and run
	# after pg_stop; through a file since dash's $(trap) is empty
	trap >"$MP_PG_DIR/traps"
	PG_PREV_TRAP=$(sed -n 's/^trap -- \(.*\) EXIT$/\1/p' "$MP_PG_DIR/traps")
	eval "PG_PREV_TRAP=${PG_PREV_TRAP:-''}"
	trap 'pg_stop; eval "$PG_PREV_TRAP"' EXIT
	trap 'exit 130' INT HUP TERM
	if [ "$(id -u)" = 0 ]; then
		# initdb and postgres refuse to run as root.
		id postgres >/dev/null 2>&1 ||
			pg_fail "running as root but there is no postgres user: install postgresql (./autogen.sh --deps)"
		chown postgres: "$MP_PG_DIR"
		PG_SUPER=postgres
		PG_AS="runuser -u postgres --"
		$PG_AS test -w "$MP_PG_DIR" ||
			pg_fail "user postgres cannot write $MP_PG_DIR (set TMPDIR to a directory it can reach)"
	else
		PG_SUPER=$(id -un)
		PG_AS=
	fi
	$PG_AS "$PG_BIN/initdb" -D "$MP_PG_DIR/data" -U "$PG_SUPER" -A trust \
		-E UTF8 --no-locale --no-sync >"$MP_PG_DIR/initdb.log" 2>&1 ||
		{ cat "$MP_PG_DIR/initdb.log" >&2; pg_fail "initdb failed"; }
	# In the configuration (not pg_ctl -o) so that a test that stops the
	# server can start it again with "$MP_PG_CTL -w start".
	cat >>"$MP_PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$MP_PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
EOF
	MP_PG_CTL="$PG_AS $PG_BIN/pg_ctl -D $MP_PG_DIR/data -l $MP_PG_DIR/log"
	$MP_PG_CTL -w -t 60 start >/dev/null 2>&1 ||
		{ cat "$MP_PG_DIR/log" >&2; pg_fail "the server did not start"; }
	"$PG_PSQL" -X -q -h "$MP_PG_DIR" -U "$PG_SUPER" -d postgres \
		-c 'CREATE DATABASE mp' >/dev/null ||
		pg_fail "cannot create database mp"
	MP_PG_URL="postgresql:///mp?host=$MP_PG_DIR&user=$PG_SUPER"
	export MP_PG_DIR MP_PG_URL MP_PG_CTL
}

pg_psql() {
	n=$#
	for s in "$@"; do set -- "$@" -c "$s"; done
	shift "$n"
	"$PG_PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MP_PG_DIR" -U "$PG_SUPER" \
		-d mp "$@"
}

pg_stop() {
	[ -n "${MP_PG_DIR:-}" ] && [ -d "$MP_PG_DIR" ] || return 0
	if [ -f "$MP_PG_DIR/data/postmaster.pid" ]; then
		$MP_PG_CTL -w -m immediate stop >/dev/null 2>&1 || :
	fi
	rm -rf "$MP_PG_DIR"
	MP_PG_DIR=
}
