"""What the app's AppTest files share: the app's path, opening a page, and reading text as a user sees it."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from simhelpers import ROOT

APP = str(ROOT / "app.py")


def shown(text: str) -> str:
    """What a reader sees of Markdown text the page escaped with app_support.text.plain."""
    return re.sub(r"\\(.)", r"\1", text)


def open_page(page: str, query: dict | None = None, *, timeout: float = 90) -> AppTest:
    """The app opened on ``page`` (with ``query`` in its address), run once, without an exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page != "app_pages/compare.py":  # the first page of the navigation
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if shown(m.label) == label]
    assert found, f"no metric {label!r}; metrics: {[shown(m.label) for m in at.metric]}"
    return found[0]
