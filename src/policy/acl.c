/* ACL: admission list and per-route rules, deny by default. */
#include "policy/acl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/ini.h"
#include "edhoc/edhoc.h"
#include "edhoc/result.h"
#include "policy/trust.h"

#define ALL_METHODS 0xfeu /* bits 1..7 */

/* A sorted set of identity names; any = "*" was given. */
struct idset {
	char (*v)[EDHOC_MAX_IDENTITY];
	size_t n;
	bool any;
};

struct rule {
	char name[ACL_NAME_MAX];
	char prefix[ROUTE_PATH_MAX];
	char route[ROUTE_NAME_MAX]; /* "" for path rules */
	unsigned methods;           /* bit (1u << code) */
	bool deny;
	struct idset who;
};

struct acl {
	struct idset admit;
	struct rule *rules;
	size_t n_rules;
};

/* ---- raw parse results, resolved after the whole file is read (sections
 * may come in any order) ---- */

struct ref {
	char s[EDHOC_MAX_IDENTITY + 1]; /* identity, "@group" or "*" */
	unsigned line;
};

struct reflist {
	struct ref *v;
	size_t n, cap;
};

struct raw_group {
	char name[ACL_NAME_MAX];
	unsigned line;
	struct reflist members;
};

struct raw_rule {
	char name[ACL_NAME_MAX];
	unsigned line;
	struct reflist who;
	char route[ROUTE_NAME_MAX];
	unsigned route_line;
	char path[ROUTE_PATH_MAX];
	unsigned path_line;
	unsigned methods;
	bool has_methods;
	bool deny;
};

struct parse {
	const char *file;
	cfg_errors *errs;
	bool failed;
	size_t total_refs;
	struct reflist certified;
	struct reflist admit;
	struct raw_group *groups;
	size_t n_groups, cap_groups;
	struct raw_rule *rules;
	size_t n_rules, cap_rules;
	/* where continuation lines go */
	struct reflist *cont_list;
	struct raw_rule *cur_rule;
};

