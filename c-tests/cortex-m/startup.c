/* Minimal Cortex-M start-up for the C test under qemu: vector table, .bss
 * zeroing, FPU enable, semihosting output and exit status. No C library. */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"

extern uint32_t __stack_top, __bss_start, __bss_end;
int main(void);
void reset(void);
static void fault(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, reset, fault, fault, fault, fault, fault,
};

static long semihost(long op, const void *arg) {
    register long r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s) { semihost(0x04, s); /* SYS_WRITE0 */ }

void sh_putu(unsigned long v) {
    char buf[12];
    char *p = buf + sizeof buf - 1;
    *p = 0;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    sh_puts(p);
}

void sh_exit(unsigned status) {
    const uintptr_t block[2] = {0x20026, status}; /* ADP_Stopped_ApplicationExit */
    semihost(0x20, block);                         /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

/* Every fault, including the library's own trap (udf, HardFault on cores
 * where UsageFault is disabled), ends the run with status 2. */
static void fault(void) {
    sh_puts("fault\n");
    sh_exit(2);
}

void reset(void) {
    for (uint32_t *p = &__bss_start; p < &__bss_end; p++) *p = 0;
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11, or the first VFP instruction faults. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    sh_exit((unsigned)main());
}

