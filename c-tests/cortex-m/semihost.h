#ifndef SEMIHOST_H
#define SEMIHOST_H
void sh_puts(const char *s);
void sh_putu(unsigned long v);
void sh_exit(unsigned status) __attribute__((noreturn));
#endif
