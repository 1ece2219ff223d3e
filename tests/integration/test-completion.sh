#!/bin/bash
# Shell completion of thpctl in bash, zsh and fish (shell-completion/): each
# offers the verbs of `thpctl help`, the options, and the PIDs of a real
# thpd's targets where a verb takes a PID. The verbs come from thpctl itself:
# a thpctl whose help has one verb more ("frobnicate PID") gets that verb
# and PIDs after it completed, with no change to the completion scripts.
# zsh runs its real completion system (compinit) in a terminal (zpty); fish
# answers `complete -C`; bash calls the function as `complete -F` would.
. "$(dirname "$0")/lib.sh"
: "${THPCTL:?THPCTL must point at the thpctl binary}" "${SRCDIR:?}"
require_root
for sh in zsh fish; do
	command -v $sh >/dev/null || skip "$sh not installed (package $sh)"
done
COMP="$SRCDIR/shell-completion"

write_config 500ms \
	"  - name: completion" \
	"    match: {comm: [thpt-compl]}"
start_thpd
start_target compl --name thpt-compl --size 4M
PID=$(ready_get "$READY" pid)
require_num "target pid" "$PID"
have_target() {
	local out
	out=$("$THPCTL" --socket "$SOCK" --no-legend targets 2>/dev/null) || return 1
	[[ $out =~ (^|$'\n')\ *$PID\  ]]
}
wait_until 10 have_target || fail "thpd did not adopt pid $PID: $("$THPCTL" --socket "$SOCK" targets 2>&1)"

# A thpctl in PATH whose help lists one verb more, as a newer thpctl would.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/thpctl" <<EOF
#!/bin/bash
if [[ \$* == help ]]; then
	"$THPCTL" help | sed 's/^Verbs:\$/&\n  frobnicate PID [--all [--level N]] [--dry-run]\n                 Frobnicate a target (a verb newer than the completion)/'
elif [[ \$* == "help frobnicate" ]]; then
	printf 'Usage: thpctl [OPTIONS] frobnicate PID [--all [--level N]] [--dry-run]\n\nFrobnicate a target.\n'
else
	exec "$THPCTL" "\$@"
fi
EOF
chmod +x "$WORK/bin/thpctl"
export PATH="$WORK/bin:$PATH"

