# Two commands for a newcomer: `make demo` and `make test`. Each makes .venv by itself.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DOMAIN := messages

.PHONY: demo run test test-fast lint format locales compile-locales bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

compile-locales: $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -d locales -D $(DOMAIN) 2>&1 | grep -v "^compiling" || true
	@$(PY) -c "import pathlib,sys; sys.exit(0 if all(p.exists() for p in (pathlib.Path('locales/ru/LC_MESSAGES/$(DOMAIN).mo'), pathlib.Path('locales/en/LC_MESSAGES/$(DOMAIN).mo'))) else 1)"

## Extract strings, merge them into both catalogs, copy msgids into empty `en` entries, compile.
locales: $(STAMP)
	$(VENV)/bin/pybabel extract --no-location --sort-output -F babel.cfg -k __ -k _ -k N_ -k ngettext:1,2 -o locales/$(DOMAIN).pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching --ignore-obsolete -i locales/$(DOMAIN).pot -d locales -D $(DOMAIN)
	$(PY) -m bot.i18n_tools fill-source locales/en/LC_MESSAGES/$(DOMAIN).po
	$(PY) -m bot.i18n_tools check locales
	$(MAKE) compile-locales

demo: $(STAMP) compile-locales
	$(PY) -m bot demo

run: $(STAMP) compile-locales
	$(PY) -m bot run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: $(STAMP) compile-locales lint
	$(VENV)/bin/pytest -q -ra

test-fast: $(STAMP) compile-locales
	$(VENV)/bin/pytest -q -x

bench: $(STAMP) compile-locales
	set -e; for f in bench/bench_*.py bench/fanout.py; do $(PY) "$$f"; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
