"""How much ``sharpgen verify`` checks: the ``quick``, ``rates`` and ``paper`` profiles.

* exact: cube dimensions, training sets per dimension, their largest size,
  the cube dimension of the exact population errors;
* property: hypothesis examples per property (``--examples`` overrides);
* trained: how many seeds per architecture, and whether the runs use the
  presets' quick schedules (d = 30, n = 100, width 500, fewer epochs) or the
  paper's protocol (docs/paper.md §6); ``epoch_cap`` (None in both profiles) cuts every
  schedule to at most that many epochs, phases in proportion: a shortened variant for
  trying a profile out (and for the tests), never what the ledger judges by default.

The training seeds are ``training_seeds`` (``seed`` + ``training_seed_offset`` onward). ``rates`` is
``quick`` with 10 seeds per trained group on evaluation seeds 1000-1009 (``--seed`` 0): the presets
were tuned on seeds 0-9 and evaluated on 100-104 (docs/scenarios.md, ``numerics.runs.presets``), and
the quick and paper profiles train on 0-2 and 0-4, so none of these seeds was looked at before. With
10 seeds a seed-dependent claim is judged by its success rate (``verify.ledger.rates``).

>>> PROFILES["quick"].examples, PROFILES["quick"].seeds, PROFILES["paper"].seeds, PROFILES["rates"].seeds
(200, 3, 5, 10)
>>> list(training_seeds(PROFILES["quick"])), training_seeds(PROFILES["rates"])
([0, 1, 2], range(1000, 1010))
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """What one ``sharpgen verify`` run checks (see the module docstring)."""

    name: str
    dims: tuple[int, ...]
    sets_per_dim: int
    max_n: int
    population_d: int
    examples: int
    seeds: int
    quick_runs: bool
    seed: int = 0
    epoch_cap: int | None = None
    training_seed_offset: int = 0


def training_seeds(profile: Profile) -> range:
    """The training seeds of ``profile``: ``seeds`` of them from ``seed + training_seed_offset`` on."""
    first = profile.seed + profile.training_seed_offset
    return range(first, first + profile.seeds)


PROFILES = {
    "quick": Profile("quick", dims=(3, 4), sets_per_dim=1, max_n=5, population_d=8, examples=200, seeds=3,
                     quick_runs=True),
    "rates": Profile("rates", dims=(3, 4), sets_per_dim=1, max_n=5, population_d=8, examples=200, seeds=10,
                     quick_runs=True, training_seed_offset=1000),
    "paper": Profile("paper", dims=(3, 4, 5, 6), sets_per_dim=3, max_n=8, population_d=12, examples=1000, seeds=5,
                     quick_runs=False),
}
