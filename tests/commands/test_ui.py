"""MLflow's own UI as a user sees it, in headless Chromium: the URL `make ui` prints lands on the
study's runs in the model-training view, the parent's tables show every column, and the
champion's logged model shows its registered version. Needs Debian's `chromium` and Playwright
for Python (`.ci/run` installs both); `make test-ui` runs it."""

import json
import re
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import all_runs, free_port, run_cli, store_overrides, store_uri, sweep_of, wait_for
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    *("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
]


def answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


@contextmanager
def mlflow_ui(uri: str):
    """`mlflow ui` on a store, as `make ui` starts it; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    server = subprocess.Popen(
        [str(mlflow_bin), "ui", "--backend-store-uri", uri]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: answers(base), timeout=90), "mlflow ui did not start"
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def ui(shared_sweep, champion):
    """`mlflow ui` on the shared sweep's store, as `make ui` starts it, and the URL it prints."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    server = subprocess.Popen(
        [str(mlflow_bin), "ui", "--backend-store-uri", shared_sweep.uri]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: answers(base), timeout=90), "mlflow ui did not start"
        printed = subprocess.run(
            [sys.executable, "-m", "ebm_study.commands.ui", "--base", base]
            + ["--tracking-uri", shared_sweep.uri],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (url,) = re.findall(r"MLflow UI: (\S+)", printed)
        (settings,) = re.findall(r"one row a setting \(expand a sweep\): (\S+)", printed)
        yield base, url, settings
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser):
    return browser.new_page(viewport={"width": 1600, "height": 1000})


@pytest.fixture(scope="module")
def fresh(browser):
    """Each test's new context is a browser as a new user's: its own profile (MLflow keeps its
    view and panels there)."""
    return browser


def test_the_printed_url_lands_on_the_runs_of_the_study(ui, page, shared_sweep):
    _, url, _ = ui
    page.goto(url)
    parent = page.locator("[role=row]", has_text="sweep ").first
    parent.wait_for(timeout=60_000)
    assert page.get_by_text("Model registry").first.is_visible()  # the model-training view
    assert not page.get_by_text("Token Usage").count()  # not the GenAI overview
    parent.locator("button").first.click()  # expand the parent: its children
    page.get_by_text("learning_rate=0.05 split=1 model=1").first.wait_for(timeout=30_000)
    names = page.get_by_text(re.compile(r"^learning_rate=\S+ split=\d model=\d$")).all_inner_texts()
    assert sorted(names) == sorted(j.info.run_name for j in shared_sweep.jobs)
    # Beside them, one run a setting: what the runs table and charts compare.
    settings = page.get_by_text(re.compile(r"^learning_rate=\S+ \(setting: 6 runs\)$"))
    assert sorted(settings.all_inner_texts()) == [
        "learning_rate=0.01 (setting: 6 runs)",
        "learning_rate=0.05 (setting: 6 runs)",
    ]


def test_the_stability_table_shows_every_column(ui, page, shared_sweep):
    base, _, _ = ui
    parent = shared_sweep.parent
    experiment = parent.info.experiment_id
    page.goto(
        f"{base}/#/experiments/{experiment}/runs/{parent.info.run_id}"
        "/artifacts/stability_by_config.json"
    )
    page.get_by_text("View as table").first.wait_for(timeout=60_000)
    local = MlflowClient(tracking_uri=shared_sweep.uri).download_artifacts(
        parent.info.run_id, "stability_by_config.json"
    )
    table = json.loads(Path(local).read_text())
    # The button comes before the table's rows: wait for its first and last columns.
    for column in (table["columns"][0], table["columns"][-1]):
        page.get_by_text(column, exact=True).first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    for column in table["columns"]:
        assert re.search(rf"^{re.escape(column)}$", text, re.M), column
    # The swept value, which a dotted column name left empty in this view.
    learning_rate = table["columns"].index("learning_rate")
    for row in table["data"]:
        assert re.search(rf"^{re.escape(str(row[learning_rate]))}$", text, re.M)


def test_the_champions_logged_model_shows_its_version(ui, page, shared_sweep, champion):
    base, _, _ = ui
    run = MlflowClient(tracking_uri=shared_sweep.uri).get_run(champion)
    model_id = run.outputs.model_outputs[0].model_id
    page.goto(f"{base}/#/experiments/{run.info.experiment_id}/models/{model_id}")
    page.get_by_text("Model versions").first.wait_for(timeout=60_000)
    assert not page.get_by_text("Not registered").count()
    section = page.inner_text("body").split("Model versions", 1)[1]
    assert re.match(r"\s*ebm-study\s*v1\b", section)


def test_the_parents_description_opens_with_what_is_reliably_on_top(ui, page, shared_sweep):
    """What MLflow shows of the description before "Show more": the verdict, issue 25."""
    base, _, _ = ui
    parent = shared_sweep.parent
    page.goto(f"{base}/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}")
    verdict = page.get_by_text("Reliably in the top 5", exact=False).first
    verdict.wait_for(timeout=60_000)
    assert verdict.is_visible()
    headline = page.get_by_text("Top-5 stability over 12 runs on 3 split seeds").first
    assert headline.is_visible()


