# The two quick-start commands: `make train` and `make test`. Both install missing Debian
# packages first, configure a Release build in build/, and build with every core.
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= configs/fashion_mnist_mlp.json
CMAKE_FLAGS ?=

.PHONY: all deps configure build test train bench clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

train: build
	$(BUILD)/bin/tinynn train $(CONFIG)

bench: build
	bash bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
