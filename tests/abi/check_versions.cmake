# The version written in the header (parsed into PROJECT_VERSION) is the one
# in the generated pkg-config file and the CMake package version file.
file(READ "${PC_FILE}" pc)
string(REGEX MATCH "Version: ([0-9.]+)" _ "${pc}")
if(NOT CMAKE_MATCH_1 STREQUAL EXPECTED)
  message(FATAL_ERROR "pkg-config Version '${CMAKE_MATCH_1}' != project version '${EXPECTED}'")
endif()
file(READ "${CONFIG_VERSION_FILE}" cv)
string(REGEX MATCH "set\\(PACKAGE_VERSION \"([0-9.]+)\"\\)" _ "${cv}")
if(NOT CMAKE_MATCH_1 STREQUAL EXPECTED)
  message(FATAL_ERROR "CMake package version '${CMAKE_MATCH_1}' != project version '${EXPECTED}'")
endif()
message(STATUS "versions agree: ${EXPECTED}")
