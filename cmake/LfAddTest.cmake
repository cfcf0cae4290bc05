# lf_add_test(NAME name SOURCES a.c b.cpp [LIBS ...] [LABELS ...] [ENV k=v ...]
#             [TIMEOUT s] [NO_VALGRIND] [INTERNAL])
# One CMocka executable per area, linked to the shared library and the test
# support code, registered with ctest. INTERNAL links the library's object
# code (lf_core) and src/'s internal headers instead, for the few suites that
# compare internal functions with each other (as the fuzz targets do). Where valgrind exists a twin
# `name.valgrind` is registered under the labels "valgrind" and
# "valgrind-<first label>" (e.g. `ctest -L 'valgrind-(unit|integration)'`);
# the main test pass excludes them with `-LE valgrind`.
function(lf_add_test)
  cmake_parse_arguments(T "NO_VALGRIND;INTERNAL" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  if(T_INTERNAL)
    target_link_libraries(${T_NAME} PRIVATE lf_core lf_test_support ${T_LIBS})
    target_include_directories(${T_NAME} PRIVATE "${PROJECT_SOURCE_DIR}/src")
  else()
    target_link_libraries(${T_NAME} PRIVATE lightfunnels::auth lf_test_support ${T_LIBS})
  endif()
  lf_set_warnings(${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "${T_ENV}")
  if(LF_VALGRIND AND NOT T_NO_VALGRIND)
    add_test(NAME ${T_NAME}.valgrind
      COMMAND ${LF_VALGRIND} --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
              --show-leak-kinds=definite,indirect --num-callers=30 $<TARGET_FILE:${T_NAME}>)
    math(EXPR _vt "${T_TIMEOUT} * 10")
    list(GET T_LABELS 0 _first)
    set_tests_properties(${T_NAME}.valgrind PROPERTIES TIMEOUT ${_vt} LABELS "valgrind;valgrind-${_first}"
      ENVIRONMENT "${T_ENV};LF_TEST_SLOW=1")
  endif()
endfunction()
