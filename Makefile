# Two commands a new user needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test quality run setup browser bench clean

demo: setup
	$(VENV)/bin/storywatch demo

run: setup
	$(VENV)/bin/storywatch run --story seeds/meta-open-models

test: setup browser
	$(VENV)/bin/python -m pytest -q

# Debian's Chromium (and nothing a test tool downloads itself), for the test that opens the
# Prefect UI `serve` prints, headless.
browser:
	@command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null \
		|| (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)

# The quality gate (bench/quality.py --check against bench/baseline.json): on the shared corpus
# when ../shared/corpus is beside the repo, else on the project's own fixtures.
CORPUS ?= ../shared/corpus

quality: setup
	@if [ -f "$(CORPUS)/pages/MANIFEST.jsonl" ]; then \
		$(VENV)/bin/python bench/quality.py --check --corpus "$(CORPUS)"; \
	else \
		$(VENV)/bin/python bench/quality.py --check --fixtures-only; \
	fi

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) storywatch-data .pytest_cache
