"""The user's text on a page, shown as the characters they typed and never as Markdown.

Streamlit renders the body of ``st.error``, ``st.warning``, ``st.info``,
``st.success``, ``st.markdown`` and ``st.caption`` — and the labels of
metrics, buttons and expanders — as Markdown. A scenario name, an upload's
file name or a value echoed in an error message is the user's text: as
Markdown, ``![x](http://host/track.png)`` makes every viewer's browser fetch
that address, ``[click](http://…)`` becomes a link, ``:red[…]`` restyles the
page. :func:`plain` escapes every Markdown (and HTML) character with a
backslash, which Markdown shows as the character itself, so the text reads
exactly as typed. Every page passes the user's text through it;
``tests/test_app_safety.py`` checks that statically.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it covers links,
# images, emphasis, code, headings, tables, HTML tags, LaTeX ($) and Streamlit's :directives[].
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """``text`` (anything, shown with ``str``) escaped so that Markdown shows it verbatim."""
    return _PUNCTUATION.sub(r"\\\1", str(text))


def error_text(err: Exception) -> str:
    """A user's mistake (:class:`~sim.errors.ScenarioError`'s one line) as plain text for ``st.error``."""
    return plain(str(err))
