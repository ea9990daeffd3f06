# Part of the build: every project #include names a bare header, so that
# which headers a file can reach is decided by the include directories of
# its layer's library alone (CMakeLists.txt), never by a relative path
# such as "../vmm/vm.h" or "platform/bus.h".
#   cmake -DSOURCE_DIR=<top of the tree> -P tools/check_includes.cmake
file(GLOB_RECURSE sources
     ${SOURCE_DIR}/vmm/*.c ${SOURCE_DIR}/vmm/*.h ${SOURCE_DIR}/devices/*.c ${SOURCE_DIR}/devices/*.h
     ${SOURCE_DIR}/boot/*.c ${SOURCE_DIR}/boot/*.h)
set(bad "")
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]*/")
  foreach(line ${lines})
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
    string(APPEND bad "\n  ${rel}: ${line}")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "includes that name a path (layers are chosen by include directories):${bad}")
endif()
