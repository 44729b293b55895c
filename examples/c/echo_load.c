/*
 * Load generator for echo_server: starts each server binary named on the
 * command line in turn, opens N concurrent connections to it on 127.0.0.1,
 * and on each connection sends a message, waits for the whole echo, checks
 * every byte, and sends the next, for a fixed time. Then it stops the server
 * and prints one line per server: requests/s, p50/p99 round-trip latency, and
 * the server's CPU time (user + system) per request.
 *
 *   echo_load [-c CONNECTIONS] [-d SECONDS] [-s MESSAGE_BYTES] [-r ROUNDS] SERVER...
 *   (defaults: -c 50 -d 3 -s 64 -r 1; bounds: 1..1000 connections, 1..60 s,
 *   1..4096 bytes, 1..9 rounds, 1..4 servers)
 *
 * With several rounds the servers take turns (order reversed every other
 * round); req/s is the median over rounds, p50/p99 come from all round trips
 * of all rounds.
 *
 * e.g. echo_load -c 50 -d 3 ./echo_server ./echo_server_ucontext
 *
 * Only loopback: the address is not an option. Exit status 0 only if every
 * server accepted all connections, every echoed byte was right, every
 * connection completed requests, and every server exited cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1000
#define MAX_SECONDS 60
#define MAX_MSG 4096
#define MAX_ROUNDS 9
#define MAX_SERVERS 4
/* After the measured time, outstanding replies must arrive within this. */
#define DRAIN_SECONDS 5.0

struct client {
    int fd;
    uint32_t id;
    uint64_t seq;       /* number of the message in flight */
    size_t sent, recvd; /* bytes of the message in flight */
    uint64_t started_ns;
    uint64_t completed;
    int idle; /* no message in flight (stopped) */
};

static size_t msg_size;
/* Round-trip times of one server, pooled over its rounds. */
struct samples {
    uint64_t *ns;
    size_t len, cap;
};
static struct samples *lat; /* the server under load */
static int errors;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Byte i of message `seq` on connection `id`: differs between connections,
 * messages and positions, so a misrouted, stale or shifted byte is caught. */
static unsigned char pattern(uint32_t id, uint64_t seq, size_t i) {
    return (unsigned char)(id * 131u + seq * 31u + i * 7u + (i >> 8));
}

static void record(uint64_t ns) {
    if (lat->len == lat->cap) {
        lat->cap = lat->cap ? lat->cap * 2 : 1 << 16;
        lat->ns = realloc(lat->ns, lat->cap * sizeof *lat->ns);
        if (!lat->ns) {
            perror("realloc");
            exit(1);
        }
    }
    lat->ns[lat->len++] = ns;
}

/* Writes what is left of the message in flight; 0 on success (possibly
 * partial, then EPOLLOUT is watched), -1 on error. */
