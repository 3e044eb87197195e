#!/bin/sh
# tests/registry.sh — the registry through the real binary: add, list, show,
# rm, JSON output, 8 writers at once, writers killed with SIGKILL, and the
# global registry's permission check.
. "$MP_SRCDIR/tests/lib.sh"
R="$T/reg"
model_a "$T/a.safetensors"
model_c "$T/c.safetensors"
id=$("$MP_BIN" registry --registry "$R" add "$T/a.safetensors" --name A --family Fam --type Base) ||
	fail "add"
[ "$id" = 1 ] || fail "first id is '$id', expected 1"
id=$("$MP_BIN" registry --registry "$R" add "$T/c.safetensors" --id 10 --name C) || fail "add --id"
rc=0; err=$("$MP_BIN" registry --registry "$R" add "$T/c.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "same SHA-256 as model 10 (C).*--force" ||
	fail "second add of the same file: exit $rc, '$err'"
id=$("$MP_BIN" registry --registry "$R" add "$T/c.safetensors" --force) || fail "add after 10"
[ "$id" = 11 ] || fail "id after 10 is '$id', expected 11"
"$MP_BIN" registry --registry "$R" add "$T/a.safetensors" --id 10 2>/dev/null &&
	fail "duplicate id accepted"
"$MP_BIN" registry --registry "$R" add "$T/a.safetensors" --id ../x 2>/dev/null &&
	fail "id with a slash accepted"
sum=$(sha256sum "$T/a.safetensors" | cut -d' ' -f1)
"$MP_BIN" registry --registry "$R" show 1 --json | grep -q "\"sha256\":.*\"$sum\"" ||
	fail "show --json lacks the file's sha256"
"$MP_BIN" registry --registry "$R" list | grep -Eq '^1 +A +Fam +Base +safetensors' ||
	fail "list row of model 1"
"$MP_BIN" registry --registry "$R" rm 10 || fail "rm"
n=$("$MP_BIN" registry --registry "$R" list --json | grep -c '"id":')
[ "$n" = 2 ] || fail "$n models after rm, expected 2"
"$MP_BIN" registry --registry "$R" rm 10 2>/dev/null && fail "rm of a missing id"
# ids are never reused, automatic or explicit
"$MP_BIN" registry --registry "$R" add "$T/c.safetensors" --id 10 2>/dev/null &&
	fail "removed id 10 reused"
id=$("$MP_BIN" registry --registry "$R" add "$T/c.safetensors" --force) || fail "add after rm"
[ "$id" = 12 ] || fail "id after rm is '$id', expected 12"
"$MP_BIN" registry --registry "$R" rm 12 || fail "rm 12"
MODELPRINT_REGISTRY="$R" "$MP_BIN" registry list | grep -q '^11 ' || fail "MODELPRINT_REGISTRY ignored"
# the registry option may follow the subcommand; a missing value is a usage error
"$MP_BIN" registry list --registry "$R" | grep -q '^11 ' || fail "list --registry DIR"
rc=0; "$MP_BIN" registry list --registry 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--registry without a value: exit $rc"
ok "add, list, show, rm"

# Eight processes adding 25 models each at the same time lose nothing.
C="$T/conc"
p=0
while [ $p -lt 8 ]; do
	( i=0; while [ $i -lt 25 ]; do
		"$MP_BIN" registry --registry "$C" add "$T/a.safetensors" --force >/dev/null || exit 1
		i=$((i + 1)); done ) &
	p=$((p + 1))
done
wait
n=$("$MP_BIN" registry --registry "$C" list --json | grep -c '"id":')
d=$("$MP_BIN" registry --registry "$C" list --json | grep '"id":' | sort -u | wc -l)
[ "$n" = 200 ] && [ "$d" = 200 ] || fail "concurrent adds: $n models, $d distinct ids"
ok "8 concurrent writers"

# Eight first writers of a registry that does not exist yet, 20 times: the
# database appears whole (built aside and linked into place), so none of
# them fails (one used to see the other's fresh tables as a foreign
# database, or find it locked while it switched to WAL).
r=0
while [ $r -lt 20 ]; do
	F="$T/first$r"
	p=0
	while [ $p -lt 8 ]; do
		"$MP_BIN" registry --registry "$F" add "$T/a.safetensors" --force >/dev/null 2>>"$T/first.err" &
		p=$((p + 1))
	done
	wait
	n=$("$MP_BIN" registry --registry "$F" list --json | grep -c '"id":')
	[ "$n" = 8 ] || fail "first writers, round $r: $n models, $(cat "$T/first.err")"
	r=$((r + 1))
done
ok "8 first writers at once, 20 times"

# Writers killed with SIGKILL at arbitrary moments leave a readable registry.
K="$T/kill"
k=0
while [ $k -lt 15 ]; do
	( while :; do "$MP_BIN" registry --registry "$K" add "$T/c.safetensors" --force >/dev/null 2>&1; done ) &
	loop=$!
	sleep 0.0$((k % 9 + 1))
	pkill -KILL -P $loop 2>/dev/null || true
	kill -KILL $loop 2>/dev/null || true
	wait $loop 2>/dev/null || true
	"$MP_BIN" registry --registry "$K" list --json > "$T/list.json" 2>"$T/list.err" ||
		{ fail "registry unreadable after kill $k: $(cat "$T/list.err")"; break; }
	k=$((k + 1))
done
n=$(grep -c '"id":' "$T/list.json" || true)
f=$(grep -c '"sha256":' "$T/list.json" || true)
[ "$n" -gt 0 ] && [ "$n" = "$f" ] || fail "after kills: $n models, $f file hashes"
ok "SIGKILL mid-write, $n models intact"

# Ids of 20 digits (2^64-1 and more) made the next automatic id wrap to 0
# and then collide; now the next id is fresh and the registry stays usable.
W="$T/wrap"
mkdir -p "$W"
printf '{"models": [{"id": "0", "path": "/m"}, {"id": "18446744073709551615", "path": "/m"}, {"id": "99999999999999999999", "path": "/m"}]}' > "$W/models.json"
a=$("$MP_BIN" registry --registry "$W" add "$T/a.safetensors") || fail "add after 20-digit ids"
b=$("$MP_BIN" registry --registry "$W" add "$T/a.safetensors" --force) || fail "second add after 20-digit ids"
[ "$a" = 1 ] && [ "$b" = 2 ] || fail "ids after 20-digit ids: '$a' '$b', expected 1 2"
n=$("$MP_BIN" registry --registry "$W" list --json | grep -c '"id":') || fail "list after wrap"
[ "$n" = 5 ] || fail "$n models after two adds, expected 5"
"$MP_BIN" registry --registry "$W" rm 18446744073709551615 || fail "rm of a 20-digit id"
# explicit ids: safe strings only, one clear line
for bad in -x .x 'a b' 'a/b' "$(printf 'e\033[2J')" "$(printf '%065d' 0)"; do
	rc=0; err=$("$MP_BIN" registry --registry "$W" add "$T/a.safetensors" --id "$bad" 2>&1) || rc=$?
	[ $rc = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
		echo "$err" | grep -q "invalid model id" || fail "--id '$bad': exit $rc, '$err'"
	case $err in *"$(printf '\033')"*) fail "--id with ESC echoed raw";; esac
done
# a duplicate id in a directory registry: not imported, the error says
# which entries
D="$T/dup"
mkdir -p "$D"
printf '{"models": [{"id": "1", "path": "/m"}, {"id": "2", "path": "/m"}, {"id": "2", "path": "/n"}]}' > "$D/models.json"
err=$("$MP_BIN" registry --registry "$D" list 2>&1) && fail "duplicate id accepted"
echo "$err" | grep -q "'2' appears twice (models\[1\] and models\[2\])" || fail "duplicate id error: $err"
[ ! -e "$D/registry.db" ] || fail "a registry.db was left by the failed import"
ok "ids never wrap, collide or come back; unsafe ids refused; duplicates named"

# Adding to a registry of 20,000 models: the lookups are not quadratic
# (the id checks were O(n^2): about 2 s here; now about 0.1 s).
L="$T/large"
mkdir -p "$L"
awk 'BEGIN { printf "{\"models\": ["; for (i = 1; i <= 20000; i++)
	printf "%s{\"id\": \"%d\", \"path\": \"/m\"}", (i > 1 ? "," : ""), i; print "]}" }' > "$L/models.json"
