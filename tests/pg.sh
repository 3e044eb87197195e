#!/bin/sh
# tests/pg.sh — the PostgreSQL backend (the sql_pg Check suite: sql_pg.c,
# registry_pg.c) and the global registry through the real binary (init,
# add, list, run --write-to-registry, --use-existing, roles, schema
# versions, a server that goes away mid-run), against a throw-away server
# started here (pgserver.sh). Never skipped: without PostgreSQL it fails
# naming the package.
. "$MP_SRCDIR/tests/lib.sh"
. "$MP_SRCDIR/tests/pgserver.sh"
CHECK=$(dirname "$MP_BIN")/../tests/check_modelprint
pg_start
if CK_RUN_SUITE=sql_pg "$CHECK"; then
	ok "sql_pg suite"
else
	fail "sql_pg suite"
fi

G=$MP_PG_URL
MP="$MP_BIN"
rc=0; err=$("$MP" registry --registry "$G" list 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "holds no modelprint registry.*registry init --global" ||
	fail "list before init: exit $rc, '$err'"
"$MP" registry init --global "$G" >/dev/null || fail "init --global URL"
"$MP" registry --global-registry "$G" init >/dev/null || fail "init twice"
model_a "$T/a.safetensors"
model_c "$T/c.safetensors"
id=$("$MP" registry --global-registry "$G" --write-to-registry add "$T/a.safetensors" --family A) ||
	fail "add a"
[ "$id" = 1 ] || fail "first id '$id'"
rc=0; err=$("$MP" registry --global-registry "$G" --write-to-registry add "$T/a.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "same SHA-256 as model 1" || fail "duplicate: $rc '$err'"
id=$("$MP" registry --global-registry "$G" --write-to-registry add "$T/c.safetensors" --family C) ||
	fail "add c"
"$MP" registry --registry "$G" rm 2 2>/dev/null || fail "rm 2"
id=$("$MP" registry --global-registry "$G" --write-to-registry add "$T/c.safetensors" --family C) ||
	fail "add c again"
[ "$id" = 3 ] || fail "id after rm is '$id', expected 3 (never reused)"
[ "$("$MP" registry --registry "$G" list --family C --json | grep -c '"id":')" = 1 ] ||
	fail "list --family C"
printf '{"models": ["1", "3"], "methods": ["tensors", "spectral"], "metrics": ["cosine"]}' > "$T/cfg.json"
out=$("$MP" run --config "$T/cfg.json" --global-registry "$G" --write-to-registry --output-dir "$T/o1") ||
	fail "run --write-to-registry"
echo "$out" | grep -q "fingerprints: 4 computed, 0 reused" || fail "first run: $out"
out=$("$MP" run --config "$T/cfg.json" --registry "$G" --use-existing --output-dir "$T/o2") ||
	fail "run --use-existing"
echo "$out" | grep -q "fingerprints: 0 computed, 4 reused" || fail "reuse: $out"
cmp -s "$T/o1/similarity_matrices.json" "$T/o2/similarity_matrices.json" ||
	fail "fingerprints read back from PostgreSQL give other matrices"
ok "global registry: init, add, duplicates, ids, filters, run and reuse"

# The locality-sensitive codes (schema version 2): one row per model with
# a tensors fingerprint, written with it; a version-1 database (no
# lsh_codes) is read as it is and init migrates it, computing the codes.
[ "$(pg_psql "SELECT string_agg(model_id, ',' ORDER BY model_id) FROM lsh_codes")" = "1,3" ] ||
	fail "lsh_codes after run: $(pg_psql "SELECT model_id FROM lsh_codes")"
pg_psql "DROP TABLE lsh_codes" "UPDATE schema_version SET version = 1"
"$MP" registry --registry "$G" list | grep -q '^3 ' || fail "list at schema version 1"
"$MP" registry init --global "$G" >/dev/null || fail "init migrating version 1"
[ "$(pg_psql "SELECT max(version) FROM schema_version")" = 2 ] || fail "not migrated"
[ "$(pg_psql "SELECT string_agg(model_id, ',' ORDER BY model_id) FROM lsh_codes")" = "1,3" ] ||
	fail "lsh_codes after migration"
id=$("$MP" registry --global-registry "$G" --write-to-registry add "$T/c.safetensors" --force) ||
	fail "add c for rm"
printf '{"models": ["1", "%s"], "methods": ["tensors"], "metrics": ["cosine"]}' "$id" > "$T/cfg1.json"
"$MP" run --config "$T/cfg1.json" --global-registry "$G" --write-to-registry --output-dir "$T/o4" >/dev/null ||
	fail "run on $id"
[ "$(pg_psql "SELECT count(*) FROM lsh_codes WHERE model_id = '$id'")" = 1 ] || fail "codes of $id"
"$MP" registry --registry "$G" rm "$id" || fail "rm $id"
[ "$(pg_psql "SELECT count(*) FROM lsh_codes WHERE model_id = '$id'")" = 0 ] || fail "codes of $id after rm"
ok "lsh_codes kept by run and rm, migrated from schema version 1"

# Roles: a reader cannot write and is told which GRANT it lacks; a
# writer can.
pg_psql "CREATE ROLE alice LOGIN" "GRANT modelprint_reader TO alice" \
	"CREATE ROLE bob LOGIN" "GRANT modelprint_writer TO bob"
AL=$(echo "$G" | sed 's/user=[A-Za-z_]*/user=alice/')
BO=$(echo "$G" | sed 's/user=[A-Za-z_]*/user=bob/')
"$MP" registry --registry "$AL" list | grep -q '^3 ' || fail "reader cannot list"
rc=0; err=$("$MP" registry --global-registry "$AL" --write-to-registry add "$T/a.safetensors" --force 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "role 'alice' lacks INSERT on table .*GRANT modelprint_writer TO alice" ||
	fail "reader add: exit $rc, '$err'"
rc=0; err=$("$MP" run --config "$T/cfg.json" --global-registry "$AL" --write-to-registry --output-dir "$T/o3" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "refusing --write-to-registry: .*lacks" || fail "reader run: $rc '$err'"
[ ! -e "$T/o3" ] || fail "the refused run wrote output"
id=$("$MP" registry --global-registry "$BO" --write-to-registry add "$T/a.safetensors" --force) ||
	fail "writer add"
"$MP" registry --registry "$BO" rm "$id" || fail "writer rm"
ok "reader and writer roles"

# A schema of another version is refused with both versions named.
pg_psql "UPDATE schema_version SET version = 7"
rc=0; err=$("$MP" registry --registry "$G" list 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "schema version 7 is newer than this modelprint's (2)" ||
	fail "newer schema: $rc '$err'"
pg_psql "UPDATE schema_version SET version = 2"

# The server goes away in the middle of a run: a clear error, and every
# model has all of its new fingerprints or none (one transaction each).
python3 - "$T/big.safetensors" <<'PY'
import json, random, struct, sys
from array import array
random.seed(7)
n = 512 * 512
h = json.dumps({"w": {"dtype": "F32", "shape": [512, 512], "data_offsets": [0, 4 * n]}}).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    array("f", (random.gauss(0, 1) for _ in range(n))).tofile(f)
PY
ids=
i=0
while [ $i -lt 12 ]; do
	cp "$T/big.safetensors" "$T/big$i.safetensors"
	ids="$ids${ids:+,}\"$("$MP" registry --registry "$G" add "$T/big$i.safetensors" --force)\""
	i=$((i + 1))
done
printf '{"models": [%s], "methods": ["tensors", "spectral"], "metrics": ["cosine"]}' "$ids" > "$T/big.json"
"$MP" run --config "$T/big.json" --global-registry "$G" --write-to-registry --output-dir "$T/o4" \
	>/dev/null 2>"$T/run.err" &
runner=$!
n=0 waited=0
while [ "$n" -lt 2 ] && [ $waited -lt 600 ]; do
	sleep 0.1; waited=$((waited + 1))
	n=$(pg_psql "SELECT count(DISTINCT model_id) FROM fingerprints WHERE model_id <> '1' AND model_id <> '3'")
done
# fast: sessions are cut off, and what was committed survives (this
# server commits asynchronously, so an immediate stop could lose it)
$MP_PG_CTL -w -m fast stop >/dev/null
rc=0; wait $runner || rc=$?
[ $rc = 1 ] && grep -Eq "server went away|cannot connect|terminat" "$T/run.err" &&
	[ "$(wc -l < "$T/run.err")" = 1 ] || fail "server stopped mid-run: exit $rc, '$(cat "$T/run.err")'"
$MP_PG_CTL -w start >/dev/null
half=$(pg_psql "SELECT count(*) FROM (SELECT model_id FROM fingerprints GROUP BY model_id HAVING count(*) <> 2) x")
done_n=$(pg_psql "SELECT count(DISTINCT model_id) FROM fingerprints")
[ "$half" = 0 ] || fail "$half models with half of their fingerprints"
[ "$done_n" -ge 4 ] && [ "$done_n" -lt 14 ] || fail "$done_n models with fingerprints after the stop"
"$MP" registry --registry "$G" list >/dev/null || fail "registry unreadable after the server came back"
ok "server gone mid-run: clear error, $((done_n - 2)) of 12 models stored whole, none in part"
finish
