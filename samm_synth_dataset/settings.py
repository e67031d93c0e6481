"""Command-line flags derived from a dataclass: each setting is defined once, as a field.

A field's ``metadata`` says how it appears on the command line: ``flag(help, ...)`` (a ``Flag``) or
``not_a_flag(why)``. From them ``add_arguments`` adds one ``--field-name`` flag per field:

* ``bool``: default False → a ``store_true`` switch ``--name``; default True → a ``--no-name`` switch that
  sets False;
* ``int``/``float``/``str``/``Path`` (also ``X | None``): one value of that type;
* ``tuple[str, ...]``: ``nargs`` (e.g. ``"+"``) or ``append=True`` (a repeatable flag, one value each);
* ``parse``: the flag takes one string, and ``parse(string)`` is the field's value (e.g. ``both`` → a tuple).

The help shows the field's default, rendered from the dataclass (``none`` words what a None default means).
Flags the user did not give stay out of the parsed namespace (``argparse.SUPPRESS``), so ``given(args, cls)``
returns only what was given on the command line and a config file can supply the rest.

Standard library only: every stage may use it.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Sequence

#: The ``dataclasses.field(metadata=...)`` key under which a ``Flag`` or ``NotAFlag`` is stored.
METADATA_KEY = "settings.flag"


@dataclass(frozen=True)
class Flag:
    """How a field appears on the command line. ``name``: the flag without its dashes (default: the field name
    with ``-`` for ``_``; for a bool defaulting to True, ``no-`` + that). ``choices``/``metavar``/``nargs``: as
    in argparse. ``append``: a repeatable flag collecting one value each time. ``parse``: maps the one string
    given to the field's value. ``none``: what a None default means, shown as the default (default "none").
    ``show_default``: False when ``help`` already says what the default is."""

    help: str
    name: str | None = None
    choices: Sequence[Any] | None = None
    metavar: str | None = None
    nargs: str | None = None
    append: bool = False
    parse: Callable[[str], Any] | None = None
    none: str | None = None
    show_default: bool = True


@dataclass(frozen=True)
class NotAFlag:
    """A field that is deliberately not on the command line, and why (e.g. set by a config file only)."""

    why: str


def flag(help: str, **options: Any) -> dict[str, Any]:
    """``dataclasses.field`` metadata making the field a flag (``options``: the fields of ``Flag``)."""
    return {METADATA_KEY: Flag(help, **options)}


def not_a_flag(why: str) -> dict[str, Any]:
    """``dataclasses.field`` metadata marking the field as deliberately not a flag."""
    return {METADATA_KEY: NotAFlag(why)}


def spec(f: dataclasses.Field[Any]) -> Flag | NotAFlag:
    """The field's ``Flag`` or ``NotAFlag``; TypeError when it has neither (every field must say)."""
    value = f.metadata.get(METADATA_KEY)
    if not isinstance(value, (Flag, NotAFlag)):
        raise TypeError(f"field {f.name!r} has no flag metadata: give it metadata=flag(...) or not_a_flag(...)")
    return value


def flag_fields(cls: type) -> list[tuple[dataclasses.Field[Any], Flag]]:
    """The fields of dataclass ``cls`` that are flags, in field order, with their ``Flag``."""
    out = []
    for f in dataclasses.fields(cls):
        s = spec(f)
        if isinstance(s, Flag):
            out.append((f, s))
    return out


def has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def default_of(f: dataclasses.Field[Any]) -> Any:
    """The field's default value (``default_factory`` called); check ``has_default`` first."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def flag_name(f: dataclasses.Field[Any], fl: Flag) -> str:
    """``--name`` of the field's flag."""
    if fl.name:
        return f"--{fl.name}"
    name = f.name.replace("_", "-")
    if has_default(f) and default_of(f) is True:
        name = f"no-{name}"
    return f"--{name}"


def default_text(f: dataclasses.Field[Any], fl: Flag) -> str | None:
    """The default as the help shows it; None when none is shown (no default, a switch, ``show_default``
    False). Floats in ``%g`` form, tuples space-separated, an empty tuple or None as ``fl.none`` or "none"."""
    if not fl.show_default or not has_default(f):
        return None
    value = default_of(f)
    if isinstance(value, bool):
        return None
    if value is None or value == ():
        return fl.none or "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def _value_type(hint: Any) -> tuple[Any, bool]:
    """(the type of one value, whether the field is a tuple) from a field's type hint; ``X | None`` → X."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"cannot derive a flag from the type {hint}")
        hint = args[0]
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0], True
    return hint, False


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type) -> None:
    """Add a flag for each flag field of dataclass ``cls`` (see the module docstring); dest = the field name."""
    hints = typing.get_type_hints(cls)
    for f, fl in flag_fields(cls):
        text = default_text(f, fl)
        help_text = fl.help + (f" (default: {text})" if text is not None else "")
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS,
                                  "help": help_text.replace("%", "%%")}
        value_type, is_tuple = _value_type(hints[f.name])
        if value_type is bool:
            if not has_default(f):
                raise TypeError(f"bool field {f.name!r} needs a default to become a switch")
            kwargs["action"] = "store_false" if default_of(f) is True else "store_true"
        else:
            if fl.parse is None:
                kwargs["type"] = value_type
                if is_tuple:
                    if fl.append:
                        kwargs["action"] = "append"
                    elif fl.nargs is None:
                        raise TypeError(f"tuple field {f.name!r} needs nargs=... or append=True (or a parse)")
            if fl.nargs is not None:
                kwargs["nargs"] = fl.nargs
            if fl.choices is not None:
                kwargs["choices"] = list(fl.choices)
            if fl.metavar is not None or fl.choices is None:  # argparse shows the choices themselves
                kwargs["metavar"] = fl.metavar or flag_name(f, fl).lstrip("-").replace("-", "_").upper()
        parser.add_argument(flag_name(f, fl), **kwargs)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The values of the flags of ``cls`` given on the command line, by field name: ``parse`` applied, lists
    as tuples; flags not given are absent."""
    values: dict[str, Any] = {}
    present = vars(args)
    for f, fl in flag_fields(cls):
        if f.name not in present:
            continue
        value = present[f.name]
        if fl.parse is not None:
            value = fl.parse(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return values


def missing_required(cls: type, values: dict[str, Any]) -> list[str]:
    """The flag names (``--name``) of the fields of ``cls`` without a default that ``values`` lacks."""
    return [flag_name(f, fl) for f, fl in flag_fields(cls) if not has_default(f) and f.name not in values]


def settings_from_args(args: argparse.Namespace, cls: type, **fixed: Any) -> Any:
    """``cls`` from the given flags, its defaults for the rest and ``fixed`` values (set by the caller)."""
    return cls(**{**given(args, cls), **fixed})
