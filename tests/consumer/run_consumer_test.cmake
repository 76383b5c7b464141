# Installs the built tinynn into a scratch prefix, then configures, builds and runs the consumer
# project against it with find_package, and again with add_subdirectory of the sources.
# Arguments: SOURCE_DIR, BUILD_DIR, WORK_DIR.
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
set(consumer ${SOURCE_DIR}/tests/consumer)

message(STATUS "== find_package(tinynn) against an installed prefix")
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/find -DCMAKE_BUILD_TYPE=Release
    -DTINYNN_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/find -j ${cores})
run(${WORK_DIR}/find/consumer)

message(STATUS "== examples/embed against the same prefix (one short epoch)")
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/embed -B ${WORK_DIR}/embed -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/embed -j ${cores})
if(EXISTS /usr/share/datasets/fashion-mnist)
  run(${WORK_DIR}/embed/train_mlp /usr/share/datasets/fashion-mnist 1 2000)
endif()

message(STATUS "== add_subdirectory(tinynn), reference kernels only (TINYNN_ONEDNN=OFF, TINYNN_CUDA=OFF)")
run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/subdir -DCMAKE_BUILD_TYPE=Release
    -DTINYNN_CONSUMER_MODE=subdirectory -DTINYNN_SOURCE_DIR=${SOURCE_DIR} -DTINYNN_CUDA=OFF -DTINYNN_ONEDNN=OFF)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/subdir -j ${cores} --target consumer)
run(${WORK_DIR}/subdir/consumer)
