# Cross-build the C suite for AArch64 Linux with Debian's cross compilers and
# run every test under qemu-user (ctest prefixes each command with the emulator).
#   cmake -S c-tests -B build/c-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=c-tests/toolchains/aarch64-linux-gnu.cmake \
#     -DCEM_CTX_RUST_TARGET=aarch64-unknown-linux-gnu
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
set(CEM_CTX_RUST_TARGET aarch64-unknown-linux-gnu CACHE STRING "Rust target triple for libcem_ctx.a")
