"""The layers: the kernel of `bot/` and the features that the command line shares with the
dialogs import nothing from `conversations/`, not even through another module (read statically
from the source with `ast`, so an import inside a function counts too)."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

KERNEL = [
    "gate",
    "access",
    "context",
    "i18n",
    "commands",
    "menus",
    "errors",
    "flood",
    "ordering",
    "actions",
]
SHELL = ["__main__", "app", "runner", "cli", "demo"]  # the process: wires the dialogs in
# Used by dialogs, the command line and the dashboard alike.
SHARED = ["labels", "export", "chart", "reminders", "web", "web.server", "web.pages", "web.auth"]


def source_of(module: str) -> Path | None:
    """The file of a module of this repository (`bot.gate` → bot/gate.py), None for others."""
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(module: str) -> set[str]:
    """The modules a module's source names in `import` statements, wherever they are."""
    names = set()
    for node in ast.walk(ast.parse(source_of(module).read_text(), module)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            for alias in node.names:  # `from bot import labels` names the module bot.labels
                if source_of(f"{node.module}.{alias.name}"):
                    names.add(f"{node.module}.{alias.name}")
    return names


def path_to_conversations(module: str) -> list[str] | None:
    """A chain of imports from `module` to a module of conversations/, or None."""
    seen, queue = {module}, [[module]]
    while queue:
        chain = queue.pop(0)
        for name in sorted(imports_of(chain[-1])):
            if name == "conversations" or name.startswith("conversations."):
                return [*chain, name]
            if name not in seen and source_of(name):
                seen.add(name)
                queue.append([*chain, name])
    return None


@pytest.mark.parametrize("name", KERNEL + SHARED)
def test_kernel_and_shared_modules_import_no_dialog(name):
    chain = path_to_conversations(f"bot.{name}")
    assert chain is None, " imports ".join(chain)


def test_only_the_process_shell_wires_the_dialogs_in():
    """Every module of bot/ but the process shell, including ones added later, stays below."""
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "bot").rglob("*.py")
    }
    wiring = {name for name in modules if path_to_conversations(name)}
    assert wiring == {f"bot.{name}" for name in SHELL}


def test_the_check_sees_the_wiring_import_the_dialogs():
    assert path_to_conversations("bot.app")[:2] == ["bot.app", "conversations"]
    assert path_to_conversations("bot.runner")[:2] == ["bot.runner", "bot.app"]
