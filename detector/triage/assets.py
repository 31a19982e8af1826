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
#account-panel { position:fixed; top:0; right:0; width:min(480px,100%); height:100%;
  overflow:auto; background:#fff; border-left:1px solid var(--line); padding:10px 16px;
  box-shadow:-4px 0 16px rgba(16,42,67,.18); z-index:10; }
#account-panel h2 { margin-top:4px; overflow-wrap:anywhere; }
#account-panel table { table-layout:fixed; }
#account-panel th:nth-child(1) { width:118px; }
#account-panel th:nth-child(2) { width:130px; }
#account-panel td { overflow-wrap:anywhere; }
#account-panel td.text { min-width:0; max-width:none; }
#account-panel .close { float:right; font-size:20px; border:0; background:none;
  cursor:pointer; }
ul.account-hits, ul.member-list { columns:3 220px; padding-left:20px; }
details.members { margin-top:8px; }
details.members > summary { cursor:pointer; color:var(--accent); }
svg.account-timeline { width:100%; height:70px; fill:var(--accent); }
svg.net circle { cursor:pointer; fill-opacity:.9; }
svg.net .link { stroke-opacity:.55; }
svg.net .link:hover, svg.net .bundle:hover { stroke-opacity:1; stroke-width:4; }
.keys .key { display:inline-block; margin-right:10px; font-size:12px; }
.keys .key i { display:inline-block; width:10px; height:10px; border-radius:5px;
  margin-right:3px; vertical-align:-1px; }
