# cmake -DBUILD_DIR=... -DSTAGE_DIR=... -P LfStage.cmake
# Installs the build into STAGE_DIR and points the staged pkg-config file at
# it, so bindings' tests can use `pkg-config lightfunnels-auth` exactly as a
# user would against a real install.
file(REMOVE_RECURSE "${STAGE_DIR}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${STAGE_DIR}"
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install into ${STAGE_DIR} failed")
endif()
file(GLOB_RECURSE pcs "${STAGE_DIR}/*/lightfunnels-auth.pc")
foreach(pc ${pcs})
  file(READ "${pc}" text)
  string(REGEX REPLACE "prefix=[^\n]*" "prefix=${STAGE_DIR}" text "${text}")
  file(WRITE "${pc}" "${text}")
  get_filename_component(pcdir "${pc}" DIRECTORY)
  get_filename_component(libdir "${pcdir}" DIRECTORY)
  file(WRITE "${STAGE_DIR}/env.sh" "PKG_CONFIG_PATH=${pcdir}\nLD_LIBRARY_PATH=${libdir}\n")
endforeach()
