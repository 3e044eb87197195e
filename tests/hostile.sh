#!/bin/sh
# tests/hostile.sh — the real binary on files planted to mislead it: a
# shard symlinked outside the model, FIFOs where files are read, a model
# truncated while it is mapped, planted temporaries next to an output file
# and an output directory that cannot be created. Each must give one clear
# error line and a non-zero exit, never a crash or a hang (`timeout 5`
# turns a hang into a failure).
. "$MP_SRCDIR/tests/lib.sh"

# run_bad LABEL PHRASE ARGS...: exit 1 within 5 s, one stderr line holding
# PHRASE; stdout kept in $T/out.
run_bad() {
	label=$1 phrase=$2; shift 2
	rc=0
	timeout 5 "$MP_BIN" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ "$rc" -eq 124 ]; then fail "$label: hangs"; return; fi
	[ "$rc" -eq 1 ] || fail "$label: exit $rc, want 1"
	[ "$(awk 'END { print NR }' "$T/err")" -eq 1 ] ||
		fail "$label: $(awk 'END { print NR }' "$T/err") lines on stderr"
	grep -qF -- "$phrase" "$T/err" || fail "$label: message '$(cat "$T/err")'"
}

# --- a TF.js shard symlinked to /etc/passwd ----------------------------
# the manifest fits the file's size, so before the containment rule its
# bytes were fingerprinted and their sketch printed
M="$T/tfjs"
mkdir "$M"
size=$(wc -c </etc/passwd)
printf '{"weightsManifest":[{"paths":["x.bin"],"weights":[{"name":"w","shape":[%d],"dtype":"float32","quantization":{"dtype":"uint8","scale":1,"min":0}}]}]}' \
	"$size" >"$M/model.json"
ln -s /etc/passwd "$M/x.bin"
run_bad "shard outside" \
	"$M/model.json: shard 'x.bin' resolves to '/etc/passwd', outside the model directory '$(cd "$M" && pwd -P)'" \
	fingerprint --json "$M/model.json"
grep -q '"w"' "$T/out" && fail "shard outside: fingerprinted: $(head -c 200 "$T/out")"
run_bad "shard outside, model named by its directory" "outside the model directory" \
	fingerprint "$M"
# the user may name a model that is itself a symlink
model_a "$T/a.safetensors"
ln -s "$T/a.safetensors" "$M/named.safetensors"
"$MP_BIN" fingerprint "$M/named.safetensors" >/dev/null || fail "symlink named by the user"
ok "files a model names stay inside its directory"

# --- FIFOs --------------------------------------------------------------
mkfifo "$T/p.safetensors" "$T/cfg.json"
run_bad "FIFO model" "$T/p.safetensors: not a regular file (a FIFO)" \
	fingerprint "$T/p.safetensors"
rm "$M/x.bin"
mkfifo "$M/x.bin"
run_bad "FIFO shard" "$M/x.bin: not a regular file (a FIFO)" fingerprint "$M/model.json"
run_bad "FIFO config" "$T/cfg.json: not a regular file (a FIFO)" \
	run --config "$T/cfg.json" --registry "$T/reg" --output-dir "$T/o"
mkdir "$T/reg"
mkfifo "$T/reg/models.json"
run_bad "FIFO registry table" "$T/reg/models.json: not a regular file (a FIFO)" \
	registry --registry "$T/reg" list
run_bad "FIFO registry table, add" "not a regular file (a FIFO)" \
	registry --registry "$T/reg" add "$T/a.safetensors"
mkdir "$T/reg3"
mkfifo "$T/reg3/registry.db"
run_bad "FIFO registry database" "$T/reg3/registry.db: not a regular file" \
	registry --registry "$T/reg3" list
ok "FIFOs are refused at once"

# --- truncated while mapped ---------------------------------------------
# 64 MiB of F32: truncated as soon as the process has it mapped
h='{"w":{"dtype":"F32","shape":[4096,4096],"data_offsets":[0,67108864]}}'
while [ $(( ${#h} % 8 )) -ne 0 ]; do h="$h "; done
{ le64 ${#h}; printf '%s' "$h"; head -c 67108864 /dev/urandom; } >"$T/big.safetensors"
"$MP_BIN" fingerprint --threads 1 "$T/big.safetensors" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ $i -lt 500 ] && ! grep -q big.safetensors "/proc/$pid/maps" 2>/dev/null; do
	sleep 0.01
	i=$((i + 1))
done
truncate -s 0 "$T/big.safetensors"
rc=0
wait $pid || rc=$?
if [ "$rc" -eq 0 ]; then
	echo "skip: truncation: the fingerprint finished before the file was truncated"
else
	[ "$rc" -eq 1 ] || fail "truncated while mapped: exit $rc (SIGBUS is 135)"
	grep -qF "$T/big.safetensors changed size while being read" "$T/err" ||
		fail "truncated while mapped: message '$(cat "$T/err")'"
	ok "a model truncated while mapped is an error"
fi
rm -f "$T/big.safetensors"

# --- planted temporaries next to an output file --------------------------
echo precious >"$T/victim"
sh -c 'exit 0' & dead=$!
wait $dead
ln -s "$T/victim" "$T/fp.json.tmp.$dead.0123456789abcdef"
"$MP_BIN" fingerprint -o "$T/fp.json" "$T/a.safetensors" >/dev/null || fail "-o with a stale temporary"
[ "$(cat "$T/victim")" = precious ] || fail "stale temporary's target changed"
[ -L "$T/fp.json.tmp.$dead.0123456789abcdef" ] && fail "stale temporary of a dead process kept"
grep -q '"tensors"' "$T/fp.json" || fail "-o output: $(head -c 200 "$T/fp.json")"
ls "$T" | grep -q 'fp\.json\.tmp' && fail "temporaries left: $(ls "$T")"
ok "stale temporaries removed, never followed"

# --- an output directory that cannot be created ---------------------------
cat >"$T/m.json" <<'JSON'
{"matrices": {"tensors": {"l1": {"models": ["a","b"],
 "higher_is_more_alike": true, "values": [[1, 0.5], [0.5, 1]]}}}}
JSON
printf '[{"model_id":"a","family":"F","model_type":"X"},{"model_id":"b","family":"F","model_type":"Y"}]' >"$T/info.json"
run_bad "output directory below a file" \
	"$T/victim/out: cannot write the output directory: Not a directory" \
	analyze --results-file "$T/m.json" --model-info "$T/info.json" --output-dir "$T/victim/out"
ok "output directory errors name the output directory"
finish
