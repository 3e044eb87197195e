/* report_html.js — the script of modelprint's HTML reports. window.MP holds
 * the data written by report_html.c; kind "dashboard" or "correlation".
 * Every string from the data goes into the page through textContent, never
 * innerHTML. window.mpTest and the #selftest hash serve the browser test. */
(function () {
  'use strict';
  var D = window.MP;
  var app = document.getElementById('app');
  var tip = document.getElementById('tip');
  var DPR = Math.max(1, Math.min(2, window.devicePixelRatio || 1));

  function el(tag, parent, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function section(title) {
    var s = el('section', app);
    el('h2', s, title);
    return s;
  }
  function bytes(b64) {
    var bin = atob(b64), n = bin.length, u = new Uint8Array(n);
    for (var i = 0; i < n; i++) u[i] = bin.charCodeAt(i);
    return u;
  }
  function f32(b64) { return new Float32Array(bytes(b64).buffer); }
  function isnum(v) { return typeof v === 'number' && !isNaN(v); }
  /* 6 significant digits: a Float32 holds about 7 */
  function fmt(v) {
    if (!isnum(v)) return 'null';
    return String(parseFloat(v.toPrecision(6)));
  }
  function fmtAxis(v) { return isnum(v) ? String(parseFloat(v.toPrecision(4))) : ''; }
  function fmt4(v) {
    if (!isnum(v)) return '\u2013';
    if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
    return v.toFixed(4);
  }
  function canvas(parent, w, h) {
    var c = el('canvas', parent);
    c.width = Math.round(w * DPR);
    c.height = Math.round(h * DPR);
    c.style.width = w + 'px';
    c.style.height = h + 'px';
    var g = c.getContext('2d');
    g.setTransform(DPR, 0, 0, DPR, 0, 0);
    return {c: c, g: g, w: w, h: h};
  }
  function showTip(text, ev) {
    tip.textContent = text;
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth) x = Math.max(0, ev.clientX - r.width - 10);
    if (y + r.height > window.innerHeight) y = Math.max(0, ev.clientY - r.height - 10);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function nonBlank(c) {
    var g = c.getContext('2d');
    var d = g.getImageData(0, 0, c.width, c.height).data, k = 0;
    for (var i = 0; i < d.length; i += 4)
      if (d[i + 3] !== 0 && (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255)) k++;
    return k;
  }
  function who(i) {
    var f = D.family[i] || 'no family', t = D.type[i] || 'no type';
    var s = D.names[i];
    if (D.names[i] !== D.ids[i]) s += ' [' + D.ids[i] + ']';
    return s + ' (' + f + ' / ' + t + ')';
  }

  /* viridis, 256 entries */
  var VIR = [[68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37]];
  var LUT = new Uint8Array(256 * 3);
  for (var q = 0; q < 256; q++) {
    var t = q / 255 * (VIR.length - 1), a = Math.min(VIR.length - 2, Math.floor(t)), f = t - a;
    for (var ch = 0; ch < 3; ch++)
      LUT[q * 3 + ch] = Math.round(VIR[a][ch] + (VIR[a + 1][ch] - VIR[a][ch]) * f);
  }
  function lutCss(q) { return 'rgb(' + LUT[q * 3] + ',' + LUT[q * 3 + 1] + ',' + LUT[q * 3 + 2] + ')'; }

  /* a sortable table: cols [{name, num, get(row)}], rows any[] */
  function table(parent, cols, rows) {
    var wrap = el('div', parent, null, 'scroll');
    var t = el('table', wrap), head = el('tr', el('thead', t)), body = el('tbody', t);
    var sortCol = -1, asc = true;
    function fill() {
      body.textContent = '';
      rows.forEach(function (r) {
        var tr = el('tr', body);
        cols.forEach(function (c) {
          var v = c.get(r);
          el('td', tr, c.num ? (c.fmt || fmt4)(v) : v, c.num ? 'num' : '');
        });
      });
    }
    cols.forEach(function (c, ci) {
      var th = el('th', head, c.name, c.num ? 'num' : '');
      th.addEventListener('click', function () {
        asc = sortCol === ci ? !asc : true;
        sortCol = ci;
        rows.sort(function (x, y) {
          var a = c.get(x), b = c.get(y);
          if (c.num) { /* empty cells last either way */
            if (!isnum(a) || !isnum(b)) return isnum(a) ? -1 : isnum(b) ? 1 : 0;
            return asc ? a - b : b - a;
          }
          return asc ? String(a).localeCompare(String(b)) : String(b).localeCompare(String(a));
        });
        Array.prototype.forEach.call(head.children, function (h) { h.className = h === th ? '' : h.className.replace(/ ?sorted-\w+/, ''); });
        th.className = (c.num ? 'num ' : '') + (asc ? 'sorted-asc' : 'sorted-desc');
        fill();
      });
    });
    fill();
    return t;
  }

  var test = window.mpTest = {errors: window.mpErrors};

  function selftestDone(result) {
    result.errors = window.mpErrors.slice();
    var pre = document.getElementById('mp-selftest');
    pre.textContent = JSON.stringify(result);
    document.title = 'SELFTEST ' + (result.errors.length ? 'ERRORS' : 'DONE');
  }

  /* ==== dashboard ======================================================= */
  function dashboard() {
    var n = D.n, M = f32(D.matrix), order = D.order, pos = new Int32Array(n);
    for (var k = 0; k < n; k++) pos[order[k]] = k;
    var reasonOf = {};
    for (var r = 0; r + 1 < D.nullCells.length; r += 2) reasonOf[D.nullCells[r]] = D.reasons[D.nullCells[r + 1]];
    var alike = D.higher ? 'higher is more alike' : 'lower is more alike';
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < n; i++)
      for (var j = 0; j < n; j++) {
        if (i === j) continue;
        var v = M[i * n + j];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    if (!(lo <= hi)) { lo = 0; hi = 1; }
    var span = hi - lo;
    /* q index 0 = least alike, 255 = most alike, for either direction */
    function qOf(v) {
      var t = span > 0 ? (v - lo) / span : 0.5;
      if (!D.higher) t = 1 - t;
      return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
    }

    if (D.missingInInfo.length || D.missingInResults.length) {
      var w = section('Missing ids');
      w.className = 'warn';
      if (D.missingInInfo.length)
        el('p', w, D.missingInInfo.length + ' in the results but not in the model info (family unknown): ' +
          D.missingInInfo.slice(0, 50).join(', ') + (D.missingInInfo.length > 50 ? ', \u2026' : ''));
      if (D.missingInResults.length)
        el('p', w, D.missingInResults.length + ' in the model info but not in the results: ' +
          D.missingInResults.slice(0, 50).join(', ') + (D.missingInResults.length > 50 ? ', \u2026' : ''));
    }

    /* ---- heatmap ---- */
    var hs = section('Similarity matrix: ' + D.method + ' / ' + D.metric + ' (' + alike + ')');
    el('p', hs, 'Rows and columns ordered by family, then type and name; orange lines mark family boundaries ' +
      '(zoomed in, the rows are labelled with model names). ' +
      'Wheel to zoom, drag to pan, double-click to reset. Hover a cell for the pair and its value.', 'note');
    el('p', hs, 'Values: ' + D.estimate, 'note estimate');
    var leg = el('div', hs, null, 'legend');
    el('span', leg, fmt(D.higher ? lo : hi) + ' (less alike)');
    var lc = canvas(leg, 240, 14);
    for (var x = 0; x < 240; x++) { lc.g.fillStyle = lutCss(Math.round(x / 239 * 255)); lc.g.fillRect(x, 0, 1, 14); }
    el('span', leg, fmt(D.higher ? hi : lo) + ' (more alike)');
    el('span', leg, null, 'swatch');
    el('span', leg, 'null (undefined, reason in the tooltip)');
    el('span', leg, '\u2003diagonal and values outside the off-diagonal range are clamped');
    var wrapw = el('div', hs, null, 'heatwrap');
    var W = Math.max(420, Math.min(960, app.clientWidth - 40)), L = 130;
    var H = W - L;
    var hc = canvas(wrapw, W, H), g = hc.g, area = H;
    var s0 = area / Math.max(1, n), view = {s: s0, ox: 0, oy: 0};
    var fam = order.map(function (o) { return D.family[o]; });
    var bounds = [0];
    for (k = 1; k < n; k++) if (fam[k] !== fam[k - 1]) bounds.push(k);
    bounds.push(n);

    function clampView() {
      view.s = Math.max(s0, Math.min(Math.max(s0, 80), view.s));
      var ext = n * view.s;
      view.ox = Math.min(0, Math.max(area - ext, view.ox));
      view.oy = Math.min(0, Math.max(area - ext, view.oy));
    }
    function draw() {
      clampView();
      var pw = Math.round(area * DPR), ph = Math.round(H * DPR);
      var img = g.createImageData(pw, ph), px = img.data;
      var colIx = new Int32Array(pw), rowIx = new Int32Array(ph);
      for (var xx = 0; xx < pw; xx++) {
        var cc = Math.floor(((xx + 0.5) / DPR - view.ox) / view.s);
        colIx[xx] = cc >= 0 && cc < n ? order[cc] : -1;
      }
      for (var yy = 0; yy < ph; yy++) {
        var rr = Math.floor(((yy + 0.5) / DPR - view.oy) / view.s);
        rowIx[yy] = rr >= 0 && rr < n ? order[rr] : -1;
      }
      var p = 0;
      for (yy = 0; yy < ph; yy++) {
        var ri = rowIx[yy], base = ri * n;
        for (xx = 0; xx < pw; xx++, p += 4) {
          var ci = colIx[xx];
          if (ri < 0 || ci < 0) { px[p] = px[p + 1] = px[p + 2] = 255; px[p + 3] = 255; continue; }
          var val = M[base + ci];
          if (val !== val) {
            var c = ((xx + yy) >> 2) & 1 ? 246 : 196;
            px[p] = px[p + 1] = px[p + 2] = c;
          } else {
            var qq = qOf(val) * 3;
            px[p] = LUT[qq]; px[p + 1] = LUT[qq + 1]; px[p + 2] = LUT[qq + 2];
          }
          px[p + 3] = 255;
        }
      }
      g.clearRect(0, 0, W, H);
      g.putImageData(img, Math.round(L * DPR), 0);
      g.save();
      g.beginPath();
      g.rect(L, 0, area, H);
      g.clip();
      g.strokeStyle = '#ff6f00';
      g.lineWidth = 1;
      g.beginPath();
      for (var b = 1; b + 1 < bounds.length; b++) {
        var at = bounds[b] * view.s;
        g.moveTo(L + view.ox + at, 0); g.lineTo(L + view.ox + at, H);
        g.moveTo(L, view.oy + at); g.lineTo(L + area, view.oy + at);
      }
      g.stroke();
      g.restore();
      g.fillStyle = '#263238';
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'middle';
      g.textAlign = 'right';
      for (b = 0; b + 1 < bounds.length; b++) {
        var y0 = view.oy + bounds[b] * view.s, y1 = view.oy + bounds[b + 1] * view.s;
        if (y1 < 0 || y0 > H) continue;
        var label = fam[bounds[b]] || '(unknown)';
        if (y1 - y0 >= 11 && view.s < 11) {
          g.fillText(label.length > 20 ? label.slice(0, 19) + '\u2026' : label, L - 6, (Math.max(0, y0) + Math.min(H, y1)) / 2);
        }
        g.fillRect(L - 3, Math.max(0, y0) + 0.5, 2, Math.max(1, Math.min(H, y1) - Math.max(0, y0) - 1));
      }
      if (view.s >= 11) { /* zoomed in: one name per row */
        var r0 = Math.max(0, Math.floor(-view.oy / view.s)), r1 = Math.min(n, Math.ceil((H - view.oy) / view.s));
        for (var rr = r0; rr < r1; rr++) {
          var nm = D.names[order[rr]];
          g.fillText(nm.length > 20 ? nm.slice(0, 19) + '\u2026' : nm, L - 6, view.oy + (rr + 0.5) * view.s);
        }
      }
    }
    function cellAt(cx, cy) {
      var rect = hc.c.getBoundingClientRect();
      var x = cx - rect.left - L, y = cy - rect.top;
      if (x < 0 || y < 0 || x >= area || y >= H) return null;
      /* the pixel's centre, where draw() samples its colour */
      var c = Math.floor((x + 0.5 - view.ox) / view.s), r = Math.floor((y + 0.5 - view.oy) / view.s);
      if (r < 0 || c < 0 || r >= n || c >= n) return null;
      return {i: order[r], j: order[c]};
    }
    function cellText(i, j) {
      var v = M[i * n + j], lines = ['row: ' + who(i), 'col: ' + who(j)];
      if (v !== v) lines.push(D.metric + ' = null: ' + (reasonOf[i * n + j] || 'undefined'));
      else lines.push(D.metric + ' = ' + fmt(v) + '  (' + alike + ')');
      return lines.join('\n');
    }
    var drag = null;
    hc.c.addEventListener('mousemove', function (ev) {
      if (drag) {
        view.ox = drag.ox + ev.clientX - drag.x;
        view.oy = drag.oy + ev.clientY - drag.y;
        draw();
        return;
      }
      var cell = cellAt(ev.clientX, ev.clientY);
      if (!cell) { hideTip(); return; }
      showTip(cellText(cell.i, cell.j), ev);
    });
    hc.c.addEventListener('mouseleave', hideTip);
    hc.c.addEventListener('mousedown', function (ev) {
      drag = {x: ev.clientX, y: ev.clientY, ox: view.ox, oy: view.oy};
      hc.c.className = 'drag';
      hideTip();
    });
    window.addEventListener('mouseup', function () { drag = null; hc.c.className = ''; });
    hc.c.addEventListener('dblclick', function () { view = {s: s0, ox: 0, oy: 0}; draw(); });
    hc.c.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var rect = hc.c.getBoundingClientRect();
      var mx = ev.clientX - rect.left - L, my = ev.clientY - rect.top;
      var ns = Math.max(s0, Math.min(Math.max(s0, 80), view.s * Math.pow(1.0015, -ev.deltaY)));
      view.ox = mx - (mx - view.ox) * ns / view.s;
      view.oy = my - (my - view.oy) * ns / view.s;
      view.s = ns;
      draw();
    }, {passive: false});
    draw();
    test.heatmap = hc.c;
    /* client coordinates of the centre of cell (row i, col j), matrix indices */
    test.cellPoint = function (i, j) {
      var rect = hc.c.getBoundingClientRect();
      return {x: rect.left + L + view.ox + (pos[j] + 0.5) * view.s,
        y: rect.top + view.oy + (pos[i] + 0.5) * view.s};
    };
    /* wheel at cell (i, j) until cells are px pixels wide; the zoom factor */
    test.zoomAt = function (i, j, px) {
      var p = test.cellPoint(i, j), dy = -Math.log(px / view.s) / Math.log(1.0015);
      hc.c.dispatchEvent(new WheelEvent('wheel', {clientX: p.x, clientY: p.y, deltaY: dy, bubbles: true, cancelable: true}));
      return view.s / s0;
    };
    test.pan = function (dx, dy) {
      var rect = hc.c.getBoundingClientRect(), x = rect.left + L + area / 2, y = rect.top + H / 2;
      hc.c.dispatchEvent(new MouseEvent('mousedown', {clientX: x, clientY: y, bubbles: true}));
      hc.c.dispatchEvent(new MouseEvent('mousemove', {clientX: x + dx, clientY: y + dy, bubbles: true}));
      window.dispatchEvent(new MouseEvent('mouseup', {clientX: x + dx, clientY: y + dy, bubbles: true}));
    };
    test.hover = function (i, j) {
      var p = test.cellPoint(i, j);
      hc.c.dispatchEvent(new MouseEvent('mousemove', {clientX: p.x, clientY: p.y, bubbles: true}));
      return tip.hidden ? '' : tip.textContent;
    };

    /* ---- quartile bars ---- */
    function bars(title, groups) {
      var s = section(title);
      var gs = groups.filter(function (x) { return x.n > 0; });
      var empty = groups.length - gs.length;
      el('p', s, 'Per group: the line spans min to max, the box q25 to q75, the dark tick is the median (' + alike + '). ' +
        (empty ? empty + ' group(s) without a defined pair are not drawn. ' : '') + 'Hover a row for its numbers.', 'note');
      if (!gs.length) return;
      var glo = Infinity, ghi = -Infinity;
      gs.forEach(function (x) { glo = Math.min(glo, x.min); ghi = Math.max(ghi, x.max); });
      if (!(ghi > glo)) { glo -= 0.5; ghi += 0.5; }
      var wrap = el('div', s, null, 'scroll');
      var RH = 18, LW = 230, CW = Math.max(500, Math.min(940, app.clientWidth - 60)), TOP = 22;
      var bc = canvas(wrap, CW, TOP + RH * gs.length + 4), bg = bc.g, pw = CW - LW - 20;
      function X(v) { return LW + (v - glo) / (ghi - glo) * pw; }
      bg.font = '11px system-ui, sans-serif';
      bg.textBaseline = 'middle';
      bg.strokeStyle = '#ccc';
      bg.fillStyle = '#555';
      bg.textAlign = 'center';
      for (var tk = 0; tk <= 4; tk++) {
        var tv = glo + (ghi - glo) * tk / 4;
        bg.beginPath(); bg.moveTo(X(tv), TOP - 4); bg.lineTo(X(tv), bc.h); bg.stroke();
        bg.fillText(fmt(tv), X(tv), 9);
      }
      gs.forEach(function (x, r) {
        var y = TOP + r * RH + RH / 2;
        bg.textAlign = 'right';
        bg.fillStyle = '#222';
        bg.fillText(x.label.length > 36 ? x.label.slice(0, 35) + '\u2026' : x.label, LW - 8, y);
        bg.strokeStyle = '#37474f';
        bg.beginPath(); bg.moveTo(X(x.min), y); bg.lineTo(X(x.max), y); bg.stroke();
        bg.fillStyle = lutCss(qOf(x.median));
        bg.fillRect(X(x.q25), y - 6, Math.max(1, X(x.q75) - X(x.q25)), 12);
        bg.strokeRect(X(x.q25), y - 6, Math.max(1, X(x.q75) - X(x.q25)), 12);
        bg.fillStyle = '#000';
        bg.fillRect(X(x.median) - 1, y - 8, 2, 16);
      });
      bc.c.addEventListener('mousemove', function (ev) {
        var rect = bc.c.getBoundingClientRect(), r = Math.floor((ev.clientY - rect.top - TOP) / RH);
        if (r < 0 || r >= gs.length) { hideTip(); return; }
        var x = gs[r];
        showTip(x.label + '\nmin ' + fmt(x.min) + '  q25 ' + fmt(x.q25) + '  median ' + fmt(x.median) +
          '  q75 ' + fmt(x.q75) + '  max ' + fmt(x.max) + '\nmean ' + fmt(x.mean) + '  pairs ' + x.n +
          (x.nnull ? '  (+' + x.nnull + ' null)' : ''), ev);
      });
      bc.c.addEventListener('mouseleave', hideTip);
      test[title.indexOf('Intra') === 0 ? 'intraBars' : 'interBars'] = bc.c;
    }
    bars('Intrafamily quartiles', D.intra);
    bars('Interfamily quartiles', D.inter);

    /* ---- statistics tables ---- */
    function stats(title, groups, what) {
      var s = section(title);
      el('p', s, 'Sorted by mean, most alike first (' + alike + '). Click a column to sort. ' +
        'Null pairs are left out of the statistics and counted apart.', 'note');
      function col(name, k) { return {name: name, num: true, get: function (x) { return x[k]; }}; }
      function cnt(name, k) { return {name: name, num: true, fmt: String, get: function (x) { return x[k]; }}; }
      test[what + 'Table'] = table(s, [{name: what, get: function (x) { return x.label; }},
        col('Min', 'min'), col('Max', 'max'), col('Mean', 'mean'), col('Variance', 'variance'),
        col('Q25', 'q25'), col('Median', 'median'), col('Q75', 'q75'),
        cnt('# Pairs', 'n'), cnt('# Null', 'nnull')], groups.slice());
    }
    stats('Intrafamily statistics', D.intra, 'Family');
    stats('Interfamily statistics', D.inter, 'Family pair');
    stats('Type-pair statistics', D.typepair, 'Type pair');

    /* ---- clusters at the cut ---- */
    if (D.clusters.length) {
      var cs = section('Clusters at ' + fmt(D.cut) + ' (average linkage, ' + D.clusters.length + ' clusters)');
      el('p', cs, 'Models joined by every merge whose mean score is at least as alike as the cut (' + alike +
        '). Purity: share of the members of known family in the majority family; ' +
        'models marked \u2260 belong to another family than their cluster\'s majority.', 'note');
      test.clusterTable = table(cs, [{name: '#', num: true, fmt: String, get: function (x) { return x.k; }},
        {name: 'Size', num: true, fmt: String, get: function (x) { return x.m.length; }},
        {name: 'Score', num: true, get: function (x) { return x.score; }},
        {name: 'Majority family', get: function (x) { return x.major; }},
        {name: 'Purity', num: true, get: function (x) { return x.purity; }},
        {name: 'Families', get: function (x) { return x.fam; }},
        {name: 'Types', get: function (x) { return x.types; }},
        {name: 'Members', get: function (x) {
          return x.m.map(function (i) {
            return x.dis.indexOf(i) >= 0 ? '\u2260 ' + D.names[i] + ' (' + D.family[i] + ')' : D.names[i];
          }).join(', ');
        }}], D.clusters.map(function (x, k) { x.k = k + 1; return x; }));
    }

    /* ---- pair list ---- */
    var ps = section('Pairs (' + D.npairs + ', ' + D.nNull + ' null), most alike first');
    var P = D.pairWidth === 4 ? new Uint32Array(bytes(D.pairs).buffer) : new Uint16Array(bytes(D.pairs).buffer);
    var interOf = {}, typeOf = {};
    D.inter.forEach(function (x) { interOf[x.k0 + '\u0000' + x.k1] = interOf[x.k1 + '\u0000' + x.k0] = x.label; });
    D.typepair.forEach(function (x) { typeOf[x.k0 + '\u0000' + x.k1] = typeOf[x.k1 + '\u0000' + x.k0] = x.label; });
    function category(i, j) {
      var fi = D.family[i], fj = D.family[j];
      if (!fi || !fj) return 'unknown family';
      if (fi !== fj) return 'inter: ' + (interOf[fi + '\u0000' + fj] || fi + ' vs ' + fj);
      var ti = D.type[i], tj = D.type[j], s = 'intra: ' + fi;
      if (ti && tj && ti !== tj) s += ' \u00b7 type pair ' + (typeOf[ti + '\u0000' + tj] || ti + '-' + tj);
      return s;
    }
    var bar = el('div', ps, null, 'pager');
    var box = el('input', bar);
    box.type = 'search';
    box.placeholder = 'filter: name, id, family or type (all words must match)';
    var catSel = el('select', bar);
    [['', 'all categories'], ['intra', 'intrafamily'], ['inter', 'interfamily'], ['typepair', 'type pairs'],
      ['unknown', 'unknown family'], ['null', 'null score']].forEach(function (o) {
      el('option', catSel, o[1]).value = o[0];
    });
    var info = el('span', bar);
    var first = el('button', bar, '\u00ab'), prev = el('button', bar, '\u2039');
    var pageBox = el('input', bar);
    pageBox.type = 'number';
    pageBox.min = 1;
    var of = el('span', bar), next = el('button', bar, '\u203a'), last = el('button', bar, '\u00bb');
    var PAGE = 100, page = 0, match = null, nmatch = D.npairs;
    var hay = D.names.map(function (nm, i) {
      return (nm + '\u0000' + D.ids[i] + '\u0000' + D.family[i] + '\u0000' + D.type[i]).toLowerCase();
    });
    var tw = el('div', ps, null, 'scroll'), pt = el('table', tw);
    var hr = el('tr', el('thead', pt));
    ['#', D.metric, 'Model A', 'Family A', 'Type A', 'Model B', 'Family B', 'Type B', 'Category'].forEach(function (h, c) {
      el('th', hr, h, c < 2 ? 'num' : '');
    });
    var pb = el('tbody', pt);
    function render() {
      var pages = Math.max(1, Math.ceil(nmatch / PAGE));
      page = Math.max(0, Math.min(pages - 1, page));
      pageBox.value = page + 1;
      pageBox.max = pages;
      of.textContent = 'of ' + pages;
      info.textContent = nmatch + ' pair(s)';
      pb.textContent = '';
      var end = Math.min(nmatch, (page + 1) * PAGE);
      for (var r = page * PAGE; r < end; r++) {
        var p = match ? match[r] : r, i = P[2 * p], j = P[2 * p + 1];
        var tr = el('tr', pb), v = M[i * n + j];
        el('td', tr, p + 1, 'num');
        el('td', tr, v !== v ? 'null: ' + (reasonOf[i * n + j] || 'undefined') : fmt(v), 'num');
        [D.names[i], D.family[i], D.type[i], D.names[j], D.family[j], D.type[j], category(i, j)].forEach(function (s) {
          el('td', tr, s);
        });
      }
      test.pairRows = end - page * PAGE;
    }
    function ix(arr) {
      var map = {}, k = 0;
      return arr.map(function (s) { if (!s) return -1; if (!(s in map)) map[s] = k++; return map[s]; });
    }
    var famIx = ix(D.family), typeIx = ix(D.type);
    function inCat(cat, i, j) {
      var fi = famIx[i], fj = famIx[j];
      switch (cat) {
        case 'intra': return fi >= 0 && fi === fj;
        case 'inter': return fi >= 0 && fj >= 0 && fi !== fj;
        case 'typepair': return fi >= 0 && fi === fj && typeIx[i] >= 0 && typeIx[j] >= 0 && typeIx[i] !== typeIx[j];
        case 'unknown': return fi < 0 || fj < 0;
        case 'null': { var v = M[i * n + j]; return v !== v; }
      }
      return true;
    }
    function filter() {
      var terms = box.value.toLowerCase().split(/\s+/).filter(function (s) { return s.length; });
      var cat = catSel.value;
      if (!terms.length && !cat) { match = null; nmatch = D.npairs; page = 0; render(); return; }
      var hit = terms.map(function (tm) {
        var u = new Uint8Array(n);
        for (var i = 0; i < n; i++) u[i] = hay[i].indexOf(tm) >= 0 ? 1 : 0;
        return u;
      });
      var out = new Uint32Array(D.npairs), m = 0;
      for (var p = 0; p < D.npairs; p++) {
        var i = P[2 * p], j = P[2 * p + 1], ok = true;
        for (var t = 0; t < hit.length; t++) if (!hit[t][i] && !hit[t][j]) { ok = false; break; }
        if (ok && (!cat || inCat(cat, i, j))) out[m++] = p;
      }
      match = out.subarray(0, m);
      nmatch = m;
      page = 0;
      render();
    }
    var timer = 0;
    box.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(filter, 150); });
    catSel.addEventListener('change', filter);
    first.onclick = function () { page = 0; render(); };
    prev.onclick = function () { page--; render(); };
    next.onclick = function () { page++; render(); };
    last.onclick = function () { page = 1e15; render(); };
    pageBox.onchange = function () { page = (parseInt(pageBox.value, 10) || 1) - 1; render(); };
    render();
    test.filter = function (text, cat) { box.value = text; catSel.value = cat || ''; filter(); return nmatch; };
    var initMs = performance.now();

    return function selftest(arg) {
      var res = {kind: 'dashboard', n: n, initMs: Math.round(initMs), nonBlank: nonBlank(hc.c),
        intraBars: test.intraBars ? nonBlank(test.intraBars) : 0, pairRows: test.pairRows};
      var ij = arg.split(',').map(function (id) { return D.ids.indexOf(decodeURIComponent(id)); });
      if (ij.length === 2 && ij[0] >= 0 && ij[1] >= 0) {
        res.tip = test.hover(ij[0], ij[1]);
        res.zoom = test.zoomAt(ij[0], ij[1], Math.max(16, view.s * 2.5));
        res.tipZoomed = test.hover(ij[0], ij[1]);
        /* pan towards the middle so that the cell stays in view */
        var cp = test.cellPoint(ij[0], ij[1]), rect = hc.c.getBoundingClientRect(), ox = view.ox, oy = view.oy;
        test.pan(cp.x < rect.left + L + area / 2 ? 37 : -37, cp.y < rect.top + H / 2 ? 23 : -23);
        res.panned = [view.ox - ox, view.oy - oy];
        res.tipPanned = test.hover(ij[0], ij[1]);
        res.nonBlankZoomed = nonBlank(hc.c);
      }
      /* click the Mean header of the intrafamily table twice: ascending, then descending */
      var tb = test.FamilyTable, th = tb.querySelectorAll('th')[3], means = function () {
        return Array.prototype.map.call(tb.querySelectorAll('tbody tr'), function (tr) { return tr.children[3].textContent; });
      };
      th.click();
      res.sortAsc = means();
      th.click();
      res.sortDesc = means();
      res.filterAll = test.filter('');
      res.filterNone = test.filter('\u0001no such model\u0001');
      res.filterCat = {intra: test.filter('', 'intra'), inter: test.filter('', 'inter'),
        typepair: test.filter('', 'typepair'), unknown: test.filter('', 'unknown'), 'null': test.filter('', 'null')};
      test.filter('');
      return res;
    };
  }

  /* ==== correlation ====================================================== */
  var COL = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  function correlation() {
    var k = D.metrics.length, n = D.n, T = D.tri.map(f32), NP = n * (n - 1) / 2;
    function label(a) { return D.higher[a] ? D.metrics[a] : '\u2212' + D.metrics[a]; }
    function triIx(t, u) { if (t > u) { var s = t; t = u; u = s; } return t * n - t * (t + 1) / 2 + (u - t - 1); }

    var rs = section('Pearson correlation (divergences negated: more alike points the same way for every metric)');
    var rt = el('table', el('div', rs, null, 'scroll')), hr = el('tr', el('thead', rt));
    el('th', hr, '');
    D.metrics.forEach(function (m, a) { el('th', hr, label(a), 'num'); });
    var rb = el('tbody', rt);
    for (var a = 0; a < k; a++) {
      var tr = el('tr', rb);
      el('th', tr, label(a));
      for (var b = 0; b < k; b++) {
        var v = D.r[a * k + b], td = el('td', tr, isnum(v) ? v.toFixed(4) : 'undefined (constant metric)', 'num');
        if (isnum(v)) td.style.background = 'rgba(' + (v < 0 ? '214,39,40,' : '31,119,180,') + (Math.abs(v) * 0.45).toFixed(3) + ')';
      }
    }
    el('p', rs, D.npairs + ' pairs used; ' + D.nExcluded + ' left out because a metric is null for them.', 'note');

    var ss = section('Summary of each metric (raw values, over the pairs used)');
    var rows = D.metrics.map(function (m, a) {
      var s = D.summary[a];
      var e = D.estimate[a] || '', c = e.indexOf(': ');
      return {m: m, dir: D.higher[a] ? 'similarity (higher = more alike)' : 'divergence (lower = more alike)',
        est: c >= 0 ? e.slice(c + 2) : e, mean: s.mean, std: s.std, min: s.min, max: s.max, range: s.max - s.min};
    });
    function col(nm, key) { return {name: nm, num: true, get: function (x) { return x[key]; }}; }
    table(ss, [{name: 'Metric', get: function (x) { return x.m; }}, {name: 'Direction', get: function (x) { return x.dir; }},
      {name: 'Values', get: function (x) { return x.est; }},
      col('Mean', 'mean'), col('Std', 'std'), col('Min', 'min'), col('Max', 'max'), col('Range', 'range')], rows);

    var sc = section('Scatter plots (raw values, one point per pair)');
    /* at most about 20,000 points: pair p is kept when a fixed hash of p
       falls below the fraction, so the choice is deterministic and does not
       alias with a regular layout of the models the way a stride would */
    var keep = Math.min(1, 20000 / Math.max(1, NP)), cut = Math.floor(keep * 4294967295);
    function kept(p) {
      if (keep >= 1) return true;
      var h = Math.imul(p ^ (p >>> 16), 0x45d9f3b);
      h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
      return ((h ^ (h >>> 16)) >>> 0) <= cut;
    }
    var sample = [];
    for (var sp = 0; sp < NP; sp++) if (kept(sp)) sample.push(sp);
    el('p', sc, keep < 1 ? 'A fixed pseudo-random ' + (keep * 100).toPrecision(2) + '% of the ' + NP +
      ' pairs is drawn (about 20,000 points per plot).' : 'Every pair is drawn.', 'note');
    var grid = el('div', sc, null, 'grid');
    test.scatter = [];
    function axes(g, x0, y0, w, h, xlo, xhi, ylo, yhi) {
      g.strokeStyle = '#999';
      g.strokeRect(x0, y0, w, h);
      g.fillStyle = '#444';
      g.font = '10px system-ui, sans-serif';
      if (isnum(xlo)) {
        g.textAlign = 'left'; g.textBaseline = 'top';
        g.fillText(fmtAxis(xlo), x0, y0 + h + 3);
        g.textAlign = 'right';
        g.fillText(fmtAxis(xhi), x0 + w, y0 + h + 3);
      }
      g.textAlign = 'right';
      g.textBaseline = 'bottom';
      g.fillText(fmtAxis(ylo), x0 - 3, y0 + h);
      g.textBaseline = 'top';
      g.fillText(fmtAxis(yhi), x0 - 3, y0);
    }
    function range(arr) {
      var lo = Infinity, hi = -Infinity;
      for (var i = 0; i < arr.length; i++) { var v = arr[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
      if (!(lo <= hi)) { lo = 0; hi = 1; }
      if (lo === hi) { lo -= 0.5; hi += 0.5; }
      return [lo, hi];
    }
    var R = T.map(range);
    for (a = 0; a < k; a++)
      for (b = a + 1; b < k; b++) {
        var fig = el('figure', grid), cv = canvas(fig, 310, 280), g = cv.g;
        var X0 = 58, Y0 = 8, PW = 240, PH = 240, xa = R[a], ya = R[b];
        axes(g, X0, Y0, PW, PH, xa[0], xa[1], ya[0], ya[1]);
        g.fillStyle = 'rgba(31,119,180,0.35)';
        var drawn = 0;
        for (var q = 0; q < sample.length; q++) {
          var p = sample[q], vx = T[a][p], vy = T[b][p];
          if (vx !== vx || vy !== vy) continue;
          g.fillRect(X0 + (vx - xa[0]) / (xa[1] - xa[0]) * PW - 1, Y0 + PH - (vy - ya[0]) / (ya[1] - ya[0]) * PH - 1, 2.5, 2.5);
          drawn++;
        }
        el('figcaption', fig, D.metrics[a] + ' (x) vs ' + D.metrics[b] + ' (y): r = ' +
          (isnum(D.r[a * k + b]) ? D.r[a * k + b].toFixed(4) : 'undefined') + ', ' + drawn + ' points');
        test.scatter.push(cv.c);
      }

    var pr = section('Similarity profile of one model against all others');
    var row = el('div', pr, null, 'btns');
    el('label', row, 'Model: ');
    var sel = el('select', row);
    var byName = [];
    for (var t = 0; t < n; t++) byName.push(t);
    byName.sort(function (x, y) { return String(D.names[x]).localeCompare(String(D.names[y])); });
    byName.forEach(function (t) {
      var o = el('option', sel, D.names[t] + (D.names[t] !== D.ids[t] ? ' [' + D.ids[t] + ']' : '') +
        (D.family[t] ? ' (' + D.family[t] + (D.type[t] ? ' / ' + D.type[t] : '') + ')' : ''));
      o.value = t;
    });
    el('p', pr, 'Others sorted by the first metric, most alike on the left. Divergences are negated (shown as \u2212name) ' +
      'so that higher is more alike for every line. Hover for the values.', 'note');
    var lg = el('div', pr, null, 'legend');
    D.metrics.forEach(function (m, a) {
      var sw = el('span', lg, '\u25a0 ' + label(a) + (D.higher[a] ? '' : ' (divergence, negated)'));
      sw.style.color = COL[a % COL.length];
    });
    var PWd = Math.max(500, Math.min(940, app.clientWidth - 60)), pc = canvas(pr, PWd, 320), pg = pc.g;
    var cur = null;
    function profile(t0) {
      var others = [];
      for (var u = 0; u < n; u++) if (u !== t0) others.push(u);
      function val(a, u) { var v = T[a][triIx(t0, u)]; return D.higher[a] ? v : -v; }
      others.sort(function (x, y) {
        var vx = val(0, x), vy = val(0, y);
        if (vx !== vx) return 1; if (vy !== vy) return -1;
        return vy - vx;
      });
      var lo = Infinity, hi = -Infinity;
      for (var a = 0; a < k; a++) others.forEach(function (u) { var v = val(a, u); if (v < lo) lo = v; if (v > hi) hi = v; });
      if (!(lo <= hi)) { lo = 0; hi = 1; }
      if (lo === hi) { lo -= 0.5; hi += 0.5; }
      var X0 = 56, Y0 = 10, W = PWd - X0 - 10, H = 280;
      pg.clearRect(0, 0, pc.w, pc.h);
      axes(pg, X0, Y0, W, H, NaN, NaN, lo, hi);
      pg.textAlign = 'center'; pg.textBaseline = 'top';
      pg.fillText(others.length + ' other models', X0 + W / 2, Y0 + H + 4);
      var dx = others.length > 1 ? W / (others.length - 1) : 0;
      for (a = 0; a < k; a++) {
        pg.strokeStyle = pg.fillStyle = COL[a % COL.length];
        pg.beginPath();
        var pen = false;
        others.forEach(function (u, x) {
          var v = val(a, u), px = X0 + x * dx, py = Y0 + H - (v - lo) / (hi - lo) * H;
          if (v !== v) { pen = false; return; }
          if (pen) pg.lineTo(px, py); else pg.moveTo(px, py);
          pen = true;
          if (others.length <= 300) pg.fillRect(px - 1.5, py - 1.5, 3, 3);
        });
        pg.stroke();
      }
      cur = {t0: t0, others: others, dx: dx, X0: X0, val: val};
    }
    pc.c.addEventListener('mousemove', function (ev) {
      if (!cur || !cur.others.length) return;
      var rect = pc.c.getBoundingClientRect();
      var x = Math.round((ev.clientX - rect.left - cur.X0) / (cur.dx || 1));
      if (x < 0 || x >= cur.others.length) { hideTip(); return; }
      var u = cur.others[x], lines = [who(cur.t0), 'vs ' + who(u)];
      for (var a = 0; a < k; a++) lines.push(D.metrics[a] + ' = ' + fmt(T[a][triIx(cur.t0, u)]));
      showTip(lines.join('\n'), ev);
    });
    pc.c.addEventListener('mouseleave', hideTip);
    sel.addEventListener('change', function () { profile(+sel.value); });
    if (n > 1) profile(+sel.value);
    test.profile = pc.c;
    test.selectModel = function (id) { sel.value = D.ids.indexOf(id); profile(+sel.value); };
    /* profile of model id0, hover over model id1; the tooltip text */
    test.profileHover = function (id0, id1) {
      test.selectModel(id0);
      var x = cur.others.indexOf(D.ids.indexOf(id1)), rect = pc.c.getBoundingClientRect();
      if (x < 0) return '';
      pc.c.dispatchEvent(new MouseEvent('mousemove', {clientX: rect.left + cur.X0 + x * cur.dx, clientY: rect.top + 100, bubbles: true}));
      return tip.hidden ? '' : tip.textContent;
    };
    var initMs = performance.now();

    return function selftest(arg) {
      var res = {kind: 'correlation', n: n, initMs: Math.round(initMs), plots: test.scatter.length,
        scatterNonBlank: test.scatter.map(nonBlank), profileNonBlank: nonBlank(pc.c)};
      var ids = arg.split(',').map(decodeURIComponent);
      if (ids.length === 2) res.profileTip = test.profileHover(ids[0], ids[1]);
      return res;
    };
  }

  var selftest = null;
  try {
    selftest = D.kind === 'correlation' ? correlation() : dashboard();
  } catch (e) {
    window.mpErrors.push(String(e && e.stack || e));
  }
  var h = location.hash;
  if (h.indexOf('#selftest') === 0) {
    var res = {};
    try {
      res = selftest ? selftest(h.replace(/^#selftest=?/, '')) : {};
    } catch (e2) {
      window.mpErrors.push(String(e2 && e2.stack || e2));
    }
    selftestDone(res);
  }
})();
