"""keysentry: find leaked Google API keys and hardcoded api-key literals in git repositories."""

__version__ = "0.1.0"
