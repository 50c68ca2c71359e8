"""The root group's commands, each imported only when it is looked up: click's lazy-loading pattern under Typer.

Click documents lazily loaded subcommands as a `Group` whose `get_command` imports the command's module on
demand; Typer accepts such a group class (`typer.Typer(cls=...)`). Here the group's `commands` mapping knows every
name from the start (listings, "Did you mean ...?" suggestions) and builds a command the first time its value is
asked for, through Typer's own public path (`Typer.command` / `Typer.add_typer`, then `typer.main.get_group`), so
each command, its options and its help are exactly what eager registration made. `hedgectl positions` imports the
positions module alone; `--help` and completion, which ask for every command, import them all.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

from hedgectl.errors import Interrupted


@dataclass(frozen=True)
class LazyCommand:
    """A command by name: `attr` of `module`, a function (its help is the module's `HELP`) or a Typer sub-app."""

    name: str
    module: str
    attr: str

    def build(self, parent: TyperGroup) -> Any:
        """Import the module and make the click command as the eager `app.command` / `app.add_typer` did."""
        module = import_module(self.module)
        target = getattr(module, self.attr)
        holder = typer.Typer(add_completion=False, rich_markup_mode=parent.rich_markup_mode)
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=self.name)
        else:
            holder.command(self.name, help=module.HELP)(target)
        return typer.main.get_group(holder).commands[self.name]


class _LazyCommands(MutableMapping[str, Any]):
    """Every command's name at once; a command built on its first lookup and kept."""

    def __init__(self, group: TyperGroup, eager: MutableMapping[str, Any], lazy: tuple[LazyCommand, ...]) -> None:
        self._group = group
        self._lazy = {spec.name: spec for spec in lazy if spec.name not in eager}
        self._built: dict[str, Any] = dict(eager)
        self._order = [*eager, *self._lazy]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            spec = self._lazy[name]  # KeyError for an unknown name, as a dict: `get` answers None
            try:
                self._built[name] = spec.build(self._group)
            except KeyError as exc:  # not "no such command": `get` would swallow it
                raise RuntimeError(f"command {name!r} could not be built") from exc
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._order:
            self._order.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(name)
        self._order.remove(name)
        self._built.pop(name, None)
        self._lazy.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


class LazyTyperGroup(TyperGroup):
    """A TyperGroup whose subclass lists `LAZY`: those commands load on first lookup, in the order listed."""

    LAZY: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _LazyCommands(self, self.commands, self.LAZY)

    # typer turns a KeyboardInterrupt raised while it reads the command line or runs a command into a silent exit
    # 130. A command's run turns its own into one line (cli/common.run_command); one that comes before (loading the
    # command, checking its options) or outside it (a command that sends nothing) is `Interrupted` here: one line.
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise Interrupted(Interrupted.STARTING) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted: no order was sent") from None

    def list_commands(self, ctx: Any) -> list[str]:  # Any: typer types it with its vendored click's Context
        """The names, without building the commands (TyperGroup's own walks the values)."""
        return list(self.commands)
