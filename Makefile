# The two commands of the README: `make demo` and `make test`. Everything else is optional.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo clean help check-asan check-tsan bench fuzz

all: build

help:
	@echo "make demo   install deps if missing, build (Release), run a quick Fashion-MNIST search"
	@echo "make test   install deps if missing, build, run the test suite (ctest)"
	@echo "make build  build only (into $(BUILD)/)"
	@echo "make clean  remove $(BUILD)/"
	@echo "make check-asan  build and run the tests with AddressSanitizer + UBSan (build-asan/)"
	@echo "make check-tsan  build and run the search and evaluator-pool tests with ThreadSanitizer (build-tsan/)"
	@echo "make bench  build the benchmark programs (bench/, see bench/RESULTS.md)"
	@echo "make fuzz   libFuzzer on the input parsers, FUZZ_SECONDS each (default 60; build-fuzz/, clang)"

deps:
	@scripts/install-deps.sh --with-test-extras

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS); rc=$$?; \
	  echo "slowest test entries:"; $(CURDIR)/scripts/slowest-tests.sh . 10; exit $$rc

demo: build
	@scripts/demo.sh $(BUILD)/experiments/paretonas

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target bench

# Sanitizers: separate build folders, Debug with optimisation so that the suite stays quick.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer
check-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS="$(SAN_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined" >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

# LibTorch and OpenMP are not instrumented, so TSan runs the torch-free suites: the search loop,
# the TBB worker pool (search_test drives it with 1, 2 and 4 workers) and the table evaluator.
check-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$(SAN_FLAGS) -fsanitize=thread" >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target search_test space_test predictors_test
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" ./tests/search_test && \
	  ./tests/space_test && ./tests/predictors_test

# libFuzzer (clang) on the parsers of user input: experiment and space files, architecture keys, CSV tables,
# checkpoints/journals, latency models. Seeds in fuzz/seeds/<target>/; what a run finds is kept in
# build-fuzz/corpus/ (and a crashing input as build-fuzz/crash-*, which fails the target).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(basename $(notdir $(wildcard fuzz/fuzz_*.cpp)))  # one per fuzz/fuzz_*.cpp
fuzz: deps
	@scripts/install-deps.sh --with-fuzz
	@CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARETONAS_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@rm -f build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* build-fuzz/oom-*
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 ./fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -max_len=4096 -print_final_stats=1 corpus/$$t $(CURDIR)/fuzz/seeds/$$t 2>&1 \
	    | grep -E "DONE|^stat::number_of_executed_units|ERROR|paretonas fuzz|what\(\)"); \
	done; \
	found=$$(ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* build-fuzz/oom-* 2>/dev/null); \
	if [ -n "$$found" ]; then echo "$$found"; \
	  echo "fuzz: inputs above crashed (reproduce: build-fuzz/fuzz/TARGET FILE)"; exit 1; fi; \
	echo "fuzz: no crash in $(FUZZ_TARGETS)"

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
