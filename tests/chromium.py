"""A real headless Chromium driven over the DevTools protocol, for the HTML report's tests.

The protocol runs over the pipe Chromium offers with --remote-debugging-pipe (it reads commands on
fd 3, writes answers and events on fd 4, each a JSON message ended by NUL): no port, no WebSocket
library, no driver binary. `.ci/run` installs Debian's `chromium` when it is missing; a machine
without it fails these tests rather than skipping them.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def executable() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no Chromium on PATH: install Debian's `chromium` (.ci/run does it with apt-get)")


class Browser:
    """One browser with one page; events are kept so tests can ask what the page requested."""

    def __init__(self, width: int = 1280, height: int = 900, javascript: bool = True, timeout: float = 60) -> None:
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="keysentry-chromium-")
        to_child, self._send = os.pipe()  # fd 3 in the child: its commands
        self._recv, from_child = os.pipe()  # fd 4 in the child: its answers
        args = [executable(), "--headless=new", "--remote-debugging-pipe", "--no-first-run",
                "--no-default-browser-check", "--disable-gpu", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--no-sandbox",
                "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={self._profile.name}", "about:blank"]

        def plumb() -> None:
            # Moved out of the way first: either pipe end may itself be fd 3 or 4.
            commands, answers = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        log = open(os.environ.get("KEYSENTRY_CHROMIUM_LOG", os.devnull), "ab")  # noqa: SIM115 - the child's own
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=log, pass_fds=(3, 4, to_child, from_child), preexec_fn=plumb)
        log.close()  # the child has its copy
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable")
        self.send("Network.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        if not javascript:
            self.send("Emulation.setScriptExecutionDisabled", value=True)

    # --- the protocol ------------------------------------------------------------------------

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            for reply in self._read(deadline):
                if reply.get("id") == ident:
                    if "error" in reply:
                        raise AssertionError(f"{method}: {reply['error']}")
                    result: dict[str, Any] = reply.get("result", {})
                    return result
                if "method" in reply:
                    self.events.append(reply)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page's session."""
        return self.call(method, self._session, **params)

    def _read(self, deadline: float) -> list[dict[str, Any]]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv], [], [], left)[0]:
                raise AssertionError("Chromium did not answer in time")
            chunk = os.read(self._recv, 1 << 20)
            if not chunk:
                raise AssertionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event METHOD since the last wait (read from the pipe as it comes)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events:
                if event["method"] == method and not event.get("_seen"):
                    event["_seen"] = True
                    return event
            for reply in self._read(deadline):
                if "method" in reply:
                    self.events.append(reply)

    # --- what the tests use ------------------------------------------------------------------

    def open(self, path: Path) -> None:
        self.events.clear()
        # Watch for any policy violation from the first script on: a blocked fetch or inline
        # script would be one.
        self.send("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });"))
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"page script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def type_text(self, selector: str, text: str) -> None:
        """Focus SELECTOR and type TEXT as a keyboard would (input events and all)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def requested(self) -> list[str]:
        """Every URL the page asked for (its own file included)."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def dialogs(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["method"] == "Page.javascriptDialogOpening"]

    def screenshot(self, target: Path, full_height: int | None = None) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_height:
            metrics = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": metrics["width"],
                                                            "height": min(metrics["height"], full_height), "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except AssertionError:
            pass
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._send)
        os.close(self._recv)
        self._profile.cleanup()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
