# Test binaries share one precompiled header of GoogleTest and the standard headers they all
# use: parsing <gtest/gtest.h> alone takes about 2 of the 5 seconds a typical test file compiles
# in, and make test builds every test twice (debug and asan-ubsan) on 2 cores in CI. One PCH
# (built by poplar_test_pch, an object library with the test binaries' flags) is reused by all;
# a PCH per binary cost nearly what it saved. Should a target's flags differ, GCC ignores the
# PCH and parses the header text instead: slower, never wrong.
option(POPLAR_PCH "Precompile GoogleTest and standard headers for the test binaries" ON)
set(POPLAR_TEST_PCH_HEADERS
  <gtest/gtest.h> <algorithm> <chrono> <cstdint> <filesystem> <functional> <map> <memory>
  <optional> <string> <string_view> <vector>)
# poplar_test_pch(TARGET [OWN]): OWN gives the target a PCH of its own, for a binary whose flags
# differ (GMime's pkg-config adds -D_LARGEFILE64_SOURCE, and CMake turns on -Winvalid-pch).
function(poplar_test_pch target)
  if(NOT POPLAR_PCH)
    return()
  endif()
  if(ARGV1 STREQUAL "OWN")
    target_precompile_headers(${target} PRIVATE ${POPLAR_TEST_PCH_HEADERS})
    return()
  endif()
  if(NOT TARGET poplar_test_pch)  # made by the first test binary (GTest is found by then)
    file(WRITE ${CMAKE_BINARY_DIR}/poplar_test_pch.cc "// Owns the test binaries' PCH.\n")
    add_library(poplar_test_pch OBJECT ${CMAKE_BINARY_DIR}/poplar_test_pch.cc)
    target_link_libraries(poplar_test_pch PRIVATE GTest::gtest GTest::gmock)
    target_precompile_headers(poplar_test_pch PRIVATE ${POPLAR_TEST_PCH_HEADERS})
  endif()
  target_precompile_headers(${target} REUSE_FROM poplar_test_pch)
endfunction()

# CTest registration of a GoogleTest binary. By default every test case is a CTest test of its
# own (gtest_discover_tests): failures are reported by name and run in parallel. With
# POPLAR_TESTS_PER_BINARY (the asan-ubsan preset) the binary is one CTest test running all its
# cases in one process: a sanitizer build spends about 0.4 s of CPU starting each process, which
# over 1,200 cases was more than half of that suite's time. tests/run_all counts the cases from
# GoogleTest's own summary lines either way.
option(POPLAR_TESTS_PER_BINARY "One CTest test per GoogleTest binary instead of per case" OFF)
function(poplar_register_gtests target label)
  if(POPLAR_TESTS_PER_BINARY)
    add_test(NAME ${target} COMMAND ${target} --gtest_brief=1)
    set_tests_properties(${target} PROPERTIES LABELS "${label};gtest-binary")
  else()
    gtest_discover_tests(${target} PROPERTIES LABELS ${label} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# poplar_unit_tests(NAME [OWN_PCH] SOURCES... LIBS ...): one gtest binary per module, label "unit".
function(poplar_unit_tests name)
  if(NOT POPLAR_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "OWN_PCH" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(ARG_OWN_PCH)
    poplar_test_pch(${name} OWN)
  else()
    poplar_test_pch(${name})
  endif()
  poplar_register_gtests(${name} unit)
endfunction()
