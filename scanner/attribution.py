"""Which commit introduced each secret at each path: pure logic over parsed commits and blob hits.

A secret is introduced at a path by the oldest commit whose blob there holds it while no parent's
blob there did. A commit in which the same secret leaves another path is a move, not an
introduction: the finding keeps its original commit and path.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanner.models import Match
from scanner.sources.gitlog import NULL_OID, Commit

SecretKey = tuple[str, str]  # (rule id, identity)
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
            found.setdefault((m.rule_id, m.identity), m)
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

    def head_paths(self, head: Iterable[tuple[str, str]]) -> dict[Site, tuple[str, ...]]:
        """For each finding, the paths in HEAD where its secret lives: its own or where it moved.

        A secret in HEAD at a path that no finding accounts for moved there through commits we did
        not follow (a rename after a range): it counts for the findings of the same secret that
        are nowhere else in HEAD."""
        present: set[Site] = set()
        for path, oid in head:
            for key in self.keys(oid, path):
                present.add((key, path))
        located: dict[Site, list[str]] = {site: [] for site in self.found}
        strays: dict[SecretKey, list[str]] = {}
        for site in present:
            root = self.origin(site)
            if root in located:
                located[root].append(site[1])
            else:
                strays.setdefault(site[0], []).append(site[1])
        for site, paths in located.items():
            if not paths:
                paths.extend(strays.get(site[0], ()))
        return {site: tuple(sorted(paths)) for site, paths in located.items()}
