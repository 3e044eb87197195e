#!/bin/sh
# tests/slurm.sh — `modelprint slurm --submit` on a real one-node Slurm
# cluster started here: Debian's slurm-wlm (slurmctld and slurmd, one node
# with 2 CPUs, proctrack/linuxproc and task/none, so no cgroups) and munge
# (munged on a socket in the cluster's directory, with a key made here),
# everything under a temporary directory and stopped on exit. A 4-task
# array fingerprints eight real TF.js corpus models (tests/corpus-fetch.sh)
# into a throw-away PostgreSQL registry (tests/pgserver.sh); the dependent
# final step computes the matrices from it, and they must equal a
# single-process run's, value for value. Never skipped: without slurm-wlm
# or munge it fails naming the package (./autogen.sh --deps). Also the
# printed scripts and sbatch failures, with a stand-in sbatch.
src=${MP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/corpus-fetch.sh"
. "$src/tests/lib.sh"
. "$src/tests/pgserver.sh"

# --- the printed scripts, and sbatch's answers, with a stand-in sbatch ---
printf '{"models":["1","2"],"methods":["tensors"],"metrics":["cosine"]}' > "$T/cfg.json"
out=$(cd "$T" && "$MP_BIN" slurm --config cfg.json --tasks 3 --registry reg.sqlite \
	--partition debug --time 1:00:00 --dir jobs) || fail "slurm prints: exit $?"
exe=$(readlink -f "$MP_BIN") Tr=$(cd "$T" && pwd -P)
for line in "#SBATCH --array=1-3" "#SBATCH --partition=debug" "#SBATCH --time=1:00:00" \
	"#SBATCH --output=$Tr/jobs/fingerprint-%A_%a.out" \
	"exec '$exe' run --config '$Tr/cfg.json' --registry '$Tr/reg.sqlite' --shard auto" \
	"exec '$exe' run --config '$Tr/cfg.json' --registry '$Tr/reg.sqlite' --use-existing --output-dir '$Tr/jobs/results'" \
	"# sbatch --dependency=afterok:\${job%%;*} $Tr/jobs/matrices.sbatch"; do
	printf '%s\n' "$out" | grep -qxF -- "$line" || fail "slurm prints no line '$line': $out"
done
[ -e "$T/jobs" ] && fail "slurm without --submit wrote $T/jobs"
ok "slurm prints the array script and the final step"

mkdir -p "$T/bin"
cat > "$T/bin/sbatch" <<'SB'
#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case $FAKE_MODE in
parsable) case "$*" in *dependency*) echo "78;cl" ;; *) echo "77;cl" ;; esac ;;
plain) echo "sbatch: warning: something"; echo "Submitted batch job 91" ;;
none) echo "nothing useful" ;;
fail) echo "sbatch: error: invalid partition specified: debug" >&2; exit 1 ;;
esac
SB
chmod +x "$T/bin/sbatch"
fake() { # mode args...: modelprint slurm --submit with the stand-in sbatch
	m=$1; shift
	: > "$T/fake.log"
	(cd "$T" && PATH="$T/bin:$PATH" FAKE_MODE=$m FAKE_LOG="$T/fake.log" \
		"$MP_BIN" slurm --config cfg.json --tasks 2 --registry reg.sqlite --dir "jobs-$m" --submit "$@")
}
out=$(fake parsable --json) || fail "submit (parsable): exit $?"
printf '%s' "$out" | python3 -c 'import json, sys
j = json.load(sys.stdin)
assert j["array_job"] == "77" and j["final_job"] == "78", j
assert j["array_script"].endswith("/jobs-parsable/fingerprints.sbatch"), j
assert open(j["final_script"]).read() == j["final_script_text"], j' || fail "submit --json: $out"
grep -qx -- "--parsable $Tr/jobs-parsable/fingerprints.sbatch" "$T/fake.log" &&
	grep -qx -- "--parsable --dependency=afterok:77 $Tr/jobs-parsable/matrices.sbatch" "$T/fake.log" ||
	fail "sbatch calls: $(cat "$T/fake.log")"
