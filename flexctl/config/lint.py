"""`flexctl validate`'s warning codes, stable, one line each. The pricing lint's (FX1xx) are
silenced by `ignore_warnings` on the object (or in `policy` for the whole configuration); each
rule is a kind's `lint` hook. The profile advice's (FX2xx, `validate --profile`) say what a
target's platform will ask for; each is a kind's `profile_warnings` hook."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

IGNORE_FIELD = "ignore_warnings"  # not an object's field on the platform: never compared
BUSINESS_DAY_HOURS = 8  # the hours of a day an hourly rate is compared with its full-day price
FAR_BELOW = 50  # a membership's own price below this percentage of its plan's is "far below"

WarningCode = Literal["FX101", "FX102", "FX103", "FX104", "FX105", "FX106"]
WARNINGS: dict[str, str] = {
    "FX101": f"an hourly rate costs less for a whole day ({BUSINESS_DAY_HOURS} hours) than its "
             "full-day price",
    "FX102": "a daily rate's half-day price (on weekends too) is above its full-day price",
    "FX103": "a weekend or off-hours price is above the rate's regular price (a weekend "
             "half-day above the regular half-day)",
    "FX104": f"a membership's own price is below {FAR_BELOW}% of its plan's price",
    "FX105": "a storefront product is offered at a location no payment gateway serves",
    "FX106": "a product that is sold (on the storefront, or assigned without a price of its "
             "own) has a price of 0",
}
assert set(WARNINGS) == set(get_args(WarningCode))

# Not silenced by `ignore_warnings`: each is fixed by writing what the platform will ask for.
PROFILE_WARNINGS: dict[str, str] = {
    "FX201": "a company or member has no `start` (profile officernd): the platform's admin "
             "portal asks for a start date, and creating it sends the day of the apply",
}

IgnoreWarnings = Annotated[
    list[WarningCode],
    Field(description="Pricing-lint warnings (FX1xx codes) that `flexctl validate` does not "
                      "report here; see docs/pricing-lint.md for what each means."),
]
