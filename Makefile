# Poplar: thin wrappers around CMake presets and the test runner.
#   make run    install dependencies, build, start the demo server (foreground)
#   make test   install dependencies, build (debug + asan-ubsan), run every test
.PHONY: all deps build run test unit integration format clean

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

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
