# Every target installs what it needs first, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= us-east-1
# The CDK CLI, pinned: its cloud assembly version must be one aws-cdk-lib (pyproject.toml) writes.
CDK := npx --yes aws-cdk@2.1148.1

.PHONY: install demo test test-fast lint openapi bench cost serve synth check-template deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bulk-import demo

serve: $(STAMP)
	$(BIN)/bulk-import serve --demo

test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/pytest -n 2 -m "not infra and not e2e"

lint: $(STAMP)
	$(BIN)/ruff check functions infra tests scripts
	$(BIN)/ruff format --check functions infra tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m bulk_import.entrypoints.openapi_build --check

# The OpenAPI document the API serves, written from its route declarations: run it after changing a route.
openapi: $(STAMP)
	$(BIN)/python -m bulk_import.entrypoints.openapi_build

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# The AWS cost of a million rows per kind, from every call a 10,000-row import makes on the local stack.
cost: $(STAMP)
	$(BIN)/python scripts/cost.py

# `make synth CDK_ARGS="-c bundling=skip"` synthesizes without downloading the functions' dependencies.
# cdk-nag's checks run during the synth and fail it on any finding not acknowledged in infra/nag.py.
synth: $(STAMP)
	$(CDK) synth --quiet $(CDK_ARGS)

# cfn-lint on what `make synth` wrote to cdk.out (the infra tests run the same check in `make test`).
check-template: synth
	$(BIN)/python -m infra.checks cdk.out

deploy: check-template
	$(CDK) deploy $(CDK_ARGS)

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache
