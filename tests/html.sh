#!/bin/sh
# tests/html.sh — the HTML reports in headless Chromium, without network:
# `modelprint analyze` and `modelprint correlate` on the demo results, each
# page opened with #selftest (the page records console errors, counts
# non-blank heatmap pixels and hovers a cell by synthetic mouse events,
# before and after a zoom and a pan). The tooltip must name the pair and
# show the value that node reads independently from the results file.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
	echo "FAIL: chromium not found (Debian package 'chromium'; ./autogen.sh --deps installs it)"
	exit 1
fi
command -v node >/dev/null || { echo "FAIL: node not found (Debian package 'nodejs')"; exit 1; }

RES="$MP_SRCDIR/data/demo/results/similarity_matrices.json"
INFO="$MP_SRCDIR/data/demo/model-info.json"

# browse PAGE HASH OUT: the DOM after the page's scripts ran
browse() {
	u="$T/chromium.$$"
	rm -rf "$u"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$u" \
		--window-size=1280,1000 --virtual-time-budget=10000 \
		--dump-dom "file://$1$2" > "$3" 2> "$T/chromium.err" ||
		{ fail "chromium on $1: $(tail -3 "$T/chromium.err")"; return 1; }
	rm -rf "$u"
}

# check.js DOM KIND [RESULTS METHOD METRIC ID_I ID_J INFO]: checks the
# self-test record; prints one line per problem, nothing when all is well.
cat > "$T/check.js" <<'EOF'
const fs = require('fs');
const [dom, kind, res, method, metric, idi, idj, info] = process.argv.slice(2);
const m = /<pre id="mp-selftest"[^>]*>([^<]*)<\/pre>/.exec(fs.readFileSync(dom, 'utf8'));
if (!m) { console.log('no self-test record in the page'); process.exit(0); }
const ent = { lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'" };
const r = JSON.parse(m[1].replace(/&(lt|gt|amp|quot|#39);/g, (_, e) => ent[e]));
const bad = s => console.log(s);
/* how a matrix's values were obtained, from its "estimate" (modelprint-files(5)) */
const phrase = e => !e ? 'unknown whether exact or a sketch estimate' : e.kind === 'exact' ? 'exact values' :
  e.kind === 'randomized_svd' ? 'estimate (randomized SVD of large tensors)' : e.kind !== 'sketch' ? '?' :
  e.values ? 'sketch estimate from ' + e.values + ' value' + (e.values === 1 ? '' : 's') + ' per tensor' :
  'sketch estimate (size not recorded)';
const page = fs.readFileSync(dom, 'utf8');
if (r.errors.length) bad('console errors: ' + JSON.stringify(r.errors));
if (r.kind !== kind) bad('kind ' + r.kind);
if (kind === 'correlation') {
  /* metric is the comma-separated list; the profile of idi, hovered at idj */
  const ms = metric.split(','), k = ms.length;
  if (r.plots !== k * (k - 1) / 2) bad('scatter plots: ' + r.plots);
  (r.scatterNonBlank || []).forEach((k, i) => { if (!(k > 100)) bad('scatter ' + i + ' blank: ' + k); });
  if (!(r.profileNonBlank > 100)) bad('profile blank: ' + r.profileNonBlank);
  const lines = (r.profileTip || '').split('\n');
  if (lines[0].indexOf(idi + ' ') !== 0 || lines[1].indexOf('vs ' + idj + ' ') !== 0) bad('profile tooltip: ' + JSON.stringify(r.profileTip));
  const all = JSON.parse(fs.readFileSync(res, 'utf8')).matrices[method];
  ms.forEach((name, a) => {
    if (!new RegExp('<td[^>]*>' + phrase(all[name].estimate).replace(/[()]/g, '\\$&') + '</td>').test(page))
      bad('summary table: no Values cell "' + phrase(all[name].estimate) + '" for ' + name);
    const x = all[name], v = x.values[x.models.indexOf(idi)][x.models.indexOf(idj)];
    const got = new RegExp('^' + name + ' = (\\S+)$').exec(lines[2 + a] || '');
    if (!got || !(Math.abs(parseFloat(got[1]) - v) <= 1e-5 * Math.max(1, Math.abs(v))))
      bad('profile tooltip ' + name + ': ' + (got && got[1]) + ' != ' + v);
  });
  process.exit(0);
}
if (!(r.nonBlank > 10000)) bad('heatmap blank: ' + r.nonBlank + ' pixels');
if (!(r.nonBlankZoomed > 10000)) bad('zoomed heatmap blank: ' + r.nonBlankZoomed);
if (!(r.zoom > 1)) bad('wheel did not zoom: ' + r.zoom);
if (!r.panned || (r.panned[0] === 0 && r.panned[1] === 0)) bad('drag did not pan: ' + JSON.stringify(r.panned));
if (!(r.pairRows > 0) || !(r.filterAll > 0) || r.filterNone !== 0) bad('pair list: ' + JSON.stringify([r.pairRows, r.filterAll, r.filterNone]));
const num = a => (a || []).filter(t => t !== '\u2013').map(parseFloat);
const asc = num(r.sortAsc), desc = num(r.sortDesc);
if (!asc.length || asc.some((v, k) => isNaN(v) || (k && v < asc[k - 1])) ||
    desc.some((v, k) => k && v > desc[k - 1]) || JSON.stringify(asc) !== JSON.stringify(desc.slice().reverse()))
  bad('sorting the table by mean: ' + JSON.stringify([r.sortAsc, r.sortDesc]));
const x = JSON.parse(fs.readFileSync(res, 'utf8')).matrices[method][metric];
const i = x.models.indexOf(idi), j = x.models.indexOf(idj);
if (page.indexOf('>Values: ' + metric + ': ' + phrase(x.estimate) + '<') < 0)
  bad('heatmap: no line "Values: ' + metric + ': ' + phrase(x.estimate) + '"');
if (r.n !== x.models.length) bad('n ' + r.n + ' != ' + x.models.length);
const v = x.values[i][j];
const names = {};
x.models.forEach(id => { names[id] = id; }); /* the name of an id missing from the info */
JSON.parse(fs.readFileSync(info, 'utf8')).forEach(e => { names[e.model_id] = e.display_name; });
const fam = {}, typ = {};
JSON.parse(fs.readFileSync(info, 'utf8')).forEach(e => { fam[e.model_id] = e.family; typ[e.model_id] = e.model_type; });
const want = {intra: 0, inter: 0, typepair: 0, unknown: 0, 'null': 0};
x.models.forEach((a, p) => x.models.forEach((b, q) => {
  if (q <= p) return;
  const fa = fam[a] || '', fb = fam[b] || '';
  if (!fa || !fb) want.unknown++;
  else if (fa !== fb) want.inter++;
  else {
    want.intra++;
    if (typ[a] && typ[b] && typ[a] !== typ[b]) want.typepair++;
  }
  if (x.values[p][q] === null) want['null']++;
}));
if (JSON.stringify(r.filterCat) !== JSON.stringify(want))
  bad('category filter counts ' + JSON.stringify(r.filterCat) + ' != ' + JSON.stringify(want));
for (const k of ['tip', 'tipZoomed', 'tipPanned']) {
  const t = r[k] || '';
  const lines = t.split('\n');
  if (!lines[0] || lines[0].indexOf('row: ' + names[idi]) !== 0) bad(k + ': row is not ' + names[idi] + ': ' + JSON.stringify(t));
  if (!lines[1] || lines[1].indexOf('col: ' + names[idj]) !== 0) bad(k + ': col is not ' + names[idj] + ': ' + JSON.stringify(t));
  if (v === null) {
    const u = (x.undefined || []).find(e => (e.i === i && e.j === j) || (e.i === j && e.j === i));
    if (!u || lines[2] !== metric + ' = null: ' + u.reason) bad(k + ': expected null with its reason: ' + JSON.stringify(t));
  } else {
    const got = /= (\S+)/.exec(lines[2] || '');
    if (!got || !(Math.abs(parseFloat(got[1]) - v) <= 1e-5 * Math.max(1, Math.abs(v))))
      bad(k + ': value ' + (got && got[1]) + ' != ' + v);
  }
}
EOF

# dashboard DIR METHOD METRIC ID_I ID_J INFO: analyze, open, check
dashboard() {
	mkdir -p "$1"
	if ! "$MP_BIN" analyze --results-file "$RES" --model-info "$6" \
		--method "$2" --metric "$3" --output-dir "$1" > "$1/out" 2>&1; then
		fail "analyze $2/$3: $(tail -3 "$1/out")"
		return
	fi
	[ -s "$1/dashboard.html" ] || { fail "analyze $2/$3 wrote no dashboard.html"; return; }
	if grep -q 'https\?://' "$1/dashboard.html"; then
		fail "$2/$3 dashboard references the network: $(grep -o 'https\?://[^"]*' "$1/dashboard.html" | head -1)"
	fi
	browse "$1/dashboard.html" "#selftest=$4,$5" "$1/dom" || return
	p=$(node "$T/check.js" "$1/dom" dashboard "$RES" "$2" "$3" "$4" "$5" "$6")
	[ -z "$p" ] && ok "dashboard $2/$3 ($(basename "$1")): loads clean, drawn, cell ($4,$5) tooltip right" ||
		fail "dashboard $2/$3 ($(basename "$1")): $p"
}

# a similarity without nulls, a divergence, and a cell that is null
dashboard "$T/l1" spectral l1 3 4 "$INFO"
dashboard "$T/js" spectral js 5 27 "$INFO"
nul=$(node -e '
const x = JSON.parse(require("fs").readFileSync(process.argv[1])).matrices.tensors.cosine;
const u = x.undefined[0]; console.log(x.models[u.i] + " " + x.models[u.j]);' "$RES")
dashboard "$T/null" tensors cosine ${nul% *} ${nul#* } "$INFO"

# a hostile display name must stay text
node -e '
const fs = require("fs"), a = JSON.parse(fs.readFileSync(process.argv[1]));
a.forEach(e => { if (e.model_id === "3") { e.display_name = "</script><script>alert(1)</script>"; e.family = "<b>F&amp;\u2713"; } });
fs.writeFileSync(process.argv[2], JSON.stringify(a));' "$INFO" "$T/hostile.json"
dashboard "$T/hostile" spectral l1 3 4 "$T/hostile.json"
n=$(grep -c '<script' "$T/hostile/dashboard.html" || true)
[ "$n" = 3 ] && ok "hostile name: still three script elements" ||
	fail "hostile name: $n script elements"

# models missing from the model info: unknown family, listed on the page
node -e '
const fs = require("fs"), a = JSON.parse(fs.readFileSync(process.argv[1]));
fs.writeFileSync(process.argv[2], JSON.stringify(a.filter(e => e.model_id !== "1" && e.model_id !== "3")));' \
	"$INFO" "$T/partial.json"
dashboard "$T/partial" spectral l1 3 4 "$T/partial.json"

# correlation page
mkdir -p "$T/corr"
if "$MP_BIN" correlate --results-file "$RES" --method spectral \
	--metrics cosine,l1,js --output-dir "$T/corr" > "$T/corr/out" 2>&1 &&
	[ -s "$T/corr/correlation.html" ]; then
	grep -q 'https\?://' "$T/corr/correlation.html" && fail "correlation page references the network"
	if browse "$T/corr/correlation.html" "#selftest=3,27" "$T/corr/dom"; then
		p=$(node "$T/check.js" "$T/corr/dom" correlation "$RES" spectral cosine,l1,js 3 27)
		[ -z "$p" ] && ok "correlation page: loads clean, 3 scatter plots, profile of 3 shows its values against 27" ||
			fail "correlation page: $p"
	fi
else
	fail "correlate wrote no correlation.html: $(tail -3 "$T/corr/out")"
fi

# a screenshot (kept when MP_HTML_SHOTS names a directory, for a person to look at)
u="$T/chromium.shot"
if timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
	--no-first-run --disable-background-networking --disable-component-update \
	--disable-sync --user-data-dir="$u" --window-size=1280,2000 --hide-scrollbars \
	--virtual-time-budget=10000 --screenshot="$T/shot.png" \
	"file://$T/null/dashboard.html" > /dev/null 2>&1 &&
	[ "$(head -c 4 "$T/shot.png" | od -An -c | tr -d ' ')" = '211PNG' ]; then
	ok "screenshot taken"
	if [ -n "${MP_HTML_SHOTS:-}" ]; then cp "$T/shot.png" "$MP_HTML_SHOTS/dashboard.png"; fi
else
	fail "chromium --screenshot produced no PNG"
fi

finish
