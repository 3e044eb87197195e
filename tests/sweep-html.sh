#!/bin/sh
# tests/sweep-html.sh — sweep.html (modelprint sweep --output-dir) in
# headless Chromium behind a proxy that counts connections: the DOM's three
# heatmaps hold the n x n values of similarity_matrices.json, the accuracy
# curve the n accuracies of sweep.json, each scatter plot's r equals a
# Pearson r numpy computes from the matrices (JS negated, pairs where every
# metric is defined), and choosing model K in the profile chooser (the
# #selftest=K hash sets the <select> and fires its change event) draws K's
# row of each matrix. No network connection, no console error; a hostile
# sweep name stays text.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "FAIL: chromium not found (Debian package 'chromium')"; exit 1; }
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || { echo "FAIL: python3-numpy not found"; exit 1; }

# a proxy that only logs request lines: any request the page makes lands
# here (Chromium's own to Google's update and account hosts are left out)
cat > "$T/proxy.py" <<'EOF2'
import re, socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
own = re.compile(rb'^[A-Z]+ (https?://)?[^/ ]*\.(google\.com|googleapis\.com|gvt1\.com)[:/ ]')
while True:
    c, _ = s.accept(); c.settimeout(2)
    try: d = c.recv(400).split(b'\r\n')[0]
    except OSError: d = b'(nothing sent)'
    if not own.match(d): open(sys.argv[2], 'a').write(d.decode('latin-1') + '\n')
    c.close()
EOF2
$PY "$T/proxy.py" "$T/port" "$T/conns" &
PROXY=$!
trap 'kill $PROXY 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$T/port")

# browse PAGE HASH OUT: the DOM after the page's scripts ran
browse() {
	u="$T/chromium.$$"
	rm -rf "$u"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$u" \
		--proxy-server="http://127.0.0.1:$PORT" --proxy-bypass-list='<-loopback>' \
		--window-size=1280,1000 --virtual-time-budget=10000 \
		--dump-dom "file://$1$2" > "$3" 2> "$T/chromium.err" ||
		{ fail "chromium on $1: $(tail -3 "$T/chromium.err")"; return 1; }
	rm -rf "$u"
}

# check.py DOM OUTDIR K: one line per problem, nothing when all is well
cat > "$T/check.py" <<'EOF2'
import html.parser, json, sys
import numpy as np
dom, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
mats = json.load(open(out + '/similarity_matrices.json'))['matrices']['sweep']
sw = json.load(open(out + '/sweep.json'))
names = ['tn', 'logit_cosine', 'freq_js']
n = len(sw['models'])
bad = lambda s: print(s)

class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.svg = None; s.svgs = {}; s.els = []; s.cur = None; s.intitle = False
        s.r = []; s.inr = None; s.selftest = None; s.inpre = False
    def handle_starttag(s, tag, a):
        a = dict(a)
        if tag == 'svg': s.svg = a; s.svgs[a.get('id')] = a
        if tag in ('rect', 'circle') and 'data-v' in a:
            s.cur = dict(a, svg=s.svg.get('id'), model=s.svg.get('data-model'), title='', tag=tag)
            s.els.append(s.cur)
        if tag == 'title' and s.cur is not None: s.intitle = True
        if tag == 'span' and a.get('class') == 'r': s.r.append(a['data-r'])
        if tag == 'pre' and a.get('id') == 'mp-selftest': s.inpre = True
    def handle_endtag(s, tag):
        if tag == 'title': s.intitle = False
        if tag in ('rect', 'circle'): s.cur = None
        if tag == 'pre': s.inpre = False
    def handle_data(s, d):
        if s.intitle and s.cur is not None: s.cur['title'] += d
        if s.inpre: s.selftest = (s.selftest or '') + d
p = P(); p.feed(open(dom).read())
if not p.selftest: bad('no self-test record'); sys.exit()
st = json.loads(p.selftest)
if st['errors']: bad('console errors: %s' % st['errors'])
ids = [m['id'] for m in sw['models']]
V = {}
for name in names:
    x = mats[name]
    if x['models'] != ids: bad('%s: models %s' % (name, x['models']))
    V[name] = np.array([[np.nan if v is None else v for v in row] for row in x['values']])
    cells = [e for e in p.els if e['svg'] == 'heat-' + name]
    if len(cells) != n * n: bad('heat-%s: %d cells, not %d' % (name, len(cells), n * n))
    for e in cells:
        i, j = int(e['data-i']), int(e['data-j']); v = x['values'][i][j]
        if (v is None) != (e['data-v'] == 'null') or (v is not None and float(e['data-v']) != v):
            bad('heat-%s (%d,%d): %s != %s' % (name, i, j, e['data-v'], v))
        want = '%s vs %s: %s = ' % (ids[i], ids[j], name)
        if not e['title'].startswith(want) or (v is not None and abs(float(e['title'][len(want):]) - v) > 1e-5 * max(1, abs(v))) \
           or (v is None and e['title'] != want + 'null'):
            bad('heat-%s (%d,%d) title %r, value %s' % (name, i, j, e['title'], v))
