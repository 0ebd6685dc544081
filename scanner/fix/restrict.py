"""Keys that ship with an app by design are restricted, not moved: the exact `gcloud services
api-keys update` commands, with API targets for what the repository shows the key is used for and
application restrictions read from the repository itself (Android package names and SHA-1
fingerprints from google-services.json or the manifest, iOS bundle ids from the plist, web
referrers from the Firebase authDomain and hosting config). Nothing is guessed: what the repository
does not show is left as a named placeholder, and the report says so."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from scanner import gitcmd
from scanner.fix import files
from scanner.fix.code import Refused
from scanner.models import Finding
from scanner.report import redact

_FIREBASE_WEB = ("identitytoolkit.googleapis.com", "securetoken.googleapis.com", "firebaseinstallations.googleapis.com")
# What a Firebase config names -> the API the key then calls.
_FIREBASE_FIELDS = (
    (re.compile(r"databaseURL|firebase_url|DATABASE_URL"), "firebasedatabase.googleapis.com"),
    (re.compile(r"storageBucket|storage_bucket|STORAGE_BUCKET"), "firebasestorage.googleapis.com"),
    (re.compile(r"messagingSenderId|GCM_SENDER_ID|project_number"), "fcmregistrations.googleapis.com"),
    (re.compile(r"firestore", re.IGNORECASE), "firestore.googleapis.com"),
)
_MAPS_JS = ("maps-backend.googleapis.com",)
_AUTH_DOMAIN = re.compile(r"authDomain['\"]?\s*[:=]\s*['\"]([A-Za-z0-9.-]+)['\"]")
_PLIST_STRING = r"<key>{}</key>\s*<string>([^<]+)</string>"
_MANIFEST_PACKAGE = re.compile(r"<manifest\b[^>]*\bpackage=\"([A-Za-z0-9_.]+)\"")
_APPLICATION_ID = re.compile(r"\bapplicationId\s*=?\s*[\"']([A-Za-z0-9_.]+)[\"']")
_MAX_FILES = 20  # config files of this kind a repository has; more is a monorepo of apps, read the first


def advice(root: Path, path: str, finding: Finding, *, show_secrets: bool) -> tuple[str, tuple[str, ...]]:
    """What to tell the user for a public-by-design key at PATH: one paragraph and the commands."""
    text = _read_text(root, path)
    context = finding.context
    apis: list[str] = []
    flags: list[str] = []
    notes: list[str] = []
    if context == "maps-javascript":
        apis += _MAPS_JS
        if re.search(r"libraries=[^&\"']*places|places", text, re.IGNORECASE):
            apis.append("places-backend.googleapis.com")
        flags += _referrers(root, text, notes)
    elif context == "firebase-config" and path.rsplit("/", 1)[-1] == "google-services.json":
        apis += _firebase_apis(text)
        flags += _android_apps(root, notes)
    elif context == "firebase-config":
        apis += _firebase_apis(text)
        flags += _referrers(root, text, notes)
    elif context == "android-resource":
        if re.search(r"com\.google\.android\.geo\.API_KEY|maps", text, re.IGNORECASE):
            apis.append("maps-android-backend.googleapis.com")
        if re.search(r"google_api_key|google_app_id|firebase", text, re.IGNORECASE):
            apis += _firebase_apis(text)
        flags += _android_apps(root, notes)
    elif context == "ios-plist":
        apis += _firebase_apis(text) if "GoogleService-Info" in path or "GOOGLE_APP_ID" in text else []
        if re.search(r"GMSServices|GMSApiKey|maps", text, re.IGNORECASE):
            apis.append("maps-ios-backend.googleapis.com")
        flags += _bundle_ids(root, path, text, notes)
    if not apis:
        notes.append("the repository does not show which API the key serves: add --api-target=service=SERVICE "
                     "for each one it calls")
    key = shlex.quote(finding.secret) if show_secrets else '"$LEAKED_KEY"'
    commands = []
    if not show_secrets:
        commands.append(f"# first: LEAKED_KEY=<the key at {path}:{finding.line}, {redact(finding.secret)}> "
                        "(`keysentry fix --show-secrets` prints the commands with the key)")
    commands.append(f"KEY_NAME=$(gcloud services api-keys lookup {key} --format='value(name)')")
    update = ['gcloud services api-keys update "$KEY_NAME"']
    update += [f"--api-target=service={api}" for api in dict.fromkeys(apis)]
    update += flags
    commands.append(" \\\n    ".join(update))
    what = {"firebase-config": "a Firebase config", "maps-javascript": "a Maps JavaScript loader",
            "android-resource": "an Android app's resources", "ios-plist": "an iOS app's plist"}.get(context, "an app")
    text_out = (f"this key ships with {what} by design, so it stays; restrict it to the APIs and apps the "
                "repository shows it serves (an unrestricted key of a project with the Gemini API enabled can call "
                "Gemini and bill the project; if it was ever unrestricted, rotate it as well)")
    if notes:
        text_out += "; " + "; ".join(notes)
    return text_out, tuple(commands)


def _read_text(root: Path, path: str) -> str:
    try:
        data = files.read(root, path)
    except Refused:
        return ""
    return data.decode("utf-8", "replace") if data is not None else ""


def _firebase_apis(text: str) -> list[str]:
    return list(_FIREBASE_WEB) + [api for pattern, api in _FIREBASE_FIELDS if pattern.search(text)]


def _tracked(root: Path, pattern: str) -> list[str]:
    try:
        out = gitcmd.run(root, "ls-files", "-z", "--", f":(glob){pattern}")
    except Exception:
        return []
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p][:_MAX_FILES]


def _referrers(root: Path, text: str, notes: list[str]) -> list[str]:
    hosts = list(dict.fromkeys(_AUTH_DOMAIN.findall(text)))
    for rc in _tracked(root, "**/.firebaserc"):
        try:
            projects = json.loads(_read_text(root, rc) or "{}").get("projects", {})
        except (ValueError, AttributeError):
            continue
        for project in projects.values() if isinstance(projects, dict) else ():
            if isinstance(project, str) and re.fullmatch(r"[a-z0-9-]+", project):
                hosts += [f"{project}.web.app", f"{project}.firebaseapp.com"]
    for config in _tracked(root, "**/firebase.json"):
        try:
            hosting = json.loads(_read_text(root, config) or "{}").get("hosting", [])
        except (ValueError, AttributeError):
            continue
        for site in hosting if isinstance(hosting, list) else [hosting]:
            name = site.get("site") if isinstance(site, dict) else None
            if isinstance(name, str) and re.fullmatch(r"[a-z0-9-]+", name):
                hosts.append(f"{name}.web.app")
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        notes.append("the repository does not show the web app's domains: replace YOUR-DOMAIN with each domain "
                     "that loads the page")
        hosts = ["YOUR-DOMAIN"]
    return ["--allowed-referrers=" + shlex.quote(",".join(f"https://{h}/*" for h in hosts))]


def _android_apps(root: Path, notes: list[str]) -> list[str]:
    """--allowed-application for every (package, SHA-1) google-services.json names; packages from the
    manifest or Gradle's applicationId when it names no fingerprint."""
    apps: dict[tuple[str, str], None] = {}
    packages: dict[str, None] = {}
    for config in _tracked(root, "**/google-services.json"):
        try:
            data = json.loads(_read_text(root, config) or "{}")
        except ValueError:
            continue
        for client in data.get("client", []) if isinstance(data, dict) else []:
            if not isinstance(client, dict):
                continue
            info = client.get("client_info", {}).get("android_client_info", {})
            if isinstance(info, dict) and isinstance(info.get("package_name"), str):
                packages[info["package_name"]] = None
            for oauth in client.get("oauth_client", []):
                android = oauth.get("android_info", {}) if isinstance(oauth, dict) else {}
                package, sha1 = android.get("package_name"), android.get("certificate_hash")
                if isinstance(package, str) and isinstance(sha1, str) and re.fullmatch(r"[0-9a-fA-F]{40}", sha1):
                    apps[(package, ":".join(sha1[i:i + 2] for i in range(0, 40, 2)).upper())] = None
    for manifest in _tracked(root, "**/AndroidManifest.xml"):
        packages.update(dict.fromkeys(_MANIFEST_PACKAGE.findall(_read_text(root, manifest))))
    for gradle in _tracked(root, "**/build.gradle") + _tracked(root, "**/build.gradle.kts"):
        packages.update(dict.fromkeys(_APPLICATION_ID.findall(_read_text(root, gradle))))
    flags = [f"--allowed-application=sha1_fingerprint={sha1},package_name={package}" for package, sha1 in apps]
    missing = [p for p in packages if not any(p == package for package, _ in apps)]
    if missing:
        notes.append("the repository names no signing certificate for " + ", ".join(missing) +
                     ": replace SHA1 with the SHA-1 of the key that signs the app (`keytool -list -v` or the Play "
                     "console)")
        flags += [f"--allowed-application=sha1_fingerprint=SHA1,package_name={p}" for p in missing]
    if not flags:
        notes.append("the repository does not show the app's package name: add "
                     "--allowed-application=sha1_fingerprint=SHA1,package_name=PACKAGE")
    return flags


def _bundle_ids(root: Path, path: str, text: str, notes: list[str]) -> list[str]:
    ids = dict.fromkeys(re.findall(_PLIST_STRING.format("BUNDLE_ID"), text))
    for plist in _tracked(root, "**/GoogleService-Info.plist"):
        ids.update(dict.fromkeys(re.findall(_PLIST_STRING.format("BUNDLE_ID"), _read_text(root, plist))))
    clean = [i.strip() for i in ids if re.fullmatch(r"[A-Za-z0-9.-]+", i.strip())]
    if not clean:
        notes.append("the repository does not show the app's bundle id: add --allowed-bundle-ids=YOUR.BUNDLE.ID")
        return []
    return ["--allowed-bundle-ids=" + ",".join(clean)]
