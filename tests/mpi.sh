#!/bin/sh
# tests/mpi.sh — `mpirun -np R modelprint run` (an MPI build): on real
# corpus models plus the little safetensors models of run.sh, 3 ranks and
# 2 ranks give the result files of one process byte for byte (JSON and
# binary; fingerprints.json up to the "seconds" a fingerprint took, and
# exactly with --use-existing); a rank that dies (the test hook
# MODELPRINT_TEST_MPI_DIE_RANK) gives a non-zero exit and no results
# file; a model that fails on some rank is one error line from rank 0.
# Without MPI in the binary (or without mpirun) it fails under CI=true,
# and is skipped (77) otherwise.
if ! "$MP_BIN" --version | grep -q '^MPI: Open MPI' || ! command -v mpirun >/dev/null; then
	echo "modelprint built without MPI or no mpirun: $("$MP_BIN" --version | grep '^MPI')"
	[ "${CI:-}" = true ] &&
		{ echo "FAIL: CI=true: MPI is required (libopenmpi-dev openmpi-bin, ./configure --with-mpi)"; exit 1; }
	exit 77
fi
# the corpus before lib.sh, which moves HOME
. "$MP_SRCDIR/tests/corpus-fetch.sh"
. "$MP_SRCDIR/tests/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# OpenMPI's own allocations look like leaks to LeakSanitizer (CI's ASan
# build): leak checks off for the processes mpirun starts, only.
mpi() { np=$1; shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		mpirun -np "$np" --oversubscribe --allow-run-as-root "$MP_BIN" "$@"; }

R="$T/reg"
for m in gear gender mobileface liveness emotion blazeface-front antispoof; do
	"$MP_BIN" registry --registry "$R" add "$models/$m.json" --force >/dev/null || fail "add $m"
done
model_a "$T/a.safetensors"
cp "$T/a.safetensors" "$T/b.safetensors"
model_c "$T/c.safetensors"
for m in a b c; do
	"$MP_BIN" registry --registry "$R" add "$T/$m.safetensors" --force >/dev/null || fail "add $m"
done
cat > "$T/cfg.json" <<'CFG'
{"models": ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
 "methods": ["tensors", "spectral"],
 "metrics": ["exact", "cosine", "l1", "js"]}
CFG
same() { # label dir1 dir2: every result file equal byte for byte
	for f in "$2"/*; do
		cmp -s "$f" "$3/${f##*/}" || fail "$1: ${f##*/} differs"
	done
	[ "$(ls "$2")" = "$(ls "$3")" ] || fail "$1: other files: $(ls "$3")"
}
noseconds() { sed 's/"seconds":[-+.e0-9]*//g' "$1"; }

"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --matrix-format binary \
	--output-dir "$T/one" > "$T/one.out" || fail "one process: exit $?"
ls "$T/one"/*.mpsim >/dev/null 2>&1 || fail "no binary matrices"
# some pairs are undefined (the reason travels with the value)
grep -q '"reason"' "$T/one/similarity_matrices.json" || fail "no undefined pair in the test set"
for np in 3 2; do
	out=$(mpi $np run --config "$T/cfg.json" --registry "$R" --matrix-format binary \
		--output-dir "$T/np$np" 2>"$T/np$np.err") || fail "-np $np: exit $?: $(cat "$T/np$np.err")"
	echo "$out" | grep -qx "fingerprints: 20 computed, 0 reused" || fail "-np $np counts: $out"
	[ "$(echo "$out" | grep -c '^fingerprints:')" = 1 ] || fail "-np $np: more than rank 0 printed: $out"
	cp "$T/np$np/fingerprints.json" "$T/np$np.fp"
	noseconds "$T/one/fingerprints.json" > "$T/one.fp"
	noseconds "$T/np$np.fp" > "$T/np$np/fingerprints.json"
	cp "$T/one.fp" "$T/one.fp.cmp"
	for f in "$T/one"/*; do
		case $f in */fingerprints.json) g="$T/one.fp.cmp" ;; *) g=$f ;; esac
		cmp -s "$g" "$T/np$np/${f##*/}" || fail "-np $np: ${f##*/} differs from one process's"
	done
	[ "$(ls "$T/one")" = "$(ls "$T/np$np")" ] || fail "-np $np: files $(ls "$T/np$np")"
