#!/usr/bin/env bash
# Installs the Debian 12 packages tinynn builds against, only those still missing; with --test
# also what only the test suite needs. Idempotent; works as root or through sudo; fails with one
# clear line when it cannot.
set -euo pipefail

# Why each package is here: see the dependency table in README.md.
packages=(
  cmake g++ make pkg-config
  libdnnl-dev        # oneDNN: CPU matmul and other heavy kernels
  ocl-icd-opencl-dev # OpenCL headers and loader: oneDNN's CMake package requires them (a Recommends
                     # of libdnnl-dev, which --no-install-recommends leaves out)
  libfmt-dev         # fmt: error messages and printing
  catch2             # Catch2 2.13: the test framework
  nlohmann-json3-dev # JSON configs, safetensors headers
  libstb-dev         # stb_image: image-folder datasets
  zlib1g-dev         # gzip-compressed IDX files
  liblapacke-dev     # LAPACK(E): linear algebra on the CPU
  libcli11-dev       # CLI11: the tinynn command line
  libopenmpi-dev openmpi-bin  # Open MPI: data-parallel training (mpirun -np N tinynn train)
  dataset-fashion-mnist  # the default training data
)
case "${1:-}" in
  # libFuzzer and sanitizer runtimes for the fuzz targets; python3 for the CLI tests' JSON checks and
  # the README snippet and transcript tests; python3-onnx (onnx.checker) and python3-venv (a throwaway
  # venv for ONNX Runtime from PyPI) for the export test
  --test) packages+=(clang libclang-rt-14-dev python3 python3-onnx python3-venv) ;;
  "") ;;
  *) echo "install-deps: unknown argument '$1' (use --test for the test suite's extra packages)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these by hand: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get update -qq; then
  echo "install-deps: 'apt-get update' failed; check the network or apt sources" >&2
  exit 1
fi
if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "install-deps: 'apt-get install ${missing[*]}' failed" >&2
  exit 1
fi
echo "install-deps: done"
