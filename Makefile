# pkghunt: `make demo` and `make test` set up everything missing, then run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test typecheck lint unit e2e bench dataset eval eval-npm clean watch-live screenshots

help:
	@echo "make demo   - set up (apt, npm, sandbox) and analyse the embedded demo index"
	@echo "make test   - set up and run typecheck, lint and the whole test suite"
	@echo "make bench  - set up and run the benchmarks (results: docs/BENCHMARKS.md)"

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

typecheck:
	npx tsc -p tsconfig.json --noEmit

lint:
	npx biome check .

unit:
	@bash scripts/run-tests.sh unit

e2e:
	@bash scripts/run-tests.sh e2e

test: setup typecheck lint
	@bash scripts/run-tests.sh all

bench: setup
	@bash scripts/bench.sh

dataset: setup
	@bash scripts/dataset.sh

eval: setup
	@bash scripts/eval.sh

# False positives over the 500 most depended-upon npm packages (resumable): scripts/eval-npm-popular.sh.
eval-npm: setup
	@bash scripts/eval-npm-popular.sh

# The dashboard's browser test writes out/screenshots/*.png; the README shows the overview.
screenshots: setup
	node --import tsx --test --test-concurrency=1 test/dashboard/dashboard-browser.test.ts
	cp out/screenshots/overview.png docs/dashboard-overview.png

# Watch the live index for DURATION (default 1h): scripts/watch-live.sh, numbers for docs/BENCHMARKS.md.
watch-live: setup
	@bash scripts/watch-live.sh

clean:
	rm -rf .cache out
