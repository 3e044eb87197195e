#!/bin/sh
# tests/tui.sh — the real binary on a real pseudo-terminal: tmux (private
# server, 80x24) runs a shell that starts `modelprint tui` on the demo data;
# keys go in with send-keys and screens come back with capture-pane. Open,
# move, zoom, switch view, search, resize, quit; then the shell prompt is
# back, the screen is the shell's again and the tty modes are unchanged.
# The same after Ctrl-C (SIGINT). TERM inside is set here, never inherited.
# TERM=dumb is refused with one line and the terminal untouched.
. "$MP_SRCDIR/tests/lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
S="mptui$$"
trap 'tmux -L "$S" kill-server 2>/dev/null; rm -rf "$T"' EXIT
demo="$MP_SRCDIR/data/demo"
cmd="\"$MP_BIN\" tui --registry \"$demo/registry\" --results \"$demo/results/similarity_matrices.json\" --model-info \"$demo/model-info.json\""
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# What the screens below must show, computed here from the demo's JSON
# files: the models, the matrices and their positions, the heatmap's
# blocks (rows in family, type, name order; ceil(n / 16) rows a block at
# 80x24, ceil(n / 9) with column names), the second block's first model
# and the mean of its off-diagonal spectral/cosine cells, the matrix
# minimum, the pairs naming "blaze", and spectral/l1's average-linkage
# clusters at the median merge (scipy) and one merge looser.
$PY - "$demo/results/similarity_matrices.json" "$demo/model-info.json" > "$T/expect" <<'PY' || fail "python: the expected values"
import json, math, sys
import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform
ms = json.load(open(sys.argv[1]))["matrices"]
info = {e["model_id"]: e for e in json.load(open(sys.argv[2]))}
names = [k + "/" + x for k in ms for x in ms[k]]
sc = ms["spectral"]["cosine"]
ids = sc["models"]
n = len(ids)
z, zc = math.ceil(n / 16), math.ceil(n / 9)
key = lambda i: (info[ids[i]]["family"], info[ids[i]]["model_type"],
                 info[ids[i]]["display_name"])
order = sorted(range(n), key=key)
blk = order[z:2 * z]
vals = [sc["values"][i][j] for i in blk for j in blk
        if i != j and sc["values"][i][j] is not None]
first = blk[0]
cell = "%d %s (%s)" % (first + 1, info[ids[first]]["display_name"],
                       info[ids[first]]["family"])
lo = min(v for r in sc["values"] for v in r if v is not None)
nb = sum("blaze" in info[i]["display_name"] for i in ids)
l1 = ms["spectral"]["l1"]
v = np.array([[np.nan if x is None else x for x in r] for r in l1["values"]])
v = (v + v.T) / 2
best, worst = np.nanmax(v), np.nanmin(v)
v[np.isnan(v)] = worst
d = best - v
np.fill_diagonal(d, 0)
score = best - linkage(squareform(d, checks=False), "average")[:, 2]
within = np.sort(score[score >= np.median(score) - 1e-12])
print("nmod=%d nmat=%d i_sc=%d i_sl1=%d i_sjs=%d" % (n, len(names),
      names.index("spectral/cosine") + 1, names.index("spectral/l1") + 1,
      names.index("spectral/js") + 1))
