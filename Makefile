# The two commands a new user needs: `make run` and `make test`. Both set up the environment first.
UV := sh deploy/uv.sh
# Use the machine's Python (3.11+) rather than downloading one.
export UV_PYTHON_PREFERENCE ?= system

.PHONY: setup run test lint bench clean

setup:
	$(UV) sync --frozen

run: setup
	$(UV) run --frozen medic up

test: setup
	$(UV) run --frozen pytest

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports  # architecture contracts in .importlinter
	$(UV) run --frozen sh deploy/check-compose.sh  # deploy/compose.yaml: docker compose config + compose-spec schema
	$(UV) run --frozen sh deploy/check-k8s.sh  # deploy/k8s: every manifest against the Kubernetes schemas

bench: setup
	$(UV) run --frozen python bench/pipeline.py

clean:
	rm -rf var .venv .pytest_cache .mypy_cache .ruff_cache
