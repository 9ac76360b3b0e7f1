/* An intrusive list kept in due-time order, for the gateway's timers
 * (backend deadlines, retransmissions of our confirmable messages, empty
 * ACKs owed to parked requests).
 *
 * Most entries of one list get the same delay, so they arrive nearly in
 * due order: insertion walks back from the tail, usually one step, and the
 * earliest is always the head.  The owner embeds a gw_tlink and gets back
 * to its entry with GW_TLIST_OWNER.  All inline: a few pointer moves per
 * datagram. */
#ifndef GW_TLIST_H
#define GW_TLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_tlink {
	struct gw_tlink *prev, *next;
	uint64_t due; /* monotonic ms */
	bool linked;
} gw_tlink;

typedef struct gw_tlist {
	gw_tlink *head, *tail; /* earliest first */
} gw_tlist;

#define GW_TLIST_OWNER(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

/* Takes e out of l; a no-op when e is not linked. */
static inline void gw_tlist_remove(gw_tlist *l, gw_tlink *e)
{
	if (!e->linked)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	e->linked = false;
}

/* Links e (not linked) in due order, after the entries due at the same
 * time. */
static inline void gw_tlist_insert(gw_tlist *l, gw_tlink *e, uint64_t due)
{
	gw_tlink *at = l->tail;
	while (at && at->due > due)
		at = at->prev;
	e->due = due;
	e->prev = at;
	e->next = at ? at->next : l->head;
	if (e->next)
		e->next->prev = e;
	else
		l->tail = e;
	if (at)
		at->next = e;
	else
		l->head = e;
	e->linked = true;
}

/* The earliest due time, UINT64_MAX when l is empty. */
static inline uint64_t gw_tlist_next(const gw_tlist *l)
{
	return l->head ? l->head->due : UINT64_MAX;
}

#endif
