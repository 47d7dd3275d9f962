/**
 * The script inside every page: reads the embedded ReportData and draws each chart with uPlot
 * (the lineage markers, gate and promotion lines, threshold dots and the drift heatmap are drawn
 * here on the chart's own canvas). Plain browser JavaScript kept as text, since the page ships
 * as one file; it sets data-points on the lineage chart to the number of version markers drawn.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var C = { blue: "#2563eb", green: "#16a34a", red: "#dc2626", amber: "#d97706", grey: "#9ca3af", violet: "#7c3aed", teal: "#0d9488", pink: "#db2777", ink: "#111827" };
  var PALETTE = [C.blue, C.amber, C.teal, C.violet, C.pink, C.green, C.red, C.grey];
  var charts = [];
  function sec(iso) { return Date.parse(iso) / 1000; }
  function f3(x) { return x === null || x === undefined ? "-" : Number(x).toFixed(3); }
  function el(name) { return document.querySelector('[data-chart="' + name + '"]'); }
  function widthOf(node) { return Math.max(280, Math.floor(node.getBoundingClientRect().width) || 560); }
  // A range that is one instant (one batch, one run) still needs width to draw in.
  // The x range from the data itself, widened by 3% (at least minPad) so that a lone point (one
  // batch, one run, one version) sits inside the chart rather than on its edge.
  function pad(xs, minPad) {
    var lo = Infinity, hi = -Infinity;
    xs.forEach(function (v) { if (v !== null && v < lo) lo = v; if (v !== null && v > hi) hi = v; });
    if (lo === Infinity) { lo = 0; hi = 1; }
    var p = Math.max((hi - lo) * 0.03, minPad);
    return [lo - p, hi + p];
  }
  var INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
  function make(name, opts, data) {
    var node = el(name);
    if (!node) return null;
    opts.width = widthOf(node);
    opts.height = opts.height || 240;
    opts.legend = opts.legend || { show: true };
    var u = new uPlot(opts, data, node);
    charts.push({ u: u, node: node });
    return u;
  }
  function line(label, color, extra) {
    var s = { label: label, stroke: color, width: 2, points: { show: false }, spanGaps: true };
    for (var k in extra || {}) s[k] = extra[k];
    return s;
  }
  function dots(label, color, size) {
    return { label: label, stroke: color, fill: color, width: 0, paths: function () { return null; }, points: { show: true, size: size || 8, stroke: color, fill: color } };
  }
  // uPlot leaves its own text alignment on the context after drawing axes: set ours every time.
  function withCtx(u, fn) { var ctx = u.ctx; ctx.save(); ctx.textAlign = "left"; ctx.textBaseline = "alphabetic"; fn(ctx); ctx.restore(); }
  function dot(u, x, y, color, label) {
    withCtx(u, function (ctx) {
      var px = u.valToPos(x, "x", true), py = u.valToPos(y, "y", true);
      ctx.fillStyle = color; ctx.beginPath(); ctx.arc(px, py, 6 * devicePixelRatio, 0, 2 * Math.PI); ctx.fill();
      if (label) { ctx.font = (11 * devicePixelRatio) + "px sans-serif"; ctx.fillText(label, px + 8 * devicePixelRatio, py - 6 * devicePixelRatio); }
    });
  }
  function tooltip(node) {
    var tip = document.createElement("div"); tip.className = "tip"; node.appendChild(tip); return tip;
  }

  function lineage() {
    var L = D.lineage; if (!L.versions.length) return;
    var xs = {}, add = function (t) { xs[t] = true; };
    L.versions.forEach(function (v) { add(sec(v.createdAt)); });
    L.evaluations.forEach(function (e) { add(sec(e.at)); });
    L.promotions.forEach(function (p) { add(sec(p.at)); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var at = {}; x.forEach(function (t, i) { at[t] = i; });
    var blank = function () { return x.map(function () { return null; }); };
    var f1 = blank(), auc = blank(), prec = blank(), rec = blank(), ev = blank(), label = {};
    L.versions.forEach(function (v) {
      var i = at[sec(v.createdAt)], s = v.test || v.validation; if (!s) return;
      f1[i] = s.f1; auc[i] = s.rocAuc; prec[i] = s.precision; rec[i] = s.recall;
      label[i] = v.version + (v.active ? " (active)" : "") + ": " + (v.test ? "test" : "validation") + " F1 " + f3(s.f1) + ", ROC AUC " + f3(s.rocAuc) + ", precision " + f3(s.precision) + ", recall " + f3(s.recall) + ", " + v.trainingRows.toLocaleString("en-US") + " training rows";
    });
    L.evaluations.forEach(function (e) {
      var i = at[sec(e.at)]; ev[i] = e.scores.f1;
      label[i] = (label[i] ? label[i] + " | " : "") + e.version + " evaluated on " + e.dataSource + " (" + e.scores.rows.toLocaleString("en-US") + " rows): F1 " + f3(e.scores.f1) + ", " + (e.passed ? "passed" : "failed");
    });
    var gate = D.gate.f1Threshold, node = el("lineage");
    var tip = null;
    var u = make("lineage", {
      height: 300,
      scales: { x: { time: true, range: pad(x, 120) }, y: { range: function (u, min, max) { return [Math.max(0, Math.min(min === null ? 1 : min, gate) - 0.05), 1.0]; } } },
      series: [{ label: "time" }, line("test F1", C.blue, { width: 2 }), line("ROC AUC", C.violet, { width: 1, dash: [4, 3] }), line("precision", C.teal, { width: 1 }), line("recall", C.amber, { width: 1 }),
        { label: "evaluation F1", stroke: C.ink, width: 0, paths: function () { return null; }, points: { show: true, size: 9, stroke: C.ink, fill: "#fff", width: 2 } }],
      axes: [{}, { label: "score" }],
      hooks: {
        draw: [function (u) {
          withCtx(u, function (ctx) {
            var y = u.valToPos(gate, "y", true), l = u.bbox.left, r = l + u.bbox.width;
            ctx.strokeStyle = C.red; ctx.setLineDash([8, 5]); ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath(); ctx.moveTo(l, y); ctx.lineTo(r, y); ctx.stroke(); ctx.setLineDash([]);
            ctx.fillStyle = C.red; ctx.font = (11 * devicePixelRatio) + "px sans-serif"; ctx.textAlign = "right"; ctx.fillText("gate F1 " + gate, r - 4, y - 4); ctx.textAlign = "left";
            var many = L.promotions.length > 12;
            L.promotions.forEach(function (p) {
              var px = u.valToPos(sec(p.at), "x", true), color = p.action === "rollback" ? C.red : p.action === "force" ? C.amber : C.green;
              ctx.strokeStyle = color; ctx.lineWidth = 1.5 * devicePixelRatio; ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke();
              if (!many || p.action !== "promote") {
                ctx.fillStyle = color; ctx.save(); ctx.translate(px + 3 * devicePixelRatio, u.bbox.top + 4 * devicePixelRatio); ctx.rotate(Math.PI / 2); ctx.textBaseline = "bottom";
                ctx.fillText(p.action + " \u2192 " + p.to + " by " + p.actor + (p.reason ? ": " + p.reason.slice(0, 40) : ""), 0, 0); ctx.restore();
              }
            });
          });
          var drawn = 0;
          L.versions.forEach(function (v) {
            var s = v.test || v.validation; if (!s) return;
            var px = u.valToPos(sec(v.createdAt), "x", true), py = u.valToPos(s.f1, "y", true);
            if (px < u.bbox.left - 1 || px > u.bbox.left + u.bbox.width + 1) return;
            dot(u, sec(v.createdAt), s.f1, v.active ? C.green : C.blue, L.versions.length <= 30 ? v.version : null);
            drawn++;
          });
          node.dataset.points = String(drawn);
        }],
        setCursor: [function (u) {
          tip = tip || tooltip(node.querySelector(".u-over") || node);
          var i = u.cursor.idx;
          if (i === null || i === undefined || !label[i]) { tip.style.display = "none"; return; }
          tip.textContent = label[i]; tip.style.display = "block";
          tip.style.left = Math.min(u.cursor.left + 12, u.bbox.width / devicePixelRatio - 260) + "px"; tip.style.top = (u.cursor.top + 12) + "px";
        }],
      },
    }, [x, f1, auc, prec, rec, ev]);
    return u;
  }

  function versionDetail() {
    var V = D.versionDetail; if (!V) return;
    if (V.curves) {
      var c = V.curves;
      make("roc", { scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } }, axes: [{ label: "false positive rate" }, { label: "true positive rate" }],
        series: [{ label: "FPR" }, line("ROC", C.blue), line("chance", C.grey, { width: 1, dash: [4, 4] })],
        hooks: { draw: [function (u) { dot(u, c.rocAtThreshold.x, c.rocAtThreshold.y, C.red, "threshold " + f3(V.threshold)); }] } },
        [c.roc.x, c.roc.y, c.roc.x]);
      make("pr", { scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } }, axes: [{ label: "recall" }, { label: "precision" }],
        series: [{ label: "recall" }, line("precision", C.teal)],
        hooks: { draw: [function (u) { dot(u, c.prAtThreshold.x, c.prAtThreshold.y, C.red, "threshold " + f3(V.threshold)); }] } },
        [c.pr.x, c.pr.y]);
      var cx = [0].concat(c.calibration.x, [1]);
      var cy = [null].concat(c.calibration.y, [null]);
      make("calibration", { scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } }, axes: [{ label: "mean predicted probability" }, { label: "observed positive share" }],
        series: [{ label: "predicted" }, line("perfect", C.grey, { width: 1, dash: [4, 4] }), { label: "observed", stroke: C.violet, width: 2, points: { show: true, size: 8, fill: C.violet }, spanGaps: true }] },
        [cx, cx, cy]);
    }
    if (V.history) {
      var h = V.history, n = Math.max(h.pretrain.length, h.classifier.length), ep = [];
      for (var i = 1; i <= n; i++) ep.push(i);
      var pick = function (list, key) { return ep.map(function (e) { var r = list.find(function (p) { return p.epoch === e; }); return r && r[key] !== undefined ? r[key] : null; }); };
      make("training-loss", { scales: { x: { time: false, range: pad(ep, 0.5) } }, axes: [{ label: "epoch", incrs: INT_INCRS }, { label: "loss" }],
        series: [{ label: "epoch" }, line("pretrain loss", C.grey), line("pretrain val loss", C.grey, { dash: [4, 4] }), line("classifier loss", C.blue), line("classifier val loss", C.blue, { dash: [4, 4] })] },
        [ep, pick(h.pretrain, "loss"), pick(h.pretrain, "valLoss"), pick(h.classifier, "loss"), pick(h.classifier, "valLoss")]);
      make("training-f1", { scales: { x: { time: false, range: pad(ep, 0.5) }, y: { range: [0, 1] } }, axes: [{ label: "epoch", incrs: INT_INCRS }, { label: "validation F1" }],
        series: [{ label: "epoch" }, line("validation F1", C.green, { points: { show: true, size: 5 } })] },
        [ep, pick(h.classifier, "valF1")]);
    }
  }

  function data() {
    var B = D.data.batches; if (!B.length) return;
    var ids = B.map(function (b) { return b.id; });
    var stored = B.map(function (b) { return b.stored; });
    var sq = B.map(function (b) { return b.stored + b.quarantined; });
    var all = B.map(function (b) { return b.stored + b.quarantined + b.duplicate; });
    var bars = uPlot.paths.bars({ size: [0.8, 40] });
    var raw = { "duplicate": function (i) { return B[i].duplicate; }, "quarantined": function (i) { return B[i].quarantined; }, "stored": function (i) { return B[i].stored; } };
    // Stacked by drawing the totals first and the lower parts over them; the legend shows each part.
    var part = function (label, color) { return { label: label, stroke: color, fill: color, paths: bars, points: { show: false }, value: function (u, v, s, i) { return i === null ? "-" : raw[label](i).toLocaleString("en-US"); } }; };
    make("batches", { scales: { x: { time: false, range: pad(ids, 0.75) }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.05]; } } }, axes: [{ label: "batch", incrs: INT_INCRS }, { label: "rows" }],
      series: [{ label: "batch" }, part("duplicate", C.grey), part("quarantined", C.red), part("stored", C.blue)] }, [ids, all, sq, stored]);
    make("label-rate", { scales: { x: { time: false, range: pad(ids, 0.75) }, y: { range: [0, 1] } }, axes: [{ label: "batch", incrs: INT_INCRS }, { label: "positive share" }],
      series: [{ label: "batch" }, line("positive label rate", C.teal, { points: { show: true, size: 7, fill: C.teal } })] }, [ids, B.map(function (b) { return b.labelRate; })]);
    heatmap();
  }

  function heatmap() {
    var H = D.data.drift, node = el("drift"); if (!node || !H.batches.length) return;
    var canvas = node.querySelector("canvas"), tip = node.querySelector(".tip");
    function draw() {
      var w = widthOf(node), labelW = 90, cell = Math.max(12, Math.min(22, Math.floor(340 / H.features.length))), axisH = 20;
      var h = H.features.length * cell + axisH, dpr = devicePixelRatio;
      canvas.width = w * dpr; canvas.height = h * dpr; canvas.style.width = w + "px"; canvas.style.height = h + "px";
      var ctx = canvas.getContext("2d"); ctx.scale(dpr, dpr); ctx.clearRect(0, 0, w, h);
      // Few batches would make wall-sized cells: a column is at most 48 px wide.
      var cw = Math.min(48, (w - labelW) / H.batches.length);
      ctx.font = "11px sans-serif"; ctx.textBaseline = "middle";
      H.features.forEach(function (f, r) {
        ctx.fillStyle = C.ink; ctx.fillText(f, 2, r * cell + cell / 2);
        H.psi[r].forEach(function (v, c) {
          ctx.fillStyle = v === null ? "#e5e7eb" : v >= H.significant ? (v >= 2 * H.significant ? "#991b1b" : C.red) : v >= H.moderate ? "#fbbf24" : (v >= H.moderate / 2 ? "#86efac" : "#dcfce7");
          ctx.fillRect(labelW + c * cw, r * cell, Math.max(cw - (cw > 4 ? 1 : 0), 0.5), cell - 1);
        });
      });
      ctx.fillStyle = C.ink; var every = Math.ceil(H.batches.length / Math.max(1, Math.floor((w - labelW) / 50)));
      for (var c = 0; c < H.batches.length; c += every) ctx.fillText("#" + H.batches[c], labelW + c * cw, H.features.length * cell + axisH / 2);
      node.onmousemove = function (e) {
        var rect = canvas.getBoundingClientRect(), c = Math.floor((e.clientX - rect.left - labelW) / cw), r = Math.floor((e.clientY - rect.top) / cell);
        if (c < 0 || r < 0 || c >= H.batches.length || r >= H.features.length) { tip.style.display = "none"; return; }
        var v = H.psi[r][c]; tip.textContent = "batch #" + H.batches[c] + ", " + H.features[r] + ": PSI " + (v === null ? "not compared" : v);
        tip.style.display = "block"; tip.style.left = (e.clientX - rect.left + 12) + "px"; tip.style.top = (e.clientY - rect.top + 12) + "px";
      };
      node.onmouseleave = function () { tip.style.display = "none"; };
    }
    draw(); charts.push({ redraw: draw });
  }

  function traffic() {
    var T = D.traffic; if (!T.total) return;
    var span = T.bucket === "minute" ? 30 : T.bucket === "hour" ? 1800 : 43200;
    var series = [{ label: "time" }].concat(T.versions.map(function (v, i) { return line(v, PALETTE[i % PALETTE.length], { points: { show: T.times.length < 60, size: 7 } }); }));
    make("predictions", { scales: { x: { time: true, range: pad(T.times, span) }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } }, series: series }, [T.times].concat(T.counts));
    make("latency", { scales: { x: { time: true, range: pad(T.times, span) }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } }, axes: [{}, { label: "ms" }],
      series: [{ label: "time" }, line("p50", C.blue, { points: { show: T.times.length < 60, size: 7 } }), line("p99", C.red, { points: { show: T.times.length < 60, size: 7 } })] }, [T.times, T.p50, T.p99]);
    make("positive-share", { scales: { x: { time: true, range: pad(T.times, span) }, y: { range: [0, 1] } },
      series: [{ label: "time" }, line("predicted positive", C.violet, { points: { show: T.times.length < 60, size: 7 } })] }, [T.times, T.positiveShare]);
  }

  function runs() {
    var R = D.runs; if (!R.length) return;
    var names = []; R.forEach(function (r) { if (names.indexOf(r.pipeline) < 0) names.push(r.pipeline); });
    var x = R.map(function (r) { return sec(r.startedAt); });
    var y = function (status) { return R.map(function (r) { return r.status === status ? names.indexOf(r.pipeline) : null; }); };
    make("runs", { height: 60 + 40 * names.length, scales: { x: { time: true, range: pad(x, 600) }, y: { range: [-0.5, names.length - 0.5] } },
      axes: [{}, { splits: function () { return names.map(function (_, i) { return i; }); }, values: function (u, s) { return s.map(function (v) { return names[v] || ""; }); }, size: 140 }],
      series: [{ label: "started" }, dots("succeeded", C.green, 10), dots("failed", C.red, 10), dots("running", C.grey, 10)] }, [x, y("succeeded"), y("failed"), y("running")]);
  }

  function refresh() {
    var seconds = Number(document.body.dataset.refresh || 0); if (!seconds) return;
    var note = document.getElementById("refresh-note"), left = seconds;
    setInterval(function () { left -= 1; if (left <= 0) location.reload(); else if (note) note.textContent = "refreshes every " + seconds + " s (next in " + left + " s)"; }, 1000);
  }

  [lineage, versionDetail, data, traffic, runs].forEach(function (draw) {
    try { draw(); } catch (error) { console.error("mlops report: " + draw.name + " chart failed: " + error.message); }
  });
  refresh();
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { charts.forEach(function (c) { if (c.redraw) c.redraw(); else c.u.setSize({ width: widthOf(c.node), height: c.u.height }); }); }, 100);
  });
  document.body.dataset.drawn = "true";
})();
`;
