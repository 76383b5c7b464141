# The two quick-start commands: `make train` and `make test`. Both install missing Debian
# packages first and configure a Release build in build/; `make train` builds only the library
# and the tinynn program, `make test` everything (tests, benchmarks, examples).
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= configs/fashion_mnist_mlp.json
CMAKE_FLAGS ?=
CTEST_ARGS ?=

.PHONY: all deps test-deps configure build test train bench sanitize fuzz fresh-check clean
FUZZ_SECONDS ?= 600

all: build

deps:
	bash scripts/install-deps.sh

test-deps:
	bash scripts/install-deps.sh --test

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

train: configure
	cmake --build $(BUILD) -j $(JOBS) --target tinynn_cli
	$(BUILD)/bin/tinynn train $(CONFIG) --overwrite

bench: build
	bash bench/run_all.sh $(BUILD)

# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer (LeakSanitizer
# included), without the CUDA backend and the packaging test, which rebuild nothing new; and for
# any x86-64 (TINYNN_NATIVE=OFF), so that the loops' portable paths run too (`make test` runs the
# ones for this machine's CPU).
sanitize: test-deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYNN_SANITIZE=ON -DTINYNN_CUDA=OFF \
	  -DTINYNN_BUILD_BENCH=OFF -DTINYNN_NATIVE=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) -E '^packaging'

# Long fuzzing runs: FUZZ_SECONDS per target (default 600), new inputs kept in $(BUILD)-fuzz/corpus.
fuzz: test-deps
	bash tests/fuzz_smoke.sh build . $(BUILD)-fuzz
	for t in config idx image safetensors; do \
	  mkdir -p $(BUILD)-fuzz/corpus/$$t && \
	  $(BUILD)-fuzz/bin/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)-fuzz/ $(BUILD)-fuzz/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

# The README's quick start on a clean Debian 12 minbase root (debootstrap), as root.
fresh-check:
	bash scripts/fresh-check.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
