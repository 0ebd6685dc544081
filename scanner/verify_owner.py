"""`--verify-owner`: an API key's real restrictions, read by its owner (contract: "Verification").

The identity is the caller's own Application Default Credentials (`gcloud auth application-default
login`, or GOOGLE_APPLICATION_CREDENTIALS), found and refreshed by Google's own library
(google-auth), never a credential the scan found. With them, the API Keys API is asked which key a
key string is (`keys.lookupKey`, the key string in the form body of a POST that Google reads as
the GET, never in a URL) and then what that key allows (`keys.get`): its API targets and its
application restrictions. A key of a project the caller cannot read is `known: false` with that
reason. Every request goes through the verifier's Client (deadline, interruption, request cap,
KEYSENTRY_VERIFY_ENDPOINT), and only to Google's API hosts: the metadata server is not asked.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from scanner.errors import UsageError
from scanner.models import Restrictions
from scanner.verify import Client, Endpoint, Reply, _error_reasons

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
API_KEYS = "https://apikeys.googleapis.com"
LOOKUP = Endpoint(API_KEYS, "/v2/keys:lookupKey")
_KEY_NAME = re.compile(r"projects/[0-9a-z-]{1,64}/locations/global/keys/[0-9A-Za-z_-]{1,128}")
# What a restriction value may look like to be repeated in a report: one printable word.
_VALUE = re.compile(r"[\x21-\x7e]{1,300}")
_MAX_VALUES = 100
# google-auth's token requests (a refresh-token grant, a service account's signed assertion) go
# only to Google's hosts, under https.
_GOOGLE_HOST = re.compile(r"(?:[a-z0-9-]+\.)*(?:googleapis\.com|google\.com)")
GEMINI_API = "generativelanguage.googleapis.com"


@dataclasses.dataclass(frozen=True)
class Owner:
    """An access token of the caller's own credentials, and the project to bill quota to."""

    token: str
    quota_project: str | None


def credentials(client: Client) -> Owner:
    """The caller's Application Default Credentials, refreshed; one clear line when there are none."""
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport
    except ImportError:
        raise UsageError("--verify-owner needs Google's auth library: pip install 'keysentry[owner]'") from None

    class _Response(google.auth.transport.Response):
        def __init__(self, reply: Reply) -> None:
            self._reply = reply

        @property
        def status(self) -> int:
            return self._reply.status

        @property
        def headers(self) -> Mapping[str, str]:
            return {"content-type": "application/json"}

        @property
        def data(self) -> bytes:
            return self._reply.raw

    class _Transport(google.auth.transport.Request):
        """google-auth's requests, sent by the verifier's Client."""

        def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                     timeout: Any = None, **kwargs: Any) -> _Response:
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            if parts.scheme != "https" or not _GOOGLE_HOST.fullmatch(parts.hostname or ""):
                raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
                    f"keysentry asks only Google's API hosts, not {url!r}")
            data = body.encode("utf-8") if isinstance(body, str) else body
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            reply = client.call(Endpoint(f"https://{parts.netloc}", path), dict(headers or {}), body=data,
                                method=method)
            if reply.status == 0:
                raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
                    reply.problem or "no answer")
            return _Response(reply)

    request = _Transport()
    try:
        found, _ = google.auth.default(scopes=SCOPES, request=request)
        found.refresh(request)  # type: ignore[no-untyped-call]
    except google.auth.exceptions.DefaultCredentialsError:
        raise UsageError("--verify-owner needs your own Application Default Credentials and found none: run "
                         "`gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS)") from None
    except google.auth.exceptions.GoogleAuthError as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise UsageError(f"--verify-owner: your Application Default Credentials could not be used: {first}") from None
    token = getattr(found, "token", None)
    if not isinstance(token, str) or not token:
        raise UsageError("--verify-owner: your Application Default Credentials gave no access token")
    quota = getattr(found, "quota_project_id", None)
    return Owner(token, quota if isinstance(quota, str) and quota else None)


def restrictions(client: Client, owner: Owner, key: str) -> Restrictions:
    """What KEY allows, as its owner reads it; `known: False` with the reason otherwise."""
    headers = {"Authorization": f"Bearer {owner.token}"}
    if owner.quota_project:
        headers["x-goog-user-project"] = owner.quota_project
    from urllib.parse import urlencode

    lookup = client.call(LOOKUP, {**headers, "X-HTTP-Method-Override": "GET",
                                  "Content-Type": "application/x-www-form-urlencoded"},
                         body=urlencode({"keyString": key}).encode("ascii"), method="POST")
    name = lookup.body.get("name") if isinstance(lookup.body, dict) and lookup.status == 200 else None
    if not isinstance(name, str) or not _KEY_NAME.fullmatch(name):
        return Restrictions(False, _why_not("keys.lookupKey", lookup))
    got = client.call(Endpoint(API_KEYS, f"/v2/{name}"), headers)
    if got.status != 200 or not isinstance(got.body, dict):
        return Restrictions(False, _why_not("keys.get", got))
    found = _read(name, got.body.get("restrictions"))
    return dataclasses.replace(found, reason=_summary(found))


