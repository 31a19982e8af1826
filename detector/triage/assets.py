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
.review { display:inline-block; border-radius:10px; padding:0 7px; font-size:12px;
  font-weight:600; border:1px solid currentColor; margin-left:4px; }
.review.confirm { color:var(--alarm); }
.review.reject { color:var(--calm); }
.searchbar { display:flex; gap:8px; margin:8px 0; }
.searchbar input { flex:1; font:inherit; padding:4px 8px; }
.searchbar select { font:inherit; }
#search-results ul { padding-left:20px; margin:4px 0; }
details.account { background:#fff; border:1px solid var(--line); border-radius:4px;
  margin:4px 0; padding:4px 9px; }
details.account > summary { cursor:pointer; }
.bundle { font-size:13px; }
@media (max-width: 900px) { .cols { grid-template-columns:1fr; } }
"""

# Pages the table of all clusters and opens whatever a #cluster-N link points at; filters
# cards and rows by review decision; searches the embedded data (#report-data, parsed on
# first use) for accounts and texts, building an account's details only when opened; and
# turns a cluster's embedded posts and edges into CSV downloads (Blob, nothing fetched).
JS = r"""
(function () {
  var table = document.getElementById('all-table');
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var size = 100, page = 0, shown = rows;
  var labels = document.querySelectorAll('.page-label');
  var filter = document.getElementById('review-filter');
  var box = document.getElementById('search-box');
  var results = document.getElementById('search-results');
  var data = null, postsOf = null, LIMIT = 50;
  function pages() { return Math.max(1, Math.ceil(shown.length / size)); }
  function show(p) {
    page = Math.min(Math.max(p, 0), pages() - 1);
    rows.forEach(function (row) { row.hidden = true; });
    shown.slice(page * size, (page + 1) * size).forEach(function (row) { row.hidden = false; });
    labels.forEach(function (label) {
      label.textContent = 'page ' + (page + 1) + ' of ' + pages();
    });
  }
  function wanted(review) {
    var f = filter ? filter.value : '';
    return !f || (f === 'none' ? !review : review === f);
  }
  function applyFilter() {
    document.querySelectorAll('details.cluster').forEach(function (card) {
      card.hidden = !wanted(card.getAttribute('data-review'));
    });
    shown = rows.filter(function (row) { return wanted(row.getAttribute('data-review')); });
    show(0);
    search();
  }
  function reveal() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) return;
    target.hidden = false;
    var index = shown.indexOf(target);
    if (rows.indexOf(target) >= 0 && index < 0) { shown = rows; index = rows.indexOf(target); }
    if (index >= 0) show(Math.floor(index / size));
    if (target.tagName === 'DETAILS') target.open = true;
    target.scrollIntoView();
  }
  function load() {
    if (!data) {
      var node = document.getElementById('report-data');
      data = node ? JSON.parse(node.textContent) : {clusters: {}, accounts: {id: []}, groups: {}};
    }
    return data;
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function badge(review) {
    return el('span', review === 'confirm' ? 'confirmed' : 'rejected', 'review ' + review);
  }
  function iso(seconds) {
    return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  }
  function accountPosts(index) {
    if (!postsOf) {
      postsOf = {};
      Object.keys(data.clusters).forEach(function (cid) {
        var bundle = data.clusters[cid].bundle;
        if (!bundle) return;
        bundle.posts.account.forEach(function (a, i) {
          (postsOf[a] = postsOf[a] || []).push([cid, i]);
        });
      });
    }
    return postsOf[index] || [];
  }
  function accountBody(details, i) {
    var a = data.accounts, list = accountPosts(i);
    var said = a.posts[i] + ' posts in all; created ' + (a.created[i] || '–') +
      (list.length ? '; its posts in its cluster:' : '; its posts are not in this page');
    details.appendChild(el('p', said, 'muted'));
    if (!list.length) return;
    var tbl = el('table'), head = tbl.createTHead().insertRow();
    ['time (UTC)', 'post', 'text of its near-duplicate group'].forEach(function (h) {
      head.appendChild(el('th', h));
    });
    var body = tbl.createTBody();
    list.slice(0, 200).forEach(function (ref) {
      var posts = data.clusters[ref[0]].bundle.posts, j = ref[1], tr = body.insertRow();
      tr.appendChild(el('td', iso(posts.time[j]), 'when'));
      tr.appendChild(el('td', posts.id[j]));
      tr.appendChild(el('td', posts.group[j] === null ? '' : data.groups[posts.group[j]] || '',
        'text'));
    });
    details.appendChild(tbl);
  }
  function accountItem(i) {
    var a = data.accounts, details = el('details', undefined, 'account'), sum = el('summary');
    sum.appendChild(el('b', a.id[i]));
    if (a.cluster[i] !== null) {
      sum.appendChild(document.createTextNode(' · cluster '));
      var link = el('a', '#' + a.cluster[i]);
      link.href = '#cluster-' + a.cluster[i];
      sum.appendChild(link);
    }
    if (a.review[i]) sum.appendChild(badge(a.review[i]));
    details.appendChild(sum);
    details.addEventListener('toggle', function () {
      if (details.open && details.childNodes.length === 1) accountBody(details, i);
    });
    return details;
  }
  function clusterItem(cid) {
    var c = data.clusters[cid], li = el('li'), link = el('a', '#' + cid);
    link.href = '#cluster-' + cid;
    li.appendChild(link);
    if (c.review) li.appendChild(badge(c.review));
    li.appendChild(document.createTextNode(' ' + c.text.slice(0, 160)));
    return li;
  }
  function heading(count, what) {
    var more = count > LIMIT ? ' (first ' + LIMIT + '; refine the search)' : '';
    return el('h3', count.toLocaleString('en') + ' ' + what + more);
  }
  function search() {
    if (!results || !box) return;
    var q = box.value.trim().toLowerCase(), f = filter ? filter.value : '';
    results.textContent = '';
    if (!q && !f) return;
    load();
    var cids = Object.keys(data.clusters).filter(function (cid) {
      var c = data.clusters[cid];
      return wanted(c.review) && (!q || c.text.toLowerCase().indexOf(q) >= 0 ||
        '#' + cid === q || cid === q);
    });
    var hits = [];
    data.accounts.id.forEach(function (id, i) {
      if (wanted(data.accounts.review[i]) && (!q || id.toLowerCase().indexOf(q) >= 0)) {
        hits.push(i);
      }
    });
    results.appendChild(heading(cids.length, 'clusters'));
    var ul = el('ul');
    cids.slice(0, LIMIT).forEach(function (cid) { ul.appendChild(clusterItem(cid)); });
    results.appendChild(ul);
    results.appendChild(heading(hits.length, 'accounts'));
    hits.slice(0, LIMIT).forEach(function (i) { results.appendChild(accountItem(i)); });
  }
  function cell(value, text) {
    if (value === null || value === undefined) return '';
    var s = String(value);
    if (text && /^[=+\-@\t\r]/.test(s)) s = "'" + s;  // no spreadsheet formulas
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function csv(header, count, row) {
    var lines = [header.join(',')];
    for (var i = 0; i < count; i++) lines.push(row(i).join(','));
    return lines.join('\r\n') + '\r\n';
  }
  function bundleCsv(cid, kind) {
    var b = load().clusters[cid].bundle, ids = data.accounts.id;
    if (kind === 'posts') {
      var p = b.posts;
      return csv(['post_id', 'account_id', 'created_at', 'group_id', 'group_text'],
        p.id.length, function (i) {
          var g = p.group[i];
          return [cell(p.id[i]), cell(ids[p.account[i]]), iso(p.time[i]), cell(g),
            cell(g === null ? null : data.groups[g], true)];
        });
    }
    var e = b.edges;
    return csv(['source', 'target', 'trace', 'shared', 'co_posts', 'weight', 'gap_min_s',
      'gap_median_s', 'objects'], e.source.length, function (i) {
      return [cell(ids[e.source[i]]), cell(ids[e.target[i]]), cell(e.trace[i]),
        cell(e.shared[i]), cell(e.co_posts[i]), cell(e.weight[i]), cell(e.gap_min_s[i]),
        cell(e.gap_median_s[i]), cell(e.objects[i], true)];
    });
  }
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-download]');
    if (!link) return;
    var cid = link.getAttribute('data-cluster'), kind = link.getAttribute('data-download');
    if (link.href.indexOf('blob:') === 0) URL.revokeObjectURL(link.href);
    var blob = new Blob(['\ufeff' + bundleCsv(cid, kind)], {type: 'text/csv;charset=utf-8'});
    link.href = URL.createObjectURL(blob);
    link.download = 'cluster-' + cid + '-' + kind + '.csv';
  });
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
  var timer = null;
  if (box) box.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  if (filter) filter.addEventListener('change', applyFilter);
  window.addEventListener('hashchange', reveal);
  show(0);
  reveal();
})();
"""
