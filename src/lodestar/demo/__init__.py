"""Demo data: a Chinese sales organization with a year of history, deterministic for a seed.

Not a Django app; call it after `django.setup()`.

    from lodestar.demo import load_demo_organization, generate

    summary = load_demo_organization()            # idempotent: slug "demo", 12 reps, 600 deals
    for line in summary.lines():                  # counts, rows/s and the demo logins
        print(line)

    generate(reps=200, deals=50_000, months=12, seed=7, slug="bench", progress=callback)

`load_demo_organization(*, reps, deals, months, seed, now, today, slug="demo", events_per_deal,
password, progress) -> DemoSummary` creates the organization unless one with `slug` exists;
then it writes nothing and returns `already_loaded=True` with the current row counts and logins.
After generating, it does at `now` what the worker would have done by then: the insights
recompute, a health snapshot for every day of the 12-week trend, and the task SLA sweep, so the
worker finds nothing new to raise right after the load.

`generate(*, reps, deals, months, seed, now, today, slug, name, events_per_deal,
username_prefix, password, progress) -> DemoSummary` always creates a new organization (raises
`DemoError` if the slug or a user name is taken) in one transaction. The history is anchored to
`today`, a date in the organization's zone (default: the date of `now`, an aware datetime
defaulting to the current time): it spans `months` before the start of that day, its tasks fall
due today and this week (a few overdue by hours or days), and the same seed and day give the
same data. Thresholds (silence, staleness, escalation, exemption re-check), task deadlines and
the events that close tasks are read from the teams' playbooks; audit lines carry the actions
the services write. Roughly `deals * events_per_deal` events are written (default 100 per deal:
50,000 deals give about 5,000,000 events).

`progress(phase, done, total)` is called as work advances; phases are "setup", "deals",
"activity" (deals whose events are written), "indexes" (large loads only: time-keyed indexes
are built once at the end instead of row by row) and "reports"; the loader adds
"health history" and "insights …".

`DemoSummary` holds `counts` (rows per table), `event_types`, a `digest` (same arguments give the
same digest), `logins` (`DemoLogin(role, username, password, display_name, team)` for rep,
manager, ops and admin), timings (`seconds`, `activity_seconds`, `events_per_second`,
`rows_per_second`) and `lines()` for printing. Summaries of two loads with the same arguments
compare equal (timings, slug and logins are left out of the comparison).

Demo logins for slug "demo": `rep`, `manager` (绍兴 industrial team), `ops`, `admin`, all with the
password `lodestar-demo`; every other demo user (`rep-002`, `manager-02` …) shares it. For any
other slug the user names are prefixed with "<slug>-". The `rep` login carries the most deals,
among them (in loads of 30 deals or more) three fresh leads opened yesterday afternoon with a
first visit, whose trigger tasks fall due today.

The organization has industrial-equipment distributor teams (绍兴, seed case 001) and B2B SaaS
teams (杭州, seed case 000), alternating, about eight reps each, a manager per team, one ops
and one admin user. Stages, custom fields and triggers follow the `industrial_equipment` and
`saas_b2b` industry templates (read through `lodestar.demo.processes`, the generator's only
knowledge of stages); the 8 decision-chain roles use the industrial template's role keys.
`lodestar.demo.story` tells each deal's history from its plan (`lodestar.demo.cast`).

Run `python -m lodestar.demo --help` for a measured load from the command line.
"""

from lodestar.demo.generator import (
    DEFAULT_DEALS,
    DEFAULT_EVENTS_PER_DEAL,
    DEFAULT_MONTHS,
    DEFAULT_REPS,
    DEFAULT_SEED,
    DEFAULT_SLUG,
    DEMO_PASSWORD,
    DemoError,
    DemoLogin,
    DemoSummary,
    ProgressCallback,
    generate,
    load_demo_organization,
)

__all__ = [
    "DEFAULT_DEALS",
    "DEFAULT_EVENTS_PER_DEAL",
    "DEFAULT_MONTHS",
    "DEFAULT_REPS",
    "DEFAULT_SEED",
    "DEFAULT_SLUG",
    "DEMO_PASSWORD",
    "DemoError",
    "DemoLogin",
    "DemoSummary",
    "ProgressCallback",
    "generate",
    "load_demo_organization",
]
