/* The daemon's event loop: one epoll set, sources registered by fd.
 *
 * Sources today: the gateway's epoll set, a signalfd, a timerfd; the control
 * socket and its clients register the same way.  Callbacks run on the loop's
 * thread; a callback may add or remove sources (removal of a source whose
 * event is still pending in the current batch is safe). */
#ifndef EDHOCD_LOOP_H
#define EDHOCD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct loop loop;

/* events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP as reported. */
typedef void (*loop_fn)(void *arg, int fd, uint32_t events);

#define LOOP_MAX_SOURCES 64

int loop_create(loop **ret);

/* Frees the loop (not the sources' fds).  NULL is a no-op. */
void loop_free(loop *l);

/* Watches fd for events (EPOLLIN, ...).  EDHOC_E_LIMIT beyond
 * LOOP_MAX_SOURCES. */
int loop_add(loop *l, int fd, uint32_t events, loop_fn fn, void *arg);

void loop_remove(loop *l, int fd);

/* Runs until loop_quit; returns 0, or a negative code when epoll fails. */
int loop_run(loop *l);

void loop_quit(loop *l);

#endif
