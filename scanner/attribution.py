"""Which commit introduced each secret at each path, and every later path it was carried to:
pure logic over parsed commits and blob hits.

A secret is introduced at a path by the oldest commit whose blob there holds it while no parent's
blob there did. Where it goes next is the finding's `moved_to`, each path with the commit that
carried the secret there:
- a move (a rename, or a secret cut from one file and pasted into another): in one commit the
  secret leaves a path (its only parent's blob there held it, the new blob does not) and arrives
  at another. Judged by the secret, not by git's similarity of whole files, so a key moved into a
  file that is otherwise different is followed as well. A move is not an introduction: the finding
  keeps its original commit and path, and a chain a -> b -> c puts b and c on a's finding.
- a copy: the secret arrives at a path while a parent of the commit still holds it at a path it
  was seen at before (the same blob added under a second name, or the line pasted into a second
  file). The copy is a finding of its own (its path has its own fingerprint and commit, as the
  baseline needs), and also a place the original's finding was carried to.
A secret that turns up at a new path while no parent holds it anywhere it was seen (added again
after it was deleted, or on an unrelated branch) was not carried: it is a new introduction only.
Whether a parent still holds it is asked of git after the walk (`settle_copies`), and only for
secrets already seen at another path: a handful on most histories.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanner.models import Match, secret_key
from scanner.sources.gitlog import NULL_OID, Commit

SecretKey = tuple[str, str]  # (rule id, identity): models.secret_key
Site = tuple[SecretKey, str]  # a secret at a path
# Which blob a commit's tree holds at a path, None for none (scanner.sources.treeblobs asks git).
Ask = Callable[[str, str], "str | None"]
# How many earlier paths of a secret are asked about for one arrival (see settle_copies).
COPY_TRIES = 64


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


@dataclass(frozen=True)
class Carried:
    """A later path a finding's secret was carried to, and the commit that carried it there."""

    path: str
    commit: str
    timestamp: int


@dataclass(frozen=True)
class _Arrival:
    """A secret that arrived at a path where it had been seen elsewhere before: maybe a copy."""

    site: Site
    commit: str
    parents: tuple[str, ...]
    timestamp: int
    seen: int  # how many paths the secret had been seen at when it arrived (the candidates)


class Attributor:
    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup
        self.found: dict[Site, Introduction] = {}
        self._moved: dict[Site, Site] = {}  # a site a secret moved to -> where it came from
        # A finding's site -> each later path its secret was carried to, with the earliest commit
        # that did (a move cherry-picked onto two branches is one path).
        self._carried: dict[Site, dict[str, Carried]] = {}
        self._seen: dict[SecretKey, dict[str, None]] = {}  # every path each secret arrived at
        self._arrivals: list[_Arrival] = []

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

    def _carry(self, origin: Site, path: str, commit: str, timestamp: int) -> None:
        if path == origin[1]:
            return  # back where it was introduced: nothing later to show
        places = self._carried.setdefault(origin, {})
        known = places.get(path)
        if known is None or timestamp < known.timestamp:
            places[path] = Carried(path, commit, timestamp)

    def moved_to(self, site: Site) -> tuple[Carried, ...]:
        """Every later path the finding at SITE had its secret carried to, oldest first."""
        return tuple(sorted(self._carried.get(site, {}).values(), key=lambda c: (c.timestamp, c.path)))

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
                self._carry(self.origin(site), path, commit.sha, commit.timestamp)
                continue
            if site in self._moved:
                continue  # the secret came back to a path it had been moved to: same finding
            earlier = self.found.get(site)
            if earlier is None or commit.timestamp < earlier.timestamp:
                self.found[site] = Introduction(site, match, commit.sha, commit.author, commit.date, commit.timestamp)
            # A whole-file finding's identity is its file (a .env), not a value: two such files are
            # not copies of each other for holding the same kind of thing.
            seen = self._seen.get(key)
            if key[1] and commit.parents and seen and (len(seen) > 1 or path not in seen):
                self._arrivals.append(_Arrival(site, commit.sha, commit.parents, commit.timestamp, len(seen)))
        for key, path in arrived:  # after the commit: its own arrivals are not each other's sources
            self._seen.setdefault(key, {})[path] = None

    def settle_copies(self, ask: Ask) -> None:
        """Each arrival whose parent still held its secret at a path it was seen at before is a
        copy from there. ASK(commit, path) tells the blob a commit holds at a path (None: none).
        The most recent paths are asked first and the first that holds it ends the search, at
        most COPY_TRIES per parent: a secret copied into 400 files one commit at a time costs 400
        questions. One that only an older path among more than COPY_TRIES held is not traced."""
        for arrival in self._arrivals:
            key, path = arrival.site
            earlier = list(self._seen[key])[:arrival.seen]
            earlier.reverse()
            source = next((other for parent in arrival.parents for other in earlier[:COPY_TRIES + 1]
                           if other != path and (oid := ask(parent, other)) is not None
                           and key in self.keys(oid, other)), None)
            if source is not None:
                self._carry(self.origin((key, source)), path, arrival.commit, arrival.timestamp)
        self._arrivals.clear()

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