print("z=%d z1=%d zc=%d lo=%.3g" % (z, z - 1, zc, lo))
print("pairs=%d blaze=%d" % (n * (n - 1) // 2,
      n * (n - 1) // 2 - (n - nb) * (n - nb - 1) // 2))
print("ncl=%d cut=%.4g ncl2=%d cut2=%.4g" % (n - len(within), within[0],
      n - len(within) - 1, np.sort(score)[::-1][len(within)]))
print("cell='%s' bmean='%.6g of %d'" % (cell, sum(vals) / len(vals), len(vals)))
PY
. "$T/expect"

TERM=xterm-256color tmux -L "$S" -f /dev/null new-session -d -x 80 -y 24 \
	"env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 PS1='PROMPT> ' sh" ||
	{ echo "FAIL: tmux new-session"; exit 1; }
tmux -L "$S" set-option -g status off >/dev/null

screen() { tmux -L "$S" capture-pane -p; }
keys() { tmux -L "$S" send-keys "$@"; }
# wait_for TEXT [TENTHS]: until the pane shows TEXT (10 s at most, or
# TENTHS tenths of a second)
wait_for() {
	i=0
	while [ $i -lt "${2:-100}" ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "waited for '$1'; the screen was:"
	screen | sed 's/^/| /'
	return 1
}

keys "stty -g > '$T/stty.before'; $cmd; echo DONE-\$?; stty -g > '$T/stty.after'" Enter
wait_for "modelprint | models | spectral/cosine ($i_sc/$nmat)" || { finish; }
screen | grep -q '^1    age (SSR-Net)        SSRNet' || fail "models view rows"
ok "open: the models view"
# the wheel, as xterm reports it (SGR mouse: button 65 down, 64 up)
keys -l "$(printf '\033[<65;10;10M')"
wait_for "4/$nmod" && keys -l "$(printf '\033[<64;10;10M')"
wait_for "1/$nmod" && ok "mouse wheel: three rows a notch"

keys / b l a z e f a c e - f r o n t Enter Enter
wait_for "modelprint | detail" &&
	screen | sed -n 2p | grep -qx 'blazeface-front' || fail "search and open"
wait_for "0.981983  blazeface-back (BlazeFace/Back)" && ok "search, open a model"
keys z
wait_for "modelprint | sparsity" && wait_for "Matrices (37)" &&
	wait_for "no weight is zero: every feature has the same mask" &&
	keys + && wait_for "clusters 9, seed 42" && keys Escape &&
	wait_for "modelprint | detail" && ok "z: the cluster explorer and back"

keys Escape 2
wait_for "modelprint | heatmap" || true
wait_for "family 1:$z mean" && ok "heatmap: fitted to 80x24 (1:$z blocks)"
keys j l
wait_for "row $cell x col $cell" &&
	wait_for "cosine = 1  block mean $bmean" && ok "heatmap: move"
keys +
wait_for "family 1:$z1 mean" && ok "heatmap: zoom"
keys a
wait_for "family 1:$z1 max" && ok "heatmap: block maximum"
keys r
wait_for "min-max $lo..1" && ok "heatmap: min-max scale"
keys 0
wait_for "family 1:$z max" && ok "heatmap: fit again"
keys c
wait_for "family 1:$zc max" && ok "heatmap: column names"
keys m
wait_for "spectral/l1 ($i_sl1/$nmat)" && ok "next matrix"
keys 5 # the clusters view of spectral/l1, then the cut one merge looser
wait_for "spectral/l1: $ncl clusters at $cut" && keys '>' &&
	wait_for "spectral/l1: $ncl2 clusters at $cut2" && ok "clusters: move the cut"
keys 4
wait_for "modelprint | pairs | spectral/l1" && ok "switch view"
keys ?
wait_for "Everywhere" && keys q
wait_for "modelprint | pairs | spectral/l1" && ok "q closes the help"
keys F1
wait_for "modelprint | help" && keys Escape
wait_for "modelprint | pairs" && ok "F1: help"
keys M
wait_for "modelprint | matrices" && keys j Enter
wait_for "modelprint | pairs | spectral/js ($i_sjs/$nmat)" && ok "M: the matrix picker"
keys p
wait_for "modelprint | pairs | spectral/l1 ($i_sl1/$nmat)" && ok "p: previous matrix"
keys '|' b l a z e
wait_for "$blaze all pairs naming" && keys Enter && ok "|: filter"
keys Escape
wait_for "modelprint | clusters" && ok "Esc: back to the clusters view"
keys Escape
wait_for "modelprint | heatmap" && ok "Esc: back to the heatmap"
keys 4
wait_for "modelprint | pairs"

tmux -L "$S" resize-window -x 100 -y 30 2>/dev/null &&
	wait_for "$pairs all pairs" && [ "$(screen | sed -n 1p | wc -c)" -gt 90 ] &&
	ok "resize: redrawn at 100 columns"

keys Q
wait_for "DONE-0" && ok "Q quits from any view: exit status 0"
wait_for "PROMPT>"
screen | grep -q "modelprint | pairs" && fail "the interface is still on the screen"
sleep 0.2
cmp -s "$T/stty.before" "$T/stty.after" || fail "tty modes changed: $(cat "$T/stty.before") -> $(cat "$T/stty.after")"
ok "terminal restored"

keys clear Enter
keys "$cmd; echo DONE-\$?; stty -g > '$T/stty.after2'" Enter
wait_for "modelprint | models" && keys C-c
wait_for "DONE-130" && ok "Ctrl-C: exit status 130"
sleep 0.2
cmp -s "$T/stty.before" "$T/stty.after2" || fail "tty modes changed after Ctrl-C"
ok "terminal restored after SIGINT"

# SIGTERM, sent to the process by its id
keys clear Enter
keys "sh -c 'echo \$\$ > \"$T/pid\"; exec $cmd'; echo DONE-\$?; stty -g > '$T/stty.after3'" Enter
wait_for "modelprint | models" && kill -TERM "$(cat "$T/pid")"
wait_for "DONE-143" && ok "SIGTERM: exit status 143"
sleep 0.2
cmp -s "$T/stty.before" "$T/stty.after3" || fail "tty modes changed after SIGTERM"

# no arguments on a terminal: the bundled demo
keys clear Enter
keys "\"$MP_BIN\"; echo DONE-\$?" Enter
wait_for "modelprint | models | spectral/cosine ($i_sc/$nmat)" &&
	wait_for "demo data: no registry at $HOME/.local/share/modelprint" && keys q
wait_for "DONE-0" && ok "no arguments on a terminal open the demo and say so"

# --identify on a model file against the demo registry: the identify view
# first (identify takes 4-5 s of CPU on the demo: up to 60 s allowed on a
# loaded machine), Esc shows the models view, q quits
model_a "$T/a.safetensors"
keys clear Enter
keys "\"$MP_BIN\" tui --identify '$T/a.safetensors' --against \"$demo/registry\"; echo DONE-\$?" Enter
wait_for "modelprint | identify" 600 && wait_for "Unknown  a.safetensors" &&
	wait_for "Verdict: " && keys Escape &&
	wait_for "modelprint | models" && keys q
wait_for "DONE-0" && ok "tui --identify: the identify view, Esc, q"

# a terminal without cursor addressing: refused before anything is drawn,
# one line naming the terminal and what to use instead, tty modes kept
keys clear Enter
keys "TERM=dumb $cmd 2> '$T/dumb.err'; echo DONE-\$?; stty -g > '$T/stty.after4'" Enter
wait_for "DONE-1" &&
	grep -q "terminal 'dumb' cannot move the cursor" "$T/dumb.err" &&
	grep -q "TERM=xterm-256color" "$T/dumb.err" &&
	[ "$(wc -l < "$T/dumb.err")" -eq 1 ] || fail "TERM=dumb: $(cat "$T/dumb.err")"
screen | grep -q "loading data" && fail "TERM=dumb: the interface started"
sleep 0.2
cmp -s "$T/stty.before" "$T/stty.after4" || fail "tty modes changed after TERM=dumb"
ok "TERM=dumb refused with a clear message"
finish