s0=$(date +%s.%N)
id=$(timeout 60 "$MP_BIN" registry --registry "$L" add "$T/a.safetensors") || fail "add to 20,000"
s1=$(date +%s.%N)
[ "$id" = 20001 ] || fail "id after 20,000 is '$id'"
ok "add to a registry of 20,000 models: $(echo "$s1 - $s0" | bc 2>/dev/null || echo "?") s"

# Global registry: --write-to-registry needs one, and write permission.
rc=0
"$MP_BIN" registry --write-to-registry add "$T/a.safetensors" 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--write-to-registry without a global registry is not a usage error"
MODELPRINT_GLOBAL_REGISTRY="$T/glob" "$MP_BIN" registry --write-to-registry add "$T/a.safetensors" >/dev/null ||
	fail "write to a writable global registry"
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro" && chmod 555 "$T/ro"
	err=$("$MP_BIN" registry --global-registry "$T/ro" --write-to-registry add "$T/missing" 2>&1) || true
	echo "$err" | grep -q "cannot write the registry" || fail "read-only global registry: $err"
fi
mkdir -p "$T/bad"
printf '{"models": 3}' > "$T/bad/models.json"
if err=$("$MP_BIN" registry --registry "$T/bad" list 2>&1); then fail "corrupt models.json accepted"; fi
echo "$err" | grep -q 'models.json' || fail "corrupt table error: $err"
ok "global registry and corrupt table"
finish
