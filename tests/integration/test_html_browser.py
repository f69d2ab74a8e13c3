"""The HTML page in a real browser: headless Chromium (driven over the DevTools protocol by
cdp.py) opens `heapsift analyze --html` of each committed sample dump, and `heapsift diff
--html` of two of them, from a file, and

  - the page has as many finding cards as the JSON report has findings;
  - a click expands a collapsed path, and Enter on its button (keyboard) collapses it again;
  - a click on a column header sorts its table, and a second one reverses it;
  - a click on a node opens the inspector with its fields, and Escape closes it;
  - the dominator tree opens top-down from its biggest retainer;
  - the page made no network request (the page's own file is the one request);
  - nothing went to the console as an error, and no script threw;
  - a screenshot, light and dark, goes to the build directory's meson-logs
    (html-VERSION.png, html-VERSION-dark.png, html-diff.png).

Skips (77) when the machine has no Chromium (tests/deps.sh installs it)."""
import json
import os
import sys

import cdp
import hstest

c = hstest.Checker("test_html_browser")
chromium = cdp.find_chromium()
if not chromium:
    c.skip("no chromium (tests/deps.sh installs it)")
    c.done()
tmp = hstest.tempdir()
shots = os.path.join(hstest.BUILD, "meson-logs")
os.makedirs(shots, exist_ok=True)


def quiet(page, what, url):
    """No request but the page's own file, no console error, no exception."""
    urls = [e["request"]["url"] for e in page.events("Network.requestWillBeSent")]
    c.eq([u for u in urls if u != url], [], "%s: network requests besides the page" % what)
    errors = ["%s: %s" % (e["type"], " ".join(str(a.get("value", a.get("description"))) for a in e["args"]))
              for e in page.events("Runtime.consoleAPICalled") if e["type"] in ("error", "assert")]
    errors += [e["entry"]["text"] for e in page.events("Log.entryAdded") if e["entry"]["level"] == "error"]
    errors += [e["exceptionDetails"].get("exception", {}).get("description", e["exceptionDetails"]["text"])
               for e in page.events("Runtime.exceptionThrown")]
    c.eq(errors, [], "%s: console errors and exceptions" % what)


def column(page, table, col):
    return page.eval("[...document.querySelectorAll('%s tbody tr')].map(r => r.cells[%d].textContent)"
                     % (table, col))


def interact(page, what):
    """Expand and collapse a path, sort a table, open and close the inspector."""
    # a path long enough to be collapsed: a click expands it
    sel = ".card.finding .chain button.more"
    if c.check(page.eval("!!document.querySelector('%s')" % sel), "%s: a collapsed path" % what):
        hidden = "document.querySelector('%s').closest('ol').querySelectorAll('li[hidden]').length" % sel
        before = page.eval(hidden)
        c.check(page.click(sel), "%s: click the path's button" % what)
        c.check(before > 0 and page.eval(hidden) == 0, "%s: a click expands the path (%d steps were hidden)" % (what, before))
        c.eq(page.eval("document.querySelector('%s').getAttribute('aria-expanded')" % sel), "true", "%s: aria-expanded" % what)
        page.eval("document.querySelector('%s').focus()" % sel)
        page.key("Enter", "Enter", 13, "\r")
        c.eq(page.eval(hidden), before, "%s: Enter on the focused button collapses it" % what)
    # sorting: by count (the 4th column: name, group, class, count), descending, then ascending
    before = column(page, "#types", 0)
    c.check(page.click("#types th:nth-child(4) button"), "%s: click the count header" % what)
    counts = [int(x.replace(",", "")) for x in column(page, "#types", 3)]
    c.check(counts == sorted(counts, reverse=True), "%s: the types table sorts by count" % what)
    c.check(column(page, "#types", 0) != before, "%s: sorting reorders the table" % what)
    c.eq(page.eval("document.querySelector('#types th:nth-child(4)').getAttribute('aria-sort')"),
         "descending", "%s: aria-sort" % what)
    page.click("#types th:nth-child(4) button")
    counts = [int(x.replace(",", "")) for x in column(page, "#types", 3)]
    c.check(counts == sorted(counts), "%s: a second click sorts ascending" % what)
    # filtering
    page.eval("(() => { const i = document.querySelector('#types input'); i.value = 'main.';"
              " i.dispatchEvent(new Event('input')); })()")
    shown = page.eval("[...document.querySelectorAll('#types tbody tr:not([hidden])')].map(r => r.cells[0].textContent)")
    c.check(shown and all("main." in s for s in shown), "%s: the filter keeps matching rows: %s" % (what, shown[:3]))
    # the inspector
    name = page.eval("document.querySelector('.card.finding button.node .n').textContent")
    c.check(page.click(".card.finding button.node"), "%s: click a node" % what)
    c.eq(page.eval("document.getElementById('inspector').hidden"), False, "%s: the inspector opens" % what)
    c.eq(page.eval("document.getElementById('inspector-title').textContent"), name, "%s: it names the node" % what)
    c.check(page.eval("document.querySelectorAll('#inspector table').length") >= 1, "%s: it lists fields or referrers" % what)
    page.key("Escape", "Escape", 27)
    c.eq(page.eval("document.getElementById('inspector').hidden"), True, "%s: Escape closes it" % what)
    # the tree: the biggest retainer open, its children shown
    c.eq(page.eval("document.querySelector('.tree > li > .trow > button.twisty').getAttribute('aria-expanded')"),
         "true", "%s: the biggest retainer is open" % what)
    c.check(page.eval("document.querySelectorAll('.tree > li:first-child > ul > li').length") > 0,
            "%s: its children are listed" % what)
    # headings and buttons
    c.eq(page.eval("document.querySelectorAll('h1').length"), 1, "%s: one h1" % what)
    c.eq(page.eval("document.querySelectorAll('[onclick], a:not([href])').length"), 0,
         "%s: every control is a button or a link" % what)


