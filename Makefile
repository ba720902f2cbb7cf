# The two commands a newcomer needs: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: demo test bench lint format translations messages install install-dev clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The app alone (make demo), and the app with the test and lint tools (make test).
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.dev-installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d marketplace/translations

# Re-extract the strings to translate and merge them into the catalogues (then edit the .po files).
messages: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location -o /tmp/marketplace-messages.pot \
		--ignore-dirs='.venv migrations tests bench instance' .
	$(BIN)/pybabel update -i /tmp/marketplace-messages.pot -d marketplace/translations --no-fuzzy-matching

demo: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-2} -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY),)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
