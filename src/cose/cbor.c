/* Strict CBOR reader and writer over libcbor 0.8.
 *
 * libcbor's cbor_load trusts declared lengths, so it is never given peer
 * input.  Instead each head is first parsed and checked here (truncation,
 * reserved additional information, indefinite lengths, shortest form, and
 * for strings the declared length against the bytes really present), and
 * only then handed to cbor_stream_decode, limited to exactly the bytes the
 * item occupies, whose report must agree with ours. */
#include "edhoc/cbor.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

/* Hard ceiling on nesting for cose_read_item/cose_diag whatever the caller
 * asks: the walk keeps one counter per level in a fixed array. */
#define CBOR_DEPTH_CAP 64

typedef struct head {
	int major;
	unsigned ai;     /* additional information (low 5 bits) */
	uint64_t arg;    /* value, length, count, tag, simple value or float bits */
	size_t head_len; /* bytes of the head itself */
	size_t item_len; /* head plus string content (the whole item for
	                    scalars; the head only for containers and tags) */
} head;

/* What libcbor reported for one head. */
typedef struct seen {
	int major;
	uint64_t arg;
	int calls;
} seen;

/* Every callback below reports through this one. */
static void note(void *c, int major, uint64_t arg)
{
	seen *s = c;
	s->major = major, s->arg = arg, s->calls++;
}

static void on_uint(void *c, uint64_t v)
{
	note(c, COSE_CBOR_UINT, v);
}
static void on_u8(void *c, uint8_t v)
{
	on_uint(c, v);
}
static void on_u16(void *c, uint16_t v)
{
	on_uint(c, v);
}
static void on_u32(void *c, uint32_t v)
{
	on_uint(c, v);
}

static void on_negint(void *c, uint64_t v)
{
	note(c, COSE_CBOR_NEGINT, v);
}
static void on_n8(void *c, uint8_t v)
{
	on_negint(c, v);
}
static void on_n16(void *c, uint16_t v)
{
	on_negint(c, v);
}
static void on_n32(void *c, uint32_t v)
{
	on_negint(c, v);
}

static void on_bstr(void *c, cbor_data d, size_t len)
{
	note(c, COSE_CBOR_BSTR, len);
}

static void on_tstr(void *c, cbor_data d, size_t len)
{
	note(c, COSE_CBOR_TSTR, len);
}

static void on_array(void *c, size_t n)
{
	note(c, COSE_CBOR_ARRAY, n);
}

static void on_map(void *c, size_t n)
{
	note(c, COSE_CBOR_MAP, n);
}

static void on_tag(void *c, uint64_t v)
{
	note(c, COSE_CBOR_TAG, v);
}

static void on_simple7(void *c, uint64_t ai)
{
	note(c, COSE_CBOR_SIMPLE, ai);
}
static void on_false_true(void *c, bool v)
{
	on_simple7(c, v ? 21 : 20);
}
static void on_null(void *c)
{
	on_simple7(c, 22);
}
static void on_undef(void *c)
{
	on_simple7(c, 23);
}
static void on_float(void *c, float f)
{
	on_simple7(c, 1000);
}
static void on_double(void *c, double f)
{
	on_simple7(c, 1000);
}

/* Indefinite-length starts and breaks are refused before libcbor sees
 * them; if it ever reports one, the cross-check fails. */
static void on_unexpected(void *c)
{
	seen *s = c;
	s->major = -1, s->calls++;
}

static const struct cbor_callbacks strict_callbacks = {
    .uint8 = on_u8,
    .uint16 = on_u16,
    .uint32 = on_u32,
    .uint64 = on_uint,
    .negint8 = on_n8,
    .negint16 = on_n16,
    .negint32 = on_n32,
    .negint64 = on_negint,
    .byte_string_start = on_unexpected,
    .byte_string = on_bstr,
    .string = on_tstr,
    .string_start = on_unexpected,
    .indef_array_start = on_unexpected,
    .array_start = on_array,
    .indef_map_start = on_unexpected,
    .map_start = on_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_undef,
    .null = on_null,
    .boolean = on_false_true,
    .indef_break = on_unexpected,
};

