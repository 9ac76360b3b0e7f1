#!/bin/bash
# --help is complete: every option a program's getopt table accepts (long
# names from its struct option table, short letters from its optstring) is
# named in its --help text and in its man page, and --help/--version exit 0.
# The option lists come from the sources, so an option added later without
# documentation fails here.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

# program  binary  source with the getopt table  man page
PROGRAMS="edhocd:$EDHOCD:src/daemon/main.c:man/edhocd.8
edhoc-client:$CLIENT:src/client/options.c:man/edhoc-client.1
edhoc-keygen:$KEYGEN:src/tools/edhoc-keygen.c:man/edhoc-keygen.1"

PLAN=15
t_plan $PLAN

# long_opts FILE: the names in the struct option table(s) of FILE.
# (Note: t_check has a local "name", so the loop variable is "prog".)
long_opts() {
	sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9-]*\)",[[:space:]]*[a-z_]*_argument,.*/\1/p' \
		"$1" | sort -u
}

# short_opts FILE: the letters of the optstring given to getopt_long.
short_opts() {
	sed -n 's/.*getopt_long([^,]*,[^,]*,[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
		head -n 1 | tr -d ':' | fold -w 1
}

while IFS=: read -r prog bin src man; do
	if [ ! -x "$bin" ]; then
		for i in 1 2 3 4 5; do t_skip "$prog" "not built"; done
		continue
	fi
	"$bin" --help >"$T_DIR/help" 2>&1
	rc=$?
	t_check "$prog --help exits 0 and starts with Usage" \
		eval 'test $rc -eq 0 && head -n 1 "$T_DIR/help" | grep -q "^Usage: $prog"'
	"$bin" --version >"$T_DIR/version" 2>&1
	rc=$?
	t_check "$prog --version exits 0 and names the program and version" \
		eval 'test $rc -eq 0 && grep -q "^$prog .*[0-9]\.[0-9]" "$T_DIR/version"'

	longs=$(long_opts "$top_srcdir/$src")
	shorts=$(short_opts "$top_srcdir/$src")
	n_long=$(echo "$longs" | grep -c .)
	missing=""
	for o in $longs; do
		grep -q -- "--$o\b" "$T_DIR/help" || missing="$missing --$o"
	done
	for o in $shorts; do
		grep -q -- "-$o\b" "$T_DIR/help" || missing="$missing -$o"
	done
	echo "# $prog: $n_long long options, short: $(echo $shorts | tr -d ' ')"
	t_check "$prog --help names every option of its getopt table${missing:+ (missing:$missing)}" \
		eval 'test "$n_long" -ge 3 && test -z "$missing"'

	missing=""
	for o in $longs; do
		grep -q -- "Fl \\\\-$o\b" "$top_srcdir/$man" || missing="$missing --$o"
	done
	for o in $shorts; do
		grep -q -- "Fl $o\b" "$top_srcdir/$man" || missing="$missing -$o"
	done
	t_check "$(basename "$man") documents every option${missing:+ (missing:$missing)}" \
		test -z "$missing"

	"$bin" --no-such-option >"$T_DIR/out" 2>&1
	rc=$?
	t_check "$prog --no-such-option is a usage error (exit 1 or 2, message)" \
		eval 'test $rc -eq 1 -o $rc -eq 2 && grep -q -i "no-such-option\|unrecognized\|unknown" "$T_DIR/out"'
done <<<"$PROGRAMS"

t_done
