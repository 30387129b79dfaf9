"""Honest results: what a result on screen was computed from, whether the inputs still say that, and the
last request of each page kept across a reload.

A page keeps its last request (the inputs a button press froze) and shows the
results of that request, not of the inputs on screen. So every result says the
settings it came from (:func:`settings_line`), and the moment an input
changes a banner over the results says they are stale (:func:`stale_banner`).

A browser reload starts a new session, which forgets the request. The request
is therefore also kept by the server under a digest of its content, and the
digest goes into the page's address (``?compare=…``): a reload, or the same
address opened later, finds the request, puts its inputs back into the
widgets, and the results come straight from ``st.cache_data`` (the same
inputs are the same cache key).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

from .text import plain

KEPT_REQUESTS = 256  # requests the server remembers for reloads; the oldest go first
STALE = ("Stale: the inputs above have changed since these results were computed. They are still the results "
         "of the settings listed under them; press {button} again to update them.")


@st.cache_resource(show_spinner=False)
def _kept() -> tuple[OrderedDict[str, dict[str, Any]], threading.Lock]:
    """The server's requests by digest and the lock its sessions (threads) share (one table for the process)."""
    return OrderedDict(), threading.Lock()


def _digest(page: str, request: Any) -> str:
    text = json.dumps([page, request], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def remember(page: str, request: Any, widgets: dict[str, Any] | None = None, *, restore: bool = False) -> None:
    """Keep ``request`` as the page's last one: in the session, on the server, and in the address.

    ``widgets`` are the widget values (by key) that produced the request; a
    reload puts them back so that the inputs on screen are the results' inputs.
    ``restore`` puts them back now: for a request made on another page (History
    reopening a comparison), whose widgets are not on the screen yet.
    """
    st.session_state[f"{page}_request"] = request
    if restore:
        for widget, value in (widgets or {}).items():
            st.session_state[widget] = value
    digest = _digest(page, request)
    kept, lock = _kept()
    with lock:
        kept[digest] = {"request": request, "widgets": dict(widgets or {})}
        kept.move_to_end(digest)
        while len(kept) > KEPT_REQUESTS:
            kept.popitem(last=False)
    st.query_params[page] = digest


def forget(page: str) -> None:
    """No request for the page (a refused input shows no earlier result)."""
    st.session_state.pop(f"{page}_request", None)
    if page in st.query_params:
        del st.query_params[page]


def recall(page: str) -> Any:
    """The page's last request: this session's, else the one the address names (its widgets restored).

    Call it before the page draws its widgets, so that restored values show.
    """
    key = f"{page}_request"
    if key in st.session_state:
        return st.session_state[key]
    digest = st.query_params.get(page)
    kept, lock = _kept()
    with lock:
        found = kept.get(digest) if digest else None
    if found is None:
        return None
    for widget, value in found["widgets"].items():
        st.session_state[widget] = value
    st.session_state[key] = found["request"]
    return found["request"]


def stale_banner(computed_from: Any, inputs_now: Any, button: str) -> bool:
    """A warning over results whose inputs have changed since; True when shown."""
    if computed_from == inputs_now:
        return False
    st.warning(plain(STALE.format(button=f'"{button}"')), icon=":material/history:")
    return True


def scenario_line(scenarios) -> str:
    """``baseline (USD, hash 1a2b…), sms_gentle (…)``: which scenarios, by name and content hash."""
    return ", ".join(f"{s.display_name} ({s.currency}, hash {s.content_hash})" for s in scenarios)


def settings_line(scenarios, *, reps: int | None = None, seed: int | None = None,
                  extra: str = "") -> str:
    """Accounts × days × replications × seed of a result, then its scenarios with their content hashes.

    The text holds the scenarios' names: show it with :func:`show_settings`.
    """
    first = scenarios[0]
    accounts = "accounts from CSV" if first.portfolio.csv else f"{first.simulation.accounts:,} accounts"
    parts = [accounts, f"{first.simulation.days:,} days"]
    if reps is not None:
        parts.append(f"{reps:d} replication{'s' if reps != 1 else ''}")
    if seed is not None:
        parts.append(f"seed {seed:d}")
    line = " × ".join(parts) + " · " + scenario_line(scenarios)
    return f"{line} · {extra}" if extra else line


def show_settings(line: str) -> None:
    st.caption("Computed from: " + plain(line))


def keep_options(key: str, options: list) -> None:
    """Drop a restored widget value that is no longer among the widget's options (a deleted saved scenario)."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in options]
    elif value not in options:
        del st.session_state[key]
