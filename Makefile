# xraybridge: the two set-up commands, and a formatting check.
#   make run   installs missing Debian packages, builds, runs on the embedded default config
#   make test  installs, checks formatting, builds (plain and ASan+UBSan), runs every
#              test, fuzzes 40 s, then checks that make release builds and trains
#   make format-check  fails on C files that differ from .clang-format (part of make test)
#   make release  the optimised build the container image ships: LTO and GCC profile-guided
#              (instrumented build, bench/pgo_train.sh, rebuild from the profile)
BUILD_DIR ?= build
SAN_DIR ?= build-sanitize
RELEASE_DIR ?= build-release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIG ?=

.PHONY: all deps build run test test-plain test-fuzz test-sanitize bench clean fuzz-long \
	format-check release
# Seconds per fuzz target (three targets: about 30 s in all for make test).
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?= 100000
FUZZ_SEED ?= 1
FUZZ_LONG_SECONDS ?= 600

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	./$(BUILD_DIR)/app/xraybridge $(if $(CONFIG),--config $(CONFIG))

test: deps
	$(MAKE) format-check
	$(MAKE) test-plain
	$(MAKE) test-fuzz
	$(MAKE) test-sanitize
	$(MAKE) release

test-plain:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# libFuzzer on the decoders (protobuf, OTLP/JSON, differential), clang with ASan+UBSan,
# inputs up to 64 KB; any finding fails the run. docs/fuzzing.md.
test-fuzz:
	XB_FUZZ_BUILD_DIR=$(CURDIR)/build-fuzz XB_FUZZ_SEED=$(FUZZ_SEED) XB_FUZZ_RUNS=$(FUZZ_RUNS) \
		sh tests/fuzz/run.sh $(FUZZ_SECONDS)
	XB_FUZZ_BUILD_DIR=$(CURDIR)/build-fuzz XB_FUZZ_SEED=$(FUZZ_SEED) XB_FUZZ_RUNS=$(FUZZ_RUNS) \
		sh tests/fuzz/run_grpc.sh $(FUZZ_SECONDS)

# The same targets for FUZZ_LONG_SECONDS each (default 10 minutes).
fuzz-long:
	XB_FUZZ_BUILD_DIR=$(CURDIR)/build-fuzz sh tests/fuzz/run.sh $(FUZZ_LONG_SECONDS)
	XB_FUZZ_BUILD_DIR=$(CURDIR)/build-fuzz sh tests/fuzz/run_grpc.sh $(FUZZ_LONG_SECONDS)

test-sanitize:
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DXB_SANITIZE=address,undefined
	cmake --build $(SAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(SAN_DIR) --output-on-failure -j$(JOBS) -LE valgrind

# Fails when a C file tracked by git differs from what clang-format (.clang-format) would
# write; prints each offending line. Changes nothing.
format-check:
	git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror

# Release build with link-time and profile-guided optimisation (docs/performance.md
# "Profile-guided build"): the same tree is configured twice, so GCC finds each object's
# counts. Installs only the build packages plus python3 and h2load for the training.
release:
	@sh scripts/install-deps.sh --release
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG -g" \
		-DXB_BUILD_TESTS=OFF -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON -DXB_PGO=generate
	cmake --build $(RELEASE_DIR) -j$(JOBS)
	sh bench/pgo_train.sh $(RELEASE_DIR)
	cmake -S . -B $(RELEASE_DIR) -DXB_PGO=use
	cmake --build $(RELEASE_DIR) -j$(JOBS)
	sh bench/pgo_train.sh --check $(RELEASE_DIR)

bench: build
	bash bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(RELEASE_DIR) build-fuzz
