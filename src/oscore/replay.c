/* Anti-replay sliding window (RFC 8613 §7.4). */
#include "oscore/replay.h"

#include "edhoc/result.h"

static uint64_t window_mask(unsigned size)
{
	return size >= 64 ? UINT64_MAX : (UINT64_C(1) << size) - 1;
}

void oscore_replay_init(oscore_replay *w, unsigned size)
{
	w->highest = 0;
	w->bitmap = 0;
	w->size = (uint8_t)size;
	w->seen_any = false;
}

int oscore_replay_check(const oscore_replay *w, uint64_t piv)
{
	if (!w->seen_any || piv > w->highest)
		return 0;
	uint64_t diff = w->highest - piv;
	if (diff >= w->size)
		return OSCORE_E_TOO_OLD;
	if (w->bitmap & (UINT64_C(1) << diff))
		return OSCORE_E_REPLAY;
	return 0;
}

void oscore_replay_update(oscore_replay *w, uint64_t piv)
{
	if (!w->seen_any) {
		w->highest = piv;
		w->bitmap = 1;
		w->seen_any = true;
		return;
	}
	if (piv > w->highest) {
		uint64_t shift = piv - w->highest;
		/* A shift of 64 or more is undefined in C: the window moved
		 * past everything it held. */
		w->bitmap = shift >= 64 ? 1 : (w->bitmap << shift) | 1;
		w->highest = piv;
	} else if (w->highest - piv < w->size) {
		w->bitmap |= UINT64_C(1) << (w->highest - piv);
	}
	w->bitmap &= window_mask(w->size);
}

void oscore_replay_start_at(oscore_replay *w, uint64_t piv)
{
	/* Every position of the window counts as received: older Partial
	 * IVs may have been accepted before the restart. */
	w->highest = piv;
	w->bitmap = window_mask(w->size);
	w->seen_any = true;
}
