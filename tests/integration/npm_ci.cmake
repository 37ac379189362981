# cmake -DNPM=/usr/bin/npm -DDIR=tests/integration -P npm_ci.cmake
# Runs `npm ci` in DIR unless node_modules is already at least as new as
# package-lock.json (npm ci writes node_modules/.package-lock.json).
set(marker ${DIR}/node_modules/.package-lock.json)
if(EXISTS ${marker} AND NOT ${DIR}/package-lock.json IS_NEWER_THAN ${marker})
    message(STATUS "node_modules is up to date")
    return()
endif()
execute_process(COMMAND ${NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "npm ci failed (${rc})")
endif()
