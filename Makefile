# The two commands of the README: `make demo` and `make test`. Everything else is optional.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo clean help

all: build

help:
	@echo "make demo   install deps if missing, build (Release), run a quick Fashion-MNIST search"
	@echo "make test   install deps if missing, build, run the test suite (ctest)"
	@echo "make build  build only (into $(BUILD)/)"
	@echo "make clean  remove $(BUILD)/"

deps:
	@scripts/install-deps.sh --with-test-extras

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/experiments/paretonas

clean:
	rm -rf $(BUILD)
