"""Imports run one way: config -> letters -> petitions -> accounts -> mechanisms.

DESIGN.md promises a test that parses the imports and fails on an upward one; this is it. It reads
the source with `ast` (nothing is imported, so it is fast and sees function-level imports that a
runtime check would miss) and reports every offending `file:line imports module` at once, so one
run gives the whole list to fix.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. A layer may import itself and any layer below it; since config is the top,
# "nothing imports config except config" follows from the order.
LAYERS: tuple[str, ...] = ("mechanisms", "accounts", "petitions", "letters", "config")
RANK: dict[str, int] = {name: rank for rank, name in enumerate(LAYERS)}

# Letters use petitions only for petition concepts (DESIGN.md). Each entry is a petitions module
# letters may import from, with the names they may take from it. Widen it deliberately, here, when
# the lead decides a petitions module is a concept letters may build on.
LETTERS_MAY_IMPORT_FROM_PETITIONS: dict[str, frozenset[str]] = {
    "petitions.models": frozenset({"Petition", "Target", "Topic"}),
    # The drafting workflow both kinds of campaign go through (petitions/drafting/): letters plug
    # OpenLetter into it with a DraftKind of their own.
    "petitions.drafting.models": frozenset(
        {"CampaignInvitation", "CampaignVersion", "ReviewedCampaign"}
    ),
    "petitions.drafting.kinds": frozenset({"DraftKind", "draft_kind_register"}),
    "petitions.drafting.forms": frozenset({"DraftForm", "in_every_language"}),
    "petitions.drafting.admin": frozenset({"CampaignReviewAdminMixin", "ReviewQueueAdmin"}),
    # Sign-form questions (petitions/models/questions.py and around): a letter's individual
    # signers answer questions stored, checked, shown and counted the same way.
    "petitions.questions": frozenset(
        {"answers_shown", "answers_text", "answers_validate", "questions_of"}
    ),
    "petitions.question_forms": frozenset({"answers_take", "question_fields_add"}),
    "petitions.question_tallies": frozenset({"QuestionTally", "campaign_question_tallies"}),
    "petitions.services.questions": frozenset({"questions_publish"}),
    "petitions.admin.questions": frozenset({"QuestionInline"}),
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    module: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module} ({self.reason})"


def _module_name(*, relpath: str) -> tuple[str, bool]:
    """Dotted name of the module at relpath, and whether it is a package's __init__."""
    parts = list(Path(relpath).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(*, module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) `from` import names."""
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    # level 1 is the importer's own package; each extra dot climbs one package up.
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _imports(*, tree: ast.AST, importer: str, is_package: bool) -> list[tuple[int, str, list[str]]]:
    """Every import in the tree as (line, module, names); names is empty for `import x`."""
    found: list[tuple[int, str, list[str]]] = []
    # ast.walk reaches imports inside functions, classes, `if TYPE_CHECKING:` and try blocks too:
    # an upward import is upward wherever it sits.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(
                module=node.module, level=node.level, importer=importer, is_package=is_package
            )
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return sorted(found)


def _letters_petitions_violation(*, module: str, names: list[str]) -> str | None:
    allowed = LETTERS_MAY_IMPORT_FROM_PETITIONS.get(module)
    if allowed is None:
        return "letters may take only petition concepts, from " + ", ".join(
            sorted(LETTERS_MAY_IMPORT_FROM_PETITIONS)
        )
    # `import petitions.models` hands over the whole module, so it cannot be held to the names.
    extra = sorted(set(names) - allowed) if names else ["the whole module"]
    if extra:
        return (
            f"letters may take only {', '.join(sorted(allowed))} from {module}, not "
            + ", ".join(extra)
        )
    return None


def import_violations(*, relpath: str, source: str) -> list[Violation]:
    """The upward imports in one file, given its path relative to the repository root."""
    importer, is_package = _module_name(relpath=relpath)
    own_layer = importer.split(".")[0]
    own_rank = RANK[own_layer]
    tree = ast.parse(source, filename=relpath)
    violations: list[Violation] = []
    for line, module, names in _imports(tree=tree, importer=importer, is_package=is_package):
        # `from petitions import models` names the module petitions.models: judge that one.
        target_layer = module.split(".")[0]
        if target_layer not in RANK or target_layer == own_layer:
            continue
        if RANK[target_layer] > own_rank:
            violations.append(
                Violation(
                    path=relpath,
                    line=line,
                    module=module,
                    reason=f"{own_layer} is below {target_layer}",
                )
            )
        elif own_layer == "letters" and target_layer == "petitions":
            reason = _letters_petitions_violation(module=module, names=names)
            if reason:
                violations.append(Violation(path=relpath, line=line, module=module, reason=reason))
    return violations


def test_no_module_imports_upward() -> None:
    violations: list[Violation] = []
    scanned = 0
    for layer in LAYERS:
        # Migrations, templatetags and management commands live under their app and obey its rules.
        for path in sorted((ROOT / layer).rglob("*.py")):
            relpath = path.relative_to(ROOT).as_posix()
            violations.extend(
                import_violations(relpath=relpath, source=path.read_text(encoding="utf-8"))
            )
            scanned += 1
    # Guards against a wrong ROOT quietly scanning nothing.
    assert scanned > 50
    assert not violations, (
        f"{len(violations)} upward import(s); layers, bottom to top: {' < '.join(LAYERS)}\n"
        + "\n".join(str(v) for v in violations)
    )


def test_checker_reports_an_upward_import_wherever_it_sits() -> None:
    source = (
        "from __future__ import annotations\n"
        "import petitions.models\n"
        "def later() -> None:\n"
        "    from letters.services import letter_cosign\n"
    )

    found = import_violations(relpath="mechanisms/x.py", source=source)

    assert [(v.line, v.module) for v in found] == [(2, "petitions.models"), (4, "letters.services")]


def test_checker_resolves_relative_imports() -> None:
    def resolve(*, importer: str, is_package: bool, module: str | None, level: int) -> str:
        return _resolve(module=module, level=level, importer=importer, is_package=is_package)

    assert resolve(importer="petitions.services.x", is_package=False, module="models", level=2) == (
        "petitions.models"
    )
    assert resolve(importer="petitions.services", is_package=True, module=None, level=1) == (
        "petitions.services"
    )
    assert resolve(importer="petitions.views", is_package=False, module=None, level=1) == (
        "petitions"
    )
    # A relative import stays in its own app, so it is never upward.
    assert (
        import_violations(
            relpath="petitions/services/signing.py", source="from ..models import Petition\n"
        )
        == []
    )


def test_checker_holds_letters_to_petition_concepts() -> None:
    allowed = "from petitions.models import Petition, Target, Topic\n"
    not_a_concept = "from petitions.models import Signature\n"
    a_service = "from petitions.services import signature_create\n"

    assert import_violations(relpath="letters/views.py", source=allowed) == []
    assert [v.line for v in import_violations(relpath="letters/x.py", source=not_a_concept)] == [1]
    assert [v.line for v in import_violations(relpath="letters/x.py", source=a_service)] == [1]


def test_checker_lets_only_config_import_config() -> None:
    source = "from config.settings import DEBUG\n"

    assert import_violations(relpath="config/urls.py", source=source) == []
    assert [v.module for v in import_violations(relpath="letters/x.py", source=source)] == [
        "config.settings"
    ]
