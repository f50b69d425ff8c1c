#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# contrib/bash-completion/tcptrail, in bash, no root: `tcptrail -<TAB>`
# offers every long option user/opts.c defines (read from the source, not
# from --help, which the completion itself reads), and the values known in
# advance (--color, --attach), and files after -r; each option once.
# Prints "ok bash-completion" or "FAIL bash-completion: why"; exits 0 or 1.

TCPTRAIL=${TCPTRAIL:-./tcptrail}
COMPLETION=contrib/bash-completion/tcptrail

fail() {
	echo "FAIL bash-completion: $*"
	exit 1
}

command -v bash >/dev/null 2>&1 || fail "bash not found"
# complete WORD...: what the completion offers for the last word, one a line
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tcptrail
		printf "%s\n" "${COMPREPLY[@]}"' sh "$COMPLETION" "$TCPTRAIL" "$@"
}

offered=$(complete_words --) || fail "the completion failed in bash"
longs=$(sed -n "s/^[[:space:]]*{ \"\([a-z0-9-]*\)\", \('.'\|OPT_[A-Z0-9_]*\),.*/\1/p" user/opts.c)
[ "$(echo "$longs" | grep -c .)" -ge 20 ] || fail "read only $(echo "$longs" | grep -c .) options from user/opts.c"
# a line of help text that names an option is no second entry for it
twice=$(echo "$offered" | sort | uniq -d | tr '\n' ' ')
[ -z "$twice" ] || fail "offered twice: $twice"
for o in $longs; do
	echo "$offered" | grep -qx -- "--$o" || fail "--$o (user/opts.c) is not offered"
done
[ "$(complete_words --color '' | tr '\n' ' ')" = "auto always never " ] ||
	fail "--color <TAB> offers: $(complete_words --color '' | tr '\n' ' ')"
[ "$(complete_words --color = al | tr '\n' ' ')" = "always " ] ||
	fail "--color=al<TAB> offers: $(complete_words --color = al | tr '\n' ' ')"
attach=$(complete_words --attach '' | tr '\n' ' ')
[ "$attach" = "auto fentry kprobe tp_btf tracepoint " ] || fail "--attach <TAB> offers: $attach"
for m in $attach; do
	grep -q "\"$m\"" user/opts.c user/*.c || fail "--attach offers '$m', which tcptrail does not know"
done
complete_words -r tests/captures/clo | grep -qx tests/captures/close.ttcap ||
	fail "-r tests/captures/clo<TAB> does not offer tests/captures/close.ttcap"
# a switch takes no value: what follows it is an option again
[ -z "$(complete_words --json '')" ] || fail "--json <TAB> offers values"
echo "ok bash-completion"
