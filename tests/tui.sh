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
wait_for "modelprint | models | spectral/cosine (8/10)" || { finish; }
screen | grep -q '^1    age (SSR-Net)        SSRNet' || fail "models view rows"
ok "open: the models view"
# the wheel, as xterm reports it (SGR mouse: button 65 down, 64 up)
keys -l "$(printf '\033[<65;10;10M')"
wait_for "4/48" && keys -l "$(printf '\033[<64;10;10M')"
wait_for "1/48" && ok "mouse wheel: three rows a notch"

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
wait_for "family 1:3 mean" && ok "heatmap: fitted to 80x24 (1:3 blocks)"
keys j l
wait_for "row 6 blazepose-detector (BlazePose) x col 6 blazepose-detector (BlazePose)" &&
	wait_for "cosine = 1  block mean 0.883512 of 6" && ok "heatmap: move"
keys +
wait_for "family 1:2 mean" && ok "heatmap: zoom"
keys a
wait_for "family 1:2 max" && ok "heatmap: block maximum"
keys r
wait_for "min-max 0.0266..1" && ok "heatmap: min-max scale"
keys 0
wait_for "family 1:3 max" && ok "heatmap: fit again"
keys c
wait_for "family 1:6 max" && ok "heatmap: column names"
keys m
wait_for "spectral/l1 (9/10)" && ok "next matrix"
keys 5 # the clusters view of spectral/l1, then the cut one merge looser
wait_for "spectral/l1: 24 clusters at 0.8559" && keys '>' &&
	wait_for "spectral/l1: 23 clusters at" && ok "clusters: move the cut"
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
wait_for "modelprint | pairs | spectral/js (10/10)" && ok "M: the matrix picker"
keys p
wait_for "modelprint | pairs | spectral/l1 (9/10)" && ok "p: previous matrix"
keys '|' b l a z e
wait_for "308 all pairs naming" && keys Enter && ok "|: filter"
keys Escape
wait_for "modelprint | clusters" && ok "Esc: back to the clusters view"
keys Escape
wait_for "modelprint | heatmap" && ok "Esc: back to the heatmap"
keys 4
wait_for "modelprint | pairs"

tmux -L "$S" resize-window -x 100 -y 30 2>/dev/null &&
	wait_for "1128 all pairs" && [ "$(screen | sed -n 1p | wc -c)" -gt 90 ] &&
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
wait_for "modelprint | models | spectral/cosine (8/10)" &&
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
