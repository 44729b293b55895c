# Cross-build the C suite for RISC-V 64 Linux (rv64gc, lp64d) with Debian's
# cross compilers and run every test under qemu-user (ctest prefixes each
# command with the emulator; the gdb test attaches gdb-multiarch to its stub).
#   cmake -S c-tests -B build/c-riscv64 \
#     -DCMAKE_TOOLCHAIN_FILE=c-tests/toolchains/riscv64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-riscv64 -L /usr/riscv64-linux-gnu)
set(CEM_CTX_RUST_TARGET riscv64gc-unknown-linux-gnu CACHE STRING "Rust target triple for libcem_ctx.a")
