/* Names, descriptions and categories of the core's result codes. */
#include "edhoc/result.h"

#include <stddef.h>

struct result_info {
	int code;
	char category;
	const char *name;
	const char *desc;
};

static const struct result_info results[] = {
#define RESULT_ROW(name, value, cat, desc) {value, cat, #name, desc},
    EDHOC_RESULT_LIST(RESULT_ROW)
#undef RESULT_ROW
};

static const struct result_info *lookup(int code)
{
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (results[i].code == code)
			return &results[i];
	return NULL;
}

const char *edhoc_result_name(int code)
{
	const struct result_info *r = lookup(code);
	return r ? r->name : "EDHOC_E_UNKNOWN";
}

const char *edhoc_result_describe(int code)
{
	const struct result_info *r = lookup(code);
	return r ? r->desc : "unknown result code";
}

char edhoc_result_category(int code)
{
	const struct result_info *r = lookup(code);
	return r ? r->category : 'E';
}
