# Reads LF_AUTH_VERSION_{MAJOR,MINOR,PATCH} from the public header, so the
# header is the one place the version is written.
function(lf_read_version header out_var)
  file(STRINGS "${header}" _lines REGEX "^#define LF_AUTH_VERSION_(MAJOR|MINOR|PATCH) ")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "LF_AUTH_VERSION_${_part} ([0-9]+)" _m "${_lines}")
    if(NOT _m)
      message(FATAL_ERROR "LF_AUTH_VERSION_${_part} not found in ${header}")
    endif()
    set(_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  set(${out_var} "${_MAJOR}.${_MINOR}.${_PATCH}" PARENT_SCOPE)
endfunction()
