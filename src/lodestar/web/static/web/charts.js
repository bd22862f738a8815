/* Dashboard charts with Chart.js, served by the app (static/web/vendor). The data comes from
   json_script blocks in the fragments; each table next to a chart carries the same figures. */
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#b42318", "#067647", "#8a5a00", "#6941c6", "#c11574",
                 "#026aa2", "#4b5563", "#b54708", "#3e4784", "#107569", "#912018"];

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function draw(canvas, config) {
    if (!window.Chart || !canvas) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    new window.Chart(canvas, config);
  }

  function trend() {
    var d = data("trend-data");
    if (!d) return;
    var sets = d.series.map(function (s, i) {
      return { label: s.label, data: s.points, borderColor: PALETTE[i % PALETTE.length],
               backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true, tension: 0.2, pointRadius: 2 };
    });
    sets.push({ label: "70", data: d.labels.map(function () { return d.threshold; }),
                borderColor: "#b42318", borderDash: [6, 4], pointRadius: 0, borderWidth: 1 });
    draw(document.getElementById("trend-chart"), {
      type: "line",
      data: { labels: d.labels, datasets: sets },
      options: { scales: { y: { min: 0, max: 100 } }, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }
    });
  }

  function funnel() {
    var d = data("funnel-data");
    if (!d) return;
    draw(document.getElementById("funnel-chart"), {
      type: "bar",
      data: {
        labels: d.map(function (r) { return r.name; }),
        datasets: [{ label: "#", data: d.map(function (r) { return r.count; }), backgroundColor: "#0b5cad" }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } } }
    });
  }

  function all() { trend(); funnel(); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
