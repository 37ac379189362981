# The viewer extension (extension/viewer*.c, docs/viewer.md), included from the top-level
# CMakeLists.txt. Its pages (extension/viewer_assets/) are embedded into the binary at
# build time as C byte arrays, like config/default.yaml (config/embed.cmake).
set(XB_VIEWER_DIR ${CMAKE_CURRENT_LIST_DIR})
set(XB_VIEWER_GEN ${CMAKE_BINARY_DIR}/generated/extension)
set(XB_VIEWER_INCS)
foreach(asset index.html viewer.js viewer.css)
    string(REPLACE "." "_" stem ${asset})
    set(inc ${XB_VIEWER_GEN}/${stem}.inc)
    add_custom_command(
        OUTPUT ${inc}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${XB_VIEWER_GEN}
        COMMAND ${CMAKE_COMMAND} -DIN=${XB_VIEWER_DIR}/viewer_assets/${asset} -DOUT=${inc}
                -P ${CMAKE_SOURCE_DIR}/config/embed.cmake
        DEPENDS ${XB_VIEWER_DIR}/viewer_assets/${asset} ${CMAKE_SOURCE_DIR}/config/embed.cmake
        COMMENT "Embedding extension/viewer_assets/${asset}")
    list(APPEND XB_VIEWER_INCS ${inc})
endforeach()

# Pure parts (store, filter, map, trace reading): unit-tested in tests/viewer.
add_library(xb_viewer_core STATIC ${XB_VIEWER_DIR}/viewer_store.c
    ${XB_VIEWER_DIR}/viewer_filter.c ${XB_VIEWER_DIR}/viewer_map.c
    ${XB_VIEWER_DIR}/viewer_trace.c)
target_link_libraries(xb_viewer_core PUBLIC xb_core xb_warnings PkgConfig::JANSSON m)

# The HTTP server on the app's event loop.
add_library(xb_viewer STATIC ${XB_VIEWER_DIR}/viewer.c ${XB_VIEWER_INCS})
target_include_directories(xb_viewer PRIVATE ${CMAKE_BINARY_DIR}/generated)
target_link_libraries(xb_viewer PUBLIC xb_viewer_core xb_receiver xb_core xb_warnings
    PkgConfig::LIBEVENT)
