# lf_set_warnings(target): the project's warning set, errors when LF_WERROR
# is on. The code builds without warnings with Debian 12's GCC 12 and clang 14.
function(lf_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wshadow -Wformat=2 -Wundef>
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast>
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes>)
  if(LF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
