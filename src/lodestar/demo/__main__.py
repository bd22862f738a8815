"""`python -m lodestar.demo`: load demo data into the configured database and print rows/s.

For measuring the generator; users run `lodestar demo`. The database must be migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from lodestar.demo.generator import (
    DEFAULT_DEALS,
    DEFAULT_EVENTS_PER_DEAL,
    DEFAULT_MONTHS,
    DEFAULT_REPS,
    DEFAULT_SEED,
    DEFAULT_SLUG,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lodestar.demo", description=__doc__)
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS)
    parser.add_argument("--deals", type=int, default=DEFAULT_DEALS)
    parser.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--events-per-deal", type=int, default=DEFAULT_EVENTS_PER_DEAL)
    parser.add_argument("--slug", default=DEFAULT_SLUG)
    parser.add_argument(
        "--new", action="store_true", help="always create (fails if the slug exists)"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lodestar.settings")
    import django

    django.setup()
    from lodestar.demo import DemoError, generate, load_demo_organization

    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 2:
            last[0] = now
            print(f"  {phase}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    load = generate if args.new else load_demo_organization
    try:
        summary = load(
            reps=args.reps,
            deals=args.deals,
            months=args.months,
            seed=args.seed,
            slug=args.slug,
            events_per_deal=args.events_per_deal,
            progress=progress,
        )
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