out=$(fake plain) || fail "submit (plain): exit $?"
printf '%s\n' "$out" | grep -qx "array job 91 (2 tasks), final step 91 after it" || fail "submit (plain): $out"
rc=0; err=$(fake fail 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
	printf '%s\n' "$err" | grep -q "fingerprints.sbatch: sbatch exited 1: sbatch: error: invalid partition" ||
	fail "sbatch failure: exit $rc, '$err'"
rc=0; err=$(fake none 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && printf '%s\n' "$err" | grep -q "sbatch printed no job id (output: 'nothing useful')" ||
	fail "no job id: exit $rc, '$err'"
expect_usage() { # label phrase args...
	label=$1 phrase=$2; shift 2
	rc=0; err=$(cd "$T" && "$MP_BIN" slurm "$@" 2>&1 >/dev/null) || rc=$?
	[ $rc = 2 ] && printf '%s\n' "$err" | head -1 | grep -qF -- "$phrase" || fail "$label: exit $rc, '$err'"
}
expect_usage "no registry" "need a registry" --config cfg.json --tasks 2
expect_usage "no tasks" "--tasks N is required" --config cfg.json --registry r
expect_usage "tasks 0" "--tasks needs 1..1000000" --config cfg.json --registry r --tasks 0
expect_usage "bad partition" "--partition 'a b': letters, digits" --config cfg.json --registry r --tasks 2 --partition "a b"
expect_usage "bad time" "--time '1h'" --config cfg.json --registry r --tasks 2 --time 1h
expect_usage "bad dir" "no spaces, quotes" --config cfg.json --registry r --tasks 2 --dir "a dir"
ok "slurm --submit: job ids from sbatch, its errors in one line"

# --- a real cluster ---------------------------------------------------------
for p in slurmctld slurmd; do
	[ -x /usr/sbin/$p ] || { echo "FAIL: /usr/sbin/$p not found: install slurm-wlm (./autogen.sh --deps)"; exit 1; }
done
[ -x /usr/sbin/munged ] || { echo "FAIL: munged not found: install munge (./autogen.sh --deps)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: the Slurm test runs slurmd, which needs root"; exit 1; }
pg_start
base=${TMPDIR:-/tmp}
[ ${#base} -le 40 ] || base=/tmp
S=$(mktemp -d "$base/mpslurm.XXXXXX")
slurm_stop() {
	[ -n "${S:-}" ] && [ -d "$S" ] || return 0
	if [ -n "${SLURM_JOBS:-}" ]; then
		scancel $SLURM_JOBS 2>/dev/null || :
	fi
	for f in ctld.pid d.pid munged.pid; do
		[ -s "$S/$f" ] && kill "$(cat "$S/$f")" 2>/dev/null || :
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		alive=
		for f in ctld.pid d.pid munged.pid; do
			[ -s "$S/$f" ] && kill -0 "$(cat "$S/$f")" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.3
	done
	rm -rf "$S"
	S=
}
trap 'slurm_stop; pg_stop; eval "$PG_PREV_TRAP"' EXIT
host=$(hostname -s)
ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $ports
mem=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
mkdir -p "$S/state" "$S/spool"
dd if=/dev/urandom of="$S/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$S/munge.key"
/usr/sbin/munged --socket="$S/munge.sock" --key-file="$S/munge.key" \
	--pid-file="$S/munged.pid" --log-file="$S/munged.log" --seed-file="$S/munge.seed" --force ||
	{ echo "FAIL: munged did not start: $(cat "$S/munged.log" 2>/dev/null)"; exit 1; }
: > "$S/plugstack.conf"
cat > "$S/slurm.conf" <<CONF
ClusterName=mptest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$1
SlurmdPort=$2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge.sock
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
PlugStackConfig=$S/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
SchedulerType=sched/backfill
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=mp Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"
/usr/sbin/slurmctld -D -c -f "$S/slurm.conf" >"$S/slurmctld.out" 2>&1 &
echo $! > "$S/ctld.pid"
/usr/sbin/slurmd -D -f "$S/slurm.conf" >"$S/slurmd.out" 2>&1 &
echo $! > "$S/d.pid"
state=
for i in $(seq 120); do
	state=$(sinfo -h -o %T 2>/dev/null || :)
	[ "$state" = idle ] && break
	sleep 0.25
done
[ "$state" = idle ] || {
	echo "FAIL: the node is not idle after 30 s ('$state')"
	tail -n 20 "$S/slurmctld.log" "$S/slurmd.log" "$S/slurmctld.out" "$S/slurmd.out" 2>/dev/null
	exit 1
}
ok "one-node Slurm cluster up (node $host idle)"

G=$MP_PG_URL
"$MP_BIN" registry init --global "$G" >/dev/null || fail "registry init"
ids= idlist=
for m in antispoof liveness emotion gear gender mobileface blazeface-front posenet; do
	id=$("$MP_BIN" registry --global-registry "$G" --write-to-registry add "$models/$m.json" --name "$m") ||
		fail "registry add $m"
	ids="$ids${ids:+,}\"$id\"" idlist="$idlist $id"
done
printf '{"models":[%s],"methods":["tensors","spectral"],"method_args":{"tensors":{"sketch_size":64}},"metrics":["cosine","l1","js"]}' \
	"$ids" > "$T/corpus.json"
out=$("$MP_BIN" slurm --config "$T/corpus.json" --tasks 4 --registry "$G" --partition mp \
	--time 10:00 --dir "$T/job" --submit --json) || { fail "slurm --submit exited $?"; finish; }
aid=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["array_job"])')
fid=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["final_job"])')
SLURM_JOBS="$aid $fid"
fstate=
for i in $(seq 600); do
	fstate=$(scontrol -o show job "$fid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
	reason=$(scontrol -o show job "$fid" 2>/dev/null | sed -n 's/.* Reason=\([^ ]*\).*/\1/p')
	case $fstate in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
	[ "$reason" = DependencyNeverSatisfied ] && break
	sleep 0.25
done
[ "$fstate" = COMPLETED ] || {
	fail "final step $fid: state '$fstate' ($reason)"
	for f in "$T"/job/*.out; do echo "--- $f"; cat "$f"; done
	scontrol -o show job "$aid" 2>&1 | head -8
	tail -n 20 "$S/slurmctld.log" "$S/slurmd.log"
	finish
}
SLURM_JOBS=
done=0 other=0
for k in 1 2 3 4; do
	log="$T/job/fingerprint-${aid}_$k.out"
	line=$(grep "^shard $k/4: " "$log") || { fail "task $k: no summary in $(cat "$log")"; continue; }
	d=$(echo "$line" | sed 's/^shard [0-9]*\/4: \([0-9]*\) models done.*/\1/')
	done=$((done + d))
done
[ $done = 8 ] || fail "the 4 tasks fingerprinted $done of 8 models"
grep -qx "fingerprints: 0 computed, 16 reused" "$T/job/matrices-$fid.out" ||
	fail "the final step recomputed: $(cat "$T/job/matrices-$fid.out")"
# the split is the one --shard promises (SHA-256 of the id, mod 4)
for k in 1 2 3 4; do
	want=$(python3 -c 'import hashlib, sys
print(sum(1 for i in sys.argv[2:] if int.from_bytes(hashlib.sha256(i.encode()).digest()[:8], "big") % 4 + 1 == int(sys.argv[1])))' \
		$k $idlist)
	grep -q "^shard $k/4: $want models done, 0 skipped" "$T/job/fingerprint-${aid}_$k.out" ||
		fail "task $k: expected $want models: $(cat "$T/job/fingerprint-${aid}_$k.out")"
done
# a single process, on a fresh registry of the same models
R1="$T/one"
for m in antispoof liveness emotion gear gender mobileface blazeface-front posenet; do
	"$MP_BIN" registry --registry "$R1" add "$models/$m.json" --name "$m" >/dev/null || fail "single add $m"
done
"$MP_BIN" run --config "$T/corpus.json" --registry "$R1" --output-dir "$T/single" >/dev/null ||
	fail "single-process run"
python3 - "$T/job/results/similarity_matrices.json" "$T/single/similarity_matrices.json" <<'PY' || fail "the matrices from Slurm differ from a single run's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def cells(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from cells(v, path + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from cells(v, path + (i,))
    else:
        yield path, d
ca, cb = dict(cells(a)), dict(cells(b))
assert ca.keys() == cb.keys(), set(ca) ^ set(cb)
diff = [k for k in ca if ca[k] != cb[k]]
assert not diff, diff[:5]
n = sum(1 for k in ca if isinstance(ca[k], float))
assert n > 100, n
print("ok: %d values equal" % n)
PY
ok "a 4-task array into PostgreSQL and the final step give the single run's matrices"
finish