static void perr(struct parse *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct parse *p, unsigned line, const char *fmt, ...)
{
	char msg[CFG_ERROR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_errors_add(p->errs, p->file, line, "%s", msg);
	p->failed = true;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= ACL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

struct add_ctx {
	struct parse *p;
	struct reflist *list;
	unsigned line;
};

static int add_ref(void *user, const char *item, bool too_long)
{
	struct add_ctx *a = user;
	struct parse *p = a->p;
	if (too_long) {
		perr(p, a->line, "name '%s...' is too long (max %d characters)", item,
		     EDHOC_MAX_IDENTITY - 1);
		return 0;
	}
	if (p->total_refs >= ACL_MEMBERS_MAX) {
		perr(p, a->line, "more than %d names in the ACL", ACL_MEMBERS_MAX);
		return 1;
	}
	struct reflist *l = a->list;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct ref *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv) {
			perr(p, a->line, "out of memory");
			return 1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	snprintf(l->v[l->n].s, sizeof(l->v[l->n].s), "%s", item);
	l->v[l->n].line = a->line;
	l->n++;
	p->total_refs++;
	return 0;
}

static void add_refs(struct parse *p, struct reflist *l, const char *value, unsigned line)
{
	struct add_ctx a = {p, l, line};
	cfg_list_each(value, EDHOC_MAX_IDENTITY + 1, add_ref, &a);
	p->cont_list = l;
}

struct methods_ctx {
	struct parse *p;
	unsigned line;
	unsigned mask;
};

static int add_method(void *user, const char *item, bool too_long)
{
	struct methods_ctx *m = user;
	if (strcmp(item, "*") == 0) {
		m->mask |= ALL_METHODS;
		return 0;
	}
	int code = too_long ? -1 : acl_method_from_name(item);
	if (code < 0)
		perr(m->p, m->line,
		     "unknown method '%s' (GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH or *)",
		     item);
	else
		m->mask |= 1u << code;
	return 0;
}

static void section_event(struct parse *p, const char *section, unsigned line)
{
	p->cur_rule = NULL;
	p->cont_list = NULL;
	if (strcmp(section, "identities") == 0 || strcmp(section, "groups") == 0 ||
	    strcmp(section, "admit") == 0)
		return;
	if (strncmp(section, "rule ", 5) == 0) {
		const char *name = section + 5;
		while (*name == ' ')
			name++;
		if (!valid_name(name)) {
			perr(p, line, "rule name '%s' must be 1-63 of [A-Za-z0-9_.-]", name);
			return;
		}
		for (size_t i = 0; i < p->n_rules; i++)
			if (strcmp(p->rules[i].name, name) == 0) {
				perr(p, line, "rule %s is already defined at line %u", name,
				     p->rules[i].line);
				return;
			}
		if (p->n_rules >= ACL_RULES_MAX) {
			perr(p, line, "more than %d rules", ACL_RULES_MAX);
			return;
		}
		if (p->n_rules == p->cap_rules) {
			size_t ncap = p->cap_rules ? p->cap_rules * 2 : 8;
			struct raw_rule *nv = realloc(p->rules, ncap * sizeof(*nv));
			if (!nv) {
				perr(p, line, "out of memory");
				return;
			}
			p->rules = nv;
			p->cap_rules = ncap;
		}
		struct raw_rule *r = &p->rules[p->n_rules++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->line = line;
		p->cur_rule = r;
		return;
	}
	perr(p, line, "unknown section [%s] (expected identities, groups, admit or rule NAME)",
	     section);
}

static struct raw_group *find_group(struct parse *p, const char *name)
{
	for (size_t i = 0; i < p->n_groups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

static int acl_ini(void *user, const char *section, const char *key, const char *value,
                   unsigned line, bool continuation)
{
	struct parse *p = user;
	if (!key) {
		section_event(p, section, line);
		return 0;
	}
	if (section[0] == '\0') {
		perr(p, line, "key '%s' outside a section", key);
		return 0;
	}
	if (continuation) {
		if (p->cont_list)
			add_refs(p, p->cont_list, value, line);
		else
			perr(p, line,
			     "continuation line, but the key before it does not take "
			     "a list (indent only list continuations)");
		return 0;
	}
	p->cont_list = NULL;
	if (strcmp(section, "identities") == 0) {
		if (strcmp(key, "certified") == 0)
			add_refs(p, &p->certified, value, line);
		else
			perr(p, line, "unknown key '%s' in [identities] (expected certified)", key);
		return 0;
	}
	if (strcmp(section, "admit") == 0) {
		if (strcmp(key, "identities") == 0)
			add_refs(p, &p->admit, value, line);
		else
			perr(p, line, "unknown key '%s' in [admit] (expected identities)", key);
		return 0;
	}
	if (strcmp(section, "groups") == 0) {
		if (!valid_name(key)) {
			perr(p, line, "group name '%s' must be 1-63 of [A-Za-z0-9_.-]", key);
			return 0;
		}
		struct raw_group *g = find_group(p, key);
		if (g) {
			perr(p, line, "group %s is already defined at line %u", key, g->line);
			return 0;
		}
		if (p->n_groups >= ACL_GROUPS_MAX) {
			perr(p, line, "more than %d groups", ACL_GROUPS_MAX);
			return 0;
		}
		if (p->n_groups == p->cap_groups) {
			size_t ncap = p->cap_groups ? p->cap_groups * 2 : 8;
			struct raw_group *nv = realloc(p->groups, ncap * sizeof(*nv));
			if (!nv) {
				perr(p, line, "out of memory");
				return 0;
			}
			p->groups = nv;
			p->cap_groups = ncap;
		}
		g = &p->groups[p->n_groups++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", key);
		g->line = line;
		add_refs(p, &g->members, value, line);
		return 0;
	}
	struct raw_rule *r = p->cur_rule;
	if (!r)
		return 0; /* inside an invalid or unknown section: already reported */
	if (strcmp(key, "identities") == 0) {
		add_refs(p, &r->who, value, line);
	} else if (strcmp(key, "route") == 0) {
		if (r->route_line)
			perr(p, line, "rule %s: route given twice", r->name);
		else if (strlen(value) >= sizeof(r->route))
			perr(p, line, "rule %s: route name is too long", r->name);
		snprintf(r->route, sizeof(r->route), "%s", value);
		r->route_line = line;
	} else if (strcmp(key, "path") == 0) {
		if (r->path_line)
			perr(p, line, "rule %s: path given twice", r->name);
		else if (strlen(value) >= sizeof(r->path))
			perr(p, line, "rule %s: path is too long", r->name);
		snprintf(r->path, sizeof(r->path), "%s", value);
		r->path_line = line;
	} else if (strcmp(key, "methods") == 0) {
		struct methods_ctx m = {p, line, 0};
		cfg_list_each(value, 16, add_method, &m);
		if (m.mask == 0)
			perr(p, line, "rule %s: methods is empty", r->name);
		r->methods |= m.mask;
		r->has_methods = true;
	} else if (strcmp(key, "action") == 0) {
		if (strcmp(value, "allow") == 0)
			r->deny = false;
		else if (strcmp(value, "deny") == 0)
			r->deny = true;
		else
			perr(p, line, "rule %s: action must be allow or deny, not '%s'", r->name,
			     value);
	} else {
		perr(p, line,
		     "unknown key '%s' in [rule %s] (expected identities, route, path, methods, "
		     "action)",
		     key, r->name);
	}
	return 0;
}

/* ---- resolution ---- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static bool idset_has(const struct idset *s, const char *id)
{
	if (s->any)
		return id && *id;
	if (!id || s->n == 0)
		return false;
	return bsearch(id, s->v, s->n, sizeof(*s->v), cmp_name) != NULL;
}

static int idset_push(struct idset *s, size_t *cap, const char *id)
{
	if (s->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char(*nv)[EDHOC_MAX_IDENTITY] = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return EDHOC_E_NOMEM;
		s->v = nv;
		*cap = ncap;
	}
	snprintf(s->v[s->n++], EDHOC_MAX_IDENTITY, "%s", id);
	return 0;
}

static void idset_finish(struct idset *s)
{
	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_name);
	size_t w = 1;
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->v[i], s->v[w - 1]) != 0)
			memmove(s->v[w++], s->v[i], sizeof(*s->v));
	s->n = w;
}

struct known {
	acl_identity_known_fn fn;
	void *ctx;
	const struct reflist *certified;
};

static bool is_known(const struct known *k, const char *id)
{
	for (size_t i = 0; i < k->certified->n; i++)
		if (strcmp(k->certified->v[i].s, id) == 0)
			return true;
	return !k->fn || k->fn(k->ctx, id);
}

/* Expands identity references (names, @groups, *) into a set. */
static void resolve_refs(struct parse *p, const struct known *k, const struct reflist *refs,
                         bool allow_groups, struct idset *out)
{
	size_t cap = 0;
	for (size_t i = 0; i < refs->n; i++) {
		const struct ref *r = &refs->v[i];
		if (strcmp(r->s, "*") == 0) {
			out->any = true;
			continue;
		}
		if (r->s[0] == '@') {
			if (!allow_groups) {
				perr(p, r->line, "groups cannot contain groups (%s)", r->s);
				continue;
			}
			struct raw_group *g = find_group(p, r->s + 1);
			if (!g) {
				perr(p, r->line, "unknown group '%s'", r->s + 1);
				continue;
			}
			for (size_t j = 0; j < g->members.n; j++) {
				const char *m = g->members.v[j].s;
				/* members are checked once, with the group */
				if (m[0] == '@' || strcmp(m, "*") == 0)
					continue;
				if (trust_identity_valid(m) && idset_push(out, &cap, m) != 0)
					perr(p, r->line, "out of memory");
			}
			continue;
		}
		if (!trust_identity_valid(r->s)) {
			perr(p, r->line, "'%s' is not a valid identity name", r->s);
			continue;
		}
		if (!is_known(k, r->s)) {
			perr(p, r->line,
			     "unknown identity '%s' (not in the trust store, not a static "
			     "context, not under [identities] certified)",
			     r->s);
			continue;
		}
		if (idset_push(out, &cap, r->s) != 0)
			perr(p, r->line, "out of memory");
	}
	idset_finish(out);
}

static void check_group_members(struct parse *p, const struct known *k)
{
	for (size_t i = 0; i < p->n_groups; i++) {
		const struct reflist *m = &p->groups[i].members;
		for (size_t j = 0; j < m->n; j++) {
			const char *s = m->v[j].s;
			if (s[0] == '@')
				perr(p, m->v[j].line, "groups cannot contain groups (%s)", s);
			else if (strcmp(s, "*") == 0)
				perr(p, m->v[j].line, "a group cannot contain '*'");
			else if (!trust_identity_valid(s))
				perr(p, m->v[j].line, "'%s' is not a valid identity name", s);
			else if (!is_known(k, s))
				perr(p, m->v[j].line,
				     "unknown identity '%s' (not in the trust store, not a "
				     "static context, not under [identities] certified)",
				     s);
		}
	}
}

static void idset_free(struct idset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void acl_free(acl *a)
{
	if (!a)
		return;
	idset_free(&a->admit);
	for (size_t i = 0; i < a->n_rules; i++)
		idset_free(&a->rules[i].who);
	free(a->rules);
	free(a);
}

static void parse_free(struct parse *p)
{
	free(p->certified.v);
	free(p->admit.v);
	for (size_t i = 0; i < p->n_groups; i++)
		free(p->groups[i].members.v);
	free(p->groups);
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].who.v);
	free(p->rules);
}

static int build(struct parse *p, const routes *rts, acl_identity_known_fn known, void *known_ctx,
                 acl **ret_acl)
{
	acl *a = NULL;
	int rc = EDHOC_E_INVALID_ARGUMENT;
	struct known k = {known, known_ctx, &p->certified};

	for (size_t i = 0; i < p->certified.n; i++)
		if (!trust_identity_valid(p->certified.v[i].s))
			perr(p, p->certified.v[i].line, "'%s' is not a valid identity name",
			     p->certified.v[i].s);
	check_group_members(p, &k);

	a = calloc(1, sizeof(*a));
	if (!a || (p->n_rules && !(a->rules = calloc(p->n_rules, sizeof(*a->rules))))) {
		perr(p, 0, "out of memory");
		goto out;
	}
	resolve_refs(p, &k, &p->admit, true, &a->admit);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct raw_rule *raw = &p->rules[i];
		struct rule *r = &a->rules[a->n_rules++];
		snprintf(r->name, sizeof(r->name), "%s", raw->name);
		r->methods = raw->methods;
		r->deny = raw->deny;
		if (raw->who.n == 0)
			perr(p, raw->line, "rule %s: identities is missing", raw->name);
		if (!raw->has_methods)
			perr(p, raw->line, "rule %s: methods is missing", raw->name);
		if (raw->route_line && raw->path_line) {
			perr(p, raw->path_line, "rule %s: give route or path, not both", raw->name);
		} else if (raw->route_line) {
			const route *rt = routes_find(rts, raw->route);
			if (!rt) {
				perr(p, raw->route_line, "rule %s: unknown route '%s'", raw->name,
				     raw->route);
			} else {
				snprintf(r->route, sizeof(r->route), "%s", rt->name);
				snprintf(r->prefix, sizeof(r->prefix), "%s", rt->prefix);
			}
		} else if (raw->path_line) {
			if (raw->path[0] != '/' ||
			    (strlen(raw->path) > 1 && raw->path[strlen(raw->path) - 1] == '/') ||
			    strstr(raw->path, "//"))
				perr(p, raw->path_line,
				     "rule %s: path '%s' must start with '/' and have no empty "
				     "segment or trailing '/'",
				     raw->name, raw->path);
			snprintf(r->prefix, sizeof(r->prefix), "%s", raw->path);
		} else {
			perr(p, raw->line, "rule %s: route or path is missing", raw->name);
		}
		resolve_refs(p, &k, &raw->who, true, &r->who);
	}
	if (p->failed)
		goto out;
	*ret_acl = a;
	a = NULL;
	rc = 0;
out:
	acl_free(a);
	return rc;
}

static int load_common(struct parse *p, int parse_rc, const routes *rts,
                       acl_identity_known_fn known, void *known_ctx, acl **ret_acl)
{
	int rc = EDHOC_E_INVALID_ARGUMENT;
	if (parse_rc != 0)
		p->failed = true;
	/* Resolve even after syntax errors so one run reports everything. */
	acl *a = NULL;
	int brc = build(p, rts, known, known_ctx, &a);
	if (brc == 0 && !p->failed) {
		*ret_acl = a;
		rc = 0;
	} else {
		acl_free(a);
	}
	parse_free(p);
	return rc;
}

int acl_load(const char *path, const routes *rts, acl_identity_known_fn known, void *known_ctx,
             cfg_errors *errs, acl **ret_acl)
{
	struct parse p = {.file = path, .errs = errs};
	int prc = cfg_ini_parse_file(path, acl_ini, &p, errs);
	return load_common(&p, prc, rts, known, known_ctx, ret_acl);
}

int acl_load_string(const char *text, const char *file, const routes *rts,
                    acl_identity_known_fn known, void *known_ctx, cfg_errors *errs, acl **ret_acl)
{
	struct parse p = {.file = file, .errs = errs};
	int prc = cfg_ini_parse_string(text, file, acl_ini, &p, errs);
	return load_common(&p, prc, rts, known, known_ctx, ret_acl);
}

int acl_admits(const acl *a, const char *identity)
{
	if (!a || !identity || !*identity)
		return EDHOC_E_ACCESS_DENIED;
	return idset_has(&a->admit, identity) ? 0 : EDHOC_E_ACCESS_DENIED;
}

int acl_allows(const acl *a, const char *identity, int method, const char *path,
               acl_match *ret_match)
{
	acl_match m = {0};
	size_t best = 0;
	bool found = false, allow = false, deny = false;
	const struct rule *decider = NULL, *best_rule = NULL;

	if (a && identity && *identity && path && path[0] == '/' && method >= ACL_GET &&
	    method <= ACL_IPATCH) {
		for (size_t i = 0; i < a->n_rules; i++) {
			const struct rule *r = &a->rules[i];
			if (!routes_prefix_matches(r->prefix, path) ||
			    !idset_has(&r->who, identity))
				continue;
			size_t len = strlen(r->prefix);
			if (found && len < best)
				continue;
			if (!found || len > best) {
				found = true;
				best = len;
				allow = deny = false;
				decider = NULL;
				best_rule = r;
			}
			if (!(r->methods & (1u << method)))
				continue;
			/* On the most specific prefix a deny beats an allow. */
			if (r->deny) {
				deny = true;
				decider = r;
			} else {
				allow = true;
				if (!deny)
					decider = r;
			}
		}
	}
	/* With no deciding rule, prefix still says which rules applied. */
	if (best_rule)
		m.prefix = best_rule->prefix;
	if (decider) {
		m.rule = decider->name;
		m.route = decider->route[0] ? decider->route : NULL;
		m.prefix = decider->prefix;
	}
	if (ret_match)
		*ret_match = m;
	return allow && !deny ? 0 : EDHOC_E_ACCESS_DENIED;
}

static const char *const method_names[] = {NULL,     "GET",   "POST",  "PUT",
                                           "DELETE", "FETCH", "PATCH", "iPATCH"};

int acl_method_from_name(const char *name)
{
	for (int i = ACL_GET; name && i <= ACL_IPATCH; i++)
		if (strcasecmp(name, method_names[i]) == 0)
			return i;
	return -1;
}

const char *acl_method_name(int method)
{
	return method >= ACL_GET && method <= ACL_IPATCH ? method_names[method] : "?";
}

size_t acl_rule_count(const acl *a)
{
	return a ? a->n_rules : 0;
}
