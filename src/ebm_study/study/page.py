"""The study on one page: `study.html` on the sweep's parent run (MLflow's artifact view renders
it) and `ebm-study-report --html PATH`. Self-contained, so it opens anywhere and offline: the
pictures are embedded, there is no script, no font or style sheet fetched. The verdict comes
first, then the per-setting table, then each picture with a sentence on what to read from it.

Everyone on a team's server opens it, and term names, categories and settings come from users'
files: every string is escaped here, ours too (a sentence quotes a user's column name).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from ebm_study.study.compute import Study
from ebm_study.study.tables import SCORE_NAMES

# What each picture says, under it. Shapes are captioned one by one (`shape_caption`).
CAPTIONS = {
    "one_setting": "The sweep's one setting: its mean test {score} (across) and its top-{k} "
    "stability (up), each with its 95% interval by split seed. With one setting there is nothing "
    "to recommend between; sweep another hyperparameter to compare.",
    "accuracy": "Each setting's mean test {score} (across) and its top-{k} stability (up), each "
    "with its 95% interval by split seed. The dashed line is the Pareto front: the settings no "
    "other beats on both. The recommended setting is ringed; the settings that cannot be told "
    "apart from it on either objective are marked: where the bars overlap, a gap between points "
    "is not a difference.",
    "frequency": "How often each term is in a run's top {k}, with its 95% interval. A term is "
    "reliably on top only when the lower end of its interval reaches {reliable:.0%}; a term "
    "near the middle swaps in and out with the seed.",
    "ranks": "Each term's rank (the number in the cell) in each run (a column), runs grouped by "
    "setting; each run's top {k} is outlined. A row that is outlined in every column is a term "
    "every retrain puts on top; rows outlined now and then are the terms that trade places.",
    "near_best": "Each term's importance over every near-best model (the settings the score "
    "cannot separate from the best): the range, the 5th-95th percentile and the best run. A "
    "conclusion that holds across the whole bar holds whichever of these models is used.",
}


@dataclass(frozen=True)
class Picture:
    title: str
    png: bytes  # the picture as the parent run holds it (`png`)
    caption: str


@dataclass(frozen=True)
class Section:
    """A part of the study with its own heading (the per-row study): sentences, a picture."""

    title: str
    sentences: Sequence[str]
    picture: Picture | None = None


def png(figure: Figure) -> bytes:
    """The figure as the PNG file logged and embedded (100 dpi, as MLflow's log_figure): drawn
    once for both."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def inline(markdown: str) -> str:
    """One of the study's Markdown sentences as HTML: escaped first, then its **bold** and
    `code` (the only Markdown the sentences use) made tags; nothing else becomes markup."""
    text = html.escape(markdown, quote=True)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def table_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
margin:0;padding:16px 24px;max-width:1180px;box-sizing:border-box}
h1{font-size:20px;margin:0 0 2px}h2{font-size:17px;margin:22px 0 8px}
.meta{color:#57606a;font-size:13px;margin:0 0 12px;overflow-wrap:anywhere}
.verdict{border-left:5px solid #1f6feb;background:#f3f7ff;padding:10px 16px;margin:0 0 8px}
.verdict p{margin:6px 0}
table{border-collapse:collapse;font-size:13.5px;margin:4px 0}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td+td{white-space:nowrap}.scroll{overflow-x:auto;max-width:100%}
figure{margin:18px 0 26px}figure img{max-width:100%;height:auto;display:block;
border:1px solid #eaeef2}figcaption{color:#373e47;margin-top:6px;max-width:900px}
ul{padding-left:20px}li{margin:4px 0}code{font-size:12.5px;background:#f6f8fa;padding:0 3px}
td,th,.meta,li,p,figcaption{overflow-wrap:break-word}
"""


def page(
    title: str,
    meta: str,
    verdict: Sequence[str],
    settings: pd.DataFrame | None,
    pictures: Sequence[Picture],
    details: Sequence[str],
    sections: Sequence[Section] = (),
) -> str:
    """The whole page. `verdict` and `details`: Markdown sentences (study/words.py's); `meta`:
    plain text (which sweep, where, when)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network: nothing is fetched, whatever a string in the page might say.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(meta)}</p>',
        '<section class="verdict" id="verdict">',
        *(f"<p>{inline(s)}</p>" for s in verdict if s),
        "</section>",
    ]
    if settings is not None and len(settings):
        parts += ["<h2>Per setting</h2>", f'<div class="scroll">{table_html(settings)}</div>']
    if pictures:
        parts.append("<h2>Pictures</h2>")
    parts += [figure_html(picture) for picture in pictures]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{inline(s)}</p>" for s in section.sentences if s]
        if section.picture is not None:
            parts.append(figure_html(section.picture))
    if details:
        parts += ["<h2>Details</h2>", "<ul>", *(f"<li>{inline(s)}</li>" for s in details), "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def figure_html(picture: Picture) -> str:
    alt = html.escape(picture.title, quote=True)
    return "\n".join(
        [
            f'<figure><img src="{data_uri(picture.png)}" alt="{alt}">',
            f"<figcaption><strong>{alt}.</strong> {inline(picture.caption)}</figcaption>",
            "</figure>",
        ]
    )


def pictures(
    study: Study,
    images: Mapping[str, bytes],
    names: Mapping[str, str],
    shape_captions: Mapping[str, tuple[str, str]],
) -> list[Picture]:
    """The study's pictures in reading order with their captions. `names`: the artifact path of
    each kind (accuracy, frequency, ranks, near_best); `shape_captions`: a shape picture's
    path -> (its term, its caption), in order."""
    k, reliable = study.settings.top_k, study.settings.reliable
    score = SCORE_NAMES.get(study.score, study.score)
    titles = {
        "accuracy": "Accuracy against stability, one point a setting",
        "frequency": f"Top-{k} frequency of each term",
        "ranks": "Rank of each term in each run",
        "near_best": "Every near-best model",
    }
    out = []
    for kind in ("accuracy", "frequency", "ranks", "near_best"):
        path = names.get(kind)
        if path in images:
            alone = kind == "accuracy" and study.pareto is None
            caption = CAPTIONS["one_setting" if alone else kind]
            caption = caption.format(k=k, score=score, reliable=reliable)
            out.append(Picture(titles[kind], images[path], caption))
    for path, (term, caption) in shape_captions.items():
        if path in images:
            out.append(Picture(f"Shape of {term}", images[path], caption))
    return out
