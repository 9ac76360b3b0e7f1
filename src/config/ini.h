/* INI reading on top of libinih with what the configuration needs and
 * libinih's handler does not give: the line number of every key, section
 * headers as events (so an empty unknown section is still an error), and
 * continuation lines told apart from repeated keys.
 *
 * Syntax (libinih's): "[section]", "key = value" (or "key: value"),
 * comments start a line with ';' or '#', inline comments start with " ;".
 * A line starting with whitespace continues the previous key's value.
 * Lines are limited to libinih's maximum (199 characters); a longer line is
 * an error, never silently split. */
#ifndef EDHOCD_CONFIG_INI_H
#define EDHOCD_CONFIG_INI_H

#include <stdbool.h>

#include "config/errors.h"

/* Called for a section header (key and value NULL) and for each key.
 * continuation: the value came from an indented continuation line.
 * Return 0 to go on (errors are the handler's to record in its list). */
typedef int (*cfg_ini_fn)(void *user, const char *section, const char *key, const char *value,
                          unsigned line, bool continuation);

/* Parses the file at path; file is the name used in messages.  Cannot-open,
 * syntax and long-line problems go to errs.  Returns 0 when the file could
 * be read and had no syntax errors, EDHOC_E_INVALID_ARGUMENT otherwise. */
int cfg_ini_parse_file(const char *path, cfg_ini_fn fn, void *user, cfg_errors *errs);

/* Same from a NUL-terminated string. */
int cfg_ini_parse_string(const char *text, const char *file, cfg_ini_fn fn, void *user,
                         cfg_errors *errs);

/* Splits a list value ("a, b c,d") into items: calls fn for each item
 * (NUL-terminated, valid during the call).  Items longer than item_max - 1
 * are passed truncated with too_long set.  Returns the item count or the
 * first nonzero value fn returned. */
typedef int (*cfg_list_fn)(void *user, const char *item, bool too_long);
int cfg_list_each(const char *value, size_t item_max, cfg_list_fn fn, void *user);

#endif
