/* Peer transport addresses: copy, compare, hash key, text. */
#include "gateway/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/result.h"

void gw_addr_set(gw_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (!sa)
		return;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		memcpy(&a->u.sin, sa, sizeof(struct sockaddr_in));
		a->len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(&a->u.sin6, sa, sizeof(struct sockaddr_in6));
		a->len = sizeof(struct sockaddr_in6);
	}
}

bool gw_addr_equal(const gw_addr *a, const gw_addr *b)
{
	if (a->len != b->len || a->len == 0)
		return false;
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.sin.sin_port == b->u.sin.sin_port &&
		       a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
	return a->u.sin6.sin6_port == b->u.sin6.sin6_port &&
	       a->u.sin6.sin6_scope_id == b->u.sin6.sin6_scope_id &&
	       memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr, 16) == 0;
}

size_t gw_addr_key(const gw_addr *a, uint8_t out[20])
{
	size_t n = 0;
	if (a->len == 0)
		return 0;
	if (a->u.sa.sa_family == AF_INET) {
		out[n++] = 4;
		memcpy(out + n, &a->u.sin.sin_addr, 4);
		n += 4;
		memcpy(out + n, &a->u.sin.sin_port, 2);
		n += 2;
		return n;
	}
	out[n++] = 6;
	memcpy(out + n, &a->u.sin6.sin6_addr, 16);
	n += 16;
	memcpy(out + n, &a->u.sin6.sin6_port, 2);
	n += 2;
	/* The scope id is left out of the key; gw_addr_equal still compares it. */
	return n;
}

uint64_t gw_addr_mid_hash(const uint8_t key[GW_HASH_KEY_LEN], const gw_addr *a, uint16_t mid)
{
	uint8_t k[22];
	size_t n = gw_addr_key(a, k);
	k[n++] = (uint8_t)(mid >> 8);
	k[n++] = (uint8_t)mid;
	return gw_hash(key, k, n);
}

char *gw_addr_format(const gw_addr *a, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	if (size == 0)
		return out;
	out[0] = '\0';
	if (a->len == 0) {
		snprintf(out, size, "-");
	} else if (a->u.sa.sa_family == AF_INET) {
		/* Every request formats its peer (for the records): by hand,
		 * inet_ntop and snprintf were 1 % of a forwarded request. */
		const uint8_t *b = (const uint8_t *)&a->u.sin.sin_addr;
		char buf[sizeof("255.255.255.255:65535")], *w = buf;
		for (int i = 0; i < 5; i++) {
			unsigned v = i < 4 ? b[i] : (unsigned)ntohs(a->u.sin.sin_port);
			char d[5];
			int n = 0;
			do {
				d[n++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			while (n)
				*w++ = d[--n];
			*w++ = i < 3 ? '.' : i == 3 ? ':' : '\0';
		}
		size_t len = (size_t)(w - buf) - 1;
		if (len >= size)
			len = size - 1; /* truncated like snprintf */
		memcpy(out, buf, len);
		out[len] = '\0';
	} else {
		inet_ntop(AF_INET6, &a->u.sin6.sin6_addr, host, sizeof(host));
		if (a->u.sin6.sin6_scope_id)
			snprintf(out, size, "[%s%%%u]:%u", host, (unsigned)a->u.sin6.sin6_scope_id,
			         (unsigned)ntohs(a->u.sin6.sin6_port));
		else
			snprintf(out, size, "[%s]:%u", host, (unsigned)ntohs(a->u.sin6.sin6_port));
	}
	return out;
}

static int parse_port(const char *p, uint16_t *ret)
{
	char *end;
	unsigned long v;
	if (*p < '0' || *p > '9')
		return EDHOC_E_INVALID_ARGUMENT;
	v = strtoul(p, &end, 10);
	if (*end != '\0' || v > 65535)
		return EDHOC_E_INVALID_ARGUMENT;
	*ret = (uint16_t)v;
	return 0;
}

int gw_addr_parse(const char *text, uint16_t default_port, gw_addr *ret)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	uint16_t portnum = default_port;
	gw_addr a;
	size_t hlen;

	if (!text)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&a, 0, sizeof(a));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close)
			return EDHOC_E_INVALID_ARGUMENT;
		hlen = (size_t)(close - text - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return EDHOC_E_INVALID_ARGUMENT;
		text++;
	} else {
		const char *colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Bare IPv6 address without port. */
			hlen = strlen(text);
		} else {
			hlen = colon ? (size_t)(colon - text) : strlen(text);
			if (colon)
				port = colon + 1;
		}
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return EDHOC_E_INVALID_ARGUMENT;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (port && parse_port(port, &portnum) != 0)
		return EDHOC_E_INVALID_ARGUMENT;

	if (inet_pton(AF_INET, host, &a.u.sin.sin_addr) == 1) {
		a.u.sin.sin_family = AF_INET;
		a.u.sin.sin_port = htons(portnum);
		a.len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &a.u.sin6.sin6_addr) == 1) {
		a.u.sin6.sin6_family = AF_INET6;
		a.u.sin6.sin6_port = htons(portnum);
		a.len = sizeof(struct sockaddr_in6);
	} else {
		return EDHOC_E_INVALID_ARGUMENT;
	}
	*ret = a;
	return 0;
}
