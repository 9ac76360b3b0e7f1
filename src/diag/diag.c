/* Diagnostics sink: journald or one stable line per record on a stream,
 * ticket IDs, and throttling of repeated failures. */
#include "diag/diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "edhoc/result.h"

#define LINE_MAX_BYTES   1024 /* one record on the stream target */
#define DETAIL_MAX_BYTES 400  /* detail text kept per record */
#define FIELD_MAX_BYTES  128  /* other fields */
#define WINDOW_MS        1000
/* Failure records per window from all keys together, in bursts: the
 * per-key budget alone lets a flood from many source ports (each a key of
 * its own) write one record per datagram. */
#define ALL_KEYS_BURSTS 16

struct throttle {
	bool used;
	char peer[DIAG_ADDR_SIZE];
	char category;
	uint64_t window_start;
	uint64_t last_used;
	unsigned in_window;
	unsigned long suppressed;
	uint32_t first_ticket;
	uint32_t last_ticket;
};

struct diag {
	int target;
	FILE *stream;
	unsigned burst;
	uint64_t (*now_ms)(void *ctx);
	void *now_ctx;
	uint32_t next_ticket;
	size_t n_slots;
	struct throttle *slots;
	/* failure records of all keys together */
	uint64_t all_window;
	unsigned all_in_window;
	unsigned long all_suppressed;
};

static const char *const category_ids[7] = {
    "02595e81e0f24a9681d9c2bc91edf45a", /* A message field */
    "b4d1001409bd4dd79ef142f54f52de4f", /* B integrity */
    "7d89df3e2e574d40a26281831335fc3e", /* C credential */
    "004d7232b1d1427ca3e725f4c4889a20", /* D access denied */
    "e222c5c7188a433b95516109f401019e", /* E internal */
    "ac7f15d6916945b8b9689c953f4ea4b3", /* F EAD */
    "c1827db87436479ba5eb483fcf3a2e13", /* G cipher suite */
};

static const char *const category_names[7] = {
    "message field", "integrity",      "credential",   "access denied",
    "internal",      "auxiliary data", "cipher suite",
};

const char *diag_message_id(char category)
{
	if (category < 'A' || category > 'G')
		return NULL;
	return category_ids[category - 'A'];
}

static const char *category_name(char category)
{
	if (category < 'A' || category > 'G')
		return "unknown";
	return category_names[category - 'A'];
}

static uint64_t monotonic_ms(void *ctx)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now(const diag *d)
{
	return d->now_ms(d->now_ctx);
}

/* A bounded string builder: appends never overflow, truncation is silent
 * (a log line cut short is better than none). */
struct sbuf {
	char *p;
	size_t cap;
	size_t len;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	p[0] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->len + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

static void sb_hexbyte(struct sbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	sb_puts(b, "\\x");
	sb_putc(b, hex[c >> 4]);
	sb_putc(b, hex[c & 15]);
}

/* An unquoted key=value token: peer-controlled text (identities, kids) must
 * not be able to forge extra fields, so spaces, quotes, '=' and anything
 * outside printable ASCII become \xNN. */
static void sb_token(struct sbuf *b, const char *s)
{
	if (!s || !*s) {
		sb_putc(b, '-');
		return;
	}
	for (size_t i = 0; s[i] && i < FIELD_MAX_BYTES; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=')
			sb_hexbyte(b, c);
		else
			sb_putc(b, (char)c);
	}
}

/* A quoted value: one line, so control characters become \xNN and the
 * quote and backslash are escaped. */
static void sb_quoted(struct sbuf *b, const char *s, size_t max)
{
	sb_putc(b, '"');
	for (size_t i = 0; s && s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			sb_hexbyte(b, c);
		} else {
			sb_putc(b, (char)c);
		}
	}
	sb_putc(b, '"');
}

/* Plain copy for journal fields, with control characters replaced: the
 * journal would store them, but a later "journalctl -o cat" would not show
 * one record per line. */
static void clean_copy(char *out, size_t cap, const char *s, size_t max)
{
	struct sbuf b;
	sb_init(&b, out, cap);
	if (!s || !*s) {
		sb_putc(&b, '-');
		return;
	}
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			sb_hexbyte(&b, c);
		else
			sb_putc(&b, (char)c);
	}
}

