# Debian packages with CPack:  cpack -G DEB  (from a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr, so GNUInstallDirs gives the multiarch libdir
# lib/<triplet>). One package per install component:
#
#   component  package                    contents
#   runtime    liblightfunnels-auth1      liblightfunnels-auth.so.1*  (Section: libs)
#   dev        liblightfunnels-auth-dev   header, .so link, .pc, CMake package (libdevel)
#   tools      lightfunnels-auth-tools    lf-auth, lf-sandbox, their man pages (net)
#
# The runtime package's Depends are computed by dpkg-shlibdeps (dpkg-dev), so
# they name Debian's libcurl4, libcjson1, libssl3 and libc6 with the right
# versions; it ships a shlibs file and an ldconfig trigger. Tested end to end
# (lintian, dpkg -i, a pkg-config consumer) by tests/package/run_package_test.sh.

set(LF_DEB_MAINTAINER "lightfunnels-auth maintainers <lightfunnels-auth@users.noreply.github.com>"
  CACHE STRING "Maintainer field of the Debian packages")
set(LF_DEB_RELEASE "1" CACHE STRING "Debian revision of the packages")
set(LF_HOMEPAGE "https://github.com/lightfunnels-auth/lightfunnels-auth")

set(LF_DEB_RUNTIME_NAME "liblightfunnels-auth${PROJECT_VERSION_MAJOR}")
set(LF_DEB_DEV_NAME "liblightfunnels-auth-dev")
set(LF_DEB_TOOLS_NAME "lightfunnels-auth-tools")
set(LF_DEB_FULL_VERSION "${PROJECT_VERSION}-${LF_DEB_RELEASE}")

