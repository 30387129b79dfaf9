"""Debts as a table the advisor can edit, and back into a validated debt file.

A debt file (:mod:`optimizer.payoff.model`) can say more than a table shows
(promotional periods, hardship plans, budget changes, the interest
convention). The table holds the terms an advisor edits most — balance, APR,
the minimum-payment rule, late fee and penalty APR — and a row whose name
matches a debt of the file keeps that debt's other terms.
"""

from __future__ import annotations

import math
from typing import Any

from optimizer.payoff.model import DebtFile
from sim.errors import ScenarioError
from sim.scenario import parse_toml

from .common import read_csv_rows, upload_text

COLUMNS = ("name", "balance", "apr", "min_percent", "min_floor", "min_fixed", "late_fee", "penalty_apr")
NUMERIC = COLUMNS[1:]
DEFAULT_CSV_BUDGET = 500.0


def table_rows(debts: DebtFile) -> list[dict[str, Any]]:
    """One row per debt with the effective minimum rule (the convention's default if the file gives none)."""
    rows = []
    for debt in debts.debts:
        rule = debt.minimum_rule
        rows.append({
            "name": debt.name, "balance": debt.balance, "apr": debt.apr,
            "min_percent": None if rule.fixed is not None else rule.percent,
            "min_floor": None if rule.fixed is not None else rule.floor,
            "min_fixed": rule.fixed, "late_fee": debt.late_fee, "penalty_apr": debt.penalty_apr,
        })
    return rows


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _number(value: Any, source: str, field: str) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ScenarioError(source, field, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(source, field, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ScenarioError(source, field, f"must be a finite number, got {value!r}")
    return number


def debts_from_rows(rows: list[dict[str, Any]], base: DebtFile | None, budget: float | None,
                    source: str) -> DebtFile:
    """A validated debt file from table rows; ``base`` supplies the other terms and the budget.

    Errors name the row as the debt file would: ``debts.2.apr``.
    """
    data = base.model_dump(mode="json", exclude={"source"}, exclude_unset=True) if base is not None else {}
    originals = {d["name"]: d for d in data.get("debts", [])}
    effective = {row["name"]: row for row in table_rows(base)} if base is not None else {}
    debts = []
    rows = [r for r in rows if not all(_blank(r.get(c)) for c in COLUMNS)]
    for i, row in enumerate(rows):
        name = row.get("name")
        if _blank(name):
            raise ScenarioError(source, f"debts.{i}.name", "is required")
        name = str(name).strip()
        values = {c: _number(row.get(c), source, f"debts.{i}.{c}") for c in NUMERIC}
        debt = dict(originals.get(name, {}))
        debt["name"] = name
        for column in ("balance", "apr", "late_fee", "penalty_apr"):
            if values[column] is None:
                debt.pop(column, None)
            else:
                debt[column] = values[column]
        rule = (values["min_percent"], values["min_floor"], values["min_fixed"])
        was = effective.get(name)
        unchanged = was is not None and rule == (was["min_percent"], was["min_floor"], was["min_fixed"])
        if not unchanged:
            if values["min_fixed"] is not None:
                debt["minimum"] = {"fixed": values["min_fixed"]}
            elif values["min_percent"] is not None or values["min_floor"] is not None:
                minimum = {k: v for k, v in (originals.get(name, {}).get("minimum") or {}).items()
                           if k in ("plus_interest", "plus_fees")}
                if values["min_percent"] is not None:
                    minimum["percent"] = values["min_percent"]
                if values["min_floor"] is not None:
                    minimum["floor"] = values["min_floor"]
                debt["minimum"] = minimum
            else:
                debt.pop("minimum", None)
        debts.append(debt)
    if not debts:
        raise ScenarioError(source, "debts", "enter at least one debt")
    data["debts"] = debts
    _drop_references_to_removed(data)
    if budget is not None:
        data["budget"] = budget
    data.setdefault("budget", DEFAULT_CSV_BUDGET)
    return DebtFile.from_dict(data, source=source)


def _drop_references_to_removed(data: dict[str, Any]) -> None:
    """A custom order or an option that names a debt deleted in the table would be an error the user did not make:
    the order forgets the name, and the option, which no longer applies, is dropped."""
    names = {d["name"] for d in data["debts"]}
    if data.get("custom_order"):
        data["custom_order"] = [n for n in data["custom_order"] if n in names] or None
        if data["custom_order"] is None:
            data.pop("custom_order")
    if data.get("options"):
        data["options"] = [o for o in data["options"] if _named_debts(o) <= names]


def _named_debts(option: dict[str, Any]) -> set[str]:
    """Every debt an ``[[options]]`` entry names: its ``debts``, its ``debt``, the keys of a rate table."""
    named = set(option.get("debts") or []) | ({option["debt"]} if option.get("debt") else set())
    return named | (set(option["apr"]) if isinstance(option.get("apr"), dict) else set())


def debts_from_upload(name: str, data: bytes, budget: float | None) -> DebtFile:
    """An uploaded debt file (TOML) or debt table (CSV with the :data:`COLUMNS` header).

    TOML is parsed as the command line parses it, so every mistake (syntax,
    nesting, a 5,000-digit integer) is the same one line.
    """
    text = upload_text(name, data, "debt file", (".toml", ".csv"))
    if name.lower().endswith(".csv"):
        rows = read_csv_rows(name, text, COLUMNS, ("name", "balance"))
        return debts_from_rows(rows, None, budget, name)
    debts = DebtFile.from_dict(parse_toml(text, name), source=name)
    return debts if budget is None else debts.with_budget(budget)


# ----------------------------------------------------------------------------- options as a table

OPTION_COLUMNS = ("kind", "name", "debts", "apr", "months", "fee", "promo_apr", "promo_months", "limit",
                  "payment_share", "monthly_fee", "forgiven", "month", "amount")
OPTION_NUMERIC = OPTION_COLUMNS[3:]
OPTION_INTEGER = ("months", "promo_months", "month")


def option_rows(debts: DebtFile) -> list[dict[str, Any]]:
    """One row per option: ``debts`` as comma-separated names, ``fee`` for a loan's origination fee too."""
    rows = []
    for option in debts.options:
        terms = option.model_dump(exclude_unset=True)
        named = [option.debt] if option.debt else option.debts or []
        fee = terms.get("origination_fee", terms.get("fee"))
        row = {c: terms.get(c) for c in OPTION_COLUMNS}
        row.update({"name": option.label, "debts": ", ".join(named), "fee": fee,
                    "apr": None if isinstance(option.apr, dict) else option.apr})
        rows.append(row)
    return rows


def _option_from_row(row: dict[str, Any], original: dict[str, Any], i: int, source: str) -> dict[str, Any]:
    kind = str(row.get("kind") or "").strip()
    if not kind:
        raise ScenarioError(source, f"options.{i}.kind", "is required (consolidation_loan, balance_transfer, "
                                                         "debt_management_plan, settlement, installment_conversion)")
    option: dict[str, Any] = {"kind": kind}
    if not _blank(row.get("name")):
        option["name"] = str(row["name"]).strip()
    names = [n.strip() for n in str(row.get("debts") or "").split(",") if n.strip()]
    if names:
        option.update({"debt": names[0]} if kind == "installment_conversion" and len(names) == 1 else {"debts": names})
    for column in OPTION_NUMERIC:
        value = _number(row.get(column), source, f"options.{i}.{column}")
        if value is None:
            continue
        key = "origination_fee" if column == "fee" and kind == "consolidation_loan" else column
        option[key] = int(value) if column in OPTION_INTEGER and value == int(value) else value
    # A table of rates by debt (a plan's per-creditor APRs) has no cell: kept from the file when left blank.
    if "apr" not in option and isinstance(original.get("apr"), dict) and original.get("kind") == kind:
        option["apr"] = original["apr"]
    return option


def with_options(debts: DebtFile, rows: list[dict[str, Any]], source: str) -> DebtFile:
    """``debts`` with the options of the table (replacing the file's); errors name ``options.N.field``."""
    originals = {o.label: o.model_dump(exclude_unset=True) for o in debts.options}
    rows = [r for r in rows if not all(_blank(r.get(c)) for c in OPTION_COLUMNS)]
    options = [_option_from_row(row, originals.get(str(row.get("name") or "").strip(), {}), i, source)
               for i, row in enumerate(rows)]
    data = debts.model_dump(mode="json", exclude={"source"}, exclude_unset=True)
    data["options"] = options
    return DebtFile.from_dict(data, source=source)