/* Parses and checks the head at p (n bytes available). */
static int parse_head(const uint8_t *p, size_t n, head *h)
{
	if (n == 0)
		return EDHOC_E_CBOR_TRUNCATED;
	int major = p[0] >> 5;
	unsigned ai = p[0] & 0x1f;
	uint64_t arg;
	size_t hl;

	if (ai >= 28 && ai <= 30)
		return EDHOC_E_CBOR_MALFORMED; /* reserved */
	if (ai == 31) {
		/* indefinite length for strings and containers, a stray break
		 * for major 7; meaningless for integers and tags */
		if (major >= COSE_CBOR_BSTR && major <= COSE_CBOR_MAP)
			return EDHOC_E_CBOR_NOT_DETERMINISTIC;
		return EDHOC_E_CBOR_MALFORMED;
	}
	if (ai < 24) {
		arg = ai;
		hl = 1;
	} else {
		hl = 1 + ((size_t)1 << (ai - 24)); /* 2, 3, 5, 9 */
		if (n < hl)
			return EDHOC_E_CBOR_TRUNCATED;
		arg = 0;
		for (size_t i = 1; i < hl; i++)
			arg = arg << 8 | p[i];
	}

	if (major != COSE_CBOR_SIMPLE) {
		/* shortest form: each wider argument must need its width */
		static const uint64_t min_for[4] = {24, 0x100, 0x10000, 0x100000000ULL};
		if (ai >= 24 && arg < min_for[ai - 24])
			return EDHOC_E_CBOR_NOT_DETERMINISTIC;
	} else if (ai == 24 && arg < 32) {
		/* RFC 8949 §3.3: simple values below 32 in two bytes are not
		 * well-formed */
		return EDHOC_E_CBOR_MALFORMED;
	}

	size_t item = hl;
	if (major == COSE_CBOR_BSTR || major == COSE_CBOR_TSTR) {
		/* the check that libcbor 0.8's cbor_load lacks: the declared
		 * length against what is actually there, without overflow */
		if (arg > n - hl)
			return EDHOC_E_CBOR_TRUNCATED;
		item = hl + (size_t)arg;
	} else if (major == COSE_CBOR_ARRAY || major == COSE_CBOR_MAP) {
		/* every element takes at least one byte: a count beyond the
		 * remaining bytes cannot be satisfied, and callers may size
		 * allocations by it */
		uint64_t rest = n - hl;
		if (arg > rest || (major == COSE_CBOR_MAP && arg > rest / 2))
			return EDHOC_E_CBOR_TRUNCATED;
	}

	h->major = major;
	h->ai = ai;
	h->arg = arg;
	h->head_len = hl;
	h->item_len = item;
	return 0;
}

/* libcbor 0.8 reports two kinds of well-formed heads as errors: simple
 * values other than false/true/null/undefined (it has no callback for
 * them) and tags 6..20 (unassigned in the registry when it was written).
 * Those are checked by parse_head alone. */
static bool libcbor_knows(const head *h)
{
	if (h->major == COSE_CBOR_SIMPLE)
		return !(h->ai < 20 || h->ai == 24);
	if (h->major == COSE_CBOR_TAG)
		return !(h->ai >= 6 && h->ai <= 20);
	return true;
}

/* Reads one head at r->off, cross-checked with cbor_stream_decode. */
static int read_head(const cose_reader *r, head *h)
{
	const uint8_t *p = r->buf + r->off;
	size_t n = r->len - r->off;
	int ret = parse_head(p, n, h);
	if (ret)
		return ret;
	if (!libcbor_knows(h))
		return 0;
	seen s = {.major = -2};
	struct cbor_decoder_result dr = cbor_stream_decode(p, h->item_len, &strict_callbacks, &s);
	if (dr.status != CBOR_DECODER_FINISHED || dr.read != h->item_len || s.calls != 1 ||
	    s.major != h->major)
		return EDHOC_E_CBOR_MALFORMED;
	if (h->major != COSE_CBOR_SIMPLE && s.arg != h->arg)
		return EDHOC_E_CBOR_MALFORMED;
	if (h->major == COSE_CBOR_SIMPLE && h->ai >= 20 && h->ai <= 23 && s.arg != h->ai)
		return EDHOC_E_CBOR_MALFORMED;
	return 0;
}

void cose_reader_init(cose_reader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->off = 0;
}