done
ok "mpirun -np 3 and -np 2: the matrices of one process, bit for bit"

# --use-existing: fingerprints from the registry; every file identical
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --global-registry "$R" --write-to-registry \
	--output-dir "$T/w" >/dev/null || fail "--write-to-registry"
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing --matrix-format binary \
	--output-dir "$T/u1" >/dev/null || fail "one process --use-existing"
for np in 2 3; do
	out=$(mpi $np run --config "$T/cfg.json" --registry "$R" --use-existing --matrix-format binary \
		--output-dir "$T/u$np" 2>&1) || fail "-np $np --use-existing: $out"
	echo "$out" | grep -qx "fingerprints: 0 computed, 20 reused" || fail "-np $np --use-existing: $out"
	same "-np $np --use-existing" "$T/u1" "$T/u$np"
done
# more ranks than tiles: 2 models (3 tiles) over 4 ranks, one idle
printf '{"models":["1","9"],"methods":["tensors"],"metrics":["cosine"]}' > "$T/cfg2.json"
"$MP_BIN" run --config "$T/cfg2.json" --registry "$R" --use-existing --output-dir "$T/t1" >/dev/null ||
	fail "2 models, one process"
mpi 4 run --config "$T/cfg2.json" --registry "$R" --use-existing --output-dir "$T/t4" >/dev/null 2>&1 ||
	fail "2 models over 4 ranks: exit $?"
same "2 models over 4 ranks" "$T/t1" "$T/t4"
ok "mpirun --use-existing: every result file identical to one process's"

# a rank killed after its first tile: non-zero exit, no results file,
# rank 0 says why
rc=0
MODELPRINT_TEST_MPI_DIE_RANK=1 mpi 3 run --config "$T/cfg.json" --registry "$R" \
	--output-dir "$T/die" >"$T/die.out" 2>"$T/die.err" || rc=$?
[ $rc != 0 ] || fail "a dead rank: exit 0"
[ -e "$T/die" ] && fail "a dead rank left $(ls -a "$T/die")"
grep -q "^modelprint: rank 1: test hook MODELPRINT_TEST_MPI_DIE_RANK: exiting" "$T/die.err" ||
	fail "dead rank: $(cat "$T/die.err")"
grep -q "^wrote" "$T/die.out" && fail "dead rank: $(cat "$T/die.out")"
# into an existing directory with results: they stay as they were, no
# temporary left
cp -r "$T/one" "$T/keep"
rc=0
MODELPRINT_TEST_MPI_DIE_RANK=2 mpi 3 run --config "$T/cfg.json" --registry "$R" \
	--output-dir "$T/keep" >/dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "dead rank 2: exit 0"
same "dead rank 2" "$T/one" "$T/keep"
ok "a dead rank: exit $rc, no results file"

# a model that fails to open (its file gone) on the rank that needs it:
# one error line, from rank 0, naming the file
rm "$T/c.safetensors"
rc=0
err=$(mpi 3 run --config "$T/cfg.json" --registry "$R" --output-dir "$T/bad" 2>&1 >/dev/null) || rc=$?
[ $rc != 0 ] || fail "missing model file: exit 0"
[ "$(printf '%s\n' "$err" | grep -c '^modelprint:')" = 1 ] &&
	printf '%s\n' "$err" | grep '^modelprint:' | grep -qF "$T/c.safetensors" ||
	fail "missing model file: exit $rc, '$err'"
[ -e "$T/bad" ] && fail "missing model file: results written"
# a config error, met by every rank before the run: one line
printf '{"models":["1","99"],"methods":["tensors"],"metrics":["cosine"]}' > "$T/bad.json"
rc=0
err=$(mpi 3 run --config "$T/bad.json" --registry "$R" --output-dir "$T/bad" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && [ "$(printf '%s\n' "$err" | grep -c '^modelprint:')" = 1 ] &&
	printf '%s\n' "$err" | grep -q "^modelprint: .*bad.json: unknown model id '99'" ||
	fail "config error under mpirun: exit $rc, '$err'"
# options a rank split does not take
err=$(mpi 2 run --config "$T/cfg.json" --registry "$R" --shard 1/2 2>&1) &&
	fail "--shard under mpirun accepted"
echo "$err" | grep -q "shard is for one process a task, not under mpirun" || fail "--shard under mpirun: $err"
ok "errors under mpirun: one line from rank 0"
finish
