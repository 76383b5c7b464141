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

# Like run, and fails when the compiler warned (the library builds warning-free with -Wall -Wextra).
function(run_no_warnings)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  if("${out}${err}" MATCHES "warning:")
    message(FATAL_ERROR "the build printed warnings: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
set(consumer ${SOURCE_DIR}/tests/consumer)

message(STATUS "== find_package(tinynn) against an installed prefix")
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/find -DCMAKE_BUILD_TYPE=Release
    -DTINYNN_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/find -j ${cores})
run(${WORK_DIR}/find/consumer)

message(STATUS "== every installed header compiles on its own")
run(${CMAKE_COMMAND} -S ${consumer}/headers -B ${WORK_DIR}/headers -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DTINYNN_INCLUDE_ROOT=${WORK_DIR}/prefix/include)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/headers -j ${cores})

message(STATUS "== the installed tinynn program trains an installed config")
run(${WORK_DIR}/prefix/bin/tinynn train ${WORK_DIR}/prefix/share/tinynn/configs/xor.json
    --run-dir ${WORK_DIR}/xor-run --set training.epochs=5)
foreach(file configs/README.md configs/fashion_mnist_mlp.json)
  if(NOT EXISTS ${WORK_DIR}/prefix/share/tinynn/${file})
    message(FATAL_ERROR "the install lacks share/tinynn/${file}")
  endif()
endforeach()

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
run_no_warnings(${CMAKE_COMMAND} --build ${WORK_DIR}/subdir -j ${cores} --target consumer)
run(${WORK_DIR}/subdir/consumer)
