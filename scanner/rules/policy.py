"""suppression-change: a gated change that widens its own exemptions (scanner.suppression finds
them). Not a content or whole-file rule: it is judged on the policy, never on a file's bytes, so
it is in the registry (reports, `keysentry rules`, SARIF) but in neither list the engine runs."""
from __future__ import annotations

from scanner import lazyre
from scanner.rules.dotenv import FileRule

SUPPRESSION_CHANGE = FileRule(
    id="suppression-change",
    severity="high",
    description="A change that widens its own suppression (config, baseline or inline marker)",
    level="error",
    remediation=(
        "A change cannot approve itself: the policy in force is the base's. To accept the change, land "
        "the config or baseline change on the target branch first, through its own review, and run the "
        "check again; or have a maintainer merge over the failed check. Else take the change to the "
        "config, baseline or inline marker out of this change."
    ),
    path=lazyre.compile(r"(?!)"),  # never matches a path: the engine never runs it
    template=lazyre.compile(r"(?!)"),
    fix="take the suppression change out of {path}, or land it on the target branch through its own review",
    gone="The suppression change is no longer in HEAD.",
    kind="a suppression change",
    rotate="rotate every key the change would have hidden (the change itself exposes none)",
    plain=True,
)
