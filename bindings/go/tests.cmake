# Go binding tests (included by bindings/CMakeLists.txt). Runs `go vet` and
# `go test` in bindings/go against the staged install (fixture lf_staged) and
# lf-sandbox. A missing `go` makes the test FAIL, not skip: CI installs
# golang-go.
if(TARGET lf-sandbox)
  # go from PATH, or -DLF_GO_EXECUTABLE=/path/to/go.
  find_program(LF_GO_EXECUTABLE go DOC "go used by the go_binding test")
  if(NOT LF_GO_EXECUTABLE)
    message(WARNING "go not found: the go_binding test will fail (install golang-go, "
      "or configure with -DLF_GO_EXECUTABLE=/path/to/go)")
    set(_lf_go "")
  else()
    set(_lf_go "${LF_GO_EXECUTABLE}")
  endif()
  set(_lf_go_home "${PROJECT_BINARY_DIR}/bindings/go")
  add_test(NAME go_binding
    COMMAND sh "${CMAKE_CURRENT_LIST_DIR}/run-tests.sh")
  set_tests_properties(go_binding PROPERTIES
    FIXTURES_REQUIRED lf_staged
    LABELS "bindings"
    TIMEOUT 600
    ENVIRONMENT "GO=${_lf_go};LF_STAGE_ENV=${LF_STAGE_DIR}/env.sh;LF_SANDBOX=$<TARGET_FILE:lf-sandbox>;GOFLAGS=-mod=mod;GOPROXY=off;GOENV=off;GOTOOLCHAIN=local;GOCACHE=${_lf_go_home}/cache;GOPATH=${_lf_go_home}/gopath")
  unset(_lf_go)
  unset(_lf_go_home)
endif()
