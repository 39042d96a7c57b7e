"""Demo targets: the seed's 2023 targets (DOMAIN §5) and, for the current year, targets a little above
last year's results for the city, each district and each park."""
import random
from datetime import date

from crm.areas import all_areas, resolve_area
from crm.clock import today
from crm.targets.service import progress, set_target

SEED_2023 = [  # (scope, metric, value); scope None = city
    (None, "hnte_valid", 250), (None, "tech_sme_registered", 650), (None, "gazelle_new", 1),
    ("达州高新区", "tech_sme_new", 100), ("达州高新区", "hnte_new", 30), ("达州高新区", "gazelle_new", 1),
]
GROWN = ("hnte_valid", "hnte_new", "tech_sme_registered", "tech_sme_new")  # the yearly campaign's metrics


def seed(rng: random.Random) -> None:
    for scope, metric, value in SEED_2023:
        set_target(2023, metric, resolve_area(scope) if scope else None, value)
    year = today().year
    if year == 2023:
        return
    areas = all_areas()
    last = progress(year - 1, date(year - 1, 12, 31), areas)
    for area, figures in [(None, last["metrics"]), *((a, last["areas"][a.key]) for a in areas)]:
        for metric in GROWN:
            value = round(figures[metric]["actual"] * rng.uniform(1.1, 1.3))
            set_target(year, metric, area, max(value, 1))
    set_target(year, "gazelle_new", None, 2)
