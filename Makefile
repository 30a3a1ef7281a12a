# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned and installed first: a CPU wheel pip finds locally. Any looser requirement
# resolved first would pull several GB of CUDA wheels.
TORCH := torch==2.13.0

.PHONY: demo test lint bench clean gpu-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/pip install -q $(TORCH)
	touch $@

$(VENV)/.core: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/qtrain bench run qpsbgd-digits --quick

test: $(VENV)/.dev
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# Every CUDA path (tests marked cuda, the GPU parts of qubo-speed, quantum-speed, sinnn-quantum) in
# under eight minutes, one summary in results/gpu-check; without a GPU it says so and exits 0.
gpu-check: $(VENV)/.dev
	$(BIN)/python benchmarks/gpu_check.py --out results/gpu-check

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build src/*.egg-info
