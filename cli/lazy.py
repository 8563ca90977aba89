"""The root command's sub-commands, each module imported only when its command is used.

A sub-command's module brings in what its commands need (SQLAlchemy models, phonenumbers' data,
the engine, matplotlib...): loading them all made `ringcast --help` take 3 to 5 s. The
root group (`LazyCommands`) lists the commands from a table (`Loaders`), each with its one-line
summary, and imports a command's module only when Click asks for that command to run it or to
show its own help. `ringcast --help` lists the table's summaries and imports no command module.
The summary is the command's help (a group's, or a function command's), so it is written once.
The stand-ins listed carry the summary only: a root-level command's other listing attributes
(hidden, deprecated, a help panel) would have to come from the table too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from difflib import get_close_matches
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup


def click_error(name: str) -> Any:
    """click's exception class `name` (typer vendors click: reach it through a public typer class)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_USAGE_ERROR = click_error("UsageError")


class Lazy(NamedTuple):
    """Where a sub-command is and what it does, in one line (its help)."""

    # "module:attribute" (a typer app: a group of commands; a function: one command), or a function
    # returning the typer app (for a group that takes commands from another module too)
    loader: str | Callable[[], typer.Typer]
    summary: str


Loaders = Mapping[str, Lazy]


def lazy_group(loaders: Loaders) -> type[TyperGroup]:
    """A root group class whose sub-commands `loaders` name."""

    class LazyCommands(TyperGroup):
        _listing = False  # while the root's help is formatted: commands stand in by their summary

        def format_help(self, ctx: Any, formatter: Any) -> None:
            self._listing = True
            try:
                super().format_help(ctx, formatter)
            finally:
                self._listing = False

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
                if self._listing:  # a stand-in for the list, not kept
                    return TyperCommand(cmd_name, help=loaders[cmd_name].summary)
                command = _loaded(cmd_name, loaders[cmd_name])
                self.add_command(command, cmd_name)
            return command

    return LazyCommands


def _loaded(name: str, lazy: Lazy) -> Any:
    if callable(lazy.loader):
        target: Any = lazy.loader()
    else:
        module, attribute = lazy.loader.split(":")
        target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name, group.help = name, lazy.summary
        return group
    single = typer.Typer(add_completion=False)
    single.command(name, help=lazy.summary)(target)
    return typer.main.get_command(single)
