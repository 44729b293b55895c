# Packaging suite (issue 14), sourced by scripts/test.sh after set-up: defines
# one function per step; each builds what it checks, and fails (printing
# "SKIPPED: <why>") when a tool it needs is missing.
#
#   pkg_install_native, pkg_exports_native, pkg_ar_merge_with_llvmgold,
#   pkg_consumers_native, pkg_install_aarch64, pkg_consumers_aarch64,
#   pkg_install_riscv64, pkg_consumers_riscv64, pkg_mingw, pkg_echo_load, pkg_crate_publish_dry_run, pkg_docs_rs_targets,
#   pkg_feature_table
#
# Everything is built under build/pkg/; installs go to build/pkg/<name>/prefix
# and consumers are built against that prefix only. The steps run in this
# order (later ones use the installs of earlier ones); in scripts/test.sh,
# add `packaging` to JOBS and:
#
#   job_packaging() {
#       # shellcheck source=scripts/suites/packaging.sh
#       source "$ROOT/scripts/suites/packaging.sh"
#       # shellcheck source=scripts/wine-env.sh
#       source "$ROOT/scripts/wine-env.sh"
#       trap wine_stop EXIT
#       step "packaging: install to a prefix with CMake (layout, DESTDIR)" pkg_install_native
#       step "packaging: only the documented exports global (nm, nm -D), one object, no bitcode" pkg_exports_native
#       step "packaging: archive merged with GNU ar while LLVMgold is installed" pkg_ar_merge_with_llvmgold
#       step "packaging: CMake find_package + pkg-config README snippet, static and shared" pkg_consumers_native
#       step "packaging: aarch64 install (toolchain file), exports" pkg_install_aarch64
#       step "packaging: aarch64 consumers under qemu-aarch64" pkg_consumers_aarch64
#       step "packaging: riscv64 install (toolchain file), exports" pkg_install_riscv64
#       step "packaging: riscv64 consumers under qemu-riscv64" pkg_consumers_riscv64
#       step "wine prefix" wine_start
#       step "packaging: MinGW install, DLL exports, consumers under Wine" pkg_mingw
#       step "echo server load run, cem-ctx vs glibc ucontext (every byte verified)" pkg_echo_load
#       step "cargo publish --dry-run; the packaged crate's tests on their own" pkg_crate_publish_dry_run
#       step "docs.rs targets document without warnings" pkg_docs_rs_targets
#       step "every Cargo feature in the crate docs' feature table" pkg_feature_table
#   }
#
# Debian packages beyond the other jobs' (scripts/setup.sh): pkg-config jq in
# APT_PACKAGES, clang in APT_PACKAGES_LEAN (it brings the LLVMgold plugin,
# /usr/lib/bfd-plugins/LLVMgold-14.so, that the merge test needs). Rust
# targets: aarch64-unknown-linux-gnu, riscv64gc-unknown-linux-gnu,
# x86_64-pc-windows-gnu and (docs.rs) x86_64-pc-windows-msvc, which the
# aarch64, riscv, windows and builds jobs already install.
# shellcheck shell=bash

PKG_ROOT="${ROOT:?ROOT must be the repository root}"
PKG_BUILD="$PKG_ROOT/build/pkg"
PKG_AARCH64_RUN=(qemu-aarch64 -L /usr/aarch64-linux-gnu)

# ---------------------------------------------------------------- helpers
pkg_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIPPED: $t is not installed"; return 1; }
    done
}

# Note: pipelines here never stop reading early (`grep -q`, awk `exit`,
# `head`): under pipefail the writer's SIGPIPE would fail the step at random.

# Runs a command with its output in a log, shown only on failure.
pkg_quiet() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        cat "$log"
        echo "failed: $*"
        return 1
    fi
}

# The documented exports, sorted (capi/exports.txt without comments).
pkg_exports() {
    sed -e 's/#.*//' -e 's/[[:space:]]//g' "$PKG_ROOT/capi/exports.txt" | grep -v '^$' | sort
}

pkg_version() {
    sed -n 's/^version = "\([0-9.]*\)"$/\1/p;T;q' "$PKG_ROOT/Cargo.toml"
}

# Soname version: MAJOR, or 0.MINOR before 1.0 (a minor release may break the ABI).
pkg_soversion() {
    local v
    v=$(pkg_version)
    case $v in
    0.*) echo "0.$(cut -d. -f2 <<<"$v")" ;;
    *) cut -d. -f1 <<<"$v" ;;
    esac
}

