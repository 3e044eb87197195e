#!/bin/sh
# tests/registry-stress.sh — the registry databases under stress, for SQLite
# (a directory, DIR/registry.db) and PostgreSQL (a throw-away server from
# tests/pgserver.sh): 8 processes adding 25 distinct models each at once,
# a writer killed with SIGKILL at random moments 20 times, and read-only
# access (a 0555 directory; a role granted only modelprint_reader).
. "$MP_SRCDIR/tests/lib.sh"
export LC_ALL=C
M="$T/models"
mkdir -p "$M"
ESC=$(printf '\033')

# le64e N: N as 8 little-endian bytes, as printf escapes (st_write's data)
le64e() {
	n=$1 i=0 out=
	while [ $i -lt 8 ]; do
		out="$out\\$(printf %03o $((n % 256)))"
		n=$((n / 256)); i=$((i + 1))
	done
	printf '%s' "$out"
}
# one FILE N: a one-tensor model (F32 [2]) whose bytes are N's: distinct
# N, distinct SHA-256
one() (
	st_write "$1" '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' "$(le64e "$2")"
)
# ids LOC: the ids `registry list --json` prints, one a line, sorted
ids() {
	"$MP_BIN" registry --registry "$1" list --json |
		grep -o '"id":[[:space:]]*"[^"]*"' | sed 's/.*:[[:space:]]*"//; s/"$//' | sort
}
# oneline TEXT: TEXT is exactly one non-empty line without ESC
oneline() {
	[ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ] &&
		case $1 in *"$ESC"*) false;; *) true;; esac
}

# --- 8 processes adding 25 distinct models each at once ------------------
# concurrent LOC TAG: afterwards exactly 200 models, 200 distinct ids, and
# every id an add printed is listed.
concurrent() {
	loc=$1 tag=$2 f0=$FAILS
	p=0
	while [ $p -lt 8 ]; do
		i=0
		while [ $i -lt 25 ]; do one "$M/$tag-c$p-$i.safetensors" $((1000 + p * 25 + i)); i=$((i + 1)); done
		p=$((p + 1))
	done
	: > "$T/$tag.cerr"
	p=0
	while [ $p -lt 8 ]; do
		( i=0; while [ $i -lt 25 ]; do
			"$MP_BIN" registry --registry "$loc" add "$M/$tag-c$p-$i.safetensors" \
				>> "$T/$tag.printed.$p" 2>> "$T/$tag.cerr" ||
				echo "add $p/$i failed" >> "$T/$tag.cerr"
			i=$((i + 1)); done ) &
		p=$((p + 1))
	done
	wait
	[ -s "$T/$tag.cerr" ] && fail "$tag concurrent adds: $(head -3 "$T/$tag.cerr")"
	ids "$loc" > "$T/$tag.ids" || fail "$tag list after concurrent adds"
	cat "$T/$tag".printed.* | sort > "$T/$tag.printed"
	n=$(wc -l < "$T/$tag.ids")
	d=$(sort -u "$T/$tag.ids" | wc -l)
	np=$(wc -l < "$T/$tag.printed")
	dp=$(sort -u "$T/$tag.printed" | wc -l)
	[ "$n" = 200 ] && [ "$d" = 200 ] || fail "$tag concurrent adds: $n models, $d distinct ids, expected 200"
	[ "$np" = 200 ] && [ "$dp" = 200 ] || fail "$tag concurrent adds printed $np ids, $dp distinct, expected 200"
	missing=$(comm -23 "$T/$tag.printed" "$T/$tag.ids" | head -3)
	[ -z "$missing" ] || fail "$tag concurrent adds: printed ids not listed: $missing"
	if [ $FAILS = $f0 ]; then ok "$tag: 8 processes x 25 adds at once: $n models, $d distinct ids, all printed ids listed"; fi
}