def _why_not(method: str, reply: Reply) -> str:
    if reply.problem:
        return f"{method}: {reply.problem}"
    if reply.status in (403, 404):
        return (f"{method}: HTTP {reply.status}, not a key of a project your credentials can read (only the key's "
                "owner can see its restrictions)")
    codes = [r for r in _error_reasons(reply.body) if re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", r)]
    return f"{method}: unexpected answer HTTP {reply.status}" + (f" {codes[0]}" if codes else "")


def _words(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(v for v in values[:_MAX_VALUES] if isinstance(v, str) and _VALUE.fullmatch(v))


def _read(name: str, body: object) -> Restrictions:
    """The API's `restrictions` object (absent: none at all)."""
    r: dict[str, Any] = body if isinstance(body, dict) else {}

    def part(name: str) -> dict[str, Any]:
        value = r.get(name)
        return value if isinstance(value, dict) else {}

    targets = tuple(t["service"] for t in (r.get("apiTargets") or [])[:_MAX_VALUES]
                    if isinstance(t, dict) and isinstance(t.get("service"), str) and _VALUE.fullmatch(t["service"]))
    browser, server = part("browserKeyRestrictions"), part("serverKeyRestrictions")
    android, ios = part("androidKeyRestrictions"), part("iosKeyRestrictions")
    apps = tuple((a["packageName"], a["sha1Fingerprint"]) for a in (android.get("allowedApplications") or [])
                 [:_MAX_VALUES] if isinstance(a, dict) and all(isinstance(a.get(k), str) and _VALUE.fullmatch(a[k])
                                                               for k in ("packageName", "sha1Fingerprint")))
    return Restrictions(True, "", key=name, api_targets=targets, referrers=_words(browser.get("allowedReferrers")),
                        ips=_words(server.get("allowedIps")), android_apps=apps,
                        ios_bundle_ids=_words(ios.get("allowedBundleIds")))


def _summary(r: Restrictions) -> str:
    if r.unrestricted:
        return "unrestricted: any API enabled in its project, called from anywhere"
    said = [f"APIs: {', '.join(r.api_targets)}" if r.api_targets else "any API enabled in its project"]
    if r.referrers:
        said.append(f"websites: {', '.join(r.referrers)}")
    if r.ips:
        said.append(f"IP addresses: {', '.join(r.ips)}")
    if r.android_apps:
        said.append("Android apps: " + ", ".join(f"{p} ({s})" for p, s in r.android_apps))
    if r.ios_bundle_ids:
        said.append(f"iOS apps: {', '.join(r.ios_bundle_ids)}")
    if not (r.referrers or r.ips or r.android_apps or r.ios_bundle_ids):
        said.append("from anywhere")
    said.append("Gemini API allowed" if r.gemini_allowed else "Gemini API not allowed")
    return "; ".join(said)


# What the repository shows a key is for (its finding's context) -> the restriction that fits it.
# Words in capitals are for the owner to fill in: the site's address, the app's signing certificate.
_FIXES = {
    "gemini-client": f"--api-target=service={GEMINI_API}",
    "notebook-output": f"--api-target=service={GEMINI_API}",
    "maps-javascript": "--api-target=service=maps-backend.googleapis.com --allowed-referrers='https://YOUR-SITE/*'",
    "firebase-config": "--api-target=service=identitytoolkit.googleapis.com "
                       "--api-target=service=securetoken.googleapis.com "
                       "--api-target=service=firebaseinstallations.googleapis.com",
    "android-resource": "--allowed-application=sha1_fingerprint=YOUR_SIGNING_SHA1,package_name=YOUR.PACKAGE.NAME",
    "ios-plist": "--allowed-bundle-ids=YOUR.BUNDLE.ID",
}
_GENERIC_FIX = "--api-target=service=THE-API-IT-CALLS.googleapis.com"


def fix(r: Restrictions, context: str, app: str = "") -> str:
    """For an unrestricted key, the gcloud command that restricts it to what CONTEXT says it is for;
    APP: `android:PACKAGE` or `ios:BUNDLE_ID` when its config file names the app."""
    if not r.unrestricted:
        return ""
    flags = _FIXES.get(context, _GENERIC_FIX)
    kind, _, name = app.partition(":")
    if kind == "android" and _VALUE.fullmatch(name):
        flags = (_FIXES["firebase-config"] + " " if context == "firebase-config" else "") + \
            f"--allowed-application=sha1_fingerprint=YOUR_SIGNING_SHA1,package_name={name}"
    elif kind == "ios" and _VALUE.fullmatch(name):
        flags = f"{_FIXES['firebase-config']} --allowed-bundle-ids={name}"
    return f"gcloud services api-keys update {r.key} {flags}"