# Compares a sorted symbol list on stdin with the exports.
pkg_same_as_exports() {
    local what=$1 got
    got=$(sort)
    if [ "$got" != "$(pkg_exports)" ]; then
        echo "$what: global symbols differ from capi/exports.txt:"
        diff <(pkg_exports) <(echo "$got")
        return 1
    fi
    echo "$what: exactly the $(pkg_exports | wc -l) documented exports are global"
}

# pkg_install NAME [cmake args...]: configure, build and install the top-level
# project into build/pkg/NAME/prefix.
pkg_install() {
    local name=$1
    shift
    local b="$PKG_BUILD/$name"
    rm -rf "$b"
    mkdir -p "$b"
    pkg_quiet "$b/configure.log" cmake -S "$PKG_ROOT" -B "$b/build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$b/prefix" "$@" &&
        pkg_quiet "$b/build.log" cmake --build "$b/build" -j "$(nproc)" &&
        pkg_quiet "$b/install.log" cmake --install "$b/build" &&
        echo "installed into $b/prefix"
}

# The files an ELF install must contain.
pkg_check_elf_layout() {
    local p=$1 f so
    so=$(pkg_soversion)
    for f in include/cem_ctx.h include/context.h lib/libcem_ctx.a lib/libcem_ctx.so \
        "lib/libcem_ctx.so.$so" lib/pkgconfig/cem_ctx.pc lib/cmake/cem_ctx/cem_ctxConfig.cmake \
        lib/cmake/cem_ctx/cem_ctxConfigVersion.cmake lib/cmake/cem_ctx/cem_ctxTargets.cmake \
        share/cem_ctx/gdb/cem_ctx.py; do
        [ -e "$p/$f" ] || { echo "missing from the install: $f"; return 1; }
    done
    echo "layout: headers, libcem_ctx.a, libcem_ctx.so.$so, cem_ctx.pc, cmake/cem_ctx/, gdb script present"
}

# pkg_check_elf_exports PREFIX BINUTILS_PREFIX: only the exports are global in
# the archive (one member, no LLVM bitcode) and in the shared library's
# dynamic symbol table; the soname carries the ABI version.
pkg_check_elf_exports() {
    local p=$1 bu=$2 a so members
    a="$p/lib/libcem_ctx.a"
    so=$(pkg_soversion)
    members=$("${bu}ar" t "$a" | wc -l)
    echo "libcem_ctx.a: $(stat -c %s "$a") bytes, $members member(s)"
    [ "$members" -eq 1 ] || { echo "expected one object in the archive"; return 1; }
    "${bu}nm" -g --defined-only "$a" | awk 'NF == 3 { print $3 }' |
        pkg_same_as_exports libcem_ctx.a || return 1
    # (Output captured first: `cmd | grep -q` under pipefail fails when
    # grep exits early and cmd gets SIGPIPE.)
    local sections
    sections=$("${bu}objdump" -h "$a") || return 1
    # Bitcode only: .llvm_addrsig (LLVM's address-significance table, which
    # GNU ld ignores and lld uses for identical-code folding) is no bitcode.
    if grep -E '\.llvm(bc|cmd)\b' <<<"$sections"; then
        echo "libcem_ctx.a embeds LLVM bitcode sections (above)"
        return 1
    fi
    echo "libcem_ctx.a: no .llvmbc/.llvmcmd sections"
    "${bu}nm" -D --defined-only "$p/lib/libcem_ctx.so" | awk 'NF == 3 { print $3 }' |
        pkg_same_as_exports "libcem_ctx.so (nm -D)" || return 1
    grep -q "Library soname: \[libcem_ctx.so.$so\]" <<<"$("${bu}readelf" -d "$p/lib/libcem_ctx.so")" ||
        { echo "soname is not libcem_ctx.so.$so"; return 1; }
    echo "libcem_ctx.so: soname libcem_ctx.so.$so"
}

# The README's first C snippet (section "C usage"), verbatim.
pkg_readme_snippet() {
    awk '/^## C usage/ { s = 1 } s && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' \
        "$PKG_ROOT/README.md"
}

