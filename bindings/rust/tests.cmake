# Included by bindings/CMakeLists.txt: registers the Rust binding's tests.
# They build the crates with `cargo --offline` against the staged install
# (fixture lf_staged: pkg-config finds ${LF_STAGE_DIR}'s lightfunnels-auth.pc)
# and run the integration tests against this build's lf-sandbox.
# A missing cargo is a test FAILURE, not a skip (CI installs Debian's cargo).
if(TARGET lf-sandbox)
  find_program(LF_CARGO cargo DOC "cargo used by the rust_binding test")
  set(_lf_rust_dir "${CMAKE_CURRENT_LIST_DIR}")
  add_test(NAME rust_binding
    COMMAND ${CMAKE_COMMAND} -E env
      "LF_STAGE_ENV=${LF_STAGE_DIR}/env.sh"
      "LF_SANDBOX=$<TARGET_FILE:lf-sandbox>"
      "LF_CARGO=${LF_CARGO}"
      "CARGO_TARGET_DIR=${PROJECT_BINARY_DIR}/bindings/rust-target"
      "LF_CARGO_HOME=${PROJECT_BINARY_DIR}/bindings/rust-cargo-home"
      sh "${_lf_rust_dir}/run-tests.sh")
  set_tests_properties(rust_binding PROPERTIES
    FIXTURES_REQUIRED lf_staged
    LABELS "bindings"
    TIMEOUT 900)
  unset(_lf_rust_dir)
endif()
