# Interface target carrying the project's warning flags; every module links it.
add_library(xb_warnings INTERFACE)
target_compile_options(xb_warnings INTERFACE -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wno-unused-parameter -Wformat=2 -Wvla)
if(XB_WERROR)
    target_compile_options(xb_warnings INTERFACE -Werror)
endif()
target_include_directories(xb_warnings INTERFACE ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/generated)
