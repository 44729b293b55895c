# Cross-build the C suite for Windows x64 with MinGW-w64 and run every test
# under Wine (ctest prefixes each command with the emulator). The Wine prefix
# and environment come from scripts/wine-env.sh.
#   cmake -S c-tests -B build/c-windows \
#     -DCMAKE_TOOLCHAIN_FILE=c-tests/toolchains/x86_64-w64-mingw32.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR wine)
set(CEM_CTX_RUST_TARGET x86_64-pc-windows-gnu CACHE STRING "Rust target triple for libcem_ctx.a")
