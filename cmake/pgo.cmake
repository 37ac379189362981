# Profile-guided optimisation (GCC), docs/performance.md "Profile-guided build".
#   XB_PGO=generate  instrumented build: every run writes .gcda counts under XB_PGO_DIR
#   XB_PGO=use       optimised from the counts in XB_PGO_DIR
# Both phases use the same build directory (GCC finds each object's counts by its path).
# bench/pgo_train.sh runs the training workload between them; `make release` does all.
set(XB_PGO "" CACHE STRING "Profile-guided optimisation phase: empty, generate or use")
set(XB_PGO_DIR "${CMAKE_BINARY_DIR}/pgo-profile" CACHE PATH
    "Directory of the profile counts XB_PGO=generate writes and XB_PGO=use reads")
if(XB_PGO STREQUAL "generate")
    # Workers update counters concurrently: atomic updates keep the counts exact.
    add_compile_options(-fprofile-generate=${XB_PGO_DIR} -fprofile-update=prefer-atomic)
    add_link_options(-fprofile-generate=${XB_PGO_DIR})
elseif(XB_PGO STREQUAL "use")
    # Code the training never ran keeps its ordinary optimisation
    # (-fprofile-partial-training); sources without counts (tests) are not an error.
    add_compile_options(-fprofile-use=${XB_PGO_DIR} -fprofile-partial-training
        -fprofile-correction -Wno-missing-profile)
elseif(NOT XB_PGO STREQUAL "")
    message(FATAL_ERROR "XB_PGO must be empty, generate or use (got '${XB_PGO}')")
endif()
if(XB_PGO AND NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "XB_PGO needs GCC (the profile format is GCC's)")
endif()
