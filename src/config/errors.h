/* A bounded list of configuration errors, each one "file:line: message".
 *
 * Every loader of the daemon's configuration (main file, conf.d, trust
 * store, ACL, routes) appends to one list, so --check-config and a failed
 * reload can report everything wrong at once instead of the first problem.
 * The list keeps at most CFG_ERRORS_MAX entries (a broken file must not make
 * us allocate without bound) and counts the ones it had to drop. */
#ifndef EDHOCD_CONFIG_ERRORS_H
#define EDHOCD_CONFIG_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CFG_ERRORS_MAX 100 /* entries kept */
#define CFG_ERROR_LEN  512 /* bytes per entry, NUL included (longer: truncated) */

typedef struct cfg_errors cfg_errors;

/* New empty list; NULL when out of memory. */
cfg_errors *cfg_errors_new(void);

/* NULL is a no-op. */
void cfg_errors_free(cfg_errors *e);

/* Appends "file:line: message" ("file: message" when line is 0, "message"
 * when file is NULL).  Beyond CFG_ERRORS_MAX only the drop counter grows. */
void cfg_errors_add(cfg_errors *e, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Entries kept (not counting dropped ones). */
size_t cfg_errors_count(const cfg_errors *e);

/* Entries that did not fit. */
size_t cfg_errors_dropped(const cfg_errors *e);

/* Entry i (0-based), NULL past the end.  Owned by the list. */
const char *cfg_errors_get(const cfg_errors *e, size_t i);

/* True when entry i exists and equals text exactly (for tests and callers
 * that look for one specific problem). */
bool cfg_errors_contains(const cfg_errors *e, const char *text);

/* Writes one entry per line, then "... and N more errors" if some were
 * dropped.  Returns the number of entries written. */
size_t cfg_errors_print(const cfg_errors *e, FILE *out);

#endif
