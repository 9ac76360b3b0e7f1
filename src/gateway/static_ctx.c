/* Static OSCORE contexts: parameters and lease records (see static_ctx.h). */
#include "gateway/static_ctx.h"

#include <stdio.h>
#include <string.h>

void gw_static_params(const cfg_static *cs, uint64_t sender_seq, bool restored,
                      oscore_ctx_params *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->master_secret = cs->master_secret;
	ret->master_secret_len = cs->master_secret_len;
	ret->master_salt = cs->master_salt;
	ret->master_salt_len = cs->master_salt_len;
	ret->sender_id = cs->sender_id;
	ret->sender_id_len = cs->sender_id_len;
	ret->recipient_id = cs->recipient_id;
	ret->recipient_id_len = cs->recipient_id_len;
	ret->has_id_context = cs->has_id_context;
	ret->id_context = cs->id_context;
	ret->id_context_len = cs->id_context_len;
	ret->aead_alg = cs->aead_alg;
	ret->hash_alg = cs->hkdf_alg;
	ret->sender_seq = sender_seq;
	ret->restored = restored;
}

int gw_static_record(const cfg_static *cs, int64_t now, store_session *ret)
{
	if (cs->recipient_id_len > sizeof(ret->rid) || cs->sender_id_len > sizeof(ret->sid) ||
	    cs->id_context_len > sizeof(ret->id_context) ||
	    cs->master_secret_len > sizeof(ret->master_secret) ||
	    cs->master_salt_len > sizeof(ret->master_salt) ||
	    strlen(cs->identity) >= sizeof(ret->identity))
		return EDHOC_E_INVALID_ARGUMENT;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->rid, cs->recipient_id, cs->recipient_id_len);
	ret->rid_len = cs->recipient_id_len;
	memcpy(ret->sid, cs->sender_id, cs->sender_id_len);
	ret->sid_len = cs->sender_id_len;
	ret->has_id_context = cs->has_id_context;
	memcpy(ret->id_context, cs->id_context, cs->id_context_len);
	ret->id_context_len = cs->id_context_len;
	snprintf(ret->identity, sizeof(ret->identity), "%s", cs->identity);
	ret->method = 0;
	ret->suite = GW_STATIC_SUITE;
	ret->aead_alg = cs->aead_alg;
	ret->hkdf_alg = cs->hkdf_alg;
	memcpy(ret->master_secret, cs->master_secret, cs->master_secret_len);
	ret->master_secret_len = cs->master_secret_len;
	memcpy(ret->master_salt, cs->master_salt, cs->master_salt_len);
	ret->master_salt_len = cs->master_salt_len;
	ret->created = now;
	ret->last_used = now;
	ret->expires = 0;
	ret->seq_limit = 0;
	return 0;
}

static bool same(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

bool gw_static_record_matches(const cfg_static *cs, const store_session *ss)
{
	return ss->suite == GW_STATIC_SUITE &&
	       same(cs->master_secret, cs->master_secret_len, ss->master_secret,
	            ss->master_secret_len) &&
	       same(cs->master_salt, cs->master_salt_len, ss->master_salt, ss->master_salt_len) &&
	       same(cs->sender_id, cs->sender_id_len, ss->sid, ss->sid_len) &&
	       same(cs->recipient_id, cs->recipient_id_len, ss->rid, ss->rid_len) &&
	       cs->has_id_context == ss->has_id_context &&
	       same(cs->id_context, cs->id_context_len, ss->id_context, ss->id_context_len) &&
	       cs->aead_alg == ss->aead_alg && cs->hkdf_alg == ss->hkdf_alg;
}
