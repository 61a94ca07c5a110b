"""The README documents every command and every view, and its quick start is what CI runs."""

from pathlib import Path

import typer.main

from storywatch.cli import app
from storywatch.warehouse.views import VIEWS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    click_group = typer.main.get_command(group)
    names = []
    for name, command in click_group.commands.items():
        if hasattr(command, "commands"):
            names += [f"{prefix}{name} {sub}" for sub in command.commands]
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_command_is_in_the_readme():
    commands = _commands(app)
    assert {"run", "demo", "serve", "report", "alerts test"} <= set(commands)
    for command in commands:
        assert f"storywatch {command}" in README, command


def test_every_public_view_is_documented():
    for view in VIEWS:
        if view != "latest_versions":  # internal helper view
            assert f"| `{view}` |" in README, view


def test_quick_start_is_what_ci_runs():
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text("utf-8")