bool cose_reader_done(const cose_reader *r)
{
	return r->off >= r->len;
}

size_t cose_reader_remaining(const cose_reader *r)
{
	return r->off < r->len ? r->len - r->off : 0;
}

int cose_peek_type(const cose_reader *r, int *ret_major)
{
	if (r->off >= r->len)
		return EDHOC_E_CBOR_TRUNCATED;
	*ret_major = r->buf[r->off] >> 5;
	return 0;
}

/* Reads a head of the wanted major type and consumes it (and for strings
 * the content).  The cursor stays put on any failure. */
static int take(cose_reader *r, int major, head *h)
{
	if (r->off >= r->len)
		return EDHOC_E_CBOR_TRUNCATED;
	/* the type is checked before anything else, so a wrong type is
	 * reported as such even when the item is also broken */
	if ((r->buf[r->off] >> 5) != major)
		return EDHOC_E_CBOR_TYPE;
	int ret = read_head(r, h);
	if (ret)
		return ret;
	r->off += h->item_len;
	return 0;
}

/* take() for the types whose value is the head's argument. */
static int take_arg(cose_reader *r, int major, uint64_t *ret_arg)
{
	head h;
	int e = take(r, major, &h);
	if (e)
		return e;
	*ret_arg = h.arg;
	return 0;
}

/* take() for strings: where the content is and how long. */
static int take_string(cose_reader *r, int major, const uint8_t **ret_ptr, size_t *ret_len)
{
	head h;
	int e = take(r, major, &h);
	if (e)
		return e;
	*ret_ptr = r->buf + r->off - (size_t)h.arg;
	*ret_len = (size_t)h.arg;
	return 0;
}

/* take() for arrays and maps: the count, which fits size_t as parse_head
 * has checked it against the bytes left. */
static int take_count(cose_reader *r, int major, size_t *ret_count)
{
	uint64_t n;
	int e = take_arg(r, major, &n);
	if (e)
		return e;
	*ret_count = (size_t)n;
	return 0;
}

int cose_read_uint(cose_reader *r, uint64_t *ret)
{
	return take_arg(r, COSE_CBOR_UINT, ret);
}

int cose_read_int(cose_reader *r, int64_t *ret)
{
	if (r->off >= r->len)
		return EDHOC_E_CBOR_TRUNCATED;
	int major = r->buf[r->off] >> 5;
	if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
		return EDHOC_E_CBOR_TYPE;
	head h;
	int e = read_head(r, &h);
	if (e)
		return e;
	if (h.arg > INT64_MAX)
		return EDHOC_E_VALUE_RANGE;
	*ret = major == COSE_CBOR_UINT ? (int64_t)h.arg : -1 - (int64_t)h.arg;
	r->off += h.item_len;
	return 0;
}

int cose_read_bstr(cose_reader *r, const uint8_t **ret_ptr, size_t *ret_len)
{
	return take_string(r, COSE_CBOR_BSTR, ret_ptr, ret_len);
}

int cose_read_tstr(cose_reader *r, const char **ret_ptr, size_t *ret_len)
{
	const uint8_t *p;
	int e = take_string(r, COSE_CBOR_TSTR, &p, ret_len);
	if (e)
		return e;
	*ret_ptr = (const char *)p;
	return 0;
}

int cose_read_array(cose_reader *r, size_t *ret_count)
{
	return take_count(r, COSE_CBOR_ARRAY, ret_count);
}

int cose_read_map(cose_reader *r, size_t *ret_pairs)
{
	return take_count(r, COSE_CBOR_MAP, ret_pairs);
}

int cose_read_tag(cose_reader *r, uint64_t *ret_tag)
{
	return take_arg(r, COSE_CBOR_TAG, ret_tag);
}

/* Major type 7 with the given additional-information values. */
static int take_simple(cose_reader *r, unsigned lo, unsigned hi, unsigned *ret_ai)
{
	if (r->off >= r->len)
		return EDHOC_E_CBOR_TRUNCATED;
	uint8_t ib = r->buf[r->off];
	if ((ib >> 5) != COSE_CBOR_SIMPLE || (ib & 0x1f) < lo || (ib & 0x1f) > hi)
		return EDHOC_E_CBOR_TYPE;
	head h;
	int e = read_head(r, &h);
	if (e)
		return e;
	r->off += h.item_len;
	*ret_ai = h.ai;
	return 0;
}

