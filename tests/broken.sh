#!/bin/sh
# broken.sh — every entry of tests/broken/ (file or directory) must make
# `modelprint fingerprint` fail cleanly: exit status 1 (no success, no usage
# error, no crash), exactly one line on stderr, naming the entry's path,
# and nothing on stdout.
# Environment: MP_BIN (the modelprint binary), MP_SRCDIR (source root).

if [ -z "$MP_BIN" ] || [ -z "$MP_SRCDIR" ]; then
	echo "broken.sh: MP_BIN and MP_SRCDIR must be set" >&2
	exit 99
fi
dir=$MP_SRCDIR/tests/broken
if [ ! -d "$dir" ]; then
	echo "broken.sh: $dir: no such directory" >&2
	exit 99
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mpbroken.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
# Keep any registry or cache the command might create away from the user's.
HOME=$work/home
XDG_CACHE_HOME=$work/cache
XDG_DATA_HOME=$work/data
XDG_CONFIG_HOME=$work/config
export HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_CONFIG_HOME
mkdir -p "$HOME"

n=0
failed=0
for entry in "$dir"/*; do
	[ -e "$entry" ] || continue
	n=$((n + 1))
	name=${entry##*/}
	"$MP_BIN" fingerprint "$entry" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	lines=$(awk 'END { print NR }' "$work/err")
	why=
	if [ "$rc" -eq 0 ]; then
		why="exit status 0 (accepted a broken file)"
	elif [ "$rc" -ge 128 ]; then
		why="exit status $rc (crashed)"
	elif [ "$rc" -ne 1 ]; then
		why="exit status $rc, want 1"
	elif [ "$lines" -ne 1 ]; then
		why="$lines lines on stderr, want 1"
	elif ! grep -F -q -- "$entry" "$work/err"; then
		why="message does not name $entry"
	elif [ -s "$work/out" ]; then
		why="printed on stdout (a table header with no rows?): $(head -c 200 "$work/out")"
	fi
	if [ -z "$why" ]; then
		echo "ok   $name: $(cat "$work/err")"
	else
		failed=$((failed + 1))
		echo "FAIL $name: $why"
		sed 's/^/     stderr: /' "$work/err" | head -n 5
	fi
done

if [ "$n" -eq 0 ]; then
	echo "broken.sh: no entries in $dir" >&2
	exit 99
fi
echo "broken.sh: $n cases, $failed failed"
[ "$failed" -eq 0 ]
