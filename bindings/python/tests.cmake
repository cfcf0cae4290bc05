# Python binding tests (included by bindings/CMakeLists.txt): the package's
# unittest suite and the Flask example's, against the staged install (fixture
# lf_staged) and lf-sandbox. Debian's python3 is preferred over one earlier on
# PATH (pyenv, a venv) because python3-flask is installed for it. A missing
# python3 or flask makes the tests FAIL, not skip: CI installs them.
if(TARGET lf-sandbox)
  find_program(LF_PYTHON3_EXECUTABLE NAMES python3 HINTS /usr/bin)
  if(NOT LF_PYTHON3_EXECUTABLE)
    message(WARNING "python3 not found: the python_* tests will fail (install python3)")
    set(_lf_py "")
  else()
    set(_lf_py "${LF_PYTHON3_EXECUTABLE}")
  endif()
  foreach(_suite binding flask)
    if(_suite STREQUAL "binding")
      set(_name python_binding)
    else()
      set(_name python_flask_example)
    endif()
    add_test(NAME ${_name}
      COMMAND sh "${CMAKE_CURRENT_LIST_DIR}/run-tests.sh" ${_suite})
    set_tests_properties(${_name} PROPERTIES
      FIXTURES_REQUIRED lf_staged
      LABELS "bindings"
      TIMEOUT 300
      ENVIRONMENT "PYTHON=${_lf_py};LF_STAGE_ENV=${LF_STAGE_DIR}/env.sh;LF_SANDBOX=$<TARGET_FILE:lf-sandbox>")
  endforeach()
  unset(_lf_py)
  unset(_name)
endif()
