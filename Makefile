# Poplar: thin wrappers around CMake presets and the test runner.
#   make run    install dependencies, build, start the demo server (foreground)
#   make test   install dependencies, build (debug + asan-ubsan), run every test
#   make fuzz   run every libFuzzer target for 10 minutes (developers)
#   make bench  install Dovecot, build, compare Poplar with Dovecot; writes docs/benchmarks.md
#               (BENCH_ARGS=--quick for a 2-minute smoke run)
.PHONY: all deps build run test fuzz bench soak format clean

JOBS ?= $(shell nproc)

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target poplar

run: build
	@./build/release/poplar serve --demo --demo-dir demo-data

test: deps
	@tests/run_all

# Longer fuzzing for developers: random seed, 10 minutes per target. Crashes land in
# build/fuzz/crashes/; add them to tests/fuzz/corpus/<target>/ once fixed.
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@tests/run_fuzzers 100000000 600 0

# Poplar against Dovecot default and tuned on one generated data set (12-15 minutes on
# 2 cores, needs root). Results: build/bench/results.json and docs/benchmarks.md. Then
# `poplar fetch` against mpop and fetchmail (2 minutes): docs/fetch-benchmark.md.
bench:
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory build
	@scripts/bench $(BENCH_ARGS)
	@scripts/bench-fetch --write docs/fetch-benchmark.md

# The load and abuse soak (tests/soak/soak.py, docs/reliability.md): every scenario on loopback,
# about 5 minutes (bounded under 10). SOAK_ARGS="--scenario idle" runs one.
soak: build
	@python3 tests/soak/soak.py --bin build/release/poplar --seconds 60 $(SOAK_ARGS)

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