# --- a writer killed with SIGKILL at random moments, 20 times ------------
# stop PID: SIGKILL a writer loop and the command it runs (the loop is
# stopped first so that it cannot start another one in between)
stop() {
	kill -STOP "$1" 2>/dev/null || true
	pkill -KILL -P "$1" 2>/dev/null || true
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# rnd LO HI: a random integer in [LO, HI]
rnd() {
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $(($1 + r % ($2 - $1 + 1)))
}
# killed LOC TAG DB: DB is the SQLite file to check (empty for PostgreSQL).
# Even rounds kill a loop of adds, odd rounds a loop of `run
# --write-to-registry` over the models added so far (SQLite only: run
# resolves ids in the registry it writes). After each kill: list exits 0,
# integrity_check says ok, every id an add printed is listed, and at most
# one model beyond them (the add in flight) was added.
killed() {
	loc=$1 tag=$2 db=$3 f0=$FAILS now=0
	: > "$T/$tag.done"
	ids "$loc" > "$T/$tag.kids"
	base=$(wc -l < "$T/$tag.kids") before=0 k=0 runs=0
	while [ $k -lt 20 ]; do
		if [ $((k % 2)) = 1 ] && [ -n "$db" ] && [ "$now" -gt 0 ]; then
			{ printf '{"models": ['
			  sed 's/.*/"&"/' "$T/$tag.kids" | head -8 | paste -sd, -
			  printf '], "methods": ["tensors", "spectral"], "metrics": ["cosine", "l1"]}\n'; } > "$T/$tag.cfg"
			( while :; do "$MP_BIN" run --config "$T/$tag.cfg" --registry "$loc" \
				--global-registry "$loc" --write-to-registry --threads 1 \
				--output-dir "$T/$tag.out" >/dev/null 2>&1; done ) &
			runs=$((runs + 1))
		else
			( j=0; while :; do
				f="$M/$tag-k$k-$j.safetensors"
				one "$f" $((100000 + k * 10000 + j))
				"$MP_BIN" registry --registry "$loc" add "$f" >> "$T/$tag.done" 2>/dev/null
				j=$((j + 1)); done ) &
		fi
		loop=$!
		sleep "0.$(printf %03d "$(rnd 30 600)")"
		stop $loop
		err=$("$MP_BIN" registry --registry "$loc" list 2>&1 >/dev/null) ||
			{ fail "$tag unreadable after kill $k: $err"; return; }
		if [ -n "$db" ]; then
			[ -f "$db" ] || { fail "$tag: no $db after kill $k"; return; }
			ic=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)
			[ "$ic" = ok ] || { fail "$tag integrity_check after kill $k: $ic"; return; }
		fi
		ids "$loc" > "$T/$tag.kids"
		sort "$T/$tag.done" > "$T/$tag.dsorted"
		missing=$(comm -23 "$T/$tag.dsorted" "$T/$tag.kids" | head -3)
		[ -z "$missing" ] || fail "$tag kill $k: printed ids not listed: $missing"
		now=$(wc -l < "$T/$tag.kids")
		done_n=$(wc -l < "$T/$tag.done")
		extra=$((now - base - done_n))
		[ $extra -ge 0 ] && [ $extra -le $((before + 1)) ] ||
			fail "$tag kill $k: $now models for $done_n completed adds ($before unprinted before)"
		before=$extra
		k=$((k + 1))
	done
	# models that completed a run have both fingerprints or none half-stored
	if [ -n "$db" ]; then
		while read -r id; do
			"$MP_BIN" registry --registry "$loc" show "$id" >/dev/null 2>"$T/$tag.serr" ||
				fail "$tag show $id after kills: $(cat "$T/$tag.serr")"
		done < "$T/$tag.kids"
	fi
	if [ $FAILS = $f0 ]; then ok "$tag: 20 SIGKILLs ($runs of run --write-to-registry): $(wc -l < "$T/$tag.kids") models, $(wc -l < "$T/$tag.done") adds completed, $before in flight"; fi
}

# --- SQLite ------------------------------------------------------------------
S="$T/sqlite"
concurrent "$S" sqlite
[ -f "$S/registry.db" ] || fail "no $S/registry.db"
ic=$(sqlite3 "$S/registry.db" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ] || fail "integrity_check after concurrent adds: $ic"
K="$T/sqlite-kill"
"$MP_BIN" registry --registry "$K" init >/dev/null || fail "registry init of $K"
killed "$K" sqlite-kill "$K/registry.db"

# A read-only registry directory (0555): add refuses with one clear line
# naming the registry and exit 1; list still works. Root ignores modes, so
# then the check runs as nobody on a world-readable copy.
RO=$(mktemp -d "${TMPDIR:-/tmp}/mpro.XXXXXX")
trap 'chmod -R u+w "$RO" 2>/dev/null; rm -rf "$T" "$RO"; [ -z "${PG_UP:-}" ] || pg_stop' EXIT
cp -R "$S" "$RO/reg"
one "$RO/new.safetensors" 999999
cp "$MP_BIN" "$RO/modelprint"
chmod -R a+rX "$RO"
chmod 0555 "$RO/reg"
as=
if [ "$(id -u)" = 0 ]; then
	as="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	mkdir "$RO/home" && chown nobody "$RO/home"
