/* report_sweep.js — the script of sweep.html (report_sweep.c). window.MP
 * holds d[n], acc[n], metrics[3] {name, label, higher, values[n][n]} and
 * pearson[9] (JS negated) or null. Everything is SVG built through the
 * DOM; strings go in through textContent only. Each heatmap cell, curve
 * point and profile point carries its exact value in data-v and a
 * <title>. The #selftest=K hash chooses model K in the profile chooser and
 * writes the error record into #mp-selftest. */
(function () {
  'use strict';
  var D = window.MP;
  var app = document.getElementById('app');
  var NS = 'http://www.w3.org/2000/svg';
  var n = D.d.length;

  function el(tag, parent, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function svg(tag, parent, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function title(e, text) { svg('title', e, {}, text); }
  function section(t) {
    var s = el('section', app);
    el('h2', s, t);
    return s;
  }
  function isnum(v) { return typeof v === 'number' && !isNaN(v); }
  function fmt(v) { return isnum(v) ? String(parseFloat(v.toPrecision(6))) : 'null'; }
  function fmtAxis(v) { return String(parseFloat(v.toPrecision(4))); }
  function id(i) { return 'd=' + D.d[i]; }
  /* a divergence is negated where metrics are compared, as for r */
  function signed(t, v) { return isnum(v) && !D.metrics[t].higher ? -v : v; }
  function short(t) { return ['TN', 'logit', 'JS'][t]; }
  function axisName(t) { return D.metrics[t].higher ? short(t) : '\u2212' + short(t) + ' (negated)'; }

  /* a viridis-like ramp over [0, 1] */
  var STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function ramp(q) {
    q = Math.max(0, Math.min(1, q)) * (STOPS.length - 1);
    var k = Math.min(STOPS.length - 2, Math.floor(q)), f = q - k, a = STOPS[k], b = STOPS[k + 1];
    return 'rgb(' + [0, 1, 2].map(function (c) { return Math.round(a[c] + (b[c] - a[c]) * f); }).join(',') + ')';
  }
  function range(vals) {
    var lo = Infinity, hi = -Infinity;
    vals.forEach(function (v) { if (isnum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    return [lo, hi];
  }

  /* ---- heatmaps ---- */
  var heat = section('Similarity matrices (rows and columns by width d)');
  var grid = el('div', heat, null, 'grid');
  var CELL = Math.max(4, Math.min(24, Math.floor(320 / Math.max(1, n))));
  D.metrics.forEach(function (m, t) {
    var fig = el('figure', grid);
    var L = 44, S = CELL * n;
    fig.style.width = Math.max(L + S + 4, 260) + 'px';
    var g = svg('svg', fig, {id: 'heat-' + m.name, 'class': 'heat', width: L + S + 4, height: L + S + 4});
    var flat = [];
    m.values.forEach(function (row) { flat = flat.concat(row); });
    var rg = range(flat);
    var step = Math.max(1, Math.ceil(12 / CELL));
    for (var i = 0; i < n; i++) {
      if (i % step === 0) {
        svg('text', g, {x: L - 4, y: L + i * CELL + CELL / 2 + 4, 'text-anchor': 'end', 'font-size': 10, 'class': 'rowlab'}, D.d[i]);
        svg('text', g, {x: L + i * CELL + CELL / 2, y: L - 6, 'text-anchor': 'middle', 'font-size': 10, 'class': 'collab'}, D.d[i]);
      }
      for (var j = 0; j < n; j++) {
        var v = m.values[i][j];
        var r = svg('rect', g, {'class': 'cell', x: L + j * CELL, y: L + i * CELL, width: CELL, height: CELL,
          fill: isnum(v) ? ramp((v - rg[0]) / (rg[1] - rg[0])) : '#c4c4c4',
          'data-i': i, 'data-j': j, 'data-v': isnum(v) ? String(v) : 'null'});
        title(r, id(i) + ' vs ' + id(j) + ': ' + m.name + ' = ' + fmt(v));
      }
    }
    el('figcaption', fig, m.label + (m.higher ? ' (higher is more alike)' : ' (lower is more alike)') +
      '; colour from ' + fmt(rg[0]) + ' to ' + fmt(rg[1]) + ', grey: null');
  });

  /* ---- a line chart / scatter frame ---- */
  function frame(parent, gid, xs, ys, xlab, ylab) {
    var W = 360, H = 240, L = 64, B = 36, T = 10, R = 10;
    var g = svg('svg', parent, {id: gid, width: W, height: H});
    var rx = range(xs), ry = range(ys);
    function X(v) { return L + (v - rx[0]) / (rx[1] - rx[0]) * (W - L - R); }
    function Y(v) { return H - B - (v - ry[0]) / (ry[1] - ry[0]) * (H - B - T); }
    svg('rect', g, {x: L, y: T, width: W - L - R, height: H - B - T, fill: 'none', stroke: '#999'});
    [rx[0], rx[1]].forEach(function (v, k) {
      svg('text', g, {x: X(v), y: H - B + 14, 'text-anchor': k ? 'end' : 'start', 'font-size': 10}, fmtAxis(v));
    });
    [ry[0], ry[1]].forEach(function (v) {
      svg('text', g, {x: L - 4, y: Y(v) + 4, 'text-anchor': 'end', 'font-size': 10}, fmtAxis(v));
    });
    svg('text', g, {x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 11}, xlab);
    svg('text', g, {x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', 'font-size': 11,
      transform: 'rotate(-90 12 ' + (T + H - B) / 2 + ')'}, ylab);
    return {g: g, X: X, Y: Y};
  }
  function line(f, pts, colour, cls) {
    var ok = pts.filter(function (p) { return isnum(p[0]) && isnum(p[1]); });
    svg('polyline', f.g, {points: ok.map(function (p) { return f.X(p[0]) + ',' + f.Y(p[1]); }).join(' '),
      fill: 'none', stroke: colour, 'stroke-width': 1.5, 'class': cls});
  }

  /* ---- accuracy curve ---- */
  var accs = section('Accuracy against width');
  var af = frame(accs, 'acc-curve', D.d, D.acc.concat([0, 1]), 'width d', 'accuracy');
  line(af, D.d.map(function (d, i) { return [d, D.acc[i]]; }), '#1565c0', 'curve');
  D.d.forEach(function (d, i) {
    var c = svg('circle', af.g, {'class': 'pt', cx: af.X(d), cy: af.Y(D.acc[i]), r: 3, fill: '#1565c0',
      'data-d': d, 'data-v': String(D.acc[i])});
    title(c, id(i) + ': accuracy ' + fmt(D.acc[i]));
  });

  /* ---- scatter plots of each metric pair (JS negated) ---- */
  var sc = section('Metric pairs (one point per pair of models; JS negated)');
  var sgrid = el('div', sc, null, 'grid');
  for (var x = 0; x < 3; x++) {
    for (var y = x + 1; y < 3; y++) {
      var pts = [];
      for (var i = 0; i < n; i++) {
        for (var j = i + 1; j < n; j++) {
          var ok = D.metrics.every(function (m) { return isnum(m.values[i][j]); });
          if (ok) pts.push([signed(x, D.metrics[x].values[i][j]), signed(y, D.metrics[y].values[i][j]), i, j]);
        }
      }
      var fig = el('figure', sgrid);
      var f = frame(fig, 'scatter-' + D.metrics[x].name + '-' + D.metrics[y].name,
        pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[1]; }), axisName(x), axisName(y));
      pts.forEach(function (p) {
        var c = svg('circle', f.g, {'class': 'pt', cx: f.X(p[0]), cy: f.Y(p[1]), r: 2.5, fill: 'rgba(21,101,192,.6)'});
        title(c, id(p[2]) + ' vs ' + id(p[3]) + ': ' + fmt(p[0]) + ', ' + fmt(p[1]));
      });
      var r = D.pearson ? D.pearson[x * 3 + y] : null;
      var cap = el('figcaption', fig, short(x) + ' vs ' + (D.metrics[y].higher ? '' : '\u2212') + short(y) + ': Pearson r = ');
      var rs = el('span', cap, isnum(r) ? r.toFixed(6) : 'undefined', 'r');
      rs.setAttribute('data-r', isnum(r) ? String(r) : 'null');
      el('span', cap, ' over ' + pts.length + ' pairs');
    }
  }

  /* ---- per-model profile ---- */
  var ps = section('Profile of one model across widths');
  var bar = el('div', ps, null, 'btns');
  el('label', bar, 'model ');
  var sel = el('select', bar);
  sel.id = 'profile-model';
  D.d.forEach(function (d, i) { var o = el('option', sel, id(i)); o.value = String(i); });
  var pwrap = el('div', ps, null, 'grid');
  var COL = ['#1565c0', '#2e7d32', '#c62828'];
  function profile() {
    var k = +sel.value;
    while (pwrap.firstChild) pwrap.removeChild(pwrap.firstChild);
    D.metrics.forEach(function (m, t) {
      var fig = el('figure', pwrap);
      var row = m.values[k];
      var f = frame(fig, 'profile-' + m.name, D.d, row, 'width d', m.name);
      f.g.setAttribute('data-model', String(k));
      line(f, D.d.map(function (d, j) { return [d, row[j]]; }), COL[t], 'curve');
      D.d.forEach(function (d, j) {
        if (!isnum(row[j])) return;
        var c = svg('circle', f.g, {'class': 'pt', cx: f.X(d), cy: f.Y(row[j]), r: 3, fill: COL[t],
          'data-d': d, 'data-v': String(row[j])});
        title(c, id(k) + ' vs ' + id(j) + ': ' + m.name + ' = ' + fmt(row[j]));
      });
      el('figcaption', fig, m.label + ' of ' + id(k) + ' against every width');
    });
  }
  sel.addEventListener('change', profile);
  profile();

  var h = location.hash;
  if (h.indexOf('#selftest') === 0) {
    var arg = h.replace(/^#selftest=?/, '');
    if (arg !== '') {
      sel.value = arg;
      sel.dispatchEvent(new Event('change'));
    }
    var pre = document.getElementById('mp-selftest');
    pre.textContent = JSON.stringify({kind: 'sweep', n: n, chosen: sel.value, errors: window.mpErrors.slice()});
    document.title = 'SELFTEST ' + (window.mpErrors.length ? 'ERRORS' : 'DONE');
  }
})();
