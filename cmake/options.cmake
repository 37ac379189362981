# Every user-facing build option of xraybridge, in one place.
option(XB_WERROR "Treat compiler warnings as errors" ON)
set(XB_SANITIZE "" CACHE STRING "Comma-separated sanitizers, e.g. address,undefined")
option(XB_BUILD_TESTS "Build the unit and integration tests" ON)
option(XB_BUILD_BENCH "Build the benchmark programs under bench/" ON)
option(XB_FUZZ "Build libFuzzer targets (needs clang)" OFF)
