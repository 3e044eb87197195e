# tests/lineage-lib.sh — sourced by the identify tests: the real corpus
# (tests/corpus-fetch.sh, before lib.sh, which moves HOME), tests/lib.sh,
# $src (the source tree) and $PY, a python3 with numpy (Debian's
# python3-numpy; a python3 first in PATH without it gives way to
# /usr/bin/python3).
src=${MP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/corpus-fetch.sh"
. "$src/tests/lib.sh"
PY=python3
$PY -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null ||
	{ echo "FAIL: $0 needs python3 with numpy (apt-get install python3-numpy)"; exit 1; }
