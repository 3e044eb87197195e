#!/bin/sh
# autogen.sh — regenerate the build system. With --deps, first install the
# Debian packages the build and the tests need (as root or through sudo).
set -e
cd "$(dirname "$0")"
DEPS="build-essential autoconf automake libtool pkg-config libncurses-dev
libcjson-dev libgsl-dev libopenblas-dev check libssl-dev libsqlite3-dev
libpq-dev zlib1g-dev postgresql sqlite3 npm tmux time chromium python3-numpy
python3-sklearn slurm-wlm munge python3-regex python3-torch
libopenmpi-dev openmpi-bin"
if [ "${1:-}" = "--deps" ]; then
	missing=
	for p in $DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	# npm may come with a Node.js installed outside Debian's packages.
	case " $missing " in *" npm "*) command -v npm >/dev/null && missing=$(echo "$missing" | sed 's/ npm//') ;; esac
	if [ -n "$missing" ]; then
		echo "autogen.sh: installing:$missing"
		SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
	fi
fi
mkdir -p m4
autoreconf -fi
