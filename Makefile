# Two commands for a new user (README): `make demo` and `make test`.
# Both create the virtual environment on first use and are quick the second time:
# the install re-runs only when pyproject.toml changes.
#
# `make demo` installs the package and its test tools only (`.[dev]`). `make test` adds the
# `spark` extra (dbt-spark, pyspark with Spark inside, ~450 MB): CI builds the marts on
# Spark too (tests/spark; a Java 17+ runtime is needed, else those tests skip and say why).
# One stamp per install, so the demo stays light and the tests never miss the extra.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark

.PHONY: setup setup-spark demo test dagster clean

setup: $(STAMP)

setup-spark: $(SPARK_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

demo: setup
	$(BIN)/ltv demo

test: setup-spark
	$(BIN)/python -m pytest -n 2 --dist loadfile

dagster: setup
	mkdir -p .dagster_home && DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
