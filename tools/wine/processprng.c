/*
 * bcryptprimitives.dll replacement for Wine 8, whose builtin copy lacks
 * ProcessPrng. Rust's std imports ProcessPrng since Rust 1.78, so every std
 * test executable fails to start under Wine 8 without it. Built and installed
 * into the test prefix by scripts/wine-env.sh; never shipped.
 * ProcessPrng is implemented with RtlGenRandom (SystemFunction036, advapi32).
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