static bool journal_usable(void)
{
	if (getenv("JOURNAL_STREAM"))
		return true;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	strcpy(sun.sun_path, "/run/systemd/journal/socket");
	bool ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

int diag_create(const diag_options *opt, diag **ret)
{
	diag_options defaults = {0};
	if (!ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!opt)
		opt = &defaults;
	if (opt->target < DIAG_TARGET_AUTO || opt->target > DIAG_TARGET_STDERR)
		return EDHOC_E_INVALID_ARGUMENT;

	diag *d = calloc(1, sizeof(*d));
	if (!d)
		return EDHOC_E_NOMEM;
	d->n_slots = opt->table_size ? opt->table_size : 256;
	d->slots = calloc(d->n_slots, sizeof(*d->slots));
	if (!d->slots) {
		free(d);
		return EDHOC_E_NOMEM;
	}
	d->target = opt->target;
	if (d->target == DIAG_TARGET_AUTO)
		d->target = journal_usable() ? DIAG_TARGET_JOURNAL : DIAG_TARGET_STDERR;
	d->stream = opt->stream ? opt->stream : stderr;
	d->burst = opt->burst ? opt->burst : 5;
	d->now_ms = opt->now_ms ? opt->now_ms : monotonic_ms;
	d->now_ctx = opt->now_ctx;
	if (opt->has_ticket_seed) {
		d->next_ticket = opt->ticket_seed;
	} else if (getrandom(&d->next_ticket, sizeof(d->next_ticket), GRND_NONBLOCK) !=
	           (ssize_t)sizeof(d->next_ticket)) {
		/* Uniqueness within a run only needs the counter; the random
		 * start just keeps tickets of different runs apart. */
		d->next_ticket = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	}
	*ret = d;
	return 0;
}

int diag_target_in_use(const diag *d)
{
	return d->target;
}

static void emit_stream(diag *d, const char *line)
{
	/* One write per record so concurrent writers cannot interleave lines. */
	fprintf(d->stream, "%s\n", line);
	fflush(d->stream);
}

static void format_ticket(uint32_t t, char *out)
{
	snprintf(out, DIAG_TICKET_SIZE, "T-%08x", (unsigned)t);
}

static void emit_suppressed(diag *d, struct throttle *s)
{
	char first[DIAG_TICKET_SIZE], last[DIAG_TICKET_SIZE];
	format_ticket(s->first_ticket, first);
	format_ticket(s->last_ticket, last);
	if (d->target == DIAG_TARGET_JOURNAL) {
		char cat[2] = {s->category, '\0'};
		sd_journal_send(
		    "MESSAGE=suppressed %lu more category %c failures from %s (tickets %s..%s)",
		    s->suppressed, s->category, s->peer, first, last, "PRIORITY=%d", LOG_NOTICE,
		    "MESSAGE_ID=%s", DIAG_MESSAGE_ID_SUPPRESSED, "EDHOCD_CATEGORY=%s", cat,
		    "EDHOCD_PEER=%s", s->peer, "EDHOCD_SUPPRESSED=%lu", s->suppressed,
		    "EDHOCD_TICKET_FIRST=%s", first, "EDHOCD_TICKET_LAST=%s", last, NULL);
	} else {
		char line[LINE_MAX_BYTES];
		struct sbuf b;
		sb_init(&b, line, sizeof(line));
		sb_printf(&b, "edhocd: suppressed %lu failures category=%c peer=", s->suppressed,
		          s->category);
		sb_token(&b, s->peer);
		sb_printf(&b, " tickets=%s..%s", first, last);
		emit_stream(d, line);
	}
	s->suppressed = 0;
}

static void emit_all_suppressed(diag *d)
{
	diag_log(d, LOG_NOTICE,
	         "suppressed %lu failures from all peers (over %u records per second)",
	         d->all_suppressed, d->burst * ALL_KEYS_BURSTS);
	d->all_suppressed = 0;
}

static struct throttle *throttle_slot(diag *d, const char *peer, char category, uint64_t t)
{
	struct throttle *oldest = NULL;
	for (size_t i = 0; i < d->n_slots; i++) {
		struct throttle *s = &d->slots[i];
		if (!s->used) {
			if (!oldest || oldest->used)
				oldest = s;
			continue;
		}
		if (s->category == category && strcmp(s->peer, peer) == 0)
			return s;
		if (!oldest || (oldest->used && s->last_used < oldest->last_used))
			oldest = s;
	}
	/* Reusing a key must not lose its count. */
	if (oldest->used && oldest->suppressed)
		emit_suppressed(d, oldest);
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	snprintf(oldest->peer, sizeof(oldest->peer), "%s", peer);
	oldest->category = category;
	oldest->window_start = t;
	return oldest;
}

static int failure_priority(char category)
{
	return category == 'E' ? LOG_ERR : LOG_WARNING;
}

int diag_failure(diag *d, const diag_event *ev, char *ret_ticket)
{
	char ticket[DIAG_TICKET_SIZE];
	char category = ev->category ? ev->category : edhoc_result_category(ev->code);
	if (category < 'A' || category > 'G')
		category = 'E';
	uint32_t tnum = d->next_ticket++;
	format_ticket(tnum, ticket);
	if (ret_ticket)
		memcpy(ret_ticket, ticket, DIAG_TICKET_SIZE);

	const char *peer = ev->peer && *ev->peer ? ev->peer : "-";
	uint64_t t = now(d);
	struct throttle *s = throttle_slot(d, peer, category, t);
	s->last_used = t;
	if (t - s->window_start >= WINDOW_MS) {
		if (s->suppressed)
			emit_suppressed(d, s);
		s->window_start = t;
		s->in_window = 0;
	}
	if (s->in_window >= d->burst) {
		if (!s->suppressed)
			s->first_ticket = tnum;
		s->last_ticket = tnum;
		s->suppressed++;
		return 1;
	}
	if (t - d->all_window >= WINDOW_MS) {
		if (d->all_suppressed)
			emit_all_suppressed(d);
		d->all_window = t;
		d->all_in_window = 0;
	}
	if (d->all_in_window >= d->burst * ALL_KEYS_BURSTS) {
		d->all_suppressed++;
		return 1;
	}
	d->all_in_window++;
	s->in_window++;

	const char *code_name = ev->code ? edhoc_result_name(ev->code) : "-";
	/* An empty detail would leave an operator who reads only the detail
	 * field with nothing: say at least what the code means. */
	const char *detail = ev->detail && *ev->detail ? ev->detail
	                     : ev->code                ? edhoc_result_describe(ev->code)
	                                               : NULL;
	const char *step = ev->step && *ev->step ? ev->step : "-";
	if (d->target == DIAG_TARGET_JOURNAL) {
		char cat[2] = {category, '\0'};
		char f_peer[FIELD_MAX_BYTES * 4], f_id[FIELD_MAX_BYTES * 4];
		char f_step[FIELD_MAX_BYTES * 4], f_detail[DETAIL_MAX_BYTES * 4];
		clean_copy(f_peer, sizeof(f_peer), peer, FIELD_MAX_BYTES);
		clean_copy(f_id, sizeof(f_id), ev->identity, FIELD_MAX_BYTES);
		clean_copy(f_step, sizeof(f_step), step, FIELD_MAX_BYTES);
		clean_copy(f_detail, sizeof(f_detail), detail, DETAIL_MAX_BYTES);
		sd_journal_send("MESSAGE=%s failed (category %c, %s): %s; peer %s, identity %s, "
		                "ticket %s",
		                f_step, category, category_name(category), f_detail, f_peer, f_id,
		                ticket, "PRIORITY=%d", failure_priority(category), "MESSAGE_ID=%s",
		                diag_message_id(category), "EDHOCD_CATEGORY=%s", cat,
		                "EDHOCD_CODE=%s", code_name, "EDHOCD_PEER=%s", f_peer,
		                "EDHOCD_IDENTITY=%s", f_id, "EDHOCD_STEP=%s", f_step,
		                "EDHOCD_TICKET=%s", ticket, "EDHOCD_DETAIL=%s", f_detail, NULL);
	} else {
		char line[LINE_MAX_BYTES];
		struct sbuf b;
		sb_init(&b, line, sizeof(line));
		sb_printf(&b, "edhocd: failure category=%c code=%s step=", category, code_name);
		sb_token(&b, step);
		sb_puts(&b, " peer=");
		sb_token(&b, peer);
		sb_puts(&b, " identity=");
		sb_token(&b, ev->identity);
		sb_printf(&b, " ticket=%s detail=", ticket);
		sb_quoted(&b, detail, DETAIL_MAX_BYTES);
		emit_stream(d, line);
	}
	return 0;
}

void diag_handshake_ok(diag *d, const char *peer, const char *identity, int method, int suite,
                       const uint8_t *c_r, size_t c_r_len)
{
	char cid[2 * 16 + 4];
	struct sbuf cb;
	sb_init(&cb, cid, sizeof(cid));
	sb_puts(&cb, "h'");
	for (size_t i = 0; c_r && i < c_r_len && i < 16; i++)
		sb_printf(&cb, "%02x", c_r[i]);
	sb_putc(&cb, '\'');

	if (d->target == DIAG_TARGET_JOURNAL) {
		char f_peer[FIELD_MAX_BYTES * 4], f_id[FIELD_MAX_BYTES * 4];
		clean_copy(f_peer, sizeof(f_peer), peer, FIELD_MAX_BYTES);
		clean_copy(f_id, sizeof(f_id), identity, FIELD_MAX_BYTES);
		sd_journal_send("MESSAGE=EDHOC handshake with %s completed (method %d, suite %d, "
		                "peer %s)",
		                f_id, method, suite, f_peer, "PRIORITY=%d", LOG_INFO,
		                "MESSAGE_ID=%s", DIAG_MESSAGE_ID_HANDSHAKE_OK, "EDHOCD_PEER=%s",
		                f_peer, "EDHOCD_IDENTITY=%s", f_id, "EDHOCD_STEP=message_3",
		                "EDHOCD_METHOD=%d", method, "EDHOCD_SUITE=%d", suite,
		                "EDHOCD_C_R=%s", cid, NULL);
		return;
	}
	char line[LINE_MAX_BYTES];
	struct sbuf b;
	sb_init(&b, line, sizeof(line));
	sb_puts(&b, "edhocd: handshake ok identity=");
	sb_token(&b, identity);
	sb_printf(&b, " method=%d suite=%d peer=", method, suite);
	sb_token(&b, peer);
	sb_printf(&b, " c_r=%s", cid);
	emit_stream(d, line);
}

void diag_logv(diag *d, int priority, const char *fmt, va_list ap)
{
	char text[LINE_MAX_BYTES];
	vsnprintf(text, sizeof(text), fmt, ap);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (d->target == DIAG_TARGET_JOURNAL) {
		sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", priority, NULL);
		return;
	}
	char line[LINE_MAX_BYTES + 16];
	snprintf(line, sizeof(line), "edhocd: %s", text);
	emit_stream(d, line);
}

void diag_log(diag *d, int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_logv(d, priority, fmt, ap);
	va_end(ap);
}

void diag_flush(diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].used && d->slots[i].suppressed)
			emit_suppressed(d, &d->slots[i]);
	if (d->all_suppressed)
		emit_all_suppressed(d);
}

