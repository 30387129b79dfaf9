"""Calibrate: fit the borrower behaviour to a lender's own history, see how well it fits, download the fit.

The page is ``python -m sim calibrate`` and ``backtest`` with a form: the
base scenario (its terms rebuild the balances), the model, the three files
(uploaded, up to 200 MB each, or paths on this machine) and the window. It
shows every fitted parameter with its 95 % interval (null where the data do
not identify it), the goodness-of-fit QQ plots, the backtest band
and offers the fitted scenario for download.
"""

import contextlib
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_support.calibrate import (
    BACKTEST_MODELS,
    HISTORY_FILES,
    HISTORY_UPLOAD_MB,
    MODELS,
    Request,
    fit,
    fitted_scenario_toml,
    goodness_lines,
    parameter_rows,
    qq_png,
    run_backtest,
    server_path,
    stage_upload,
)
from app_support.common import shipped_scenarios
from app_support.text import error_text, plain
from sim.errors import InputError
from sim.scenario import MAX_DAYS

LABELS = {"portfolio": "Accounts (portfolio CSV)", "payments": "Payments (account_id,timestamp,amount[,kind])",
          "contacts": "Contacts (optional: the contact log)"}

st.title("Calibrate")
st.caption("Fit the behaviour to a lender's accounts, payments and contacts (the files python -m sim run "
           "--portfolio-out --payments-out --contacts-out writes), as python -m sim calibrate does.")

scenarios = shipped_scenarios()
stems = list(scenarios)
left, right = st.columns(2)
base_stem = left.selectbox("Base scenario (its terms rebuild the balances)", stems, key="cal_base",
                           index=stems.index("card_baseline") if "card_baseline" in stems else 0)
model = right.selectbox("Model", MODELS, key="cal_model")
source = st.radio("The lender's files", ["Upload them", "Paths on this machine"], key="cal_source", horizontal=True)
uploads, typed = {}, {}
base_typed = ""
if source == "Paths on this machine":
    base_typed = st.text_input("Or a base scenario file on this machine (instead of the pick above)",
                               key="cal_base_path")
columns = st.columns(3)
for column, role in zip(columns, HISTORY_FILES, strict=True):
    if source == "Upload them":
        uploads[role] = column.file_uploader(LABELS[role], type=["csv"], max_upload_size=HISTORY_UPLOAD_MB,
                                             key=f"cal_{role}")
    else:
        typed[role] = column.text_input(LABELS[role], key=f"cal_{role}_path")
left, right = st.columns(2)
start = left.date_input("Window start", value=dt.date(2026, 1, 5), key="cal_start")
days = right.number_input("Days in the window", min_value=1, max_value=MAX_DAYS, value=180, key="cal_days")


@contextlib.contextmanager
def staged_request():
    """The request, with uploads written to a private folder that lives as long as the work on them."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for role in HISTORY_FILES:
            if source == "Upload them":
                upload = uploads.get(role)
                if upload is None and role != "contacts":
                    raise InputError("page", role, "upload the file")
                files[role] = stage_upload(Path(tmp), role, upload.name, upload.getvalue()) if upload else None
            else:
                files[role] = server_path(typed.get(role, ""), role, required=role != "contacts")
        base = server_path(base_typed, "base scenario", required=False) or scenarios[base_stem]
        yield Request(scenario=base, start=start, days=int(days), model=model, **files)


if st.button("Fit", key="cal_fit", type="primary"):
    try:
        with staged_request() as request, st.spinner("Fitting…"):
            calibration = fit(request)
            st.session_state["cal_result"] = {"fit": calibration, "qq": qq_png(calibration), "model": model,
                                              "toml": fitted_scenario_toml(calibration, request.scenario)}
    except InputError as err:
        st.session_state.pop("cal_result", None)
        st.error(error_text(err))

result = st.session_state.get("cal_result")
if result is not None:
    calibration = result["fit"]
    st.subheader(plain(f"{calibration.model}: {calibration.accounts:,} accounts, {calibration.payments:,} receipts"))
    st.dataframe(pd.DataFrame(parameter_rows(calibration)), hide_index=True, key="cal_parameters")
    for line in goodness_lines(calibration):
        st.markdown("- " + plain(line))
    st.image(result["qq"], caption="Goodness of fit: time-rescaled gaps against Exp(1), amounts against their law")
    st.download_button("Download the fitted scenario (TOML)", result["toml"], file_name="fitted.toml",
                       mime="application/toml", key="cal_download")

    st.subheader("Backtest: fit the first days, simulate the rest")
    if result["model"] not in BACKTEST_MODELS:
        st.info(plain(f"The backtest replays {', '.join(BACKTEST_MODELS)} fits only so far (python -m sim backtest)."))
    else:
        left, right = st.columns(2)
        fit_days = left.number_input("Fit on the first K days", min_value=1, max_value=max(1, int(days) - 1),
                                     value=max(1, int(days) * 2 // 3), key="cal_fit_days")
        reps = right.number_input("Replications", min_value=5, max_value=200, value=20, key="cal_reps")
        if st.button("Backtest", key="cal_backtest"):
            try:
                with staged_request() as request, st.spinner("Simulating the held-back days…"):
                    band, png = run_backtest(request, int(fit_days), int(reps))
                st.image(png, caption="Recovery since day K: actual against the simulated 90 % band")
                st.metric("Days inside the band", f"{band.inside_share:.0%}")
            except InputError as err:
                st.error(error_text(err))
