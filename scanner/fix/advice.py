"""What `keysentry fix` would do with a finding, in one phrase, for the reports and the blocked-commit
message to name it as the next step. Judged from the path, rule and context alone (no file is read),
so it is cheap on the hook path; the fix itself still checks every place before it changes anything."""
from __future__ import annotations

from scanner.fix.languages import is_rc_file, is_spring_properties, language_of

PUBLIC_CONTEXTS = frozenset({"firebase-config", "maps-javascript", "android-resource", "ios-plist"})


def next_step(path: str, rule_id: str, context: str) -> str:
    """The phrase (after "`keysentry fix` ..."), or "" where keysentry fix leaves the finding to a person."""
    from scanner.rules import RULES_BY_ID
    from scanner.rules.base import Rule
    from scanner.rules.dotenv import DOTENV_FILE

    if "!" in path:
        return ""
    rule = RULES_BY_ID.get(rule_id)
    if rule_id == DOTENV_FILE.id or DOTENV_FILE.holds(path):
        return f"takes {path} out of git (the file stays on disk), ignores it and writes a .env.example of its names"
    if DOTENV_FILE.path.search(path):
        return "blanks the value in this template and keeps it in the git-ignored .env"
    if context in PUBLIC_CONTEXTS:
        return "prints the gcloud commands that restrict this key to what the app uses"
    if isinstance(rule, Rule) and rule.fix:
        return ""
    if is_spring_properties(path):
        return "replaces the key with a ${NAME} placeholder, which Spring reads from the environment"
    if is_rc_file(path):
        return "removes this export from the committed start-up file and keeps the value in the git-ignored .env"
    language = language_of(path)
    if language is None:
        return ""
    if language.name == "spring":
        return "replaces the key with a ${NAME} placeholder, which Spring reads from the environment"
    if language.name == "compose":
        return "replaces the key with ${NAME}, which Docker Compose reads from the git-ignored .env"
    if language.name == "workflow":
        return "replaces the key with a reference to an Actions secret (${{ secrets.NAME }})"
    return (f"replaces the key with an environment lookup ({language.name}) and keeps its value in the "
            "git-ignored .env")