static int send_some(int epfd, struct client *c) {
    unsigned char buf[MAX_MSG];
    for (size_t i = c->sent; i < msg_size; i++) buf[i] = pattern(c->id, c->seq, i);
    while (c->sent < msg_size) {
        ssize_t w = write(c->fd, buf + c->sent, msg_size - c->sent);
        if (w > 0) {
            c->sent += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void start_message(struct client *c) {
    c->sent = c->recvd = 0;
    c->started_ns = now_ns();
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Starts `path`, reads "port N backend NAME" from its stdout. */
static pid_t start_server(const char *path, int *port, char *backend, size_t backend_len) {
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        /* The server also stops by itself well after the run's end. */
        execl(path, path, "120", (char *)NULL);
        perror(path);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char fmt[32];
    snprintf(fmt, sizeof fmt, "port %%d backend %%%zus", backend_len - 1);
    if (!f || fscanf(f, fmt, port, backend) != 2) {
        fprintf(stderr, "%s: did not report its port\n", path);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        exit(1);
    }
    fclose(f);
    return pid;
}

struct result {
    uint64_t requests;
    double seconds;
};

static int run_load(int port, int nconns, double seconds, struct result *r) {
    struct client *cl = calloc((size_t)nconns, sizeof *cl);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!cl || epfd < 0) {
        perror("setup");
        exit(1);
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconns; i++) {
        struct client *c = &cl[i];
        c->id = (uint32_t)i;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect to 127.0.0.1");
            return -1;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Non-blocking from here on: the loop below never waits on one socket. */
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) {
            perror("fcntl");
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            perror("epoll_ctl");
            return -1;
        }
    }

    uint64_t t0 = now_ns();
    uint64_t end = t0 + (uint64_t)(seconds * 1e9);
    uint64_t drain_end = end + (uint64_t)(DRAIN_SECONDS * 1e9);
    for (int i = 0; i < nconns; i++) {
        start_message(&cl[i]);
        if (send_some(epfd, &cl[i]) != 0) {
            perror("send");
            return -1;
        }
    }
    int in_flight = nconns;
    unsigned char buf[MAX_MSG];
    struct epoll_event events[256];
    while (in_flight > 0) {
        uint64_t t = now_ns();
        if (t > drain_end) {
            fprintf(stderr, "%d replies still missing %.0f s after the end\n", in_flight,
                    DRAIN_SECONDS);
            return -1;
        }
        int n = epoll_wait(epfd, events, 256, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return -1;
        }
        for (int k = 0; k < n; k++) {
            struct client *c = events[k].data.ptr;
            if ((events[k].events & EPOLLOUT) && c->sent < msg_size && send_some(epfd, c) != 0) {
                perror("send");
                return -1;
            }
            if (!(events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            ssize_t got = read(c->fd, buf, msg_size - c->recvd);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            if (got <= 0) {
                fprintf(stderr, "connection %u: %s\n", c->id,
                        got == 0 ? "closed by the server" : strerror(errno));
                return -1;
            }
            for (ssize_t i = 0; i < got; i++) {
                size_t pos = c->recvd + (size_t)i;
                if (buf[i] != pattern(c->id, c->seq, pos)) {
                    fprintf(stderr, "connection %u message %llu byte %zu: got %u, sent %u\n", c->id,
                            (unsigned long long)c->seq, pos, buf[i],
                            pattern(c->id, c->seq, pos));
                    errors++;
                    return -1;
                }
            }
            c->recvd += (size_t)got;
            if (c->recvd < msg_size) continue;
            uint64_t done = now_ns();
            record(done - c->started_ns);
            c->completed++;
            c->seq++;
            if (done >= end) {
                c->idle = 1;
                in_flight--;
                continue;
            }
            start_message(c);
            if (send_some(epfd, c) != 0) {
                perror("send");
                return -1;
            }
        }
    }
    uint64_t t1 = now_ns();

    r->requests = 0;
    for (int i = 0; i < nconns; i++) {
        if (cl[i].completed == 0) {
            fprintf(stderr, "connection %d completed no request\n", i);
            return -1;
        }
        r->requests += cl[i].completed;
        close(cl[i].fd);
    }
    close(epfd);
    free(cl);
    r->seconds = (double)(t1 - t0) * 1e-9;
    return 0;
}

static long arg_in(const char *s, long lo, long hi, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "%s must be in %ld..%ld\n", what, lo, hi);
        exit(2);
    }
    return v;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct server {
    const char *path;
    char backend[64];
    struct samples lat;
    double rps[MAX_ROUNDS];
    uint64_t requests;
    double cpu_s; /* the server processes' user + system time */
    int failed;
};

/* One round against one server: start it, load it, stop it. */
static void run_round(struct server *sv, int round, int nconns, long seconds) {
    int port;
    pid_t pid = start_server(sv->path, &port, sv->backend, sizeof sv->backend);
    struct result r;
    lat = &sv->lat;
    int rc = run_load(port, nconns, (double)seconds, &r);
    kill(pid, SIGTERM);
    int ws;
    struct rusage ru;
    if (wait4(pid, &ws, 0, &ru) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "%s did not exit cleanly\n", sv->path);
        rc = -1;
    }
    if (rc != 0) {
        sv->failed = 1;
        return;
    }
    /* CPU time per request is what the switcher changes; unlike req/s it
     * hardly depends on what else the machine runs. */
    sv->cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    sv->rps[round] = (double)r.requests / r.seconds;
    sv->requests += r.requests;
}

int main(int argc, char **argv) {
    int nconns = 50, rounds = 1;
    long seconds = 3;
    msg_size = 64;
    int opt;
    while ((opt = getopt(argc, argv, "c:d:s:r:")) != -1) {
        switch (opt) {
        case 'c': nconns = (int)arg_in(optarg, 1, MAX_CONNS, "-c CONNECTIONS"); break;
        case 'd': seconds = arg_in(optarg, 1, MAX_SECONDS, "-d SECONDS"); break;
        case 's': msg_size = (size_t)arg_in(optarg, 1, MAX_MSG, "-s MESSAGE_BYTES"); break;
        case 'r': rounds = (int)arg_in(optarg, 1, MAX_ROUNDS, "-r ROUNDS"); break;
        default: optind = argc + 1; break;
        }
    }
    if (optind >= argc || argc - optind > MAX_SERVERS) {
        fprintf(stderr,
                "usage: %s [-c CONNECTIONS] [-d SECONDS] [-s MESSAGE_BYTES] [-r ROUNDS] "
                "SERVER... (at most %d)\n",
                argv[0], MAX_SERVERS);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    int nservers = argc - optind;
    struct server servers[MAX_SERVERS];
    memset(servers, 0, sizeof servers);
    for (int i = 0; i < nservers; i++) servers[i].path = argv[optind + i];

    printf("echo load: %d connections, %ld s x %d round(s) per server, %zu-byte messages, "
           "127.0.0.1, every byte verified, %ld CPUs online\n",
           nconns, seconds, rounds, msg_size, sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout); /* before the servers write to the same terminal */
    /* Rounds alternate the order of the servers, so that neither always runs
     * first (or last) while the machine's load drifts. */
    for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < nservers; k++) {
            int i = round % 2 ? nservers - 1 - k : k;
            if (!servers[i].failed) run_round(&servers[i], round, nconns, seconds);
        }
    }

    printf("%-16s %10s %12s %9s %9s %14s %12s\n", "server", "requests", "req/s (med)", "p50 us",
           "p99 us", "srv CPU us/req", "bytes");
    int status = errors != 0;
    for (int i = 0; i < nservers; i++) {
        struct server *sv = &servers[i];
        if (sv->failed || sv->lat.len == 0) {
            printf("%-16s FAILED (%s)\n", sv->backend[0] ? sv->backend : "?", sv->path);
            status = 1;
            continue;
        }
        qsort(sv->rps, (size_t)rounds, sizeof sv->rps[0], cmp_double);
        qsort(sv->lat.ns, sv->lat.len, sizeof *sv->lat.ns, cmp_u64);
        printf("%-16s %10llu %12.0f %9.1f %9.1f %14.2f %12llu\n", sv->backend,
               (unsigned long long)sv->requests, sv->rps[rounds / 2],
               (double)sv->lat.ns[sv->lat.len / 2] / 1e3,
               (double)sv->lat.ns[(sv->lat.len * 99) / 100] / 1e3,
               sv->cpu_s * 1e6 / (double)sv->requests, (unsigned long long)(sv->requests * msg_size));
        free(sv->lat.ns);
    }
    return status;
}
