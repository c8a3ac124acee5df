"""Tests of the Spark engine (dbt-spark); a package so that its conftest does not shadow
tests/dbt/conftest.py, which test modules there import as `conftest`."""
