# SPDX-License-Identifier: MIT
# fish completion for thpctl(1)
#
# The verbs, the options and what each argument is come from thpctl itself
# ("thpctl help" and "thpctl help VERB"), so a new verb is completed without
# a change here; PIDs are the daemon's current targets.

# The thpctl being completed (build/client/thpctl too), else the one in PATH.
function __thpctl_cmd
    set -l cmd (commandline -opc)[1]
    if command -sq -- $cmd
        echo $cmd
    else
        echo thpctl
    end
end

# "VERB<tab>summary" per verb of "thpctl help".
function __thpctl_verbs
    set -l section
    set -l pending
    for line in ($argv[1] help 2>/dev/null)
        switch $line
            case Verbs:
                set section verbs
                continue
            case ''
                set section
                continue
        end
        test "$section" = verbs; or continue
        if string match -qr '^  [a-z]' -- $line
            set -l name (string split -f1 ' ' -- (string sub -s 3 -- $line))
            set -l desc (string match -r '^  \S.*?  +(\S.*)$' -- $line)[2]
            if test -n "$desc"
                printf '%s\t%s\n' $name $desc
                set pending
            else
                set pending $name
            end
        else if test -n "$pending"
            # A long synopsis has its summary on the next line.
            printf '%s\t%s\n' $pending (string trim -- $line)
            set pending
        end
    end
end

# "OPTION ARG" or "OPTION" per line: the global options of "thpctl help".
function __thpctl_global_options
    set -l section
    for line in ($argv[1] help 2>/dev/null)
        switch $line
            case Options:
                set section opts
                continue
            case ''
                set section
                continue
        end
        test "$section" = opts; and string match -qr '^  -' -- $line; or continue
        set -l head (string replace -r '  .*' '' -- (string sub -s 3 -- $line))
        string split ', ' -- $head
    end
end

# VERB's synopsis of "thpctl help VERB", without "Usage: thpctl [OPTIONS] VERB".
function __thpctl_synopsis
    set -l usage (string match -r '^Usage: \S+ \[OPTIONS\] \S+(.*)$' -- ($argv[1] help $argv[2] 2>/dev/null))[2]
    string trim -- $usage
end

# The words given so far, parsed: prints "verb VERB", "socket PATH",
# "nargs N" and "optarg ARG" (when the word being completed is the argument
# of an option).
function __thpctl_state
    set -l cmd $argv[1]
    set -l words (commandline -opc)
    set -l takes
    for o in (__thpctl_global_options $cmd)
        string match -q '* *' -- $o; and set -a takes (string split -f1 ' ' -- $o)
    end
    set -l verb
    set -l socket
    set -l nargs 0
    set -l optarg
    set -l i 2
    while test $i -le (count $words)
        set -l w $words[$i]
        set optarg
        if test "$w" = --socket
            set i (math $i + 1)
            set socket $words[$i]
            test $i -gt (count $words); and set optarg PATH
        else if string match -q -- '--socket=*' $w
            set socket (string replace -- '--socket=' '' $w)
        else if contains -- $w $takes
            set i (math $i + 1)
            test $i -gt (count $words); and set optarg (string match -r -- "^$w (\S+)" (__thpctl_global_options $cmd) (__thpctl_verb_options $cmd $verb))[2]
        else if string match -q -- '-*' $w
        else if test -z "$verb"
            set verb $w
            for o in (__thpctl_verb_options $cmd $verb)
                string match -q '* *' -- $o; and set -a takes (string split -f1 ' ' -- $o)
            end
        else
            set nargs (math $nargs + 1)
        end
        set i (math $i + 1)
    end
    echo "verb $verb"
    echo "socket $socket"
    echo "nargs $nargs"
    echo "optarg $optarg"
end

# VERB's synopsis ("show PID [--chunks [--state STATE]] [--areas]") as lines
# "pos KIND" (PID, VERB, ADDRESS, ... in order) and "opt OPTION [ARG]".
function __thpctl_parse_synopsis
    test -n "$argv[2]"; or return
    set -l w (string split -n ' ' -- (__thpctl_synopsis $argv[1] $argv[2]))
    set -l i 1
    while test $i -le (count $w)
        set -l t (string replace -r '^\[+' '' -- $w[$i])
        set -l closed (string match -q -- '*]' $t; and echo 1)
        set t (string replace -r '\]+$' '' -- $t)
        set -l n (math $i + 1)
        if not string match -q -- '-*' $t
            echo "pos $t"
        else if test -z "$closed" -a $n -le (count $w); and not string match -qr '^[[-]' -- $w[$n]
            echo "opt $t" (string replace -r '\]+$' '' -- $w[$n])
            set i $n
        else
            echo "opt $t"
        end
        set i (math $i + 1)
    end
end

# "OPTION ARG" or "OPTION" per option of VERB's synopsis.
function __thpctl_verb_options
    string replace -rf '^opt ' '' -- (__thpctl_parse_synopsis $argv[1] $argv[2])
end

function __thpctl_get
    string replace -rf -- "^$argv[1] ?" '' $argv[2..-1]
end

# All candidates for the word being completed.
function __thpctl_complete
    set -l cmd (__thpctl_cmd)
    set -l state (__thpctl_state $cmd)
    set -l verb (__thpctl_get verb $state)
    set -l socket (__thpctl_get socket $state)
    set -l nargs (__thpctl_get nargs $state)
    set -l optarg (__thpctl_get optarg $state)
    set -l cur (commandline -ct)

    if test -n "$optarg"
        test "$optarg" = PATH; and __fish_complete_path $cur
        return
    end
    if string match -q -- '-*' $cur
        for o in (__thpctl_global_options $cmd) (__thpctl_verb_options $cmd $verb)
            string split -f1 ' ' -- $o
        end
        return
    end
    if test -z "$verb"
        __thpctl_verbs $cmd
        return
    end
    set -l kinds (string replace -rf '^pos ' '' -- (__thpctl_parse_synopsis $cmd $verb))
    set -l kind
    set -l n (math $nargs + 1)
    test $n -le (count $kinds); and set kind $kinds[$n]
    switch "$kind"
        case PID
            set -l args
            test -n "$socket"; and set args --socket $socket
            for line in ($cmd $args --no-legend --timeout 1 targets 2>/dev/null)
                set -l f (string split -n ' ' -- $line)
                string match -qr '^[0-9]+$' -- $f[1]; and printf '%s\t%s (policy %s, %s)\n' $f[1] $f[2] $f[3] $f[4]
            end
        case VERB
            __thpctl_verbs $cmd
    end
end

complete -c thpctl -f -a '(__thpctl_complete)'