def check_page(b, path, rep, what, shot):
    url = "file://" + path
    page = b.open(url)
    c.eq(page.eval("document.documentElement.dataset.ready"), "true", "%s: the page rendered" % what)
    c.eq(page.eval("document.querySelectorAll('article.card.finding').length"), len(rep["findings"]),
         "%s: finding cards == JSON findings" % what)
    c.eq(page.eval("document.querySelectorAll('article.card.info').length"), len(rep["info"]),
         "%s: info cards == JSON info" % what)
    c.eq(page.eval("[...document.querySelectorAll('.card.finding h3')].map(h => h.textContent)"),
         ["#%d %s" % (i + 1, f["title"]) for i, f in enumerate(rep["findings"])], "%s: card titles" % what)
    page.screenshot(os.path.join(shots, shot + ".png"))
    interact(page, what)
    quiet(page, what, url)
    dark = b.open(url, dark=True)
    c.check(dark.eval("getComputedStyle(document.documentElement).backgroundColor") != "rgb(255, 255, 255)",
            "%s: dark by the system setting" % what)
    dark.screenshot(os.path.join(shots, shot + "-dark.png"), full=False)
    quiet(dark, what + " (dark)", url)
    return page


with cdp.Browser(chromium) as b:
    for version in ("go1.19", "go1.26", "go1.27"):
        dump = os.path.join(hstest.SRC, "samples", "dumps", "soak-small-%s.hsd" % version)
        page = os.path.join(tmp, "%s.html" % version)
        p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--html", page, "--json", "-"])
        if not c.eq(p.returncode, 0, "%s: analyze --html (%s)" % (version, p.stderr.strip()[:200])):
            continue
        check_page(b, page, json.loads(p.stdout), version, "html-" + version)
    # diff: the changes, and the growth on the cards
    before, after = (os.path.join(hstest.SRC, "samples", "dumps", "soak-small-%s.hsd" % v)
                     for v in ("go1.26", "go1.27"))
    page = os.path.join(tmp, "diff.html")
    p = hstest.run([hstest.HEAPSIFT, "diff", before, after, "--html", page, "--json", "-"])
    if c.eq(p.returncode, 0, "diff --html (%s)" % p.stderr.strip()[:200]):
        url = "file://" + page
        tab = b.open(url)
        rep = json.loads(p.stdout)
        c.eq(tab.eval("document.querySelectorAll('article.card.finding').length"), len(rep["findings"]),
             "diff: finding cards == JSON findings")
        c.eq(tab.eval("document.querySelectorAll('#changes tbody tr').length"), len(rep["diff"]["growth"]),
             "diff: the growth table")
        c.check(tab.eval("[...document.querySelectorAll('.card.finding .stats dt')].some(d => d.textContent === 'growth')"),
                "diff: the cards have growth")
        tab.screenshot(os.path.join(shots, "html-diff.png"))
        quiet(tab, "diff", url)
print("screenshots in %s (html-*.png)" % shots, file=sys.stderr)
c.done()
