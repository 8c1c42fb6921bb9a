/* Bangfu charts: draws every `.bf-chart[data-chart]` with ECharts from the JSON block the element names (written
 * by Django's json_script), so no inline script is needed. The numbers are also in a table beside each chart, every
 * one linked to its list; a click on a bar or slice opens the same list. The toolbox saves the chart as a PNG. */
(function () {
  "use strict";

  function longest(labels) {
    return labels.reduce(function (n, label) { return Math.max(n, String(label).length); }, 0);
  }

  function option(spec) {
    var toolbox = {
      right: 0,
      feature: { saveAsImage: { title: spec.save, name: spec.title, pixelRatio: 2, backgroundColor: "#fff" } }
    };
    var title = { text: spec.title, left: 0, textStyle: { fontSize: 13, width: 260, overflow: "truncate" } };
    if (spec.kind === "pie") {
      var only = spec.series[0];
      return {
        title: title,
        toolbox: toolbox,
        // Tooltips are drawn on the canvas ("richText"): ECharts' HTML ones carry style attributes, which the
        // Content-Security-Policy (style-src 'self') blocks.
        tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)", renderMode: "richText" },
        legend: { type: "scroll", bottom: 0 },
        series: [{
          name: only.name,
          type: "pie",
          radius: ["35%", "62%"],
          center: ["50%", "52%"],
          label: { formatter: "{c}" },
          data: spec.labels.map(function (label, i) { return { name: label, value: only.values[i] }; })
        }]
      };
    }
    // Long labels (categories, departments) read better as horizontal bars on a phone.
    var horizontal = longest(spec.labels) > 8;
    var categories = { type: "category", data: spec.labels, axisLabel: { width: 110, overflow: "truncate" } };
    var values = { type: "value", minInterval: 1 };
    if (horizontal) { categories.inverse = true; }
    return {
      title: title,
      toolbox: toolbox,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: spec.series.length > 1 ? { bottom: 0 } : { show: false },
      grid: { left: 4, right: 16, top: 36, bottom: spec.series.length > 1 ? 28 : 4, containLabel: true },
      xAxis: horizontal ? values : categories,
      yAxis: horizontal ? categories : values,
      series: spec.series.map(function (s) { return { name: s.name, type: "bar", data: s.values }; })
    };
  }

  function height(spec) {
    if (spec.kind === "pie") { return 300; }
    if (longest(spec.labels) > 8) { return Math.max(200, 60 + spec.labels.length * 26 * spec.series.length); }
    return 260;
  }

  function draw(element) {
    if (element.getAttribute("data-drawn") || !window.echarts) { return; }
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    if (!spec.labels.length) { return; }
    element.style.width = "100%";
    element.style.height = height(spec) + "px";
    var chart = window.echarts.init(element, null, { renderer: "canvas", locale: spec.locale });
    chart.setOption(option(spec));
    chart.on("click", function (params) {
      var series = spec.series[params.seriesIndex];
      var link = series && series.links[params.dataIndex];
      if (link) { window.location.assign(link); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "1");
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".bf-chart[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  } else {
    drawAll();
  }
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
