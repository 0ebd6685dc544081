"""The one exception family; cli.py turns it into a message and exit status 2."""
from __future__ import annotations


class KeysentryError(Exception):
    """A problem the user can act on; its message is printed as one line."""


class UsageError(KeysentryError):
    """Bad command-line input: a missing path, a bad option value."""


class ConfigError(KeysentryError):
    """A configuration or baseline file that cannot be used as written."""


class GitError(KeysentryError):
    """git refused or failed: not a repository, a bad revision, a corrupt object."""


class ResourceError(KeysentryError):
    """The system refused what the scan needs: worker processes (a process limit), memory."""
