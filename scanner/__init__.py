"""keysentry: find leaked Google API keys and hardcoded api-key literals in git repositories."""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]), and a test
# keeps the README's `rev:` and `uses: …@v…` snippets in step with it.
__version__ = "0.2.0"

# Where the README lives: SARIF's helpUri and the GitLab report's identifiers link to its sections.
PROJECT_URL = "https://github.com/keysentry/keysentry"
