"""The root command's sub-commands, each module imported only when its command is used.

A sub-command's module brings in what its commands need (SQLAlchemy models, phonenumbers' data,
the engine, matplotlib...): loading them all took `ringcast` 2.6 s before doing anything. The
root group (`LazyCommands`) lists the names from a table (`Loaders`) and imports a command's module
when Click asks for that command: to run it, or to list the commands' help (`ringcast --help`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperGroup

# click's UsageError (typer vendors click: reach it through a public typer class)
_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
# name -> "module:attribute" (a typer app: a group of commands; a function: one command), or a
# function returning the typer app (for a group that takes commands from another module too)
Loaders = Mapping[str, str | Callable[[], typer.Typer]]


def lazy_group(loaders: Loaders) -> type[TyperGroup]:
    """A root group class whose sub-commands `loaders` name."""

    class LazyCommands(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            return [*loaders, *(name for name in super().list_commands(ctx) if name not in loaders)]

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            """As typer's, whose "did you mean" looks only at the commands loaded so far."""
            try:
                return super().resolve_command(ctx, args)
            except _USAGE_ERROR as error:
                matches = get_close_matches(args[0], list(loaders)) if args else []
                if matches and "Did you mean" not in error.message:
                    suggestions = ", ".join(map(repr, matches))
                    error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
                raise

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            command = super().get_command(ctx, cmd_name)
            if command is None and cmd_name in loaders:
                command = _loaded(cmd_name, loaders[cmd_name])
                self.add_command(command, cmd_name)
            return command

    return LazyCommands


def _loaded(name: str, loader: str | Callable[[], typer.Typer]) -> Any:
    if callable(loader):
        target: Any = loader()
    else:
        module, attribute = loader.split(":")
        target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)
