/*
 * An epoll echo server with one coroutine per connection, on stacks the
 * server supplies (one pool, 64 KiB per connection). Each coroutine is
 * written as plain blocking code: read, write back, repeat. When a socket
 * would block it tells the event loop what it waits for and switches back
 * to it; the loop resumes it when epoll reports the socket ready.
 *
 * The same source builds on two switchers:
 *   - cem-ctx (default): cem_makecontext_with_arg / cem_swapcontext;
 *   - glibc ucontext (-DECHO_UCONTEXT): makecontext / swapcontext, the
 *     baseline, which also saves and restores the signal mask (a system call)
 *     on every switch.
 *
 *   echo_server [MAX_SECONDS]        (default 120, at most 3600)
 *
 * Listens on 127.0.0.1 only, on a port the kernel picks, and prints
 * "port N backend NAME" on stdout once it accepts connections. Stops on
 * SIGTERM or SIGINT, or by itself after MAX_SECONDS, and then prints what it
 * served on stderr. echo_load starts it, drives it and stops it.
 * Linux only (epoll).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef ECHO_UCONTEXT
#include <ucontext.h>
#define BACKEND "glibc-ucontext"
typedef ucontext_t co_ctx;
#else
#include "cem_ctx.h"
#define BACKEND "cem-ctx"
typedef cem_context_t co_ctx;
#endif

#define MAX_CONNS 1024
/* Room for the 4 KiB buffer, the libc calls (read, write, epoll_ctl) and a
 * signal frame: SIGTERM may arrive while a coroutine runs, and the kernel
 * then pushes its frame (several KiB with AVX-512 state) onto that stack. */
#define STACK_SIZE (64 * 1024)
#define BUF_SIZE 4096

struct conn {
    co_ctx ctx;
    int fd;
    uint32_t events; /* what the coroutine waits for: EPOLLIN or EPOLLOUT */
    int done;
    unsigned char *stack;
    struct conn *next_free;
    uint64_t bytes;
};

static co_ctx loop_ctx; /* the event loop's context */
static struct conn conns[MAX_CONNS];
static struct conn *free_list;
static int epfd;
static volatile sig_atomic_t stop;

static uint64_t total_bytes, total_conns, rejected_conns;

static void fail(const char *what) {
    perror(what);
    exit(1);
}

static void switch_to(co_ctx *save, co_ctx *restore) {
#ifdef ECHO_UCONTEXT
    if (swapcontext(save, restore) != 0) fail("swapcontext");
#else
    cem_swapcontext(save, restore);
#endif
}

/* Called on the connection's own stack: wait until the socket is ready for
 * `events`, letting the event loop run meanwhile. */
static void wait_for(struct conn *c, uint32_t events) {
    if (c->events != events) {
        struct epoll_event ev = {.events = events, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) fail("epoll_ctl MOD");
        c->events = events;
    }
    switch_to(&c->ctx, &loop_ctx);
}

/* The coroutine body: blocking-style echo until EOF or an error. */
static void serve(void *arg) {
    struct conn *c = arg;
    unsigned char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_for(c, EPOLLIN);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF or reset */
        size_t off = 0;
        while (off < (size_t)n) {
            ssize_t w = write(c->fd, buf + off, (size_t)n - off);
            if (w > 0) {
                off += (size_t)w;
            } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                wait_for(c, EPOLLOUT);
            } else if (w < 0 && errno == EINTR) {
                continue;
            } else {
                goto out;
            }
        }
        c->bytes += (uint64_t)n;
    }
out:
    /* A finished coroutine never returns (there is nothing to return into):
     * it switches back for good and the loop recycles its stack. */
    c->done = 1;
    switch_to(&c->ctx, &loop_ctx);
    abort(); /* never resumed */
}

#ifdef ECHO_UCONTEXT
/* makecontext passes only int arguments portably: hand the connection over
 * through a variable the loop sets right before the first switch. */
static struct conn *starting;
static void serve_ucontext(void) { serve(starting); }
#endif

static void start_coroutine(struct conn *c) {
#ifdef ECHO_UCONTEXT
    if (getcontext(&c->ctx) != 0) fail("getcontext");
    c->ctx.uc_stack.ss_sp = c->stack;
    c->ctx.uc_stack.ss_size = STACK_SIZE;
    c->ctx.uc_link = NULL;
    makecontext(&c->ctx, serve_ucontext, 0);
    starting = c;
#else
    int rc = cem_makecontext_with_arg(&c->ctx, c->stack, STACK_SIZE, serve, c, NULL);
    if (rc != CEM_OK) {
        fprintf(stderr, "cem_makecontext_with_arg: %s\n", cem_strerror(rc));
        exit(1);
    }
#endif
    switch_to(&loop_ctx, &c->ctx); /* runs until it first waits */
}

static void finish(struct conn *c) {
    close(c->fd); /* also removes it from the epoll set */
    total_bytes += c->bytes;
    c->next_free = free_list;
    free_list = c;
}

static void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            if (errno == ECONNABORTED) continue;
            fail("accept4");
        }
        struct conn *c = free_list;
        if (!c) { /* all stacks in use: refuse rather than grow without bound */
            close(fd);
            rejected_conns++;
            continue;
        }
        free_list = c->next_free;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->done = 0;
        c->bytes = 0;
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl ADD");
        total_conns++;
        start_coroutine(c);
        if (c->done) finish(c);
    }
}

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long max_seconds = argc > 1 ? strtol(argv[1], NULL, 10) : 120;
    if (max_seconds < 1 || max_seconds > 3600) {
        fprintf(stderr, "usage: %s [MAX_SECONDS 1..3600]\n", argv[0]);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* One mapping for every stack; pages are committed on first touch. */
    unsigned char *stacks = mmap(NULL, (size_t)MAX_CONNS * STACK_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stacks == MAP_FAILED) fail("mmap");
    for (int i = MAX_CONNS - 1; i >= 0; i--) {
        conns[i].stack = stacks + (size_t)i * STACK_SIZE;
        conns[i].next_free = free_list;
        free_list = &conns[i];
    }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) fail("socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0) fail("bind");
    if (listen(lfd, MAX_CONNS) != 0) fail("listen");
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) != 0) fail("getsockname");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) fail("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0) fail("epoll_ctl listener");

    printf("port %d backend %s\n", ntohs(addr.sin_port), BACKEND);
    fflush(stdout);

    double deadline = now_s() + (double)max_seconds;
    struct epoll_event events[256];
    while (!stop && now_s() < deadline) {
        int n = epoll_wait(epfd, events, 256, 200);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c) {
                accept_all(lfd);
                continue;
            }
            /* Readiness or an error/hang-up: either way the coroutine's next
             * read or write sees it. */
            switch_to(&loop_ctx, &c->ctx);
            if (c->done) finish(c);
        }
    }

    fprintf(stderr,
            "echo_server (%s): %llu connections served, %llu refused, %llu bytes echoed by "
            "closed connections, %s\n",
            BACKEND, (unsigned long long)total_conns, (unsigned long long)rejected_conns,
            (unsigned long long)total_bytes, stop ? "stopped by signal" : "time limit reached");
    return 0;
}
