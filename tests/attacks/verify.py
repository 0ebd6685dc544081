"""Attack rows for the hostile suites (see tests/hostile.py): `--verify` against a server that is
not Google, or a Google that misbehaves (tests/test_hostile_inputs.py gathers INPUTS).

Whatever the server does (drop the connection, send 50 MB, invalid or endlessly nested JSON, a
redirect, bytes one at a time, a broken status line, control characters in its answer) the
finding's verification is `unknown` or a status read from well-formed data, the scan ends on time
with its usual exit status, and nothing from the server reaches a terminal unescaped.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests import fake_google as g
from tests.conftest import google_key
from tests.hostile import Attack, keysentry, new_repo, no_traceback

# A scan of one file verifying one key; generous for a loaded CI machine, far below what a
# server holding the client would cost.
QUICK = 20


def _verified(tmp_path: Path, answer: g.Answer, *args: str, fmt: str = "json") -> tuple[bytes, float]:
    """The report of a scan whose one key the server answers with ANSWER, and how long it took."""
    repo = new_repo(tmp_path)
    key = google_key()
    (repo / "app.py").write_text(f'KEY = "{key}"\n')
    fake = g.FakeGoogle()
    fake.on(g.GEMINI, key, answer)
    with fake.running():
        started = time.monotonic()
        proc = keysentry("scan", "--format", fmt, "--verify", *args, cwd=repo,
                         env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url}, timeout=QUICK)
        took = time.monotonic() - started
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")
    assert proc.stderr == b"", proc.stderr.decode("utf-8", "replace")
    assert len(fake.seen) == 1
    return proc.stdout, took


def _unknown(answer: Callable[[], g.Answer], *words: str, args: tuple[str, ...] = (),
             within: float = QUICK) -> Callable[[Path], None]:
    def run(tmp_path: Path) -> None:
        out, took = _verified(tmp_path, answer(), *args)
        [finding] = json.loads(out)["findings"]
        assert finding["verification"]["status"] == "unknown", finding["verification"]
        for word in words:
            assert word in finding["verification"]["reason"], (word, finding["verification"])
        assert took < within, took
    return run


def _trickle() -> g.Answer:
    """Headers at once, then the body one byte every 0.2 s: each read is quick, the whole is not."""
    def answer(handler: g._Handler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(100000):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass
    return answer


def _raw_bytes(data: bytes) -> Callable[[], g.Answer]:
    def make() -> g.Answer:
        def answer(handler: g._Handler) -> None:
            handler.wfile.write(data)
            handler.close_connection = True
        return answer
    return make


def _redirect_elsewhere(tmp_path: Path) -> None:
    """A redirect is not followed: it would carry the key's header to wherever it points."""
    elsewhere = g.FakeGoogle()
    with elsewhere.running():
        out, _ = _verified(tmp_path, g.redirect(f"{elsewhere.url}{g.GEMINI}"))
    [finding] = json.loads(out)["findings"]
    assert finding["verification"]["status"] == "unknown" and "HTTP 302" in finding["verification"]["reason"]
    assert elsewhere.seen == []


_ESC = "\x1b]0;pwned\x07\x1b[2J"


def _hostile_text_in_answers(tmp_path: Path) -> None:
    """A reason code and scopes made of terminal escapes and markup are never repeated."""
    forged = g.json_answer(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": _ESC,
                                           "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                        "reason": f"API_KEY{_ESC}<script>x</script>",
                                                        "metadata": {"consumer": f"projects/1{_ESC}"}}]}})
    out, _ = _verified(tmp_path, forged, fmt="text")
    assert b"\x1b" not in out and b"\x07" not in out and b"<script>" not in out
    assert b"verified: unknown" in out


def _fifty_megabytes_are_not_read(tmp_path: Path) -> None:
    out, took = _verified(tmp_path, g.endless())
    [finding] = json.loads(out)["findings"]
    assert finding["verification"]["status"] == "unknown" and "larger than" in finding["verification"]["reason"]
    assert took < QUICK


REPOS: list[Attack] = []
INPUTS: list[Attack] = [
    Attack("verify-server-drops-connection", "verify", _unknown(g.dropped, "network error")),
    Attack("verify-server-sends-50mb", "verify", _fifty_megabytes_are_not_read),
    Attack("verify-server-sends-invalid-json", "verify",
           _unknown(lambda: g.raw(200, b'{"models": [ {"name": '), "not JSON")),
    Attack("verify-server-sends-html", "verify",
           _unknown(lambda: g.raw(200, b"<html><body>Sign in</body></html>", "text/html"), "not JSON")),
    Attack("verify-server-sends-deep-json", "verify", _unknown(lambda: g.raw(200, b"[" * 200_000), "not JSON")),
    Attack("verify-server-sends-non-utf8", "verify", _unknown(lambda: g.raw(200, b'{"models": "\xff\xfe"}'),
                                                              "not JSON")),
    Attack("verify-server-trickles-bytes", "verify",
           _unknown(_trickle, "no answer within 1 s", args=("--verify-timeout", "1"), within=6)),
    Attack("verify-server-broken-status-line", "verify",
           _unknown(_raw_bytes(b"HTTP/1.1 two hundred\r\n\r\n"), "network error")),
    Attack("verify-server-endless-header", "verify",
           _unknown(_raw_bytes(b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 200_000 + b"\r\n\r\n{}"), "network error")),
    Attack("verify-server-redirects-elsewhere", "verify", _redirect_elsewhere),
    Attack("verify-server-answers-with-escapes", "verify", _hostile_text_in_answers),
]
