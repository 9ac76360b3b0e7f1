/* Sockets in the gateway's own epoll set (gw_fd).  Every fd registered there
 * carries a gw_io in its epoll data.ptr; gw_process calls its ready() with
 * the epoll events.  The owner embeds the gw_io in its own struct and gets
 * back to it with GW_IO_OWNER. */
#ifndef GW_IO_H
#define GW_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_io gw_io;
struct gw_io {
	void (*ready)(gw_io *io, uint32_t events);
};

#define GW_IO_OWNER(io, type, member) ((type *)(void *)((char *)(io)-offsetof(type, member)))

#endif
