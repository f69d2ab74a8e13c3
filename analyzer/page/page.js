/* page.js - heapsift's HTML report (emit_html.c embeds it): renders the data embedded in the
 * page (the JSON element #heapsift-data: the heapsift-report/1 JSON with each finding's object
 * list cut short, plus "classes" and "views"; docs/report.md "The HTML page") as a header,
 * cards, sortable tables, the dominator tree and an object inspector. No network, no libraries, and
 * every string from the dump goes into text nodes, never into markup. */
(function () {
  'use strict';

  const D = JSON.parse(document.getElementById('heapsift-data').textContent);
  const V = D.views || null;
  const details = new Map(); /* address -> object details */
  if (V) {
    /* The views' steps are [kind, name, shape, addr, size, field, field_name], strings as
     * indexes into V.strings: back to the report's step objects. */
    const S = V.strings;
    const str = (i) => (i === null ? null : S[i]);
    const step = (a) => ({kind: S[a[0]], name: str(a[1]), shape: str(a[2]), addr: a[3], size: a[4],
                          field: a[5], field_name: str(a[6])});
    for (const n of V.tree) n.node = step(n.node);
    for (const o of V.objects) {
      o.node = step(o.node);
      o.fields = o.fields.map(step);
      o.referrers = o.referrers.map(step);
      details.set(o.node.addr, o);
    }
  }

  /* ---- helpers ---- */

  /* An element: props set attributes ("class", "text", "on<event>" handlers); kids are
   * nodes or strings (text). */
  function h(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  /* Sizes as the text report prints them: binary units, tenths rounded half up, in the unit
   * that keeps the value under 1024. */
  function size(n) {
    if (n < 1024) return n + ' B';
    const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
    for (let i = 0; i < units.length; i++) {
      const t = Math.round(n / Math.pow(1024, i + 1) * 10);
      if (t < 10240 || i === units.length - 1) return (t / 10).toFixed(1) + ' ' + units[i];
    }
    return n + ' B';
  }
  function count(n) { return Number(n).toLocaleString('en-US'); }
  function hex(n) { return '+0x' + Number(n).toString(16); }
  function plural(n, one, many) { return n === 1 ? one : many; }
  function signed(n) { return (n > 0 ? '+' : n < 0 ? '\u2212' : '\u00b1') + size(Math.abs(n)); }

  const KIND_LABEL = {ghost: 'ghost', finalizer_pinned: 'finalizer-pinned',
                      closure_cycle: 'closure cycle', tombstone: 'tombstone'};

  /* "<kind> <name>" without repeating the kind ("global" + "global main.x"). */
  function kindName(kind, name) {
    if (!kind) return name || '';
    if (!name) return kind;
    return name.startsWith(kind + ' ') ? name : kind + ' ' + name;
  }

  /* A step's name as the text report reads it. */
  function stepName(s) {
    if (s.name) return s.name;
    if (s.shape) return 'object [' + s.shape + ']';
    return s.kind;
  }

  /* ---- the object inspector ---- */

  const inspector = h('aside', {id: 'inspector', hidden: true, role: 'dialog',
                                'aria-labelledby': 'inspector-title', tabindex: '-1'});
  let opener = null;

  function closeInspector() {
    inspector.hidden = true;
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !inspector.hidden) closeInspector();
  });

  /* A link to a node: a button that opens it when the page has its details, else its name. */
  function nodeLink(s) {
    const text = stepName(s) + ' ' + s.addr;
    if (!details.has(s.addr)) return h('span', {title: 'not in this page: heapsift show DUMP ' + s.addr}, text);
    return h('button', {type: 'button', class: 'link', onclick: (e) => openObject(s.addr, e.currentTarget)}, text);
  }

  function fieldText(s) {
    if (s.field === null || s.field === undefined) return '';
    return hex(s.field) + (s.field_name ? ' ' + s.field_name : '');
  }

  function refTable(caption, head, rows) {
    return h('div', {class: 'tablewrap'}, h('table', null,
      h('caption', {class: 'sr-only'}, caption),
      h('thead', null, h('tr', null, head.map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', null, rows)));
  }

  function openObject(addr, from) {
    const o = details.get(addr);
    if (!o) return;
    const n = o.node;
    inspector.replaceChildren(...[
      h('header', null,
        h('h2', {id: 'inspector-title'}, stepName(n)),
        h('button', {type: 'button', class: 'close', onclick: closeInspector}, 'Close')),
      h('dl', {class: 'meta'},
        h('dt', null, 'kind'), h('dd', null, n.kind),
        h('dt', null, 'address'), h('dd', {class: 'mono'}, n.addr),
        h('dt', null, 'size'), h('dd', null, size(n.size)),
        h('dt', null, 'retains'), h('dd', null, size(o.retained_bytes)),
        o.state ? [h('dt', null, 'liveness'), h('dd', null, o.state)] : null,
        o.site ? [h('dt', null, 'allocated'), h('dd', null, o.site)] : null),
      h('h3', null, 'Pointer fields (' + count(o.fields_total) + ')'),
      o.fields.length ? refTable('pointer fields', ['field', 'points to'],
        o.fields.map((f) => h('tr', null, h('td', {class: 'mono'}, fieldText(f)), h('td', null, nodeLink(f))))) :
        h('p', {class: 'muted'}, 'none'),
      o.fields_total > o.fields.length ? h('p', {class: 'muted'}, '\u2026 and ' + count(o.fields_total - o.fields.length) + ' more') : null,
      h('h3', null, 'Referred to by (' + count(o.referrers_total) + ')'),
      o.referrers.length ? refTable('referrers', ['from', 'its field'],
        o.referrers.map((f) => h('tr', null, h('td', null, nodeLink(f)), h('td', {class: 'mono'}, fieldText(f))))) :
        h('p', {class: 'muted'}, 'nothing in the heap'),
      o.referrers_total > o.referrers.length ? h('p', {class: 'muted'}, '\u2026 and ' + count(o.referrers_total - o.referrers.length) + ' more') : null,
    ].filter(Boolean));
    if (!opener || inspector.hidden) opener = from || null;
    inspector.hidden = false;
    inspector.focus();
  }

  /* ---- paths as chains of boxes ---- */

  /* A box for one node: a button when the page has its details. */
  function nodeBox(s) {
    const kids = [h('span', {class: 'k'}, s.kind), h('span', {class: 'n'}, stepName(s)),
                  h('span', {class: 's'}, s.addr + (s.size ? ' \u00b7 ' + size(s.size) : ''))];
    const cls = 'node ' + s.kind;
    if (!details.has(s.addr)) return h('span', {class: cls}, kids);
    return h('button', {type: 'button', class: cls, title: 'fields and referrers',
                        onclick: (e) => openObject(s.addr, e.currentTarget)}, kids);
  }

  function edge(s) {
    if (s.field === null || s.field === undefined) return null;
    return h('span', {class: 'edge', 'aria-label': 'field ' + fieldText(s)},
      s.field_name ? h('b', null, s.field_name) : null, s.field_name ? ' ' : null, hex(s.field), ' \u2192');
  }

  /* The path's root as a chip, unless its first step is that root itself. */
  function rootChip(p) {
    const s = p.steps[0];
    const root = kindName(p.root_kind, p.root_name);
    if (s && (s.field === null || s.field === undefined) && s.name &&
        (s.name === p.root_name || kindName(s.kind, s.name) === root)) return null;
    return h('span', {class: 'root'}, root);
  }

  /* Steps as an ordered list of boxes; more than five collapse to the first two and the last
   * two behind a button. */
  function chain(steps, label, root) {
    const ol = h('ol', {class: 'chain', 'aria-label': label});
    if (root) ol.append(h('li', null, root));
    const items = steps.map((s) => h('li', null, edge(s), nodeBox(s)));
    const hide = steps.length > 5 ? items.slice(2, items.length - 2) : [];
    items.forEach((li, i) => {
      if (hide.length && i === 2) {
        const more = h('button', {type: 'button', class: 'more', 'aria-expanded': 'false'},
                       count(hide.length) + ' more steps');
        more.addEventListener('click', () => {
          const open = more.getAttribute('aria-expanded') !== 'true';
          hide.forEach((x) => { x.hidden = !open; });
          more.setAttribute('aria-expanded', String(open));
          more.textContent = open ? 'fewer steps' : count(hide.length) + ' more steps';
        });
        ol.append(h('li', {class: 'toggle'}, more));
      }
      if (hide.includes(li)) li.hidden = true;
      ol.append(li);
    });
    return ol;
  }

  /* The holder as a Go expression: a global, or a goroutine's frame, then each field's Go
   * name, or [+0xN] (the pointer at byte N of the value before it) where no type names the
   * field. None for other roots (a finalizer is not a variable). */
  function goExpr(p) {
    if (!p || !p.steps.length) return null;
    const first = p.steps[0];
    if (first.field !== null || (first.kind !== 'global' && first.kind !== 'frame')) return null;
    let expr = first.kind === 'global' ? first.name : '\u2039' + first.name + '\u203a', i = 1;
    for (; i < p.steps.length; i++) {
      const s = p.steps[i];
      if (s.field === null || s.field === undefined) continue;
      expr += s.field_name ? (s.field_name.startsWith('[') || s.field_name.startsWith('.') ? s.field_name : '.' + s.field_name)
                           : '[' + hex(s.field) + ']';
    }
    return expr;
  }

  /* ---- header ---- */

  function verdict() {
    let ghosts = 0, pinned = 0, cycles = 0, tombstones = 0;
    for (const f of D.findings) {
      if (f.kind === 'ghost') ghosts += f.count;
      else if (f.kind === 'finalizer_pinned') pinned += f.count;
      else if (f.kind === 'closure_cycle') cycles++;
      else tombstones++;
    }
    const n = D.findings.length;
    let t = (n ? count(n) + ' ' + plural(n, 'finding', 'findings') : 'no leaks found') + ': ' +
      count(ghosts) + ' ' + plural(ghosts, 'ghost', 'ghosts') + ', ' +
      count(pinned) + ' finalizer-pinned ' + plural(pinned, 'object', 'objects') + ', ' +
      count(cycles) + ' ' + plural(cycles, 'closure cycle', 'closure cycles');
    if (tombstones) t += ', ' + count(tombstones) + ' ' + plural(tombstones, 'container', 'containers') + ' with tombstoned keys';
    return t;
  }

  function memoryBar() {
    const classes = D.classes || [];
    const total = classes.reduce((a, c) => a + c.bytes, 0);
    const pct = (b) => total ? b * 100 / total : 0;
    const text = classes.map((c) => c.label + ' ' + size(c.bytes) + ' (' + pct(c.bytes).toFixed(1) + '%)').join(', ');
    return h('section', {'aria-labelledby': 'memory-h'},
      h('h2', {id: 'memory-h', class: 'sr-only'}, 'Memory by class'),
      h('div', {class: 'bar', role: 'img', 'aria-label': 'Heap objects by memory class: ' + text},
        classes.filter((c) => c.bytes > 0).map((c) =>
          h('span', {class: 'c-' + c.id, style: 'flex-grow:' + c.bytes, title: c.label + ': ' + size(c.bytes)}))),
      h('ul', {class: 'legend'}, classes.map((c) =>
        h('li', null, h('span', {class: 'swatch c-' + c.id, 'aria-hidden': 'true'}),
          c.label + ' ', h('b', null, size(c.bytes)), ' \u00b7 ' + count(c.objects) + ' ' + plural(c.objects, 'object', 'objects')))));
  }

  function header() {
    const d = D.dump, s = D.summary;
    const fact = (k, v) => h('div', null, h('dt', null, k), h('dd', null, v));
    return h('header', null,
      h('h1', null, 'heapsift report'),
      h('p', {class: 'dump'}, (d.path || '(unnamed dump)') + (D.diff ? ', compared with ' + D.diff.before : '')),
      h('dl', {class: 'facts'},
        fact('dump', size(d.dump_bytes)),
        fact('Go', (d.go_version || 'unknown') + (d.goarch ? ' ' + d.goarch : '')),
        fact('symbols', d.symbols || 'none'),
        fact('objects', count(s.objects) + ' \u00b7 ' + size(s.object_bytes)),
        fact('goroutines', count(s.goroutines)),
        fact('finalizers', count(s.finalizers)),
        fact('roots', count(s.roots)),
        fact('pointer edges', count(s.pointer_edges))),
      memoryBar(),
      h('p', {class: 'verdict'}, verdict()),
      s.notes.length ? h('ul', {class: 'notes', 'aria-label': 'notes'}, s.notes.map((n) => h('li', null, n))) : null);
  }

  /* ---- findings ---- */

  const growthOf = new Map();
  if (D.diff) for (const g of D.diff.growth) if (g.class === 'in_use') growthOf.set(g.label, g);

  function card(f, i, info) {
    const id = (info ? 'info-' : 'finding-') + (i + 1);
    const g = f.type ? growthOf.get(f.type) : null;
    const stat = (k, v, cls) => h('div', null, h('dt', null, k), h('dd', {class: cls || null}, v));
    const meta = [];
    const add = (k, v) => { if (v !== null && v !== undefined) meta.push(h('dt', null, k), h('dd', null, v)); };
    const expr = goExpr(f.path);
    add('holder', f.holder === null && !expr ? null :
      h('span', null, expr ? h('code', {class: 'expr', title: '[+0xN]: the pointer at byte N of the value before it, where no type names the field'}, expr) : null,
        expr && f.holder ? ' \u2014 ' : null, f.holder));
    add('evidence', f.evidence);
    add('reason', f.reason);
    add('type', f.type);
    add('container', f.container);
    if (f.kind === 'tombstone') add('keys', count(f.keys) + ' deleted, still in the read map');
    const listed = f.objects.length;
    return h('article', {class: 'card ' + (info ? 'info' : 'finding') + ' kind-' + f.kind, id,
                         'data-kind': f.kind, 'aria-labelledby': id + '-h'},
      h('header', null,
        h('span', {class: 'badge'}, KIND_LABEL[f.kind] || f.kind),
        h('h3', {id: id + '-h'}, '#' + (i + 1) + ' ' + (f.title || ''))),
      h('dl', {class: 'stats'},
        stat('bytes', size(f.bytes)),
        stat('objects', count(f.count)),
        stat('retains', size(f.retained_bytes)),
        D.diff ? stat('growth', g ? signed(g.bytes_after - g.bytes_before) + ' (' + count(g.count_before) + ' \u2192 ' + count(g.count_after) + ')'
                                  : 'not among the largest changes',
                      g ? (g.bytes_after > g.bytes_before ? 'grew' : 'shrank') : null) : null),
      h('dl', {class: 'meta'}, meta),
      f.path ? [h('p', {class: 'chain-title'}, 'path from the root'),
                chain(f.path.steps, 'path from the root', rootChip(f.path))] : null,
      f.cycle && f.cycle.length ? [h('p', {class: 'chain-title'}, 'the cycle'), chain(f.cycle, 'the cycle', null)] : null,
      f.closures && f.closures.length ? h('p', {class: 'chain-title'}, 'closures: ' + f.closures.map((c) => c.func).join(', ')) : null,
      h('details', {class: 'objects'},
        h('summary', null, count(f.count) + ' ' + plural(f.count, 'object', 'objects')),
        h('ul', {class: 'addrs'}, f.objects.map((a) => h('li', null,
          details.has(a) ? h('button', {type: 'button', class: 'link addr', onclick: (e) => openObject(a, e.currentTarget)}, a)
                         : h('span', {class: 'addr'}, a)))),
        f.count > listed ? h('p', {class: 'muted'}, '\u2026 and ' + count(f.count - listed) + ' more: heapsift analyze DUMP --json lists every one') : null));
  }

  function findingsSection() {
    const cards = D.findings.map((f, i) => card(f, i, false));
    const kinds = [...new Set(D.findings.map((f) => f.kind))];
    const shown = new Set(kinds);
    const chips = kinds.map((k) => {
      const b = h('button', {type: 'button', class: 'chip', 'aria-pressed': 'true'},
                  KIND_LABEL[k] + ' (' + D.findings.filter((f) => f.kind === k).length + ')');
      b.addEventListener('click', () => {
        if (shown.has(k)) shown.delete(k); else shown.add(k);
        b.setAttribute('aria-pressed', String(shown.has(k)));
        cards.forEach((c) => { c.hidden = !shown.has(c.dataset.kind); });
      });
      return b;
    });
    return h('section', {id: 'findings', 'aria-labelledby': 'findings-h'},
      h('h2', {id: 'findings-h'}, 'Findings (' + count(D.findings.length) + ')'),
      kinds.length > 1 ? h('div', {class: 'toolbar', role: 'group', 'aria-label': 'show kinds'}, 'Show:', chips) : null,
      cards.length ? cards : h('p', null, 'No leaks found.'));
  }

  function infoSection() {
    if (!D.info.length) return null;
    return h('section', {id: 'info', 'aria-labelledby': 'info-h'},
      h('h2', {id: 'info-h'}, 'Not leaks: ' + count(D.info.length) + ' ' + plural(D.info.length, 'item', 'items')),
      h('p', {class: 'muted'}, 'Collectable (unreachable: the GC frees them), held only by goroutines in flight, or singletons below --min-instances.'),
      D.info.map((f, i) => card(f, i, true)));
  }

  /* ---- tables ---- */

  /* A sortable, filterable table. cols: {label, get(row) -> sort value, cell(row) -> node or
   * text, num}; sorted by column `by`, descending. */
  function table(id, caption, cols, rows, by) {
    const tbody = h('tbody');
    const trs = rows.map((r, i) => {
      const tr = h('tr', null, cols.map((c) => h('td', {class: c.num ? 'num' : null}, c.cell(r))));
      tr.dataset.i = i;
      tr.dataset.text = cols.map((c) => String(c.get(r))).join(' ').toLowerCase();
      return tr;
    });
    const ths = cols.map((c, ci) => {
      const b = h('button', {type: 'button'}, c.label);
      const th = h('th', {scope: 'col', class: c.num ? 'num' : null, 'aria-sort': 'none'}, b);
      b.addEventListener('click', () => sortBy(ci, th.getAttribute('aria-sort') === 'descending' ? 1 : -1));
      return th;
    });
    function sortBy(ci, dir) {
      const get = cols[ci].get;
      const order = trs.slice().sort((x, y) => {
        const a = get(rows[x.dataset.i]), b = get(rows[y.dataset.i]);
        const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
        return c * dir || x.dataset.i - y.dataset.i;
      });
      ths.forEach((th, i) => th.setAttribute('aria-sort', i === ci ? (dir < 0 ? 'descending' : 'ascending') : 'none'));
      tbody.replaceChildren(...order);
    }
    const status = h('span', {class: 'muted', 'aria-live': 'polite'}, count(rows.length) + ' ' + plural(rows.length, 'row', 'rows'));
    const input = h('input', {type: 'search', 'aria-controls': id + '-table', placeholder: 'name contains\u2026'});
    input.addEventListener('input', () => {
      const q = input.value.trim().toLowerCase();
      let n = 0;
      trs.forEach((tr) => { tr.hidden = q !== '' && !tr.dataset.text.includes(q); n += !tr.hidden; });
      status.textContent = count(n) + ' of ' + count(rows.length) + ' rows';
    });
    sortBy(by, -1);
    return [h('p', {class: 'filter'}, h('label', null, 'Filter ', input), ' ', status),
            h('div', {class: 'tablewrap'}, h('table', {id: id + '-table'},
              h('caption', {class: 'sr-only'}, caption), h('thead', null, h('tr', null, ths)), tbody))];
  }

  const num = (label, key, fmt) => ({label, num: true, get: (r) => r[key], cell: (r) => fmt(r[key])});

  function labelCell(r) {
    return r.addr && details.has(r.addr)
      ? h('button', {type: 'button', class: 'link', onclick: (e) => openObject(r.addr, e.currentTarget)}, r.label)
      : r.label;
  }

  function tableSection(id, title, intro, rows, cols, by, empty) {
    return h('section', {id, 'aria-labelledby': id + '-h'},
      h('h2', {id: id + '-h'}, title),
      intro ? h('p', {class: 'muted'}, intro) : null,
      rows.length ? table(id, title, cols, rows, by) : h('p', {class: 'muted'}, empty));
  }

  function retainersSection() {
    return tableSection('retainers', 'Top retainers', 'What frees the most memory if it goes: retained bytes by the dominator tree.',
      D.top_retainers, [
        {label: 'name', get: (r) => r.label, cell: labelCell},
        {label: 'kind', get: (r) => r.group, cell: (r) => r.group},
        {label: 'address', get: (r) => r.addr, cell: (r) => h('span', {class: 'mono'}, r.addr)},
        num('bytes', 'bytes', size), num('retained', 'retained_bytes', size)], 4, 'No retainers.');
  }

  const CLASS_LABELS = {in_use: 'in use', finalizer_held: 'finalizer-held',
    pending_finalization: 'pending finalization', garbage: 'garbage'};
  const classCol = {label: 'class', get: (r) => r.class || '', cell: (r) => CLASS_LABELS[r.class] || r.class || ''};

  function typesSection() {
    return tableSection('types', 'Types', 'Heap objects by type, closure function or shape, and memory class.', D.histogram, [
      {label: 'name', get: (r) => r.label, cell: (r) => r.label},
      {label: 'group', get: (r) => r.group, cell: (r) => r.group}, classCol,
      num('count', 'count', count), num('bytes', 'bytes', size)], 4, 'No heap objects.');
  }

  function sitesSection() {
    if (!V) return null;
    return tableSection('sites', 'Allocation sites', 'Heap objects by the place that allocated them (from the dump\u2019s allocation samples), and memory class.',
      V.sites, [
        {label: 'site', get: (r) => r.label, cell: (r) => r.label}, classCol,
        num('count', 'count', count), num('bytes', 'bytes', size)], 3,
      'No allocation samples in this dump (the program did not link runtime/pprof or sampled nothing; runtime.MemProfileRate = 1 samples everything).');
  }

  function diffSection() {
    const d = D.diff;
    if (!d) return null;
    const rows = d.growth.map((g) => Object.assign({change: g.bytes_after - g.bytes_before}, g));
    return h('section', {id: 'changes', 'aria-labelledby': 'changes-h'},
      h('h2', {id: 'changes-h'}, 'Changes since ' + d.before),
      h('p', null, count(d.gone_objects) + ' objects gone (' + size(d.gone_bytes) + '), ' + count(d.new_objects) + ' new (' + size(d.new_bytes) + '), ' +
        count(d.kept_objects) + ' kept (' + size(d.kept_bytes) + ')'),
      rows.length ? table('changes', 'growth', [
        {label: 'name', get: (r) => r.label, cell: (r) => r.label},
        {label: 'group', get: (r) => r.group, cell: (r) => r.group}, classCol,
        num('before', 'bytes_before', size), num('after', 'bytes_after', size),
        {label: 'change', num: true, get: (r) => r.change, cell: (r) => h('span', {class: r.change > 0 ? 'grew' : 'shrank'}, signed(r.change))},
        {label: 'count', num: true, get: (r) => r.count_after - r.count_before, cell: (r) => count(r.count_before) + ' \u2192 ' + count(r.count_after)}],
      rows, 5) : null);
  }

  /* ---- the dominator tree ---- */

  function treeSection() {
    if (!V) return null;
    const t = V.tree;
    const kids = new Map();
    const tops = [];
    t.forEach((n, i) => {
      if (n.parent === null) tops.push(i);
      else (kids.get(n.parent) || kids.set(n.parent, []).get(n.parent)).push(i);
    });
    const max = tops.length ? t[tops[0]].retained_bytes || 1 : 1;
    function item(i) {
      const n = t[i], ks = kids.get(i) || [];
      const name = kindName(n.node.kind === 'object' ? null : n.node.kind, stepName(n.node));
      const open = n.children > 0;
      /* a disclosure button for a node with children, a spacer for a leaf */
      const twisty = open ? h('button', {type: 'button', class: 'twisty', 'aria-expanded': 'false',
                                         'aria-label': 'children of ' + name}, '\u25b8')
                          : h('span', {class: 'twisty leaf', 'aria-hidden': 'true'});
      const label = details.has(n.node.addr)
        ? h('button', {type: 'button', class: 'link', onclick: (e) => openObject(n.node.addr, e.currentTarget)}, name)
        : h('span', null, name);
      const li = h('li', null, h('div', {class: 'trow'}, twisty,
        h('span', {class: 'tbar', 'aria-hidden': 'true'}, h('span', {style: 'width:' + Math.max(1, n.retained_bytes * 100 / max).toFixed(1) + '%'})),
        h('span', {class: 'size'}, size(n.retained_bytes)), label,
        h('span', {class: 'muted mono'}, n.node.addr)));
      if (open) {
        let group = null;
        twisty.addEventListener('click', () => {
          const expand = twisty.getAttribute('aria-expanded') !== 'true';
          if (expand && !group) {
            group = h('ul', {id: 'tree-' + i}, ks.map(item));
            if (n.children > ks.length)
              group.append(h('li', {class: 'rest'}, '\u2026 ' + count(n.children - ks.length) + ' more ' + plural(n.children - ks.length, 'child', 'children') +
                ' retaining ' + size(n.rest_bytes) + ', not in this page'));
            twisty.setAttribute('aria-controls', group.id);
            li.append(group);
          }
          group.hidden = !expand;
          twisty.setAttribute('aria-expanded', String(expand));
          twisty.textContent = expand ? '\u25be' : '\u25b8';
        });
      }
      return li;
    }
    const ul = h('ul', {class: 'tree', 'aria-label': 'dominator tree'}, tops.map(item));
    const first = ul.querySelector('button.twisty');
    if (first) first.click();
    return h('section', {id: 'tree', 'aria-labelledby': 'tree-h'},
      h('h2', {id: 'tree-h'}, 'Dominator tree'),
      h('p', {class: 'muted'}, 'Each node keeps alive everything below it: the memory freed if it went. The biggest ' + count(t.length) + ' nodes are in this page.'),
      t.length ? ul : h('p', {class: 'muted'}, 'Nothing is reachable.'));
  }

  /* ---- the page ---- */

  function render() {
    const app = document.getElementById('app');
    const sections = [
      ['findings', 'Findings'], D.info.length ? ['info', 'Not leaks'] : null, D.diff ? ['changes', 'Changes'] : null,
      ['retainers', 'Top retainers'], V ? ['tree', 'Dominator tree'] : null, ['types', 'Types'], V ? ['sites', 'Allocation sites'] : null,
    ].filter(Boolean);
    app.replaceChildren(
      h('a', {class: 'skip', href: '#findings'}, 'Skip to the findings'),
      header(),
      h('nav', {'aria-label': 'sections'}, h('ul', null, sections.map(([id, t]) => h('li', null, h('a', {href: '#' + id}, t))))),
      findingsSection(), infoSection(), diffSection(), retainersSection(), treeSection(), typesSection(), sitesSection(),
      h('footer', null, D.schema + ' \u00b7 written by heapsift' +
        (V && V.objects_left_out ? ' \u00b7 ' + count(V.objects_left_out) + ' nodes shown without details (the page keeps at most ' + count(V.objects.length) + ')' : '')),
      inspector);
    app.removeAttribute('aria-busy');
    document.documentElement.setAttribute('data-ready', 'true');
    performance.mark('heapsift-ready');
  }

  render();
})();