# ---- per-package documentation (Debian policy 12.5 / 12.7) ------------------
# /usr/share/doc/<package>/copyright and changelog.Debian.gz. Installed only
# by component installs (cpack), not by a plain `cmake --install`.
set(_lf_pkgdoc "${PROJECT_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${_lf_pkgdoc}")
string(TIMESTAMP _lf_year "%Y" UTC)
file(WRITE "${_lf_pkgdoc}/copyright"
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lightfunnels-auth
Upstream-Contact: ${LF_DEB_MAINTAINER}
Source: ${LF_HOMEPAGE}

Files: *
Copyright: ${_lf_year} lightfunnels-auth contributors
License: MIT

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a
 copy of this software and associated documentation files (the \"Software\"),
 to deal in the Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, sublicense,
 and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included
 in all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS
 OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
")

# A reproducible changelog: its date is SOURCE_DATE_EPOCH when set, else the
# commit date of HEAD, else now; gzip -9n (no name, no timestamp).
set(_lf_date "")
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  execute_process(COMMAND date -u -R -d "@$ENV{SOURCE_DATE_EPOCH}"
    OUTPUT_VARIABLE _lf_date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT _lf_date)
  execute_process(COMMAND git -C "${PROJECT_SOURCE_DIR}" log -1 --format=%cD
    OUTPUT_VARIABLE _lf_date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT _lf_date)
  execute_process(COMMAND date -u -R OUTPUT_VARIABLE _lf_date OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
find_program(LF_GZIP gzip)

function(_lf_package_docs component package)
  set(_dir "${_lf_pkgdoc}/${package}")
  file(MAKE_DIRECTORY "${_dir}")
  file(WRITE "${_dir}/changelog.Debian"
"${package} (${LF_DEB_FULL_VERSION}) unstable; urgency=medium

  * Upstream release ${PROJECT_VERSION}, packaged with CPack.

 -- ${LF_DEB_MAINTAINER}  ${_lf_date}
")
  if(LF_GZIP)
    execute_process(COMMAND "${LF_GZIP}" -9 -n -f "${_dir}/changelog.Debian" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "gzip of ${_dir}/changelog.Debian failed")
    endif()
    set(_changelog "${_dir}/changelog.Debian.gz")
  else()
    set(_changelog "${_dir}/changelog.Debian")
  endif()
  install(FILES "${_lf_pkgdoc}/copyright" "${_changelog}"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/${package}"
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    COMPONENT ${component} EXCLUDE_FROM_ALL)
endfunction()

set(_lf_components runtime dev)
if(LF_BUILD_TOOLS AND TARGET lf-auth)
  list(APPEND _lf_components tools)
endif()
_lf_package_docs(runtime "${LF_DEB_RUNTIME_NAME}")
_lf_package_docs(dev "${LF_DEB_DEV_NAME}")
if("tools" IN_LIST _lf_components)
  _lf_package_docs(tools "${LF_DEB_TOOLS_NAME}")
endif()

# ---- runtime package maintainer scripts ---------------------------------------
# ldconfig runs through the dpkg trigger (Debian policy 8.1.1), not from
# maintainer scripts: CPack would generate postinst/postrm calling ldconfig
# for a library in /usr/lib, so these (which do nothing) replace them.
set(_lf_ctl "${_lf_pkgdoc}/control-runtime")
file(MAKE_DIRECTORY "${_lf_ctl}")
file(WRITE "${_lf_ctl}/triggers" "activate-noawait ldconfig\n")
foreach(_script postinst postrm)
  if(_script STREQUAL "postinst")
    set(_actions "configure|abort-upgrade|abort-remove|abort-deconfigure|triggered")
  else()
    set(_actions "remove|purge|upgrade|failed-upgrade|abort-install|abort-upgrade|disappear")
  endif()
  file(WRITE "${_lf_ctl}/${_script}" "#!/bin/sh
set -e
case \"$1\" in
  ${_actions}) ;;
  *) echo \"${_script} called with unknown argument '$1'\" >&2; exit 1 ;;
esac
exit 0
")
endforeach()

# Man pages are installed uncompressed by the tools' CMake files; packages
# must ship them gzip -9n compressed (Debian policy 12.1). Done in CPack's
# staging directory, so a plain install is unaffected.
set(LF_CPACK_PRE_BUILD "${PROJECT_BINARY_DIR}/packaging/compress-man-pages.cmake")
file(WRITE "${LF_CPACK_PRE_BUILD}" "# Generated by cmake/LfPackaging.cmake
file(GLOB_RECURSE _pages \"\${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*\")
foreach(_p IN LISTS _pages)
  if(_p MATCHES \"/share/man/man[1-9]/[^/]+\\\\.[1-9][a-z]*\$\" AND NOT IS_SYMLINK \"\${_p}\")
    execute_process(COMMAND \"${LF_GZIP}\" -9 -n -f \"\${_p}\" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"gzip \${_p} failed\")
    endif()
  endif()
endforeach()
")

# ---- CPack --------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "lightfunnels-auth")
set(CPACK_PACKAGE_VENDOR "lightfunnels-auth")
set(CPACK_PACKAGE_CONTACT "${LF_DEB_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${LF_HOMEPAGE}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Lightfunnels app authorization (OAuth2) library")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${_lf_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE "${LF_DEB_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${LF_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${LF_HOMEPAGE}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
if(LF_GZIP)
  set(CPACK_PRE_BUILD_SCRIPTS "${LF_CPACK_PRE_BUILD}")
endif()

# runtime
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "${LF_DEB_RUNTIME_NAME}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# DEBIAN/symbols from the "introduced in" table of docs/ABI.md (checked
# against the library by ctest abi_symbols_documented), so a program built
# against this package depends on the oldest release that has what it uses.
file(STRINGS "${PROJECT_SOURCE_DIR}/docs/ABI.md" _lf_rows REGEX "^\\| *`lf_[a-z0-9_]+` *\\|")
set(_lf_symbols "liblightfunnels-auth.so.${PROJECT_VERSION_MAJOR} ${LF_DEB_RUNTIME_NAME} #MINVER#\n")
string(APPEND _lf_symbols "* Build-Depends-Package: ${LF_DEB_DEV_NAME}\n")
set(_lf_nodes "")
foreach(_row IN LISTS _lf_rows)
  if(_row MATCHES "^\\| *`(lf_[a-z0-9_]+)` *\\| *([0-9]+\\.[0-9]+\\.[0-9]+) *\\| *`(LIGHTFUNNELS_AUTH_[0-9.]+)` *\\|")
    if(NOT CMAKE_MATCH_3 IN_LIST _lf_nodes)
      list(APPEND _lf_nodes "${CMAKE_MATCH_3}")
      string(APPEND _lf_symbols " ${CMAKE_MATCH_3}@${CMAKE_MATCH_3} ${CMAKE_MATCH_2}\n")
    endif()
    string(APPEND _lf_symbols " ${CMAKE_MATCH_1}@${CMAKE_MATCH_3} ${CMAKE_MATCH_2}\n")
  endif()
endforeach()
if(NOT _lf_nodes)
  message(FATAL_ERROR "LfPackaging: no symbol rows found in docs/ABI.md")
endif()
file(WRITE "${_lf_ctl}/symbols" "${_lf_symbols}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  "${_lf_ctl}/triggers;${_lf_ctl}/symbols;${_lf_ctl}/postinst;${_lf_ctl}/postrm")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
"Lightfunnels app authorization (OAuth2) - shared library
lightfunnels-auth runs the Lightfunnels app-authorization flow: it builds
the consent-screen URL, parses the callback, exchanges the single-use code
for the access token, calls the GraphQL API and verifies webhook signatures.
It has a stable C ABI (C++17 inside) with opaque handles, caller-provided
buffers and explicit status codes; TLS is always verified.
.
This package contains the shared library.")

# dev
set(CPACK_DEBIAN_DEV_PACKAGE_NAME "${LF_DEB_DEV_NAME}")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE_IS_SAME ON)
# The .pc file has Requires.private: libcurl libcjson libcrypto libssl, so
# `pkg-config --cflags` needs their .pc files.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "${LF_DEB_RUNTIME_NAME} (= ${LF_DEB_FULL_VERSION}), libcurl4-openssl-dev | libcurl-dev, libcjson-dev, libssl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
"Lightfunnels app authorization (OAuth2) - development files
lightfunnels-auth runs the Lightfunnels app-authorization flow: it builds
the consent-screen URL, parses the callback, exchanges the single-use code
for the access token, calls the GraphQL API and verifies webhook signatures.
.
This package contains the C header, the pkg-config file and the CMake
package (find_package(lightfunnels-auth) gives lightfunnels::auth).")

# tools
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME "${LF_DEB_TOOLS_NAME}")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps resolves liblightfunnels-auth.so.1 from the runtime package
# being built next to it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${PROJECT_BINARY_DIR}/src")
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${LF_DEB_RUNTIME_NAME} (= ${LF_DEB_FULL_VERSION})")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
"Lightfunnels app authorization (OAuth2) - command-line tools
lf-auth runs the whole Lightfunnels app-authorization flow from a shell:
login through the consent screen, code exchange, account and GraphQL calls,
webhook signing and verification, with secrets never on the command line.
lf-sandbox is a local stand-in for the Lightfunnels OAuth and API endpoints
(HTTPS, signed webhooks), so the flow can be developed and tested offline.")

set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "Shared library")
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "Development files")
set(CPACK_COMPONENT_TOOLS_DISPLAY_NAME "Command-line tools")

include(CPack)
