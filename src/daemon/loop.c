/* epoll-based event loop with a fixed table of sources. */
#include "daemon/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "edhoc/result.h"

struct source {
	int fd; /* -1: free slot */
	loop_fn fn;
	void *arg;
	uint64_t gen;
};

struct loop {
	int ep;
	bool quit;
	uint64_t gen;
	struct source src[LOOP_MAX_SOURCES];
};

int loop_create(loop **ret)
{
	loop *l = calloc(1, sizeof(*l));
	if (!l)
		return EDHOC_E_NOMEM;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return EDHOC_E_INTERNAL;
	}
	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++)
		l->src[i].fd = -1;
	*ret = l;
	return 0;
}

void loop_free(loop *l)
{
	if (!l)
		return;
	close(l->ep);
	free(l);
}

int loop_add(loop *l, int fd, uint32_t events, loop_fn fn, void *arg)
{
	struct epoll_event ev;
	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++) {
		if (l->src[i].fd != -1)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = events;
		/* Slot index and a generation: an event for a slot that was
		 * freed and reused within one batch is recognised as stale. */
		l->gen++;
		ev.data.u64 = (l->gen << 8) | i;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			return EDHOC_E_INTERNAL;
		l->src[i].fd = fd;
		l->src[i].fn = fn;
		l->src[i].arg = arg;
		l->src[i].gen = l->gen;
		return 0;
	}
	return EDHOC_E_LIMIT;
}

void loop_remove(loop *l, int fd)
{
	for (size_t i = 0; i < LOOP_MAX_SOURCES; i++) {
		if (l->src[i].fd == fd) {
			epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
			l->src[i].fd = -1;
			l->src[i].fn = NULL;
			return;
		}
	}
}

int loop_run(loop *l)
{
	struct epoll_event evs[16];
	l->quit = false;
	while (!l->quit) {
		int n = epoll_wait(l->ep, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return EDHOC_E_INTERNAL;
		}
		for (int k = 0; k < n && !l->quit; k++) {
			size_t i = (size_t)(evs[k].data.u64 & 0xff);
			uint64_t gen = evs[k].data.u64 >> 8;
			struct source *s;
			if (i >= LOOP_MAX_SOURCES)
				continue;
			s = &l->src[i];
			if (s->fd == -1 || s->gen != gen || !s->fn)
				continue;
			s->fn(s->arg, s->fd, evs[k].events);
		}
	}
	return 0;
}

void loop_quit(loop *l)
{
	l->quit = true;
}
