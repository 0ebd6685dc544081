"""The engine's two steps and its implementations: content alone, then what the path adds."""
from __future__ import annotations

from scanner.detect import Detector
from tests.conftest import google_key, hex_secret


def test_content_step_depends_on_the_bytes_only() -> None:
    key = google_key()
    data = f"GEMINI_API_KEY={key}\nDATABASE_URL=postgres://app:{hex_secret(16)}@db/app\n".encode()
    scanned = Detector().scan_content(data)
    assert [(m.rule_id, m.secret) for m in scanned.matches] == [("google-api-key", key)]
    assert Detector().path_matches("src/settings.txt", data, scanned) == ()


def test_path_step_adds_the_whole_file_rule_for_each_path() -> None:
    key = google_key()
    data = f"GEMINI_API_KEY={key}\n".encode()
    detector = Detector()
    scanned = detector.scan_content(data)
    env = detector.path_matches("web/.env", data, scanned)
    template = detector.path_matches("web/.env.example", data, scanned)
    assert [(m.rule_id, m.secret, m.line) for m in env] == [("dotenv-file", key, 0)]
    assert [(m.rule_id, m.secret, m.line) for m in template] == [("dotenv-file", key, 0)]
    assert detector.scan(data, "web/.env").matches == scanned.matches + env


def test_path_step_of_a_template_without_a_secret_and_of_a_binary_adds_nothing() -> None:
    detector = Detector()
    text = b"DATABASE_URL=postgres://app:x@db/app\n"
    assert detector.path_matches(".env.example", text, detector.scan_content(text)) == ()
    binary = b"\x7fELF\0\0API_KEY=" + hex_secret(24).encode()
    assert detector.path_matches(".env", binary, detector.scan_content(binary)) == ()
