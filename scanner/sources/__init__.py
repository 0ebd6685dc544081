"""Sources yield content with its provenance; only they talk to git or the filesystem."""
