/* Dashboards: draw each [data-chart] with ECharts (vendored, Chinese locale) and offer a
   chart/table toggle. The table stays in the page for screen readers either way. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var dark = document.body.classList.contains("wall");
  var palette = dark
    ? ["#5ab1ef", "#ffb980", "#2ec7c9", "#b6a2de", "#d87a80", "#8d98b3"]
    : ["#b3261e", "#0b57d0", "#1a7f37", "#c2410c", "#6e40c9", "#59636e"];
  var text = dark ? "#e6edf3" : "#1f2328";

  function pct(v) { return v == null ? "—" : v + "%"; }

  // A rate with its sample size, as the tables print it: "92.3%（n=26）", "样本不足（n=2）", "—".
  function rate(spec, s, index, value) {
    var n = s.n ? s.n[index] : null;
    if (n == null) { return pct(value); }
    if (!n) { return "—"; }
    if (value == null) { return (spec.thin || "") + "（n=" + n + "）"; }
    return value + "%（n=" + n + "）";
  }

  function option(spec, narrow) {
    if (spec.type === "funnel") {
      return {
        color: palette,
        tooltip: { trigger: "item", renderMode: "richText", formatter: "{b}：{c} " + (spec.unit || "") },
        series: [{
          type: "funnel", sort: "descending", gap: 2, minSize: "8%", left: "10%", width: "80%",
          label: { show: true, position: "inside", formatter: "{b} {c}", color: "#fff", fontSize: dark && !narrow ? 16 : 12 },
          data: spec.data
        }]
      };
    }
    var hasPct = spec.series.some(function (s) { return s.pct; });
    var hasCount = spec.series.some(function (s) { return !s.pct; });
    var yAxis = [];
    if (hasCount) { yAxis.push({ type: "value", name: spec.count_axis || "", minInterval: 1, axisLabel: { color: text }, nameTextStyle: { color: text }, splitLine: { lineStyle: { color: dark ? "#30363d" : "#e5e7eb" } } }); }
    if (hasPct) { yAxis.push({ type: "value", name: "%", min: 0, max: 100, axisLabel: { color: text, formatter: "{value}%" }, nameTextStyle: { color: text }, splitLine: { show: !hasCount } }); }
    return {
      color: palette,
      textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif", fontSize: dark ? 15 : 12 },
      // Drawn on the canvas, not as HTML: ECharts' HTML tooltip writes style attributes, which the
      // Content-Security-Policy (style-src 'self', no inline style) blocks. The table view behind
      // the toggle carries the same numbers for screen readers.
      tooltip: {
        trigger: "axis",
        renderMode: "richText",
        valueFormatter: undefined,
        formatter: function (items) {
          var out = [items.length ? items[0].axisValueLabel : ""];
          items.forEach(function (it) {
            var s = spec.series[it.seriesIndex];
            out.push(it.marker + it.seriesName + "：" + (s.pct ? rate(spec, s, it.dataIndex, it.value) : (it.value == null ? "—" : it.value)));
          });
          return out.join("\n");
        }
      },
      // On a phone the legend scrolls on one line instead of wrapping over the plot.
      legend: { top: 0, type: narrow ? "scroll" : "plain", textStyle: { color: text, fontSize: dark && !narrow ? 15 : 12 } },
      grid: { left: narrow ? 36 : 48, right: hasPct && hasCount ? (narrow ? 40 : 52) : 20, top: 40, bottom: spec.x.length > 8 || narrow ? 70 : 30 },
      xAxis: { type: "category", data: spec.x, axisLabel: { color: text, fontSize: narrow ? 11 : (dark ? 14 : 12), interval: narrow && spec.x.length > 8 ? 1 : 0, rotate: spec.x.length > 8 || narrow ? 45 : 0 } },
      yAxis: yAxis,
      series: spec.series.map(function (s) {
        return {
          name: s.name, type: s.type, data: s.data, connectNulls: !s.pct, smooth: s.type === "line",
          yAxisIndex: s.pct && hasCount ? 1 : 0, barMaxWidth: 28, symbolSize: 6
        };
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-chart"));
    if (!data) { return; }
    var spec = JSON.parse(data.textContent);
    var chart = echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
    chart.setOption(option(spec, el.clientWidth < 520));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // Chart/table toggle: the table is visually hidden (not removed) while the chart shows.
  document.querySelectorAll("[data-viz]").forEach(function (fig, index) {
    var chartEl = fig.querySelector(".viz-chart");
    var tableEl = fig.querySelector(".viz-table");
    var caption = fig.querySelector("figcaption");
    if (!chartEl || !tableEl || !caption) { return; }
    tableEl.classList.add("visually-hidden");
    var group = document.createElement("span");
    group.className = "viz-toggle";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", fig.getAttribute("data-label-group") || "");
    [[fig.getAttribute("data-label-chart") || "Chart", false], [fig.getAttribute("data-label-table") || "Table", true]].forEach(function (pair) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = pair[0];
      b.setAttribute("aria-pressed", pair[1] ? "false" : "true");
      b.addEventListener("click", function () {
        tableEl.classList.toggle("visually-hidden", !pair[1]);
        chartEl.hidden = pair[1];
        group.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", x === b ? "true" : "false"); });
        if (!pair[1]) { charts.forEach(function (c) { c.resize(); }); }
      });
      group.appendChild(b);
    });
    caption.appendChild(group);
  });
})();
