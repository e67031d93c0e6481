"""The quality report's document model and its renderings.

A ``Document`` is an ordered list of blocks (heading, paragraph, bullet list, table, figure). It renders to
Markdown (figures linked as ``figures/<name>``) and to one self-contained HTML page (figures embedded as base64
PNG); the report's numbers are serialised to JSON (NaN and ±inf become null). ``write_report_files`` writes
``report.md``, ``report.html`` and ``report.json`` atomically.

In text, ``**bold**`` and ```code``` spans are rendered by both formats. Numbers in tables: floats with ``digits``
decimals, booleans as yes/no, missing or non-finite values as "–".
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from samm_synth_dataset import format as fmt

#: Folder of the figures, next to the report files.
FIGURES = "figures"


@dataclass
class Document:
    """Blocks in reading order: ``(kind, value)`` with kind ``h``, ``p``, ``ul``, ``table`` or ``figure``."""

    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def items(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, df: pd.DataFrame, caption: str = "", digits: int = 3) -> None:
        """A table; a named index becomes the first column."""
        self.blocks.append(("table", (df, caption, digits)))

    def figure(self, name: str, caption: str) -> None:
        """A figure: ``name`` is a PNG file in the figures folder."""
        self.blocks.append(("figure", (name, caption)))

    def extend(self, other: Document) -> None:
        self.blocks.extend(other.blocks)


def cell(v: Any, digits: int) -> str:
    """One value as table text: None and non-finite floats "–", booleans yes/no, floats with ``digits`` decimals."""
    if v is None:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "–" if not math.isfinite(float(v)) else f"{float(v):.{digits}f}"
    return str(v)


def _rows(df: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    d = df.reset_index() if df.index.name else df
    head = [str(c) for c in d.columns]
    body = [[cell(v, digits) for v in row] for row in d.itertuples(index=False)]
    return head, body


def to_markdown(doc: Document) -> str:
    out: list[str] = []
    for kind, val in doc.blocks:
        if kind == "h":
            out.append("#" * val[0] + " " + val[1])
        elif kind == "p":
            out.append(val)
        elif kind == "ul":
            out.append("\n".join(f"- {i}" for i in val))
        elif kind == "table":
            df, caption, digits = val
            head, body = _rows(df, digits)
            lines = ([f"*{caption}*", ""] if caption else []) + ["| " + " | ".join(head) + " |",
                                                                 "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(r) + " |" for r in body]
            out.append("\n".join(lines))
        elif kind == "figure":
            name, caption = val
            out.append(f"![{caption}]({FIGURES}/{name})\n\n*{caption}*")
        out.append("")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,
th:first-child{text-align:left}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption,caption{font-size:.9em;color:#555;text-align:left;caption-side:top;padding:.3em 0}
code{background:#f3f3f3;padding:0 .2em}.table{max-width:100%}.table table{max-width:100%}
th{font-size:.85em;vertical-align:bottom;overflow-wrap:anywhere}td{overflow-wrap:break-word}th,td{padding:.2em .4em}"""


def to_html(doc: Document, figures_dir: Path, title: str) -> str:
    """One HTML page; each figure is read from ``figures_dir`` and embedded. Wide tables never scroll (a column
    scrolled out of view is a column unread): headers break after ``_`` and cells wrap, so a table fits the page."""
    e = html.escape
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    for kind, val in doc.blocks:
        if kind == "h":
            out.append(f"<h{val[0]}>{e(val[1])}</h{val[0]}>")
        elif kind == "p":
            out.append(f"<p>{_inline(val)}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in val) + "</ul>")
        elif kind == "table":
            df, caption, digits = val
            head, body = _rows(df, digits)
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body)
            out.append(f"<div class=\"table\"><table><caption>{e(caption)}</caption><thead><tr>"
                       + "".join(f"<th>{e(h).replace('_', '_<wbr>')}</th>" for h in head)
                       + f"</tr></thead><tbody>{rows}</tbody></table></div>")
        elif kind == "figure":
            name, caption = val
            b64 = base64.b64encode((figures_dir / name).read_bytes()).decode("ascii")
            out.append(f"<figure><img alt=\"{e(caption)}\" src=\"data:image/png;base64,{b64}\">"
                       f"<figcaption>{e(caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape, then render `code` spans and **bold**."""
    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)


def jsonable(obj: Any) -> Any:
    """``obj`` with DataFrames as lists of row dicts (a named index becomes a column), NumPy scalars as Python
    ones, NaN/±inf/NA as None and paths as strings."""
    if isinstance(obj, pd.DataFrame):
        d = obj.reset_index() if obj.index.name else obj
        return [jsonable(r) for r in d.to_dict(orient="records")]
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if obj is pd.NA or obj is None:
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def table_dict(title: str, df: pd.DataFrame, digits: int = 3) -> dict[str, Any]:
    """A table as ``{title, columns, rows}``: floats rounded to ``digits``, non-finite ones None."""
    d = df.reset_index() if df.index.name else df
    rows = [[round(float(v), digits) if isinstance(v, (float, np.floating)) and math.isfinite(float(v))
             else (None if isinstance(v, (float, np.floating)) else v) for v in r] for r in d.itertuples(index=False)]
    return {"title": title, "columns": [str(c) for c in d.columns], "rows": rows}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    """A new Matplotlib figure and its axes (``kwargs`` as ``Figure.subplots``), made without pyplot: no backend
    to set up, no global figure state, nothing to close. The one way this package makes a figure."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig: Figure, path: Path) -> str:
    """Save a figure as PNG (110 dpi) and return the file's name."""
    fig.savefig(path, dpi=110)
    return path.name


def write_report_files(out: Path, doc: Document, title: str, payload: dict[str, Any]) -> None:
    """Write ``report.md``, ``report.html`` (figures from ``out/figures``) and ``report.json`` (``payload``, as
    made by ``jsonable``) into ``out``, each atomically, UTF-8."""
    fmt.atomic_write_bytes(out / "report.md", to_markdown(doc).encode("utf-8"))
    fmt.atomic_write_bytes(out / "report.html", to_html(doc, out / FIGURES, title).encode("utf-8"))
    fmt.atomic_write_bytes(out / "report.json",
                       (json.dumps(payload, indent=1, allow_nan=False) + "\n").encode("utf-8"))
