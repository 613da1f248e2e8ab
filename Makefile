# xlw: two commands do all set-up on a fresh clone — `make reports` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= cpu
ONLY ?=
FORCE ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlw-installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# JupyterLab refuses root (as in most containers) unless told; LAB_ARGS adds options, e.g. --ip=0.0.0.0 --no-browser
ROOT_ONLY := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_ARGS ?=
THESAURI := wordnet-base mythes-de mythes-fr

.PHONY: setup reports test lab lock

# (Re)install when the dependency declarations change; registers the Jupyter kernel `xlw`
# inside the venv (--sys-prefix), so nothing outside the project folder is touched, and converts
# the offline Gemma-3-270M (and copies MiniLM) into cache/models once (about a minute; skipped when it is there).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
# offline thesauri for xlw.augment (notebook 08): WordNet (English), MyThes (German, French), from Debian;
# elsewhere a warning, and xlw.augment's error says what else works (e.g. nltk.download('wordnet'))
	dpkg -s $(THESAURI) >/dev/null 2>&1 || { command -v apt-get >/dev/null && $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq $(THESAURI); } || echo "warning: could not install $(THESAURI) (Debian packages)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,offline]'
	$(BIN)/python -m xlw.pretrained install gemma-3-270m all-minilm-l6-v2
	$(BIN)/python -m ipykernel install --sys-prefix --name xlw --display-name "Python (xlw)"
	touch $@

setup: $(STAMP)

reports: setup
	$(BIN)/python -m xlw.report --profile $(PROFILE) $(if $(ONLY),--only $(ONLY)) $(if $(FORCE),--force)

test: setup
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab notebooks $(ROOT_ONLY) $(LAB_ARGS)

lock: setup
	{ echo "# Exact versions the reports were produced with; make installs under these constraints."; \
	  echo "# torch is pinned without its +cpu label so that a CUDA machine gets the same release. Regenerate: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v "^xlw" | sed "s/^torch==\(.*\)+cpu$$/torch==\1/"; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
