"""Unit tests of the calendar plugin (plugins/almacen-calendar)."""
