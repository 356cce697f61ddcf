"""The calendar's schemas: configuration rules, and dumps that agree with ``openapi.yaml``."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from typing import Any

import pytest
import yaml
from marshmallow import Schema, ValidationError

from almacen_calendar import schemas, service


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    spec = yaml.safe_load((files("almacen_calendar") / "openapi.yaml").read_text("utf-8"))
    return dict(spec["components"]["schemas"])


def test_configuration_defaults() -> None:
    loaded = schemas.CalendarConfigSchema().load({})
    assert loaded == {"country": "CO", "subdivision": None, "weekend": [6, 7]}


def test_weekend_is_stored_sorted() -> None:
    assert schemas.CalendarConfigSchema().load({"weekend": [7, 1, 5]})["weekend"] == [1, 5, 7]


def test_a_valid_subdivision_is_kept() -> None:
    loaded = schemas.CalendarConfigSchema().load({"country": "US", "subdivision": "CA"})
    assert loaded["subdivision"] == "CA"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"weekend": [6, 6]}, "weekend"),
        ({"weekend": [0]}, "weekend"),
        ({"weekend": [8]}, "weekend"),
        ({"weekend": [6.0]}, "weekend"),
        ({"weekend": [False]}, "weekend"),
        ({"weekend": [1, 2, 3, 4, 5, 6, 7]}, "weekend"),
        ({"weekend": None}, "weekend"),
        ({"country": "ZZ"}, "country"),
        ({"country": "co"}, "country"),
        ({"country": "COL"}, "country"),
        ({"subdivision": "XX"}, "subdivision"),
        ({"country": "US", "subdivision": "ZZ"}, "subdivision"),
        ({"holidays": []}, "holidays"),
    ],
)
def test_bad_configuration(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        schemas.CalendarConfigSchema().load(config)
    assert field in error.value.messages


def test_action_inputs() -> None:
    loaded = schemas.AddBusinessDaysSchema().load({"date": "2026-12-23", "days": -3})
    assert loaded == {"date": dt.date(2026, 12, 23), "days": -3, "country": None}
    with pytest.raises(ValidationError) as error:
        schemas.AddBusinessDaysSchema().load(
            {"date": "2026-02-30", "days": service.MAX_DAYS + 1, "country": "ZZ"}
        )
    assert set(error.value.messages) == {"date", "days", "country"}
    with pytest.raises(ValidationError):
        schemas.CheckBusinessDaySchema().load({"country": "CO"})


# The marshmallow dump schemas and the OpenAPI schemas describe the same objects.
PAIRS = [
    (schemas.HolidaySchema, "Holiday"),
    (schemas.HolidayListSchema, "HolidayList"),
    (schemas.CustomHolidaySchema, "CustomHoliday"),
    (schemas.BusinessDaySumSchema, "BusinessDaySum"),
    (schemas.DayCheckSchema, "DayCheck"),
]


@pytest.mark.parametrize(("schema", "component"), PAIRS)
def test_dump_schemas_match_the_spec(
    components: dict[str, Any], schema: type[Schema], component: str
) -> None:
    assert set(schema().fields) == set(components[component]["properties"])
    assert components[component]["additionalProperties"] is False


def test_event_payload_is_a_custom_holiday_less_its_timestamp(
    components: dict[str, Any],
) -> None:
    payload = set(schemas.HolidayAddedSchema().fields)
    assert payload == set(components["CustomHoliday"]["properties"]) - {"created_at"}


def test_listing_items_carry_an_id_only_for_tenant_days() -> None:
    dump = schemas.HolidaySchema().dump
    official = service.Holiday(date=dt.date(2026, 1, 1), name="Año Nuevo", source="official")
    own = service.Holiday(date=dt.date(2026, 12, 24), name="x", source="tenant", id="a" * 32)
    assert dump(official) == {"date": "2026-01-01", "name": "Año Nuevo", "source": "official"}
    assert dump(own)["id"] == "a" * 32
