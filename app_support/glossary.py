"""The words of collections and of the lab's statistics, said once: the Glossary page and the pages' help texts.

Each entry is a term a user stops at on some page, explained in a few plain
sentences; :data:`GLOSSARY_HELP` is the same text, so a figure's help and the
glossary never say two different things.
"""

from __future__ import annotations

# term -> (where the app shows it, what it means)
GLOSSARY: dict[str, tuple[str, str]] = {
    "net recovery": (
        "Compare, Scenario lab, History",
        "What the strategy collected minus what it cost (agents' time, SMS, letters, visits, legal fees, "
        "agency commissions) over the simulated days, in the scenario's currency. The headline of every "
        "comparison."),
    "right-party contact": (
        "Compare (KPIs), Scenario lab",
        "A call that reached the borrower themself, not a voicemail, a wrong number or a relative. Only a "
        "right-party contact can end in a promise to pay; the right-party contact rate is such calls as a share "
        "of call attempts."),
    "promise to pay": (
        "Compare (promise kept rate)",
        "A borrower's agreement on a call to pay an amount by a date. The promise kept rate is the share of "
        "promises paid on time."),
    "cure rate": (
        "Compare, Scenario lab",
        "The share of the accounts that went back to current (nothing past due) during the run."),
    "roll rate": (
        "Compare (Roll rates), Scenario lab (Fidelity)",
        "The share of accounts in one days-past-due bucket (1–30, 31–60, …) that are in the next bucket a month "
        "later. Each row of the heatmap is where a bucket's accounts went in a month: rolled on, stayed, cured "
        "or paid. A real card book rolls about 20–35 % from 1–30 to 31–60."),
    "charge-off": (
        "Compare (charge-off rate)",
        "Writing an account off as a loss: card debt at 180 days past due. Collection goes on after it "
        "(agency, legal, debt sale), but the balance leaves the book."),
    "not significant": (
        "Compare (differences), Scenario lab (sweep), Capacity (verification)",
        "The 95 % interval of a difference holds 0: with this many replications the two strategies cannot be "
        "told apart on that KPI. It does not say they are equal; run more replications or more accounts, or "
        "decide on something else. A significant difference is one whose interval leaves 0 out."),
    "pp (percentage points)": (
        "Compare (differences), champion/challenger tests",
        "The difference of two rates: a cure rate of 12 % against 10 % is +2 pp (a 20 % rise, which is "
        "another number)."),
    "replication": (
        "every page",
        "One run of every strategy on the same accounts with the same random streams (a new seed each "
        "replication). Differences are paired replication by replication, so the shared noise cancels."),
    "seed and content hash": (
        "every result's \"Computed from\" line",
        "The seed fixes every random draw: the same scenario and seed give the same numbers. The content hash "
        "is a digest of the scenario's every field; two files with the same hash are the same scenario."),
    "shadow price": (
        "Capacity (capacity table)",
        "What one more unit of a team's capacity in one week would add to the plan's objective: one more agent "
        "hour (one more filing for legal). Zero where the team has time to spare that week."),
    "one more agent": (
        "Capacity (metrics)",
        "The plan made with one more agent's paid minutes in every week, run as its ladder with that team, "
        "minus the plan now run with today's team (paired simulated runs): what hiring one would be worth over "
        "the horizon, before the agent's own pay."),
    "the \"none\" treatment": (
        "Capacity (allocation table)",
        "A segment left without any contact by the plan: its accounts are only left to self-cure. Chosen where "
        "contacting them costs more than it brings back, or where capacity is better spent elsewhere."),
    "the plan's three values": (
        "Capacity (verify by simulation)",
        "The LP's objective is the optimiser's own sum over segments and treatments; the value model's net "
        "recovery values the plan's ladder with the same per-segment figures; the simulated net recovery runs "
        "that ladder through the simulator on fresh accounts, with every interaction the LP leaves out "
        "(queues, contact caps, fatigue). Trust the simulated one; the gap says how much the LP simplifies."),
    "service level": (
        "Capacity (Inbound staffing)",
        "The share of inbound calls answered within the threshold (80 % within 20 seconds is usual). "
        "Shrinkage is the share of paid time agents are not on the phones (breaks, training), often 30 %."),
}

GLOSSARY_HELP: dict[str, str] = {term: text for term, (_, text) in GLOSSARY.items()}
