"""project_states reads only the state fields its columns and the flags need (flags.fields_for): every
flag and column comes out as it does when every field is read."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines import metrics
from pipelines.metrics import flags, states
from pipelines.metrics.flags import FLAG_COLUMNS, STATE_COLUMNS
from pipelines.warehouse.store import Warehouse
from tests.conftest import APP_DATES


def _all_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(states, "fields_for", lambda *a, **k: None)  # None: every field read


@pytest.mark.parametrize("d", APP_DATES)
def test_each_flag_and_column_alone_is_what_the_full_read_gives(app_db, d, monkeypatch):
    with Warehouse(app_db).read() as con:
        full = metrics.project_states(con, d)
        assert full.height > 0
        for col in (*FLAG_COLUMNS, "project_name", "total_investment", "completion_date_eff", "size_band"):
            narrow = metrics.project_states(con, d, columns=["project_id", col])
            assert narrow.equals(full.select("project_id", col)), col
        overdue = metrics.project_states(con, d, columns=["project_id", "project_name"], where=metrics.Where("is_overdue"))
        assert overdue.equals(full.filter(pl.col("is_overdue")).select("project_id", "project_name"))
        with monkeypatch.context() as m:
            _all_fields(m)
            assert metrics.project_states(con, d).equals(full)


def test_a_list_reads_its_fields_and_the_flags_not_the_free_text():
    need = flags.fields_for(metrics.Filters(), ["project_id", "project_name", "is_overdue"], single=True)
    assert {"stage", "planned_start_date", "actual_start_date", "total_investment", "project_name"} <= need
    assert not need & {"highlights", "company_intro", "contact", "progress_note", "benefits", "problem"}
    assert set(need) <= set(STATE_COLUMNS)
