"""Style sheet and script inlined into report.html (no fonts, no CDN: it opens offline)."""

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#f5f7fa; --alarm:#c0392b;
  --calm:#5b8c5a; --accent:#2f6fab; --mark:#ffe08a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",
  "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif; color:var(--ink);
  background:var(--bg); }
header { background:#102a43; color:#fff; padding:14px 24px; }
header h1 { margin:0; font-size:20px; }
header p { margin:2px 0 0; color:#bcccdc; font-size:13px; }
header nav a { color:#fff; margin-right:16px; font-size:14px; }
main { max-width:1180px; margin:0 auto; padding:8px 20px 40px; }
section { margin-top:26px; }
h2 { font-size:19px; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { font-size:15px; margin:14px 0 6px; }
.muted { color:var(--muted); }
.stats { display:grid; grid-template-columns:repeat(auto-fill,minmax(140px,1fr)); gap:10px; }
.stat { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
.stat b { display:block; font-size:21px; }
.stat span { color:var(--muted); font-size:13px; }
.stat.alarm b { color:var(--alarm); }
.panel { background:#fff; border:1px solid var(--line); border-radius:6px; padding:10px 14px;
  margin-top:12px; }
details.cluster { background:#fff; border:1px solid var(--line); border-left:5px solid
  var(--alarm); border-radius:6px; margin:10px 0; }
details.cluster.calm { border-left-color:var(--calm); }
details.cluster > summary { cursor:pointer; padding:9px 12px; list-style-position:outside; }
details.cluster[open] > summary { border-bottom:1px solid var(--line); }
summary .cid { font-weight:700; margin-right:6px; }
.score { display:inline-block; min-width:44px; text-align:center; border-radius:10px;
  padding:0 7px; color:#fff; background:var(--calm); font-weight:600; font-size:13px; }
.score.flagged { background:var(--alarm); }
summary .lead { color:var(--muted); }
.body { padding:6px 14px 12px; }
.cols { display:grid; grid-template-columns:minmax(0,1fr) 330px; gap:18px; }
.charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:14px; }
svg.chart { max-width:100%; height:auto; background:#fff; }
svg .axis { font-size:11px; fill:var(--muted); }
ul.reasons { margin:4px 0; padding-left:20px; }
.feat { display:grid; grid-template-columns:190px 1fr 44px; align-items:center; gap:8px;
  font-size:13px; }
.feat .bar { background:#e4e7eb; height:9px; border-radius:4px; overflow:hidden; }
.feat .bar i { display:block; height:100%; background:var(--accent); }
.feat.unknown .val { color:var(--muted); }
.examples .text { background:var(--bg); border-radius:4px; padding:6px 9px; margin:4px 0;
  white-space:pre-wrap; overflow-wrap:anywhere; }
.examples .variant { margin-left:22px; font-size:14px; }
mark { background:var(--mark); border-radius:2px; padding:0 1px; }
table { border-collapse:collapse; width:100%; background:#fff; font-size:13px; }
th, td { border-bottom:1px solid var(--line); padding:4px 7px; text-align:left;
  vertical-align:top; }
th { background:#f0f4f8; position:sticky; top:0; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.text { min-width:220px; max-width:360px; overflow-wrap:break-word; }
td.when { white-space:nowrap; }
tr:target, details:target { outline:3px solid var(--mark); }
.pager { margin:8px 0; display:flex; gap:8px; align-items:center; }
.pager button { font:inherit; padding:2px 10px; }
code { font-size:13px; }
@media (max-width: 900px) { .cols { grid-template-columns:1fr; } }
"""

# Pages the table of all clusters and opens whatever a #cluster-N link points at.
JS = """
(function () {
  var table = document.getElementById('all-table');
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var size = 100, pages = Math.max(1, Math.ceil(rows.length / size)), page = 0;
  var labels = document.querySelectorAll('.page-label');
  function show(p) {
    page = Math.min(Math.max(p, 0), pages - 1);
    rows.forEach(function (row, i) {
      row.hidden = Math.floor(i / size) !== page;
    });
    labels.forEach(function (label) {
      label.textContent = 'page ' + (page + 1) + ' of ' + pages;
    });
  }
  function reveal() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) return;
    var index = rows.indexOf(target);
    if (index >= 0) show(Math.floor(index / size));
    if (target.tagName === 'DETAILS') target.open = true;
    target.scrollIntoView();
  }
  document.querySelectorAll('[data-page]').forEach(function (button) {
    button.addEventListener('click', function () {
      show(page + Number(button.getAttribute('data-page')));
    });
  });
  document.querySelectorAll('[data-expand]').forEach(function (button) {
    button.addEventListener('click', function () {
      var open = button.getAttribute('data-expand') === 'open';
      document.querySelectorAll('#flagged details.cluster').forEach(function (d) {
        d.open = open;
      });
    });
  });
  window.addEventListener('hashchange', reveal);
  show(0);
  reveal();
})();
"""
