"""Which commit introduced each secret at each path: pure logic over parsed commits and blob hits.

A secret is introduced at a path by the oldest commit whose blob there holds it while no parent's
blob there did. A commit in which the same secret leaves another path is a move, not an
introduction: the finding keeps its original commit and path.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanner.models import Match, secret_key
from scanner.sources.gitlog import NULL_OID, Commit

SecretKey = tuple[str, str]  # (rule id, identity): models.secret_key
Site = tuple[SecretKey, str]  # a secret at a path


@dataclass(frozen=True)
class Introduction:
    site: Site
    match: Match
    commit: str
    author: str
    date: str
    timestamp: int


# What a blob holds at a path: its content's matches and the path's own (dotenv-file), or nothing
# at an excluded path. The scan loop decides; attribution only asks.
Lookup = Callable[[str, str], tuple[Match, ...]]


class Attributor:
    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup
        self.found: dict[Site, Introduction] = {}
        self._moved: dict[Site, Site] = {}  # a site a secret moved to -> where it came from

    def keys(self, oid: str, path: str) -> dict[SecretKey, Match]:
        found: dict[SecretKey, Match] = {}
        if oid == NULL_OID:
            return found
        for m in self._lookup(oid, path):
            found.setdefault(secret_key(m), m)
        return found

    def origin(self, site: Site) -> Site:
        seen = set()
        while site in self._moved and site not in seen:
            seen.add(site)
            site = self._moved[site]
        return site

    def feed(self, commit: Commit) -> None:
        arrived: dict[Site, Match] = {}
        left: dict[SecretKey, list[str]] = {}
        for change in commit.changes:
            new = self.keys(change.new, change.path)
            before = [self.keys(oid, change.path) for oid in change.old]
            had = set().union(*before) if before else set()
            for key, match in new.items():
                if key not in had:
                    arrived[(key, change.path)] = match
            if len(before) == 1:
                for key in before[0].keys() - new.keys():
                    left.setdefault(key, []).append(change.path)
        for site, match in arrived.items():
            key, path = site
            sources = [p for p in left.get(key, ()) if p != path]
            if sources:
                self._moved.setdefault(site, self.origin((key, sources[0])))
                continue
            if site in self._moved:
                continue  # the secret came back to a path it had been moved to: same finding
            earlier = self.found.get(site)
            if earlier is None or commit.timestamp < earlier.timestamp:
                self.found[site] = Introduction(site, match, commit.sha, commit.author, commit.date, commit.timestamp)

    def head_places(self, head: Iterable[tuple[str, str]]) -> dict[Site, tuple[tuple[str, Match], ...]]:
        """For each finding, the places in HEAD where its secret lives: at its own path or where it
        moved, each match there (a secret twice in a file is two places), sorted by path and line.

        A secret in HEAD at a path that no finding accounts for moved there through commits we did
        not follow (a rename after a range): it counts for the findings of the same secret that
        are nowhere else in HEAD."""
        present: dict[Site, list[Match]] = {}
        for path, oid in head:
            if oid == NULL_OID:
                continue
            for m in self._lookup(oid, path):
                present.setdefault((secret_key(m), path), []).append(m)
        located: dict[Site, list[tuple[str, Match]]] = {site: [] for site in self.found}
        strays: dict[SecretKey, list[tuple[str, Match]]] = {}
        for site, matches in present.items():
            root = self.origin(site)
            places = [(site[1], m) for m in matches]
            if root in located:
                located[root].extend(places)
            else:
                strays.setdefault(site[0], []).extend(places)
        for site, places in located.items():
            if not places:
                places.extend(strays.get(site[0], ()))
        return {site: tuple(sorted(places, key=lambda p: (p[0], p[1].line, p[1].column)))
                for site, places in located.items()}

    def head_paths(self, head: Iterable[tuple[str, str]]) -> dict[Site, tuple[str, ...]]:
        """For each finding, the paths in HEAD where its secret lives: its own or where it moved."""
        return {site: tuple(dict.fromkeys(path for path, _ in places))
                for site, places in self.head_places(head).items()}