svg .wave { font-weight:700; fill:#8d6708; }
ol.waves { margin:2px 0 8px; padding-left:22px; font-size:13px; color:var(--muted); }
.bundle { font-size:13px; }
@media (max-width: 900px) { .cols { grid-template-columns:1fr; } }
"""

# Pages the table of all clusters and opens whatever a #cluster-N link points at; filters
# cards and rows by review decision; searches the embedded data (#report-data, parsed on
# first use) for accounts and texts; opens an account's panel (its posts, clusters and
# timeline, built only when asked for) from any [data-account] link or network dot; fills a
# card's member list when opened; and turns a cluster's embedded posts and edges into CSV
# downloads (Blob, nothing fetched).
JS = r"""
(function () {
  var table = document.getElementById('all-table');
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var size = 100, page = 0, shown = rows;
  var labels = document.querySelectorAll('.page-label');
  var filter = document.getElementById('review-filter');
  var box = document.getElementById('search-box');
  var results = document.getElementById('search-results');
  var panel = document.getElementById('account-panel');
  var data = null, postsOf = null, indexOf = null, LIMIT = 50;
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
  function when(seconds) {  // as the page writes times: to the minute, UTC
    return iso(seconds).slice(0, 16).replace('T', ' ');
  }
  function accountPosts(index) {
    // Per account index: [posts, row, cluster id], in time order, from the clusters'
    // bundles and from the capped posts of flagged clusters without one (data.drill).
    if (!postsOf) {
      postsOf = {};
      var add = function (posts, cid, i) {
        (postsOf[posts.account[i]] = postsOf[posts.account[i]] || []).push([posts, i, cid]);
      };
      Object.keys(data.clusters).forEach(function (cid) {
        var bundle = data.clusters[cid].bundle;
        if (bundle) bundle.posts.account.forEach(function (a, i) { add(bundle.posts, cid, i); });
      });
      data.drill.account.forEach(function (a, i) {
        add(data.drill, String(data.accounts.cluster[a]), i);
      });
      Object.keys(postsOf).forEach(function (a) {
        postsOf[a].sort(function (x, y) { return x[0].time[x[1]] - y[0].time[y[1]]; });
      });
    }
    return postsOf[index] || [];
  }
  function accountIndex(id) {
    if (!indexOf) {
      indexOf = {};
      load().accounts.id.forEach(function (a, i) { indexOf[a] = i; });
    }
    return indexOf.hasOwnProperty(id) ? indexOf[id] : -1;
  }
  function clusterLink(cid) {
    var link = el('a', '#' + cid);
    link.href = '#cluster-' + cid;
    return link;
  }
  function timeline(times) {
    // Posts per bucket over the account's span: at most 60 buckets of a whole number of
    // minutes, hours or days.
    var NS = 'http://www.w3.org/2000/svg', W = 420, H = 70, low = times[0];
    var span = times[times.length - 1] - low + 1;
    var steps = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400];
    var step = steps.filter(function (s) { return span / s <= 60; })[0] ||
      86400 * Math.ceil(span / 86400 / 60);
    var n = Math.max(1, Math.ceil(span / step)), counts = [];
    for (var k = 0; k < n; k++) counts.push(0);
    times.forEach(function (t) { counts[Math.min(n - 1, Math.floor((t - low) / step))]++; });
    var peak = Math.max.apply(null, counts), svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('class', 'chart account-timeline');
    counts.forEach(function (c, k) {
      if (!c) return;
      var r = document.createElementNS(NS, 'rect'), h = Math.max(1, (H - 4) * c / peak);
      r.setAttribute('x', (k * W / n).toFixed(1));
      r.setAttribute('y', (H - h).toFixed(1));
      r.setAttribute('width', Math.max(W / n - 1, 1).toFixed(1));
      r.setAttribute('height', h.toFixed(1));
      var title = document.createElementNS(NS, 'title');
      title.textContent = when(low + k * step) + ': ' + c + ' posts';
      r.appendChild(title);
      svg.appendChild(r);
    });
    var unit = {60: 'minute', 3600: 'hour', 86400: 'day'}[step] ||
      (step < 3600 ? step / 60 + ' min' : step < 86400 ? step / 3600 + ' h' :
        step / 86400 + ' days');
    return [svg, el('p', 'Posts per ' + unit + ', ' + when(low) + ' to ' +
      when(times[times.length - 1]) + ' UTC (peak ' + peak + ')', 'muted')];
  }
  function openAccount(id) {
    load();
    var i = accountIndex(id);
    panel.textContent = '';
    panel.hidden = false;
    var close = el('button', '×', 'close');
    close.title = 'close';
    close.addEventListener('click', function () { panel.hidden = true; });
    panel.appendChild(close);
    panel.appendChild(el('h2', id));
    if (i < 0) {
      panel.appendChild(el('p', 'This account is not in the data of this page: look it up ' +
        'in the accounts and posts tables.', 'muted'));
      return;
    }
    var a = data.accounts, list = accountPosts(i), head = el('p');
    if (a.cluster[i] !== null) {
      head.appendChild(document.createTextNode('Cluster '));
      head.appendChild(clusterLink(a.cluster[i]));
      head.appendChild(document.createTextNode(' · '));
    }
    head.appendChild(document.createTextNode(a.posts[i].toLocaleString('en') +
      ' posts in all · created ' + (a.created[i] || 'unknown')));
    if (a.review[i]) head.appendChild(badge(a.review[i]));
    panel.appendChild(head);
    if (!list.length) {
      panel.appendChild(el('p', 'Its posts are not in this page (its cluster\'s data did ' +
        'not fit): see the posts table, account_id ' + id + '.', 'muted'));
      return;
    }
    var cap = data.limits.posts, all = a.posts[i];
    var times = list.map(function (ref) { return ref[0].time[ref[1]]; });
    panel.appendChild(el('h3', 'Timeline'));
    timeline(times).forEach(function (node) { panel.appendChild(node); });
    var per = {}, groups = {};
    list.forEach(function (ref) {
      per[ref[2]] = (per[ref[2]] || 0) + 1;
      var g = ref[0].group[ref[1]];
      groups[ref[2]] = groups[ref[2]] || {};
      if (g !== null) groups[ref[2]][g] = 1;
    });
    panel.appendChild(el('h3', 'Clusters'));
    var ul = el('ul');
    Object.keys(per).forEach(function (cid) {
      var li = el('li');
      li.appendChild(clusterLink(cid));
      li.appendChild(document.createTextNode(': ' + per[cid].toLocaleString('en') +
         ' of its posts, in ' + Object.keys(groups[cid]).length.toLocaleString('en') +
        ' near-duplicate groups'));
      ul.appendChild(li);
    });
    panel.appendChild(ul);
    var shown = list.slice(0, cap);
    panel.appendChild(el('h3', 'Posts'));
    if (shown.length < all) {
      panel.appendChild(el('p', 'Its first ' + shown.length + ' of ' +
        all.toLocaleString('en') + ' posts are in this page (at most ' + cap + ' per ' +
        'account; the timeline counts these); all are in the posts table.', 'muted cap'));
    }
    var tbl = el('table'), row = tbl.createTHead().insertRow();
    ['time (UTC)', 'post', 'text of its near-duplicate group'].forEach(function (h) {
      row.appendChild(el('th', h));
    });
    var body = tbl.createTBody();
    shown.forEach(function (ref) {
      var p = ref[0], j = ref[1], tr = body.insertRow();
      tr.appendChild(el('td', when(p.time[j])));
      tr.appendChild(el('td', p.id[j]));
      tr.appendChild(el('td', p.group[j] === null ? '' : data.groups[p.group[j]] || '', 'text'));
    });
    panel.appendChild(tbl);
  }
  function accountItem(i, inCluster) {
    var a = data.accounts, li = el('li'), link = el('a', a.id[i]);
    link.href = '#';
    link.setAttribute('data-account', a.id[i]);
    li.appendChild(link);
    if (a.cluster[i] !== null && !inCluster) {
      li.appendChild(document.createTextNode(' · cluster '));
      li.appendChild(clusterLink(a.cluster[i]));
    }
    if (a.review[i]) li.appendChild(badge(a.review[i]));
    return li;
  }
  function fillMembers(details) {
    var cid = Number(details.getAttribute('data-members')), a = load().accounts;
    var ul = el('ul', undefined, 'member-list'), count = 0;
    for (var i = 0; i < a.id.length && count < data.limits.members; i++) {
      if (a.cluster[i] === cid) { ul.appendChild(accountItem(i, true)); count++; }
    }
    details.appendChild(ul);
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
    var found = el('ul', undefined, 'account-hits');
    hits.slice(0, LIMIT).forEach(function (i) { found.appendChild(accountItem(i)); });
    results.appendChild(found);
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
        cell(e.gap_median_s[i]), cell(data.objects[e.objects[i]], true)];
    });
  }
  document.addEventListener('click', function (event) {
    var account = event.target.closest && event.target.closest('[data-account]');
    if (account && panel) {
      event.preventDefault();
      openAccount(account.getAttribute('data-account'));
      return;
    }
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
  document.querySelectorAll('details.members').forEach(function (details) {
    details.addEventListener('toggle', function () {
      if (details.open && details.childNodes.length === 1) fillMembers(details);
    });
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && panel) panel.hidden = true;
  });
  window.addEventListener('hashchange', reveal);
  show(0);
  reveal();
})();
"""