fi
rc=0
err=$(HOME="$RO/home" $as "$RO/modelprint" registry --registry "$RO/reg" add "$RO/new.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && oneline "$err" || fail "add to a 0555 registry: exit $rc, '$err'"
case $err in *"$RO/reg"*) ;; *) fail "read-only error does not name $RO/reg: $err";; esac
echo "$err" | grep -Eqi 'read-only|permission|not writable|cannot write' ||
	fail "read-only error does not say why: $err"
n=$(HOME="$RO/home" $as "$RO/modelprint" registry --registry "$RO/reg" list 2>"$T/ro.err" | wc -l) ||
	fail "list of a 0555 registry"
[ "$n" -ge 200 ] || fail "list of a 0555 registry: $n lines: $(cat "$T/ro.err")"
[ -s "$T/ro.err" ] && fail "list of a 0555 registry wrote to stderr: $(cat "$T/ro.err")"
ok "0555 registry${as:+ (as nobody)}: add refused ($err), list works"

# --- PostgreSQL --------------------------------------------------------------
if [ ! -f "$MP_SRCDIR/tests/pgserver.sh" ]; then
	echo "SKIP: PostgreSQL half (tests/pgserver.sh is not in this tree yet)"
	finish
fi
. "$MP_SRCDIR/tests/pgserver.sh"
pg_start
PG_UP=1
# url_as USER: MP_PG_URL connecting as USER
url_as() {
	case $MP_PG_URL in
	*\?*user=*) printf '%s' "$MP_PG_URL" | sed "s/\([?&]\)user=[^&]*/\1user=$1/" ;;
	postgres*://*@*) printf '%s' "$MP_PG_URL" | sed "s|://[^@/]*@|://$1@|" ;;
	*\?*) printf '%s&user=%s' "$MP_PG_URL" "$1" ;;
	*) printf '%s?user=%s' "$MP_PG_URL" "$1" ;;
	esac
}
# before init: one line naming the command that creates it, which works
rc=0
err=$("$MP_BIN" registry --registry "$MP_PG_URL" list 2>&1) || rc=$?
[ $rc = 1 ] && oneline "$err" || fail "list before init: exit $rc, '$err'"
echo "$err" | grep -q -- "registry init --global URL" ||
	fail "the error before init does not name 'registry init --global URL': $err"
"$MP_BIN" registry init --global "$MP_PG_URL" >/dev/null || fail "registry init --global $MP_PG_URL"
"$MP_BIN" registry --global-registry "$MP_PG_URL" init >/dev/null || fail "second registry init of $MP_PG_URL"
concurrent "$MP_PG_URL" pg
killed "$MP_PG_URL" pg-kill ""

# A LOGIN role granted only modelprint_reader lists but cannot add, and is
# told which privilege is missing; one granted modelprint_writer adds.
pg_psql 'CREATE ROLE mp_ro LOGIN' 'GRANT modelprint_reader TO mp_ro' \
	'CREATE ROLE mp_rw LOGIN' 'GRANT modelprint_writer TO mp_rw' >/dev/null ||
	fail "creating the test roles"
one "$M/pg-ro.safetensors" 888888
ro=$(url_as mp_ro) rw=$(url_as mp_rw)
rc=0
err=$("$MP_BIN" registry --global-registry "$ro" --write-to-registry add "$M/pg-ro.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && oneline "$err" || fail "--write-to-registry add as a reader: exit $rc, '$err'"
echo "$err" | grep -Eq 'INSERT|UPDATE|DELETE' || fail "reader's error names no privilege: $err"
rc=0
e2=$("$MP_BIN" registry --registry "$ro" add "$M/pg-ro.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && oneline "$e2" || fail "add as a reader: exit $rc, '$e2'"
"$MP_BIN" registry --registry "$ro" list >/dev/null || fail "list as a reader"
n=$(ids "$ro" | wc -l)
id=$("$MP_BIN" registry --global-registry "$rw" --write-to-registry add "$M/pg-ro.safetensors") ||
	fail "--write-to-registry add as a writer"
m=$(ids "$MP_PG_URL" | wc -l)
[ "$m" = $((n + 1)) ] || fail "the writer's add: $n -> $m models"
ids "$MP_PG_URL" | grep -qx "$id" || fail "the writer's id '$id' is not listed"
ok "PostgreSQL roles: reader refused ($err), writer added $id"
pg_stop
PG_UP=
finish