void diag_free(diag *d)
{
	if (!d)
		return;
	diag_flush(d);
	free(d->slots);
	free(d);
}

size_t diag_peer_text(int disclosure, char category, int code, const char *ticket, char *out,
                      size_t cap)
{
	int n;
	if (!out || cap == 0)
		return 0;
	if (category < 'A' || category > 'G')
		category = 'E';
	const char *t = ticket ? ticket : "-";
	switch (disclosure) {
	case DIAG_DISCLOSE_FULL:
		n = snprintf(out, cap, "category %c %s ticket %s", category,
		             edhoc_result_name(code), t);
		break;
	case DIAG_DISCLOSE_CATEGORY:
		n = snprintf(out, cap, "category %c ticket %s", category, t);
		break;
	default:
		n = snprintf(out, cap, "ticket %s", t);
		break;
	}
	if (n < 0) {
		out[0] = '\0';
		return 0;
	}
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *diag_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	if (!buf || cap == 0)
		return buf;
	snprintf(buf, cap, "?");
	if (!sa)
		return buf;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)))
			snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host))) {
			if (in6->sin6_scope_id)
				snprintf(buf, cap, "[%s%%%u]:%u", host,
				         (unsigned)in6->sin6_scope_id, ntohs(in6->sin6_port));
			else
				snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
		}
	}
	return buf;
}

static const char *const disclosure_names[] = {"none", "category", "full"};
static const char *const target_names[] = {"auto", "journal", "stderr"};

int diag_disclosure_from_name(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, disclosure_names[i]) == 0)
			return i;
	return -1;
}

int diag_target_from_name(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, target_names[i]) == 0)
			return i;
	return -1;
}

const char *diag_disclosure_name(int disclosure)
{
	return disclosure >= 0 && disclosure < 3 ? disclosure_names[disclosure] : "?";
}

const char *diag_target_name(int target)
{
	return target >= 0 && target < 3 ? target_names[target] : "?";
}
