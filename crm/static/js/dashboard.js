// The dashboard's charts, drawn with Apache ECharts (served by the app) from the page's JSON block.
// Clicking a point opens the list of companies behind it; the same numbers are links in the tables.
(function () {
  "use strict";
  const block = document.getElementById("dashboard-data");
  if (!block || !window.echarts) {
    return;
  }
  const data = JSON.parse(block.textContent);
  const charts = [];

  function draw(element, option, linkOf) {
    if (!element) {
      return;
    }
    // SVG stays sharp when printed.
    const chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true } }, option));
    chart.on("click", (point) => {
      const url = linkOf(point);
      if (url) {
        window.location.assign(url);
      }
    });
    element.dataset.ready = "1";
    charts.push(chart);
  }

  const trend = data.trend;
  const trendSeries = trend.series.map((s, i) => ({
    name: s.name, type: "line", data: s.values, symbolSize: 8, cursor: "pointer",
    lineStyle: i === 0 ? { width: 3 } : { type: "dashed" },
  }));
  if (trend.pace.some((v) => v !== null)) {
    trendSeries.push({ name: trend.pace_name, type: "line", data: trend.pace, symbol: "none", silent: true,
      lineStyle: { type: "dotted", color: "#b45309" }, itemStyle: { color: "#b45309" } });
  }
  draw(document.querySelector('[data-chart="trend"]'), {
    xAxis: { type: "category", data: trend.months },
    yAxis: { type: "value", minInterval: 1 },
    series: trendSeries,
  }, (p) => (p.seriesIndex < trend.series.length ? trend.series[p.seriesIndex].links[p.dataIndex] : null));

  const areas = data.areas;
  draw(document.querySelector('[data-chart="areas"]'), {
    xAxis: { type: "category", data: areas.names, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: areas.actual_name, type: "bar", data: areas.actual, cursor: "pointer", itemStyle: { color: "#1d4ed8" } },
      { name: areas.target_name, type: "bar", data: areas.target, silent: true, itemStyle: { color: "#d1d5db" } },
    ],
  }, (p) => (p.seriesIndex === 0 ? areas.links[p.dataIndex] : null));

  const resize = () => charts.forEach((chart) => chart.resize());
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
}());
