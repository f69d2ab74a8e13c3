"""A headless Chromium driven over the DevTools protocol, from the Python standard library: the
browser runs with --remote-debugging-pipe, so commands and events are NUL-terminated JSON
messages on two pipes (its fds 3 and 4); no port, no websocket, no npm. Used by
test_html_browser.py and tests/bench/views.

    with cdp.Browser() as b:              # None from cdp.find_chromium() means: skip
        page = b.open("file:///tmp/r.html")   # waits for the load event
        page.eval("document.title")
"""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

# The flags issue 14 names for a quiet, reproducible browser.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe"]


def find_chromium():
    """The Chromium to use: $HEAPSIFT_CHROMIUM, else /usr/bin/chromium, else chromium on the
    PATH; None when there is none."""
    for c in (os.environ.get("HEAPSIFT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if c and os.access(c, os.X_OK):
            return c
    return None


class Error(Exception):
    pass


class Browser:
    """One headless Chromium with a fresh profile directory, closed (and the directory
    removed) on exit."""

    def __init__(self, chromium=None, timeout=60, window=(1280, 900)):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="heapsift-chromium-")
        exe = chromium or find_chromium()
        if not exe:
            raise Error("no chromium")
        to_r, self._w = os.pipe()   # our commands -> its fd 3
        self._r, from_w = os.pipe()  # its fd 4 -> our events and replies
        # Renumber in the child; high numbers first so that 3 and 4 are free to take.
        hi_r, hi_w = os.dup(to_r) + 100, os.dup(from_w) + 100
        os.dup2(to_r, hi_r)
        os.dup2(from_w, hi_w)

        def child():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [exe] + FLAGS + ["--user-data-dir=" + self.profile,
                                "--window-size=%d,%d" % window, "about:blank"]
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        for fd in (to_r, from_w, hi_r, hi_w):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events = []  # every event received, in order: (sessionId, method, params)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.send("Browser.close", wait=False)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.profile, True)

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise Error("no answer from chromium within %ss" % self.timeout)
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise Error("chromium closed the pipe (exit %s)" % self.proc.poll())
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def send(self, method, params=None, session=None, wait=True):
        """Sends a command; returns its result (raises Error with the protocol's message)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        if not wait:
            return None
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise Error("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append((m.get("sessionId"), m["method"], m.get("params", {})))

    def wait_event(self, method, session=None, timeout=None):
        """Waits for an event (one already received counts); returns its params."""
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = 0
        while True:
            for s, m, p in self.events[seen:]:
                if m == method and (session is None or s == session):
                    self.events.remove((s, m, p))
                    return p
            seen = len(self.events)
            m = self._read_message(deadline)
            if "method" in m:
                self.events.append((m.get("sessionId"), m["method"], m.get("params", {})))

    def open(self, url, dark=False):
        """A new tab attached with Runtime, Log, Network and Page events on; navigates to url
        and waits for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(domain + ".enable")
        if dark:
            page.send("Emulation.setEmulatedMedia",
                      {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        page.navigate(url)
        return page


class Page:
    """A tab: commands go to its session."""

    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def send(self, method, params=None):
        return self.b.send(method, params, self.session)

    def navigate(self, url):
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.session)

    def eval(self, expr):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise Error("%s: %s" % (expr[:80], r["exceptionDetails"].get("exception", {}).get("description")))
        return r["result"].get("value")

    def events(self, method):
        """The params of every event of this tab with that method so far."""
        return [p for s, m, p in self.b.events if s == self.session and m == method]

    def click(self, selector):
        """A real mouse click in the middle of the first element the CSS selector matches
        (scrolled into view first); False when nothing matches."""
        at = self.eval("(() => { const e = document.querySelector(%s); if (!e) return null;"
                       " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                       " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector))
        if not at:
            return False
        for t in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": t, "x": at[0], "y": at[1],
                                                   "button": "left", "clickCount": 1})
        return True

    def key(self, key, code, keycode, text=None):
        """Presses and releases a key in the focused element (text: what it types, "\r" for
        Enter)."""
        down = {"type": "keyDown" if text else "rawKeyDown", "key": key, "code": code,
                "windowsVirtualKeyCode": keycode}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                             "windowsVirtualKeyCode": keycode})

    def screenshot(self, path, full=True):
        """Writes a PNG of the page (the whole page when full)."""
        params = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
            m = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": m["width"], "height": min(m["height"], 16000), "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
