# Sourced by scripts/test.sh: prepares a headless Wine prefix for running the
# x86_64-pc-windows-gnu test executables, and defines wine_stop.
#   - the prefix lives in target/wine (its parent must exist);
#   - no display, no Mono/Gecko prompts, no debug chatter;
#   - Wine 8 lacks ProcessPrng, which Rust's std imports: a tiny replacement
#     bcryptprimitives.dll (tools/wine/processprng.c) is installed into the
#     prefix and preferred over the builtin one;
#   - wineserver and Wine's services are started up front with their output
#     discarded, because they inherit stdout and would keep a pipe open;
#   - no just-in-time debugger, so a crashing test executable exits non-zero.
export WINEPREFIX="$ROOT/target/wine"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
export WINEARCH=win64
unset DISPLAY

wine_start() {
    mkdir -p "$ROOT/target"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        echo "== creating Wine prefix $WINEPREFIX"
        wineboot -i >/dev/null 2>&1 </dev/null || return 1
        wineserver -w
    fi
    # An unhandled exception starts the just-in-time debugger named under
    # AeDebug; Wine's default, winedbg --auto, then ends the crashed process
    # with exit status 0, so a test binary that crashes would count as
    # passed. A debugger that cannot start makes the process end with a
    # non-zero status instead.
    wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger \
        /t REG_SZ /d "cem-ctx-no-jit-debugger.exe %ld %ld" /f >/dev/null 2>&1 </dev/null || return 1
    local sys32="$WINEPREFIX/drive_c/windows/system32"
    x86_64-w64-mingw32-gcc -O2 -shared -o "$sys32/bcryptprimitives.dll" \
        "$ROOT/tools/wine/processprng.c" -ladvapi32 || return 1
    wineserver -p >/dev/null 2>&1 </dev/null
    wine cmd /c exit >/dev/null 2>&1 </dev/null
    return 0
}

wine_stop() {
    wineserver -k >/dev/null 2>&1 || true
}
