# tests/lib.sh — helpers for the shell tests (sourced). Needs MP_BIN.
set -eu
[ -n "${MP_BIN:-}" ] || { echo "MP_BIN not set" >&2; exit 99; }
T=$(mktemp -d "${TMPDIR:-/tmp}/mpsh.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_DATA_HOME="$T/home/.local/share"
unset MODELPRINT_REGISTRY MODELPRINT_GLOBAL_REGISTRY
mkdir -p "$HOME"
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# le64 N: N as 8 little-endian bytes, printed with printf escapes
le64() {
	n=$1 i=0 out=
	while [ $i -lt 8 ]; do
		out="$out\\$(printf %03o $((n % 256)))"
		n=$((n / 256)); i=$((i + 1))
	done
	printf "$out"
}

# st_write FILE HEADER_JSON DATA_ESCAPES: a safetensors file whose header
# is padded with spaces to a multiple of 8 and whose data bytes are given as
# printf escapes.
st_write() {
	h=$2
	while [ $(( ${#h} % 8 )) -ne 0 ]; do h="$h "; done
	{ le64 ${#h}; printf '%s' "$h"; printf "$3"; } > "$1"
}

# Float32 little-endian escapes of 1, 2, 3, 4, -1, 0.5
F1='\000\000\200\077' F2='\000\000\000\100' F3='\000\000\100\100'
F4='\000\000\200\100' FM1='\000\000\200\277' FH='\000\000\000\077'

# model_a FILE / model_c FILE: two small two-tensor models
model_a() {
	st_write "$1" '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}' \
		"$F1$F2$F3$F4$FM1$FH"
}
model_c() {
	st_write "$1" '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}' \
		"$F4$F3$FM1$F1$FH$F2"
}

finish() {
	if [ "$FAILS" -gt 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
	exit 0
}