# ---------------------------------------------------------------------------------------------
# Issue 26: the study's page, and users' strings shown as text

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A sweep of a CSV whose deciding column is named like markup: it tops every top k."""
    import numpy as np
    import pandas as pd

    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 4))
    frame = pd.DataFrame(x, columns=[HOSTILE, "cost $ per $ unit", "a|b", "[x](javascript:1)"])
    frame["label"] = (x[:, 0] + 0.3 * x[:, 1] + rng.normal(0, 0.5, 240) > 0).astype(int)
    path = folder / "hostile.csv"
    frame.to_csv(path, index=False)
    result = run_cli(
        "-m", "split_seed=0,1,2", "data=csv", f"data.path={path}", "data.target=label",
        "top_k=2", "model.outer_bags=2", "model.max_rounds=300", "model.n_jobs=1",
        *store_overrides(folder),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    parent, _ = sweep_of(all_runs(store_uri(folder)))
    return store_uri(folder), parent


def test_a_users_column_named_like_markup_is_shown_as_text(hostile, page):
    uri, parent = hostile
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    study = Path(parent.info.artifact_uri.removeprefix("file://")) / "study.html"
    page.goto(study.as_uri())
    page.locator("#verdict").wait_for(timeout=30_000)
    assert HOSTILE in page.inner_text("body")
    # No element came of it: every image is one of the page's own embedded pictures.
    sources = page.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('src'))")
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not page.locator("a").count()
    with mlflow_ui(uri) as base:
        page.goto(f"{base}/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}")
        page.get_by_text("Reliably in the top 2", exact=False).first.wait_for(timeout=60_000)
        shown = page.get_by_text(HOSTILE, exact=False).first
        assert shown.is_visible()  # in the description's verdict, as text
        assert not page.locator('img[src="x"]').count()
        assert not page.locator('a[href^="javascript"]').count()
    assert not alerts


def verdict_pixels(png: bytes) -> float:
    """The share of a screenshot's pixels that are text-dark: a blank or unrendered region
    has none."""
    import io

    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float((grey < 100).mean())


def test_the_study_page_shows_the_verdict_above_the_fold(ui, fresh, shared_sweep, tmp_path):
    """study.html in MLflow's artifact view at 1600x1000, as a new user opens it (MLflow's
    assistant panel opens by itself the first time and narrows the view: both widths)."""
    base, _, _ = ui
    parent = shared_sweep.parent
    where = f"{base}/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}"
    for closed in (False, True):
        context = fresh.new_context(viewport={"width": 1600, "height": 1000})
        if closed:
            context.add_init_script(
                "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');"
                "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true')"
            )
        tab = context.new_page()
        tab.goto(f"{where}/artifacts/study.html?workflowType=machine_learning")
        frame = tab.frame_locator("iframe.mlflow-html-iframe")
        verdict = frame.locator("#verdict")
        verdict.wait_for(timeout=60_000)
        frame.locator("figure img").last.wait_for(timeout=30_000)
        inner = tab.frame(url=lambda u: u.startswith("blob:"))
        assert inner.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        )
        assert inner.evaluate("document.images.length") >= 4
        width, client = inner.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width <= client, "the page scrolls sideways"
        box = verdict.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 1000, box  # above the fold
        shot = tab.screenshot(clip=box)
        (tmp_path / f"verdict-{closed}.png").write_bytes(shot)
        assert verdict_pixels(shot) > 0.01  # it rendered: text, not a blank box
        text = verdict.inner_text()
        assert text.startswith("Reliably in the top 5") and "Recommended: learning_rate=" in text
        context.close()


def test_printed_run_links_open_in_the_model_training_view(ui, fresh, shared_sweep):
    """MLflow 3.17 picks its GenAI view unless told: the links we print tell it."""
    from ebm_study.tracking import store

    base, _, _ = ui
    parent = shared_sweep.parent
    url = store.run_url(base, parent.info.experiment_id, parent.info.run_id)
    context = fresh.new_context(viewport={"width": 1600, "height": 1000})
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_text("Reliably in the top 5", exact=False).first.wait_for(timeout=60_000)
    assert tab.get_by_text("Model registry").first.is_visible()
    assert not tab.get_by_text("Evaluations", exact=True).count()
    context.close()


def test_the_settings_compare_as_rows_in_the_table_and_the_chart_view(ui, fresh, shared_sweep):
    _, _, settings = ui
    context = fresh.new_context(viewport={"width": 1600, "height": 1000})
    tab = context.new_page()
    tab.goto(settings + "&compareRunsMode=CHART")
    row = tab.locator("[role=row]", has_text="sweep ").first
    row.wait_for(timeout=60_000)
    row.locator("button").first.click()  # expand the sweep: its settings, not its jobs
    names = ["learning_rate=0.01 (setting: 6 runs)", "learning_rate=0.05 (setting: 6 runs)"]
    for name in names:
        tab.get_by_text(name).first.wait_for(timeout=30_000)
    assert not tab.get_by_text(re.compile(r"split=\d model=\d")).count()
    tab.get_by_text("mean_f1_ci_low", exact=True).first.wait_for(timeout=30_000)  # a chart
    context.close()