int cose_read_bool(cose_reader *r, bool *ret)
{
	unsigned ai;
	int e = take_simple(r, 20, 21, &ai);
	if (e)
		return e;
	*ret = ai == 21;
	return 0;
}

int cose_read_null(cose_reader *r)
{
	unsigned ai;
	return take_simple(r, 22, 22, &ai);
}

/* Walks one complete item from r->off without recursion: pending[d] counts
 * the items still expected at nesting level d. */
static int skip_item(const cose_reader *r, unsigned max_depth, size_t *ret_end)
{
	uint64_t pending[CBOR_DEPTH_CAP + 1];
	unsigned depth = 0;
	cose_reader c = *r;
	if (max_depth > CBOR_DEPTH_CAP)
		max_depth = CBOR_DEPTH_CAP;
	pending[0] = 1;
	for (;;) {
		/* close finished containers */
		while (pending[depth] == 0) {
			if (depth == 0) {
				*ret_end = c.off;
				return 0;
			}
			depth--;
		}
		head h;
		int e = read_head(&c, &h);
		if (e)
			return e;
		c.off += h.item_len;
		pending[depth]--;
		uint64_t children = 0;
		if (h.major == COSE_CBOR_ARRAY)
			children = h.arg;
		else if (h.major == COSE_CBOR_MAP)
			children = 2 * h.arg; /* arg <= remaining / 2: no overflow */
		else if (h.major == COSE_CBOR_TAG)
			children = 1;
		else
			continue;
		if (depth >= max_depth)
			return EDHOC_E_CBOR_TOO_DEEP;
		pending[++depth] = children;
	}
}

int cose_read_item(cose_reader *r, unsigned max_depth, const uint8_t **ret_ptr, size_t *ret_len)
{
	size_t end;
	int e = skip_item(r, max_depth, &end);
	if (e)
		return e;
	*ret_ptr = r->buf + r->off;
	*ret_len = end - r->off;
	r->off = end;
	return 0;
}

int cose_item_len(const uint8_t *buf, size_t len, unsigned max_depth, size_t *ret_len)
{
	cose_reader r;
	cose_reader_init(&r, buf, len);
	size_t end;
	int e = skip_item(&r, max_depth, &end);
	if (e)
		return e;
	*ret_len = end;
	return 0;
}

/* ---- diagnostic notation ---- */

typedef struct diag_out {
	char *s;
	size_t size, len;
	bool full;
} diag_out;

/* Appends text; once something no longer fits, the output is cut and ends
 * in "..." and everything after is dropped. */
static void put(diag_out *o, const char *t, size_t n)
{
	if (o->full)
		return;
	if (o->size == 0) {
		o->full = true;
		return;
	}
	if (o->len + n < o->size) {
		memcpy(o->s + o->len, t, n);
		o->len += n;
		o->s[o->len] = '\0';
		return;
	}
	o->full = true;
	size_t keep = o->size - 1; /* room for the NUL */
	size_t dots = keep < 3 ? keep : 3;
	size_t room = keep - dots;
	if (o->len > room) {
		o->len = room;
	} else {
		size_t copy = room - o->len < n ? room - o->len : n;
		memcpy(o->s + o->len, t, copy);
		o->len += copy;
	}
	memcpy(o->s + o->len, "...", dots);
	o->len += dots;
	o->s[o->len] = '\0';
}

static void puts_(diag_out *o, const char *t)
{
	put(o, t, strlen(t));
}

