"""What a query is asked about: the filtered set S (Filters) and a page's view of it (View, the URL state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Filters:
    """The filtered set S: each tuple empty = no restriction."""

    tiers: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()  # GB/T 2260 codes
    counties: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()  # industry names as shown (division name or free text)
    stages: tuple[str, ...] = ()
    size_bands: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    """What a page shows: the report date, year and filters (the URL carries it)."""

    as_of: date
    year: int
    filters: Filters = field(default_factory=Filters)
