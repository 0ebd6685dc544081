"""keysentry: find leaked Google API keys and hardcoded api-key literals in git repositories."""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]). Between
# releases it is the next one's development version (X.Y.Z.dev0); tests keep the README's `rev:`
# and `uses: …@v…` snippets on the latest release, and the release workflow publishes a tag only
# when it names this version.
__version__ = "0.3.0.dev0"

# Where the project lives; SARIF's helpUri and the GitLab report's identifiers link to each rule's
# section of the rules page (docs/rules.md, made from the registry: scanner.rules.reference).
PROJECT_URL = "https://github.com/keysentry/keysentry"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"


def rule_url(rule_id: str) -> str:
    """The documentation of RULE_ID: its section of the rules page."""
    return f"{RULES_DOC_URL}#{rule_id}"