# pkg_consumers NAME TOOLCHAIN_FILE CC RUNNER...: against build/pkg/NAME/prefix
# only, builds and runs the CMake consumer (static and shared) and the
# README's C snippet with pkg-config (static and shared).
pkg_consumers() {
    local name=$1 toolchain=$2 cc=$3
    shift 3
    local run=("$@")
    local b="$PKG_BUILD/$name" p="$PKG_BUILD/$name/prefix" so kind out
    local tc=()
    [ -n "$toolchain" ] && tc=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
    so=$(pkg_soversion)
    [ -d "$p" ] || { echo "no install in $p (run the install step first)"; return 1; }

    for kind in static shared; do
        local shared=OFF
        [ $kind = shared ] && shared=ON
        rm -rf "$b/consumer-$kind"
        pkg_quiet "$b/consumer-$kind.log" cmake -S "$PKG_ROOT/c-tests/consumer" -B "$b/consumer-$kind" \
            "${tc[@]}" -DCMAKE_PREFIX_PATH="$p" -DCONSUMER_SHARED=$shared &&
            pkg_quiet "$b/consumer-$kind.log" cmake --build "$b/consumer-$kind" || return 1
        out=$("${run[@]}" "$b/consumer-$kind/consumer") || { echo "$out"; echo "CMake consumer ($kind) failed"; return 1; }
        grep -q "^consumer ok: cem-ctx $(pkg_version)$" <<<"$out" || { echo "$out"; return 1; }
        pkg_check_needed "$b/consumer-$kind/consumer" $kind "$so" || return 1
        echo "CMake consumer, find_package(cem_ctx CONFIG), $kind: $out"
    done

    # The version file refuses another minor version before 1.0 (a 0.x minor
    # release may break the ABI), newer or older.
    local v major minor wrong
    v=$(pkg_version)
    major=$(cut -d. -f1 <<<"$v")
    minor=$(cut -d. -f2 <<<"$v")
    local wrong_versions=("$major.$((minor + 1))")
    [ "$major" -eq 0 ] && [ "$minor" -gt 0 ] && wrong_versions+=("0.$((minor - 1))")
    for wrong in "${wrong_versions[@]}"; do
        rm -rf "$b/consumer-wrong-version"
        if cmake -S "$PKG_ROOT/c-tests/consumer" -B "$b/consumer-wrong-version" "${tc[@]}" \
            -DCMAKE_PREFIX_PATH="$p" -DCONSUMER_WANTS_VERSION="$wrong" >"$b/consumer-wrong-version.log" 2>&1; then
            echo "find_package(cem_ctx $wrong) accepted the installed $v"
            return 1
        fi
        grep -q "cem_ctxConfig.cmake, version: $v" "$b/consumer-wrong-version.log" ||
            { cat "$b/consumer-wrong-version.log"; echo "refused for another reason than the version"; return 1; }
        echo "find_package(cem_ctx $wrong) refuses the installed $v"
    done

    # pkg-config sees this prefix only.
    local pc=(env PKG_CONFIG_LIBDIR="$p/lib/pkgconfig" PKG_CONFIG_PATH= pkg-config)
    v=$("${pc[@]}" --modversion cem_ctx) || return 1
    [ "$v" = "$(pkg_version)" ] || { echo "pkg-config says $v, Cargo.toml $(pkg_version)"; return 1; }
    pkg_readme_snippet >"$b/readme.c"
    [ -s "$b/readme.c" ] || { echo "no C snippet found in README.md"; return 1; }
    local expect=$'coroutine step 0\ncoroutine step 1\ncoroutine step 2'
    # Static: link the whole program statically, the conventional way to
    # make -lcem_ctx pick libcem_ctx.a over libcem_ctx.so. A clean link prints
    # nothing: the linker's non-fatal complaints (e.g. about .eh_frame) fail
    # the step too.
    local msg
    # shellcheck disable=SC2046
    msg=$("$cc" -std=c11 -Wall -Wextra -Werror -o "$b/readme-static" "$b/readme.c" \
        $("${pc[@]}" --cflags cem_ctx) $("${pc[@]}" --libs --static cem_ctx) -static 2>&1) &&
        [ -z "$msg" ] || { echo "$msg"; echo "static link of the README snippet not clean"; return 1; }
    # shellcheck disable=SC2046
    msg=$("$cc" -std=c11 -Wall -Wextra -Werror -o "$b/readme-shared" "$b/readme.c" \
        $("${pc[@]}" --cflags --libs cem_ctx) -Wl,-rpath,"$("${pc[@]}" --variable=libdir cem_ctx)" 2>&1) &&
        [ -z "$msg" ] || { echo "$msg"; echo "shared link of the README snippet not clean"; return 1; }
    for kind in static shared; do
        out=$("${run[@]}" "$b/readme-$kind") || { echo "$out"; echo "README snippet ($kind) failed"; return 1; }
        [ "$out" = "$expect" ] || { echo "README snippet ($kind) printed:"; echo "$out"; return 1; }
        pkg_check_needed "$b/readme-$kind" $kind "$so" || return 1
        echo "README C snippet via pkg-config --cflags --libs cem_ctx, $kind: output as expected"
    done
}