static void putf(diag_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(diag_out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* IEEE 754 binary16 to double, without libm (exponent range is tiny). */
static double half_to_double(uint16_t hb)
{
	int exp = (hb >> 10) & 0x1f;
	int mant = hb & 0x3ff;
	double v;
	if (exp == 31) {
		v = mant == 0 ? INFINITY : NAN;
	} else {
		/* value = m * 2^(e - 25) with the implicit bit for normals */
		double m = exp == 0 ? mant : mant + 1024;
		int e = exp == 0 ? -24 : exp - 25;
		v = m;
		for (; e > 0; e--)
			v *= 2;
		for (; e < 0; e++)
			v /= 2;
	}
	return (hb & 0x8000) ? -v : v;
}

static void put_float(diag_out *o, const head *h)
{
	double v;
	if (h->ai == 25) {
		v = half_to_double((uint16_t)h->arg);
	} else if (h->ai == 26) {
		uint32_t b = (uint32_t)h->arg;
		float f;
		memcpy(&f, &b, sizeof(f));
		v = f;
	} else {
		uint64_t b = h->arg;
		memcpy(&v, &b, sizeof(v));
	}
	if (isnan(v))
		puts_(o, "NaN");
	else if (isinf(v))
		puts_(o, v > 0 ? "Infinity" : "-Infinity");
	else {
		char tmp[40];
		snprintf(tmp, sizeof(tmp), "%.17g", v);
		/* diagnostic notation marks floats with a decimal point */
		puts_(o, tmp);
		if (!strpbrk(tmp, ".e"))
			puts_(o, ".0");
	}
}

static void put_text(diag_out *o, const uint8_t *p, size_t n)
{
	puts_(o, "\"");
	for (size_t i = 0; i < n && !o->full; i++) {
		uint8_t ch = p[i];
		if (ch == '"' || ch == '\\') {
			char esc[2] = {'\\', (char)ch};
			put(o, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			putf(o, "\\u%04x", ch);
		} else {
			put(o, (const char *)&ch, 1);
		}
	}
	puts_(o, "\"");
}

static void put_scalar(diag_out *o, const head *h, const uint8_t *content)
{
	switch (h->major) {
	case COSE_CBOR_UINT:
		putf(o, "%llu", (unsigned long long)h->arg);
		break;
	case COSE_CBOR_NEGINT:
		if (h->arg == UINT64_MAX)
			puts_(o, "-18446744073709551616");
		else
			putf(o, "-%llu", (unsigned long long)h->arg + 1);
		break;
	case COSE_CBOR_BSTR:
		puts_(o, "h'");
		for (size_t i = 0; i < (size_t)h->arg && !o->full; i++)
			putf(o, "%02x", content[i]);
		puts_(o, "'");
		break;
	case COSE_CBOR_TSTR:
		put_text(o, content, (size_t)h->arg);
		break;
	case COSE_CBOR_SIMPLE:
		if (h->ai == 20)
			puts_(o, "false");
		else if (h->ai == 21)
			puts_(o, "true");
		else if (h->ai == 22)
			puts_(o, "null");
		else if (h->ai == 23)
			puts_(o, "undefined");
		else if (h->ai >= 25)
			put_float(o, h);
		else
			putf(o, "simple(%llu)", (unsigned long long)h->arg);
		break;
	default:
		break;
	}
}

/* Level kinds on the diag stack, for closing brackets and separators. */
enum { LV_TOP, LV_ARRAY, LV_MAP, LV_TAG };

int cose_diag(const uint8_t *buf, size_t len, char *out, size_t out_size)
{
	diag_out o = {out, out_size, 0, false};
	if (out_size)
		out[0] = '\0';
	struct {
		int kind;
		uint64_t pending; /* items still expected (unbounded for LV_TOP) */
		uint64_t done;    /* items written at this level */
	} st[CBOR_DEPTH_CAP + 1];
	unsigned depth = 0;
	cose_reader r;
	cose_reader_init(&r, buf, len);
	st[0].kind = LV_TOP;
	st[0].pending = UINT64_MAX;
	st[0].done = 0;
	int ret = 0;

	while (!o.full) {
		/* close finished containers */
		while (depth > 0 && st[depth].pending == 0) {
			int k = st[depth].kind;
			puts_(&o, k == LV_ARRAY ? "]" : k == LV_MAP ? "}" : ")");
			depth--;
		}
		if (depth == 0 && cose_reader_done(&r))
			break;
		head h;
		ret = read_head(&r, &h);
		if (ret)
			break;
		/* separator before this item */
		if (st[depth].done > 0) {
			if (st[depth].kind == LV_MAP && st[depth].done % 2 == 1)
				puts_(&o, ": ");
			else
				puts_(&o, ", ");
		}
		st[depth].done++;
		st[depth].pending--;
		const uint8_t *content = r.buf + r.off + h.head_len;
		r.off += h.item_len;
		if (h.major == COSE_CBOR_ARRAY || h.major == COSE_CBOR_MAP ||
		    h.major == COSE_CBOR_TAG) {
			if (depth >= CBOR_DEPTH_CAP) {
				ret = EDHOC_E_CBOR_TOO_DEEP;
				break;
			}
			depth++;
			st[depth].done = 0;
			if (h.major == COSE_CBOR_ARRAY) {
				puts_(&o, "[");
				st[depth].kind = LV_ARRAY;
				st[depth].pending = h.arg;
			} else if (h.major == COSE_CBOR_MAP) {
				puts_(&o, "{");
				st[depth].kind = LV_MAP;
				st[depth].pending = 2 * h.arg;
			} else {
				putf(&o, "%llu(", (unsigned long long)h.arg);
				st[depth].kind = LV_TAG;
				st[depth].pending = 1;
			}
			continue;
		}
		put_scalar(&o, &h, content);
	}
	return ret;
}

/* ---- writer ---- */

void cose_writer_init(cose_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

/* Records the outcome of one libcbor encode call (0 = did not fit). */
static void advance(cose_writer *w, size_t n)
{
	if (n == 0)
		w->overflow = true;
	else
		w->len += n;
}

#define WRITER_ROOM(w) ((w)->buf ? (w)->buf + (w)->len : NULL), ((w)->cap - (w)->len)

void cose_write_uint(cose_writer *w, uint64_t v)
{
	if (!w->overflow)
		advance(w, cbor_encode_uint(v, WRITER_ROOM(w)));
}

void cose_write_int(cose_writer *w, int64_t v)
{
	if (w->overflow)
		return;
	if (v >= 0)
		advance(w, cbor_encode_uint((uint64_t)v, WRITER_ROOM(w)));
	else
		advance(w, cbor_encode_negint((uint64_t)(-1 - v), WRITER_ROOM(w)));
}

/* Content bytes after a head. */
static void put_bytes(cose_writer *w, const uint8_t *p, size_t len)
{
	if (w->overflow)
		return;
	if (len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void cose_write_bstr_head(cose_writer *w, size_t len)
{
	if (!w->overflow)
		advance(w, cbor_encode_bytestring_start(len, WRITER_ROOM(w)));
}

void cose_write_bstr(cose_writer *w, const uint8_t *p, size_t len)
{
	if (w->overflow)
		return;
	/* all or nothing: a head without its content would be a lie */
	if (cose_head_len(len) + len > w->cap - w->len || cose_head_len(len) + len < len) {
		w->overflow = true;
		return;
	}
	cose_write_bstr_head(w, len);
	put_bytes(w, p, len);
}

void cose_write_tstr(cose_writer *w, const char *p, size_t len)
{
	if (w->overflow)
		return;
	if (cose_head_len(len) + len > w->cap - w->len || cose_head_len(len) + len < len) {
		w->overflow = true;
		return;
	}
	advance(w, cbor_encode_string_start(len, WRITER_ROOM(w)));
	put_bytes(w, (const uint8_t *)p, len);
}

void cose_write_array(cose_writer *w, size_t count)
{
	if (!w->overflow)
		advance(w, cbor_encode_array_start(count, WRITER_ROOM(w)));
}

void cose_write_map(cose_writer *w, size_t pairs)
{
	if (!w->overflow)
		advance(w, cbor_encode_map_start(pairs, WRITER_ROOM(w)));
}

void cose_write_tag(cose_writer *w, uint64_t tag)
{
	if (!w->overflow)
		advance(w, cbor_encode_tag(tag, WRITER_ROOM(w)));
}

void cose_write_bool(cose_writer *w, bool v)
{
	if (!w->overflow)
		advance(w, cbor_encode_bool(v, WRITER_ROOM(w)));
}

void cose_write_null(cose_writer *w)
{
	if (!w->overflow)
		advance(w, cbor_encode_null(WRITER_ROOM(w)));
}

void cose_write_raw(cose_writer *w, const uint8_t *p, size_t len)
{
	put_bytes(w, p, len);
}

int cose_writer_result(const cose_writer *w)
{
	return w->overflow ? EDHOC_E_BUFFER_TOO_SMALL : 0;
}

size_t cose_head_len(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= 0xff)
		return 2;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffULL)
		return 5;
	return 9;
}
