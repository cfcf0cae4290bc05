# ctest driver for one fuzz target (cmake -P):
#   1. replays every committed corpus file once (a regression check: every
#      reproducer ever committed must pass);
#   2. fuzzes RUNS fresh inputs, starting from a scratch copy of the corpus
#      (the source tree is never written to).
# Passes only when both exit 0. Crash/timeout/OOM inputs land in WORK/.
# LF_FUZZ_SEED in the environment fixes libFuzzer's seed (default: random,
# printed in the log as "Seed: N" so a failure can be replayed).
foreach(v FUZZER CORPUS WORK RUNS)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzz_test.cmake: ${v} is not set")
  endif()
endforeach()

set(common -rss_limit_mb=512 -timeout=5 -artifact_prefix=${WORK}/)
if(DEFINED ENV{LF_FUZZ_SEED})
  list(APPEND common -seed=$ENV{LF_FUZZ_SEED})
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus")

file(GLOB seeds LIST_DIRECTORIES false "${CORPUS}/*")
list(LENGTH seeds nseeds)
if(nseeds EQUAL 0)
  message(FATAL_ERROR "no corpus files in ${CORPUS}")
endif()
message(STATUS "replaying ${nseeds} corpus files from ${CORPUS}")
execute_process(COMMAND "${FUZZER}" ${common} ${seeds} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "corpus replay failed (exit ${rc})")
endif()

file(COPY ${seeds} DESTINATION "${WORK}/corpus")
message(STATUS "fuzzing ${RUNS} runs")
set(maxlen "")
if(DEFINED MAXLEN AND NOT "${MAXLEN}" STREQUAL "" AND NOT "${MAXLEN}" STREQUAL "0")
  set(maxlen -max_len=${MAXLEN})
endif()
execute_process(COMMAND "${FUZZER}" ${common} ${DICT} ${maxlen} -runs=${RUNS} -print_final_stats=1
                        "${WORK}/corpus" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzing failed (exit ${rc}); reproducer in ${WORK}/")
endif()
