# Two commands for a fresh machine: `make run` and `make test`. Everything else is `.venv/bin/aios`.
PYTHON ?= python3
PYTEST_ARGS ?=
# Two pytest-xdist workers (`make test PYTEST_WORKERS=0` runs in one process).
PYTEST_WORKERS ?= 2

.PHONY: run test env train bench eval lock clean

env:
	$(PYTHON) tools/envs.py ensure

run: env
	.venv/bin/aios up

test: env
	.venv/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

train: env
	.venv/bin/aios train

bench: env
	.venv/bin/aios bench chat

eval: env
	.venv/bin/aios eval nlu

lock:
	$(PYTHON) tools/envs.py lock

clean:
	rm -rf var .venv .venv-rasa .pytest_cache