# The verbs of the real thpctl's help.
help=$("$THPCTL" help)
mapfile -t VERBS < <(awk '/^Verbs:/ { v = 1; next } /^$/ { v = 0 } v && /^  [a-z]/ { print $1 }' <<<"$help")
((${#VERBS[@]} >= 10)) || fail "only ${#VERBS[@]} verbs in thpctl help: $help"
for v in status targets show collapse pause resume help; do
	[[ " ${VERBS[*]} " == *" $v "* ]] || fail "no verb $v in thpctl help: $help"
done
ALL_VERBS=$(printf '%s\n' "${VERBS[@]}" frobnicate | sort -u)

# ---- the three shells, each: complete LINE -> candidates, one per line ----
cat >"$WORK/complete.bash" <<EOF
[[ -f /usr/share/bash-completion/bash_completion && \$BASH_COMPLETION != no ]] &&
	. /usr/share/bash-completion/bash_completion
. "$COMP/bash/thpctl"
complete -p thpctl >/dev/null || { echo "no complete -F for thpctl" >&2; exit 1; }
read -ra COMP_WORDS <<<"\$1"
[[ \$1 == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
COMP_LINE=\$1
COMP_POINT=\${#COMP_LINE}
COMPREPLY=()
_thpctl thpctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "\${COMPREPLY[@]}"
EOF
# zsh: an interactive zsh in a pseudo-terminal, compinit with the
# completion's directory first in fpath (its dump made by the first run,
# reused by the others), TAB after LINE; compadd records the matches it is
# given (with their -O/-A/-D filtering done by zsh itself).
cat >"$WORK/complete.zsh" <<'EOF'
zmodload zsh/zpty || exit 2
dir=$1 out=$2 line=$3
: >$out
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -C -d ${(q)out}.dump"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-[a-zA-Z]#[OAD]* ]]; then builtin compadd "$@"; return; fi; local -a __m; builtin compadd -O __m "$@"; (($#__m)) && print -rl -- $__m >>'${(q)out}'; builtin compadd "$@"; }'
zpty -w z "bindkey '^I' complete-word; print -r -- READY"
zpty -r -m z ready '*READY*READY*' || exit 3  # the echo of the line, then its output
zpty -w -n z "$line"$'\t'
zpty -w -n z $'\C-u'
zpty -w z 'print -r -- DONE'
zpty -r -m z done '*DONE*DONE*' || exit 4
zpty -d z
EOF
complete_in() {
	local sh=$1 line=$2
	case $sh in
	bash) bash "$WORK/complete.bash" "$line" ;;
	bash-plain) BASH_COMPLETION=no bash "$WORK/complete.bash" "$line" ;;
	zsh)
		# A second try when the pty run recorded nothing: on a loaded CI
		# machine the keystrokes now and then outran zle (2 of 4 runs).
		local try
		for try in 1 2; do
			timeout 20 zsh -f "$WORK/complete.zsh" "$COMP/zsh" "$WORK/zsh.out" "$line" >/dev/null ||
				{ echo "zsh harness failed ($?)" >&2; return 1; }
			[[ -s $WORK/zsh.out ]] && break
		done
		cat "$WORK/zsh.out"
		;;
	fish) fish --no-config -c "source $COMP/fish/thpctl.fish; complete -C '$line'" | cut -f1 ;;
	esac
}
# expect SHELL LINE CANDIDATES...: the candidates SHELL offers for LINE are
# exactly CANDIDATES (as a set).
expect() {
	local sh=$1 line=$2 got want
	shift 2
	got=$(complete_in "$sh" "$line" 2>"$WORK/complete.err") ||
		fail "$sh: completing '$line' failed: $(cat "$WORK/complete.err")"
	got=$(sort -u <<<"$got" | sed '/^$/d')
	want=$(printf '%s\n' "$@" | sort -u | sed '/^$/d')
	[[ $got == "$want" ]] || fail "$sh: '$line' offers [${got//$'\n'/ }], want [${want//$'\n'/ }]$(
		[[ -s $WORK/complete.err ]] && echo "; stderr: $(cat "$WORK/complete.err")")"
}

shells=(bash zsh fish)
[[ -f /usr/share/bash-completion/bash_completion ]] && shells+=(bash-plain)
for sh in "${shells[@]}"; do
	t=${EPOCHREALTIME//[!0-9]/}
	# shellcheck disable=SC2086 # one verb per word
	expect "$sh" 'thpctl ' $ALL_VERBS
	# shellcheck disable=SC2046 # one verb per word
	expect "$sh" 'thpctl s' $(grep '^s' <<<"$ALL_VERBS")
	expect "$sh" "thpctl --socket $SOCK show " "$PID"
	expect "$sh" "thpctl --socket $SOCK pause " "$PID"
	expect "$sh" "thpctl --socket $SOCK --json collapse " "$PID"
	expect "$sh" "thpctl --socket $SOCK collapse $PID " # one PID only
	expect "$sh" "thpctl --socket $SOCK status "        # no arguments
	expect "$sh" "thpctl --socket $SOCK frobnicate " "$PID"
	# shellcheck disable=SC2086
	expect "$sh" 'thpctl help ' $ALL_VERBS
	expect "$sh" 'thpctl --t' --timeout
	expect "$sh" 'thpctl collapse 1 --r' --range
	expect "$sh" 'thpctl frobnicate 1 --l' --level
	expect "$sh" 'thpctl frobnicate 1 --a' --all
	expect "$sh" 'thpctl frobnicate 1 --d' --dry-run
	expect "$sh" "thpctl --socket $SOCK frobnicate --level 3 " "$PID" # --level takes N
	expect "$sh" "thpctl --socket $SOCK frobnicate --all " "$PID"     # --all takes none
	expect "$sh" "thpctl --socket $SOCK frobnicate --all $PID "
	sock_cand=$SOCK
	[[ $sh == zsh ]] && sock_cand=${SOCK##*/} # zsh offers the last path component
	expect "$sh" "thpctl --socket ${SOCK%.sock}" "$sock_cand"
	note "$sh: ${#VERBS[@]} verbs + frobnicate, target pid $PID, options, socket path ($((( ${EPOCHREALTIME//[!0-9]/} - t) / 1000)) ms)"
done
echo PASS