acc = [e for e in p.els if e['svg'] == 'acc-curve']
if len(acc) != n: bad('accuracy curve: %d points, not %d' % (len(acc), n))
for e, m in zip(acc, sw['models']):
    if int(e['data-d']) != m['d'] or float(e['data-v']) != m['accuracy']:
        bad('accuracy point d=%s %s != d=%d %s' % (e['data-d'], e['data-v'], m['d'], m['accuracy']))
iu = np.triu_indices(n, 1)
cols = [V['tn'][iu], V['logit_cosine'][iu], -V['freq_js'][iu]]
ok = ~np.isnan(cols[0]) & ~np.isnan(cols[1]) & ~np.isnan(cols[2])
want = [np.corrcoef(cols[x][ok], cols[y][ok])[0, 1] for x in range(3) for y in range(x + 1, 3)]
if len(p.r) != 3: bad('%d scatter plots show r, not 3' % len(p.r))
for a, (got, w) in enumerate(zip(p.r, want)):
    if not abs(float(got) - w) <= 1e-9: bad('scatter %d: r %s != numpy %r' % (a, got, w))
for x, name in enumerate(names):
    pts = [e for e in p.els if e['svg'] == 'profile-' + name]
    shown = p.svgs.get('profile-' + name, {}).get('data-model')
    if shown != str(k): bad('profile-%s shows model %s, not %d' % (name, shown, k)); continue
    row = [(ids[j], v) for j, v in enumerate(mats[name]['values'][k]) if v is not None]
    got = [(e['title'].split(' vs ')[1].split(':')[0], float(e['data-v'])) for e in pts]
    if got != row: bad('profile-%s of %d: %s != %s' % (name, k, got, row))
print('OK %d %s' % (n, ' '.join('%.6f' % w for w in want)), file=sys.stderr)
EOF2

# sweep DIR HASH_K: run the sweep of DIR/manifest.json, open, check
page() {
	rm -rf "$1/out"
	if ! "$MP_BIN" sweep "$1/manifest.json" --output-dir "$1/out" > "$1/log" 2>&1; then
		fail "sweep $1: $(tail -3 "$1/log")"; return
	fi
	[ -s "$1/out/sweep.html" ] || { fail "sweep $1 wrote no sweep.html"; return; }
	grep -q 'sweep.html' "$1/log" || fail "sweep $1 does not say it wrote sweep.html"
	browse "$1/out/sweep.html" "#selftest=$2" "$1/dom" || return
	p=$($PY "$T/check.py" "$1/dom" "$1/out" "$2" 2> "$1/check.err") || p="check.py: $(tail -2 "$1/check.err")"
	[ -z "$p" ] && ok "sweep.html of $(basename "$1") (profile of model $2): heatmaps, curve, r and profile right" ||
		fail "sweep.html of $(basename "$1"): $p"
}

"$MP_BIN" sweep synth --p 7 --dims 1..6 --noise 0.05 --seed 3 --out "$T/sw" > /dev/null
page "$T/sw" 3
page "$T/sw" 0

# a model of zero weights: null TN and JS cells, those pairs out of the scatter plots
$PY - "$T/sw" "$T/zero" <<'EOF2'
import json, os, shutil, struct, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
f = os.path.join(dst, 'd2.safetensors'); b = open(f, 'rb').read()
h = 8 + struct.unpack('<Q', b[:8])[0]
open(f, 'wb').write(b[:h] + bytes(len(b) - h))
m = json.load(open(os.path.join(dst, 'manifest.json')))
for e in m['models']: e.pop('val_acc', None)
json.dump(m, open(os.path.join(dst, 'manifest.json'), 'w'))
EOF2
page "$T/zero" 1
grep -q '"null"' "$T/zero/dom" || fail "zero model: no null heatmap cell"

# a hostile sweep name stays text: still three script elements, shown escaped
$PY - "$T/sw" "$T/hostile" <<'EOF2'
import json, os, shutil, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
m = json.load(open(os.path.join(dst, 'manifest.json')))
m['name'] = '</script><script>alert(1)</script><b>&amp;\u202e'
json.dump(m, open(os.path.join(dst, 'manifest.json'), 'w'))
EOF2
page "$T/hostile" 2
n=$(grep -o '<script' "$T/hostile/out/sweep.html" | wc -l)
[ "$n" = 3 ] && ok "hostile sweep name: still three script elements" || fail "hostile sweep name: $n script elements"
grep -q '<h1>modelprint sweep: &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;&amp;amp;' "$T/hostile/dom" &&
	ok "hostile sweep name shown as text" || fail "hostile sweep name not shown as text: $(grep -o '<h1>[^/]*' "$T/hostile/dom")"

[ ! -s "$T/conns" ] && ok "no network request" || fail "the pages made network requests: $(head -3 "$T/conns")"
# and no URL in the page but the SVG namespace
if grep -o 'https\?://[^"'"'"' ]*' "$T/sw/out/sweep.html" | grep -v '^http://www.w3.org/2000/svg$'; then
	fail "sweep.html names a URL"
fi
finish
