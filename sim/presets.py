"""The contact-rule presets of DOMAIN.md, as plain data (sources in ``sim/compliance.py``).

Kept apart from :mod:`sim.compliance` so that the scenario schema can check a
contact window against its preset without importing the rule engine.
"""

from __future__ import annotations

PRESET_RULES: dict[str, dict[str, object]] = {
    # CFPB Regulation F, 12 CFR 1006.14(b)(2), 1006.6(b)(1)(i)
    "us_reg_f": dict(window_start="08:00", window_end="21:00", max_call_attempts_7d=7,
                     quiet_days_after_conversation=7),
    # Reg F plus 940 CMR 7.04(1)(f); 209 CMR 18.16, 18.17(6)
    "us_massachusetts": dict(window_start="08:00", window_end="21:00", max_call_attempts_7d=7,
                             quiet_days_after_conversation=7, max_conversations_7d=2,
                             max_field_visits_30d=1),
    # 2025 national standard on post-loan collection of personal online consumer credit
    "cn_2025": dict(window_start="08:00", window_end="22:00", max_connected_calls_per_day=3,
                    max_attempts_per_day=6),
    # A lender collecting its own debt before placement (first party): Regulation F binds third-party
    # collectors only (12 CFR 1006.2(i)), so no 7-in-7 cap and no quiet week by law. What holds: calls
    # within 08:00-21:00 local time (the TCPA's calling hours, 47 CFR 64.1200(c)(1), which many lenders
    # apply to collection as house policy against UDAAP risk, CFPB Bulletin 2013-07) and a house cap of
    # 3 dial attempts a day (an assumption). Autodialled calls and texts to a mobile need the
    # consumer's prior express consent (TCPA, 47 U.S.C. 227(b)(1)(A)(iii)): phone_known means consent.
    "us_first_party": dict(window_start="08:00", window_end="21:00", max_attempts_per_day=3),
    "none": dict(window_start="00:00", window_end="24:00"),
}