# A static consumer must not need libcem_ctx.so at run time; a shared one must.
pkg_check_needed() {
    local exe=$1 kind=$2 so=$3 needed
    needed=$(readelf -d "$exe" | grep NEEDED || true)
    if [ "$kind" = static ] && grep -q libcem_ctx <<<"$needed"; then
        echo "$exe: linked the shared library: $needed"
        return 1
    fi
    if [ "$kind" = shared ] && ! grep -q "\[libcem_ctx.so.$so\]" <<<"$needed"; then
        echo "$exe: does not need libcem_ctx.so.$so: $needed"
        return 1
    fi
}

# ---------------------------------------------------------------- steps
pkg_install_native() {
    pkg_need cmake cargo gcc || return 1
    pkg_install x86_64 || return 1
    pkg_check_elf_layout "$PKG_BUILD/x86_64/prefix" || return 1
    # DESTDIR is honoured: the same files under a staging root.
    local stage="$PKG_BUILD/x86_64/stage"
    rm -rf "$stage"
    DESTDIR="$stage" pkg_quiet "$PKG_BUILD/x86_64/destdir.log" cmake --install "$PKG_BUILD/x86_64/build" &&
        pkg_check_elf_layout "$stage$PKG_BUILD/x86_64/prefix" &&
        echo "DESTDIR: install staged under $stage"
}

pkg_exports_native() {
    pkg_need nm objdump readelf ar || return 1
    pkg_check_elf_exports "$PKG_BUILD/x86_64/prefix" ""
}

