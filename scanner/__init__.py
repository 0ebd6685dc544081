"""keysentry: find leaked Google API keys and hardcoded api-key literals in git repositories."""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]). Between
# releases it is the next one's development version (X.Y.Z.dev0); tests keep the README's `rev:`
# and `uses: …@v…` snippets on the latest release, and the release workflow publishes a tag only
# when it names this version.
__version__ = "0.3.0.dev0"

# Where the README lives: SARIF's helpUri and the GitLab report's identifiers link to its sections.
PROJECT_URL = "https://github.com/keysentry/keysentry"
