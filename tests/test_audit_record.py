"""An audited repository's record (what a worker sends back, what --workdir keeps) gives the
reports the same view as a fresh scan: here, a client secret's client id survives the trip."""
from __future__ import annotations

import json
import string

from scanner import audit_record
from scanner.detect import Detector
from scanner.models import Result, Stats, make_finding
from scanner.report import Options, present
from tests.conftest import random_chars


def test_a_client_secrets_client_id_survives_the_audit_record() -> None:
    client_id = random_chars(12, string.digits) + "-" + random_chars(32, string.ascii_lowercase + string.digits) \
        + ".apps.googleusercontent.com"
    data = f"GOOGLE_CLIENT_ID={client_id}\nGOOGLE_CLIENT_SECRET=GOCSPX-{random_chars(28)}\n".encode()
    [match] = Detector().scan_content(data).matches
    view = present(Result("tree", (make_finding(match, "config.txt"),), Stats()), Options())
    record = audit_record.RepoResult("https://example.invalid/repo.git", None, None, None, view)
    decoded = audit_record.decode(json.loads(json.dumps(audit_record.encode(record))))
    assert decoded.view is not None
    assert [f.companion for f in decoded.view.findings] == [client_id]
    assert decoded.view == view


def test_the_whole_verification_survives_the_audit_record() -> None:
    from dataclasses import replace

    from scanner.models import Restrictions, Verification

    key = "AIza" + random_chars(35)
    [match] = Detector().scan_content(f'API_KEY = "{key}"\n'.encode()).matches
    restrictions = Restrictions(True, "unrestricted", key="projects/1/locations/global/keys/k", referrers=("a.example/*",),
                                android_apps=(("com.example.app", "ab" * 20),), fix="gcloud services api-keys update …")
    verdict = Verification("live", "can list files", ("files", "tuned-models"), "generative-language", restrictions)
    finding = replace(make_finding(match, "app.py"), verification=verdict)
    view = present(Result("history", (finding,), Stats()), Options())
    record = audit_record.RepoResult("/repo", None, None, None, view)
    decoded = audit_record.decode(json.loads(json.dumps(audit_record.encode(record))))
    assert decoded.view is not None
    assert decoded.view.findings[0].verification == verdict
    assert decoded.view == view


def test_a_verdict_kept_by_an_earlier_keysentry_still_reads() -> None:
    from scanner.models import Verification

    key = "AIza" + random_chars(35)
    [match] = Detector().scan_content(f'API_KEY = "{key}"\n'.encode()).matches
    view = present(Result("history", (make_finding(match, "app.py"),), Stats()), Options())
    data = json.loads(json.dumps(audit_record.encode(audit_record.RepoResult("/repo", None, None, None, view))))
    data["view"]["findings"][0]["verification"] = ["invalid", "API key not valid"]
    decoded = audit_record.decode(data)
    assert decoded.view is not None
    assert decoded.view.findings[0].verification == Verification("invalid", "API key not valid")


def test_where_a_secret_was_moved_survives_the_audit_record() -> None:
    from scanner.models import Moved

    [match] = Detector().scan_content(f'key = "AIza{random_chars(35)}"\n'.encode()).matches
    finding = make_finding(match, "a.py", commit="1" * 40, date="2024-03-01T10:00:00+00:00", in_head=True,
                           head_paths=("c.py",), moved_to=(Moved("b.py", "2" * 40), Moved("c.py", "3" * 40)))
    view = present(Result("history", (finding,), Stats()), Options())
    record = audit_record.RepoResult("https://example.invalid/repo.git", None, None, None, view)
    decoded = audit_record.decode(json.loads(json.dumps(audit_record.encode(record))))
    assert decoded.view is not None
    assert [(m.path, m.commit) for m in decoded.view.findings[0].moved_to] == [("b.py", "2" * 40), ("c.py", "3" * 40)]
    assert decoded.view == view