# A C user merges libcem_ctx.a into their own archive with GNU ar while
# Debian's LLVMgold plugin is installed (ar then loads it for every member):
# the merged index must still list every export, and a program must link.
pkg_ar_merge_with_llvmgold() {
    pkg_need ar nm gcc || return 1
    compgen -G "/usr/lib/bfd-plugins/LLVMgold*.so" >/dev/null ||
        { echo "SKIPPED: no LLVMgold plugin in /usr/lib/bfd-plugins (apt-get install clang)"; return 1; }
    local p="$PKG_BUILD/x86_64/prefix" t="$PKG_BUILD/ar-merge" sym index
    [ -f "$p/lib/libcem_ctx.a" ] || { echo "no install (run the install step first)"; return 1; }
    rm -rf "$t"
    mkdir -p "$t/members"
    cat >"$t/user.c" <<'EOF'
#include "cem_ctx.h"
static cem_context_t main_ctx, co_ctx;
static _Alignas(16) unsigned char stack[16384];
static int steps;
static void body(void) { for (;;) { steps++; cem_swapcontext(&co_ctx, &main_ctx); } }
int user_run(void) {
    if (cem_makecontext_checked(&co_ctx, stack, sizeof stack, body, NULL) != CEM_OK) return 1;
    for (int i = 0; i < 3; i++) cem_swapcontext(&main_ctx, &co_ctx);
    return steps == 3 && cem_ctx_version() == CEM_CTX_VERSION ? 0 : 2;
}
EOF
    printf 'int user_run(void);\nint main(void) { return user_run(); }\n' >"$t/main.c"
    gcc -std=c11 -Wall -Wextra -Werror -c -I"$p/include" -o "$t/user.o" "$t/user.c" || return 1
    (cd "$t/members" && ar x "$p/lib/libcem_ctx.a") || return 1
    ar rcs "$t/libuser.a" "$t/user.o" "$t"/members/*.o || return 1
    index=$(nm --print-armap "$t/libuser.a" 2>&1 | sed -n '/^Archive index:/,/^$/p')
    for sym in $(pkg_exports); do
        grep -q "^$sym in " <<<"$index" || { echo "merged archive index lacks $sym:"; echo "$index"; return 1; }
    done
    echo "merged archive index (GNU ar with LLVMgold installed) lists all exports"
    gcc -o "$t/merged" "$t/main.c" -L"$t" -luser && "$t/merged" ||
        { echo "program linked against the merged archive failed"; return 1; }
    echo "program linked against the merged archive runs"
}

pkg_consumers_native() {
    pkg_need cmake gcc pkg-config readelf || return 1
    pkg_consumers x86_64 "" gcc
}

pkg_install_aarch64() {
    pkg_need cmake cargo aarch64-linux-gnu-gcc aarch64-linux-gnu-ld || return 1
    pkg_install aarch64 -DCMAKE_TOOLCHAIN_FILE="$PKG_ROOT/c-tests/toolchains/aarch64-linux-gnu.cmake" &&
        pkg_check_elf_layout "$PKG_BUILD/aarch64/prefix" &&
        pkg_check_elf_exports "$PKG_BUILD/aarch64/prefix" aarch64-linux-gnu-
}

pkg_consumers_aarch64() {
    pkg_need cmake aarch64-linux-gnu-gcc pkg-config qemu-aarch64 || return 1
    pkg_consumers aarch64 "$PKG_ROOT/c-tests/toolchains/aarch64-linux-gnu.cmake" \
        aarch64-linux-gnu-gcc "${PKG_AARCH64_RUN[@]}"
}

pkg_install_riscv64() {
    pkg_need cmake cargo riscv64-linux-gnu-gcc riscv64-linux-gnu-ld || return 1
    pkg_install riscv64 -DCMAKE_TOOLCHAIN_FILE="$PKG_ROOT/c-tests/toolchains/riscv64-linux-gnu.cmake" &&
        pkg_check_elf_layout "$PKG_BUILD/riscv64/prefix" &&
        pkg_check_elf_exports "$PKG_BUILD/riscv64/prefix" riscv64-linux-gnu-
}

pkg_consumers_riscv64() {
    pkg_need cmake riscv64-linux-gnu-gcc pkg-config qemu-riscv64 || return 1
    pkg_consumers riscv64 "$PKG_ROOT/c-tests/toolchains/riscv64-linux-gnu.cmake" \
        riscv64-linux-gnu-gcc qemu-riscv64 -L /usr/riscv64-linux-gnu
}

# MinGW: install with the toolchain file; the archive and the DLL export
# exactly the documented functions; the CMake consumer (static, and shared
# with the DLL beside it) runs under Wine. Needs the Wine prefix step first.
pkg_mingw() {
    pkg_need cmake x86_64-w64-mingw32-gcc x86_64-w64-mingw32-nm wine || return 1
    [ -n "${WINEPREFIX:-}" ] && [ -f "$WINEPREFIX/system.reg" ] ||
        { echo "SKIPPED: no Wine prefix (run the wine prefix step first)"; return 1; }
    local b="$PKG_BUILD/mingw" p="$PKG_BUILD/mingw/prefix" bu=x86_64-w64-mingw32- kind out f
    pkg_install mingw -DCMAKE_TOOLCHAIN_FILE="$PKG_ROOT/c-tests/toolchains/x86_64-w64-mingw32.cmake" || return 1
    for f in include/cem_ctx.h include/context.h lib/libcem_ctx.a lib/libcem_ctx.dll.a bin/libcem_ctx.dll \
        lib/pkgconfig/cem_ctx.pc lib/cmake/cem_ctx/cem_ctxConfig.cmake; do
        [ -e "$p/$f" ] || { echo "missing from the install: $f"; return 1; }
    done
    [ "$("${bu}ar" t "$p/lib/libcem_ctx.a" | wc -l)" -eq 1 ] || { echo "expected one object"; return 1; }
    "${bu}nm" -g --defined-only "$p/lib/libcem_ctx.a" | awk 'NF == 3 { print $3 }' |
        pkg_same_as_exports "libcem_ctx.a (MinGW)" || return 1
    "${bu}objdump" -p "$p/bin/libcem_ctx.dll" |
        awk '/^\[Ordinal\/Name Pointer\] Table/ { t = 1; next } t && /^$/ { t = 0 } t && NF == 3 { print $3 }' |
        pkg_same_as_exports "libcem_ctx.dll (export table)" || return 1
    for kind in static shared; do
        local shared=OFF
        [ $kind = shared ] && shared=ON
        pkg_quiet "$b/consumer-$kind.log" cmake -S "$PKG_ROOT/c-tests/consumer" -B "$b/consumer-$kind" \
            -DCMAKE_TOOLCHAIN_FILE="$PKG_ROOT/c-tests/toolchains/x86_64-w64-mingw32.cmake" \
            -DCMAKE_PREFIX_PATH="$p" -DCONSUMER_SHARED=$shared &&
            pkg_quiet "$b/consumer-$kind.log" cmake --build "$b/consumer-$kind" || return 1
        if [ $kind = shared ]; then
            grep -q "DLL Name: libcem_ctx.dll" <<<"$("${bu}objdump" -p "$b/consumer-$kind/consumer.exe")" ||
                { echo "shared consumer does not import libcem_ctx.dll"; return 1; }
            cp "$p/bin/libcem_ctx.dll" "$b/consumer-$kind/"
        fi
        out=$(cd "$b/consumer-$kind" && wine ./consumer.exe </dev/null 2>/dev/null | tr -d '\r') ||
            { echo "$out"; echo "MinGW consumer ($kind) failed under Wine"; return 1; }
        grep -q "^consumer ok: cem-ctx $(pkg_version)$" <<<"$out" || { echo "$out"; return 1; }
        echo "MinGW CMake consumer, $kind, under Wine: $out"
    done
}

# The echo server on cem-ctx and on glibc ucontext under a short load run,
# built from examples/c against the native install; every byte is verified.
pkg_echo_load() {
    pkg_need cmake gcc || return 1
    local b="$PKG_BUILD/examples"
    rm -rf "$b"
    pkg_quiet "$PKG_BUILD/examples.log" cmake -S "$PKG_ROOT/examples/c" -B "$b" \
        -DCMAKE_PREFIX_PATH="$PKG_BUILD/x86_64/prefix" &&
        pkg_quiet "$PKG_BUILD/examples.log" cmake --build "$b" -j "$(nproc)" || return 1
    "$b/echo_load" -c 20 -d 1 -r 2 "$b/echo_server" "$b/echo_server_ucontext"
}

# cargo publish --dry-run packages and builds the crate; the package must
# contain every assembly source, and its own tests must pass outside this
# workspace (so nothing it needs is left out by `include`).
pkg_crate_publish_dry_run() {
    pkg_need cargo tar jq || return 1
    local list s v t
    cargo publish --dry-run -p cem-ctx --allow-dirty || return 1
    list=$(cargo package --list -p cem-ctx --allow-dirty) || return 1
    for s in "$PKG_ROOT"/asm/*.s; do
        grep -qx "asm/$(basename "$s")" <<<"$list" || { echo "asm/$(basename "$s") not in the package"; return 1; }
    done
    echo "package contains every asm/*.s"
    v=$(pkg_version)
    t=$(mktemp -d)
    # The .crate file publish would upload (publish --dry-run keeps it elsewhere).
    cargo package -p cem-ctx --allow-dirty --no-verify >/dev/null 2>&1 || return 1
    tar -xzf "$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)/package/cem-ctx-$v.crate" \
        -C "$t" || { rm -rf "$t"; return 1; }
    (cd "$t/cem-ctx-$v" && CARGO_TARGET_DIR="$t/target" cargo test --locked --features std) ||
        { rm -rf "$t"; echo "the packaged crate's tests fail on their own"; return 1; }
    rm -rf "$t"
    echo "packaged crate builds and passes its tests on its own"
}

# Each docs.rs target in Cargo.toml's [package.metadata.docs.rs] documents
# without warnings with the features docs.rs uses.
pkg_docs_rs_targets() {
    pkg_need cargo jq || return 1
    local meta targets features t
    meta=$(cargo metadata --no-deps --format-version 1 |
        jq -c '.packages[] | select(.name == "cem-ctx") | .metadata.docs.rs') || return 1
    targets=$(jq -r '.targets[]' <<<"$meta")
    features=$(jq -r '.features | join(",")' <<<"$meta")
    [ "$(wc -l <<<"$targets")" -eq 3 ] || { echo "expected 3 docs.rs targets, got: $targets"; return 1; }
    for t in $targets; do
        RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cem-ctx --features "$features" --target "$t" ||
            return 1
        echo "docs.rs target $t (features: $features): documented without warnings"
    done
}

# Every Cargo feature of cem-ctx has a row in the crate docs' feature table.
pkg_feature_table() {
    pkg_need cargo jq || return 1
    local f n=0
    for f in $(cargo metadata --no-deps --format-version 1 |
        jq -r '.packages[] | select(.name == "cem-ctx") | .features | keys[] | select(. != "default")'); do
        grep -q "^//! | \`$f\` |" "$PKG_ROOT/src/lib.rs" ||
            { echo "feature $f has no row in the feature table of src/lib.rs"; return 1; }
        n=$((n + 1))
    done
    [ $n -gt 0 ] || { echo "no features found"; return 1; }
    echo "all $n feature(s) documented in the crate docs' feature table"
}
