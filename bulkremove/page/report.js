// Draws the run report's charts from the series (JSON in #series) with uPlot.
// When done, body[data-charts] says how many charts were drawn (the browser test reads it).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("series").textContent);
  var empty = data.at.filter(function (t) { return t !== null; }).length === 0;
  var charts = {
    pace: [
      ["ids/s", "ids_per_s", "#2a7ab9", "ids/s"],
      ["requests/s", "requests_per_s", "#6a3d9a", "req/s"],
      ["rate in force", "rate", "#999999", "req/s"]
    ],
    trouble: [
      ["throttled", "throttled", "#e6550d", "requests"],
      ["server errors", "server_errors", "#c51b7d", "requests"],
      ["timeouts", "timeouts", "#8c6d31", "requests"],
      ["connection errors", "connection_errors", "#636363", "requests"]
    ],
    waits: [
      ["ids waiting on a call", "in_call", "#31a354", "ids"],
      ["paused by Retry-After", "paused_s", "#e6550d", "s"]
    ]
  };
  // a bucket's value holds from its start to the next bucket's
  var steps = uPlot.paths.stepped({ align: 1 });
  var drawn = 0;
  if (empty) {
    document.querySelector("#over-time .empty").hidden = false;
    document.querySelectorAll("#over-time figure").forEach(function (f) { f.hidden = true; });
  } else {
    Object.keys(charts).forEach(function (name) {
      var target = document.getElementById("chart-" + name);
      var lines = charts[name];
      var units = [];
      lines.forEach(function (l) { if (units.indexOf(l[3]) < 0) { units.push(l[3]); } });
      var series = [{}].concat(lines.map(function (l) {
        return {
          label: l[0], stroke: l[2], width: 1.5, scale: l[3], spanGaps: false, paths: steps,
          points: { show: data.at.length < 3 }
        };
      }));
      var axes = [{}].concat(units.map(function (unit, i) {
        return { scale: unit, label: unit, side: i === 0 ? 3 : 1, grid: { show: i === 0 } };
      }));
      var scales = { x: { time: true } };
      units.forEach(function (unit) { scales[unit] = { range: function (u, lo, hi) { return [0, Math.max(hi, 1)]; } }; });
      var columns = [data.at].concat(lines.map(function (l) { return data[l[1]]; }));
      new uPlot({
        width: Math.max(320, target.clientWidth || 800), height: 240,
        series: series, axes: axes, scales: scales
      }, columns, target);
      drawn += 1;
    });
  }
  document.body.dataset.charts = String(drawn);
})();
