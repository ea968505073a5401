"""The study's page and description show users' strings as text, never as markup."""

import re

import pandas as pd
from matplotlib.figure import Figure

from ebm_study.study import page
from ebm_study.study.outputs import markdown_safe

HOSTILE = "<img src=x onerror=alert(1)>"


def figure() -> Figure:
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [0, 1])
    return fig


def test_the_page_escapes_every_string_and_keeps_its_own_emphasis():
    table = pd.DataFrame({"setting": [f"a|{HOSTILE}"], "runs": ["4"]})
    html = page.page(
        f"Stability study: sweep data.target={HOSTILE}",
        f"sweep run 1 in {HOSTILE}",
        [f"**Reliably in the top 5** (`reliable_top_k.json`): **{HOSTILE}** (100%)."],
        table,
        [page.Picture(f"Shape of {HOSTILE}", page.png(figure()), f"{HOSTILE} agrees `1.00`.")],
        [f'A "quoted" {HOSTILE} & more.'],
    )
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html.replace("&gt;", "")
    # title and heading, meta, verdict, table, alt, picture title, caption, details
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 9
    assert f"<strong>{page.html.escape(HOSTILE)}</strong>" in html  # ours made bold
    assert "<code>reliable_top_k.json</code>" in html
    assert len(re.findall(r"<img ", html)) == 1  # the one picture, embedded
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="Shape of &lt;', html)
    assert "default-src 'none'" in html  # nothing fetched, whatever a string says


def test_the_description_cannot_carry_markup_or_links_from_a_users_file():
    text = markdown_safe(f"**{HOSTILE}** and [click](javascript:alert(1)) in `code`.")
    assert "<" not in text and ">" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert r"\[click\](javascript:alert(1))" in text
    assert text.startswith("**") and "`code`" in text  # the study's own Markdown stays
    # A user's backslash can neither undo an escape nor hide a backtick from the split.
    assert markdown_safe(r"**\[click\](https://x.example)**") == (
        r"**&#92;\[click&#92;\](https://x.example)**"
    )
    hidden = markdown_safe("**\\`<img src=https://x.example/p.png>`** <b>")
    assert hidden.endswith("&lt;b&gt;") and "&#92;`<img" in hidden  # a code span, shown as text
    assert markdown_safe(r"a \| b") == r"a \| b"  # a table's escaped bar stays
    # Inside a code span the renderer shows what is written: nothing to escape there.
    assert markdown_safe("see `shapes/<term>.png` or <b>") == "see `shapes/<term>.png` or &lt;b&gt;"
