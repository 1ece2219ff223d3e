#!/bin/bash
# shellcheck disable=SC2317 # functions defined inside main() look unreachable
# bench/ab-postgres.sh: PostgreSQL read-only transactions (pgbench -S),
# control cluster against treated cluster, as a paired measurement in one
# run (part c3 of bench/run).
#
# Why PostgreSQL: it is what many operators run, and its shared_buffers is
# one large shared memory area (here PG_SHARED_BUFFERS, 1GB) that every
# backend touches at random: the case thpd's `shmem: true` is for.
#
# One database (pgbench -i, scale PG_SCALE = 50, about 750 MB) is created
# once and copied, so two clusters in a private temp dir, on private ports
# and Unix sockets (no TCP), hold the same data:
#   control   postgres started as pg-control (a symlink to the postgres
#             binary, so backends carry that process name): 4 KiB pages
#   treated   started as pg-treated: thpd's policy (shmem: true) matches
#             only this name
# Each cluster gets a "holder" session that loads the tables and indexes
# into shared_buffers with pg_prewarm and then sleeps: its backend has all
# of them mapped, so thpd can collapse them through it; pgbench's backends
# then map the huge pages at their first touch (ShmemPmdMapped, checked).
# pgbench -n -S -M prepared, PG_CLIENTS (8) clients, 2 threads,
# PG_SECONDS (8) per measurement; every round measures A B B A (B A A B
# in even rounds; A = control): REPS (3) rounds after thpd's collapse,
# one (PRE=1) before thpd starts. Per round: treated/control of the mean
# transactions/s (> 1 = thpd faster).
#
# The kernel can only map shmem with huge pages where the mapping is 2 MiB
# aligned, and it aligns a shared anonymous mapping only when shmem huge
# pages are not "never" when the mapping is made. With Debian's default
# (shmem_enabled=never) postgres's shared memory lands at any 4 KiB
# boundary and every collapse fails with EINVAL. So while the two
# postmasters start (and only then), shmem_enabled is "advise" (restored at
# once; with "advise" nothing becomes huge unless madvised, and postgres
# does not madvise): both clusters get aligned memory, and the control
# stays on 4 KiB pages. The section says whether the mappings were aligned.
#
# Usage (root; builds nothing): BUILD_DIR=build bench/ab-postgres.sh [--smoke]
# Environment: BUILD_DIR, REPS (3), PRE (1), PG_SCALE (50),
# PG_SHARED_BUFFERS (1GB), PG_CLIENTS (8), PG_SECONDS (8); --smoke: scale
# 1, 64MB, 1 s, 1 round, no pre-round. Runs the servers as user postgres
# (setpriv). Installs postgresql and postgresql-contrib with apt-get if
# missing (--smoke skips instead).
# Exit status: 0, 1 failed, 77 not root or PostgreSQL missing.
set -euo pipefail
export LC_ALL=C
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
main() {
bench_args "$@"
if ((SMOKE)); then
	REPS=${REPS:-1} PRE=${PRE:-0} PG_SCALE=${PG_SCALE:-1} PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-64MB}
	PG_SECONDS=${PG_SECONDS:-1}
else
	REPS=${REPS:-3} PRE=${PRE:-1} PG_SCALE=${PG_SCALE:-50} PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-1GB}
	PG_SECONDS=${PG_SECONDS:-8}
fi
PG_CLIENTS=${PG_CLIENTS:-8}
posint REPS "$REPS"
posint PG_SCALE "$PG_SCALE"
posint PG_SECONDS "$PG_SECONDS"
posint PG_CLIENTS "$PG_CLIENTS"
zero_one PRE "$PRE"
bench_init ab-postgres
pg_bin() { find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1; }
local PGBIN
PGBIN=$(pg_bin)
if [[ -z $PGBIN || ! -x $PGBIN/pgbench ]]; then
	apt_install "postgresql postgresql-contrib" || exit 77
	PGBIN=$(pg_bin)
fi
local c
for c in initdb postgres pgbench psql pg_config; do
	[[ -x $PGBIN/$c ]] || {
		log "$PGBIN/$c missing: skipped"
		exit 77
	}
done
[[ -f $("$PGBIN/pg_config" --sharedir)/extension/pg_prewarm.control ]] || {
	log "pg_prewarm missing (postgresql-contrib): skipped"
	exit 77
}
id postgres >/dev/null 2>&1 || {
	log "no user postgres: skipped"
	exit 77
}
command -v setpriv >/dev/null || die "setpriv (util-linux) is needed"
thp_madvise
local VERSION
VERSION=$("$PGBIN/postgres" --version | awk '{print $3}')

# Its own temp dir: postgres (the user) must reach it, WORK is root's 0700.
PGD=$(mktemp -d /tmp/thpd-bench-pg.XXXXXX)
on_exit "rm -rf '$PGD'"
chmod 755 "$PGD"
mkdir "$PGD/bin"
chown postgres: "$PGD" "$PGD/bin"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
psql_() { # psql_ PORT SQL...
	local port=$1 a=()
	shift
	for c in "$@"; do a+=(-c "$c"); done
	"$PGBIN/psql" -h "$PGD" -p "$port" -U postgres -X -qAt "${a[@]}" postgres
}
# start_pg NAME DIR PORT: postmaster run as NAME (a symlink in PGD/bin);
# sets PGPID
start_pg() {
	local name=$1 dir=$2 port=$3 i
	[[ -e $PGD/bin/$name ]] || ln -s "$PGBIN/postgres" "$PGD/bin/$name"
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PGD/bin/$name" -D "$dir" -p "$port" >"$dir.log" 2>&1 &
	PGPID=$!
	track "$PGPID" INT # fast shutdown
	for ((i = 0; i < 1200; i++)); do
		psql_ "$port" "select 1" >/dev/null 2>&1 && return 0
		gone "$PGPID" && die "postgres ($name) exited: $(tail -5 "$dir.log")"
		sleep 0.05
	done
	die "postgres ($name) not accepting connections after 60 s: $(tail -5 "$dir.log")"
}

# ---- one database, two copies ------------------------------------------------
local t0=$EPOCHREALTIME
as_pg "$PGBIN/initdb" -D "$PGD/ctl" -U postgres --auth=trust -E UTF8 --no-sync >"$PGD/initdb.log" 2>&1 ||
	die "initdb failed: $(tail -5 "$PGD/initdb.log")"
cat >>"$PGD/ctl/postgresql.conf" <<EOF
# bench/ab-postgres.sh
listen_addresses = ''
unix_socket_directories = '$PGD'
shared_buffers = $PG_SHARED_BUFFERS
huge_pages = off
max_connections = 40
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
jit = off
EOF
# No TCP (listen_addresses ''): a port only names the socket in PGD.
local port0=5432
start_pg postgres "$PGD/ctl" "$port0"
"$PGBIN/pgbench" -i -q -s "$PG_SCALE" -h "$PGD" -p "$port0" -U postgres postgres >"$PGD/init.log" 2>&1 ||
	die "pgbench -i failed: $(tail -5 "$PGD/init.log")"
psql_ "$port0" "create extension pg_prewarm" "checkpoint" >/dev/null
local dbsize
dbsize=$(psql_ "$port0" "select pg_size_pretty(pg_database_size('postgres'))")
stop_pid "$PGPID" INT
cp -a "$PGD/ctl" "$PGD/trt"
log "  database: pgbench scale $PG_SCALE ($dbsize), copied to two clusters in $(fmt %.1f "$(elapsed_since "$t0")") s"

# ---- the two clusters ----------------------------------------------------------
declare -A NAME=([ctl]=pg-control [trt]=pg-treated) PORT PID HOLDER BACKEND ALIGNED
local shm_orig arm
shm_orig=$(thp_mode shmem_enabled)
case $shm_orig in
never | deny) thp_set shmem_enabled advise ;; # only while the postmasters map their memory
advise) ;;
*) # always, within_size, force: the control would get huge pages at fault
	log "shmem_enabled=$shm_orig: switching to advise for this part (restored at exit)"
	thp_set shmem_enabled advise
	;;
esac
for arm in ctl trt; do
	if [[ $arm == ctl ]]; then PORT[$arm]=5433; else PORT[$arm]=5434; fi
	start_pg "${NAME[$arm]}" "$PGD/$arm" "${PORT[$arm]}"
	PID[$arm]=$PGPID
done
[[ $shm_orig == never || $shm_orig == deny ]] && thp_restore shmem_enabled
# main_shm PID -> start address (hex) of its largest shared mapping
main_shm() {
	local range perms _ best=0 s e start=
	while read -r range perms _; do
		[[ $perms == *s ]] || continue
		s=$((16#${range%-*})) e=$((16#${range#*-}))
		((e - s > best)) && best=$((e - s)) start=${range%-*}
	done <"/proc/$1/maps"
	echo "$start"
}
declare -A ADDR
for arm in ctl trt; do
	ADDR[$arm]=$(main_shm "${PID[$arm]}")
	if [[ -n ${ADDR[$arm]} ]] && (((16#${ADDR[$arm]}) % (2 << 20) == 0)); then ALIGNED[$arm]=yes; else ALIGNED[$arm]=no; fi
	record "pg_${arm}_aligned" "$([[ ${ALIGNED[$arm]} == yes ]] && echo 1 || echo 0)"
	[[ $(cat "/proc/${PID[$arm]}/comm") == "${NAME[$arm]}" ]] ||
		die "postgres ($arm) runs as '$(cat "/proc/${PID[$arm]}/comm")', not ${NAME[$arm]}"
done

# Holders: load every table and index into shared_buffers, then sleep.
local prewarm="select pg_backend_pid()" rel i
for rel in pgbench_accounts pgbench_accounts_pkey pgbench_branches pgbench_branches_pkey \
	pgbench_tellers pgbench_tellers_pkey; do
	prewarm+=", pg_prewarm('$rel')"
done
for arm in ctl trt; do
	psql_ "${PORT[$arm]}" "$prewarm" "select pg_sleep(86400)" >"$PGD/holder.$arm" 2>&1 &
	HOLDER[$arm]=$!
	track "${HOLDER[$arm]}"
	for ((i = 0; i < 6000; i++)); do
		[[ -s $PGD/holder.$arm ]] && break
		gone "${HOLDER[$arm]}" && die "prewarm ($arm) failed: $(cat "$PGD/holder.$arm")"
		sleep 0.05
	done
	BACKEND[$arm]=$(cut -d'|' -f1 "$PGD/holder.$arm")
	[[ ${BACKEND[$arm]} =~ ^[0-9]+$ ]] || die "prewarm ($arm): $(cat "$PGD/holder.$arm")"
	log "  $arm (${NAME[$arm]}, port ${PORT[$arm]}, postmaster ${PID[$arm]}): shared memory at 0x${ADDR[$arm]} aligned to 2 MiB: ${ALIGNED[$arm]}; prewarmed $(awk '/^RssShmem:/ {printf "%.0f MiB", $2 / 1024}' "/proc/${BACKEND[$arm]}/status") in the holder"
done
[[ ${ALIGNED[trt]} == yes ]] ||
	warn "the treated cluster's shared memory is not 2 MiB aligned: thpd cannot collapse it (EINVAL); the ratios below then show no treatment"

# backends ARM -> "PMD% MINFLT" of the pgbench backends: the mean share of
# their mapped shared memory that is PMD-mapped, and their mean count of
# minor page faults so far
backends() {
	local p sum=0 flt=0 n=0 v f
	for p in $(pgrep -P "${PID[$1]}"); do
		[[ $p == "${BACKEND[$1]}" ]] && continue
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q '^postgres: postgres postgres' || continue
		v=$(shmem_pmd_pct "$p")
		f=$(awk '{print $10}' "/proc/$p/stat" 2>/dev/null) || continue
		sum=$(awk -v s="$sum" -v v="$v" 'BEGIN { print s + v }')
		flt=$((flt + f))
		n=$((n + 1))
	done
	awk -v s="$sum" -v f="$flt" -v n="$n" 'BEGIN { if (n) printf "%.1f %d\n", s / n, f / n; else print "- -" }'
}
# measure ARM TAG: one pgbench run; records pg_TAG_ARM_tps/_lat/_pmd; sets TPS LAT
measure() {
	local arm=$1 tag=$2 bp pmd flt
	"$PGBIN/pgbench" -n -S -M prepared -c "$PG_CLIENTS" -j 2 -T "$PG_SECONDS" -h "$PGD" -p "${PORT[$arm]}" \
		-U postgres postgres >"$PGD/pgbench.out" 2>&1 &
	bp=$!
	track "$bp"
	sleep "$(awk -v s="$PG_SECONDS" 'BEGIN { print s * 0.6 }')"
	read -r pmd flt < <(backends "$arm")
	wait "$bp" || die "pgbench ($arm) failed: $(tail -5 "$PGD/pgbench.out")"
	forget_pid "$bp"
	TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$PGD/pgbench.out")
	LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$PGD/pgbench.out")
	[[ -n $TPS && -n $LAT ]] || die "no tps in pgbench's output: $(cat "$PGD/pgbench.out")"
	record "pg_${tag}_${arm}_tps" "$TPS"
	record "pg_${tag}_${arm}_lat" "$LAT"
	record "pg_${tag}_${arm}_pmd" "$pmd"
	record "pg_${tag}_${arm}_minflt" "$flt"
	if [[ $arm == ctl || $tag == pre ]] && [[ $pmd != - ]] && awk -v p="$pmd" 'BEGIN { exit !(p > 1) }'; then
		record contaminated 1
		warn "$arm's backends map $pmd% of their shared memory with huge pages before any treatment"
	fi
	log "    $tag $arm: $TPS tps, latency $LAT ms, backends' shared memory ${pmd}% PMD-mapped, $flt minor faults each"
}
# round TAG R: A B B A (odd R) or B A A B; records the round's ratios
round() {
	local tag=$1 r=$2 x arm
	declare -A tp=([ctl]="" [trt]="") lt=([ctl]="" [trt]="")
	for x in $(abba "$r"); do
		if [[ $x == A ]]; then arm=ctl; else arm=trt; fi
		measure "$arm" "$tag"
		tp[$arm]+=" $TPS" lt[$arm]+=" $LAT"
	done
	# shellcheck disable=SC2086 # two values each
	record "pg_${tag}_gain" "$(ratio "$(mean_of ${tp[trt]})" "$(mean_of ${tp[ctl]})")"
	# shellcheck disable=SC2086
	record "pg_${tag}_lat_gain" "$(ratio "$(mean_of ${lt[ctl]})" "$(mean_of ${lt[trt]})")"
	log "  $tag round $r: treated/control $(fmt %.3f "$(vals "pg_${tag}_gain" | tail -1)")"
}

local r
for ((r = 1; r <= PRE; r++)); do
	log "  before thpd, round $r: both clusters on 4 KiB pages"
	round pre "$r"
done

write_policy "$WORK/pg.yaml" "shmem: true" "${NAME[trt]}"
start_thpd "$WORK/pg.yaml" wait
wait_stable "shmem_pmd_pct ${BACKEND[trt]}" 120
record pg_collapse_s "$STABLE_S"
record pg_holder_pmd "$STABLE_PCT"
record pg_holder_ctl_pmd "$(shmem_pmd_pct "${BACKEND[ctl]}")"
log "  thpd: the treated holder's shared memory ${STABLE_PCT}% PMD-mapped after ${STABLE_S}s (control's $(shmem_pmd_pct "${BACKEND[ctl]}")%); attempts: $(thpd_attempts)"
awk -v p="$STABLE_PCT" 'BEGIN { exit !(p < 50) }' &&
	warn "thpd PMD-mapped only ${STABLE_PCT}% of the treated cluster's shared buffers: the gain below is that of a partial treatment (or none)"

for ((r = 1; r <= REPS; r++)); do
	log "  round $r/$REPS after thpd: $(abba "$r") (A control, B treated)"
	round ab "$r"
done
local attempts
attempts=$(thpd_attempts)
stop_pid "$THPD_PID"

# ---- the section -------------------------------------------------------------
frag "### c3. PostgreSQL $VERSION: pgbench select-only, control and treated cluster" ""
frag "\`bench/ab-postgres.sh\`: two clusters with the same pgbench database (scale $PG_SCALE, $dbsize), shared_buffers $PG_SHARED_BUFFERS, \`pgbench -n -S -M prepared -c $PG_CLIENTS -j 2 -T $PG_SECONDS\`; $REPS rounds after thpd collapsed the treated cluster's shared buffers, $PRE before." ""
row "pgbench -S" "control: 4 KiB" "treated: after thpd (shmem: true)" "gain (per round, treated vs control)" "before thpd (both 4 KiB)"
row "---" "---" "---" "---" "---"
row "transactions/s (higher is better)" "$(value_cell pg_ab_ctl_tps %.0f "")" "$(value_cell pg_ab_trt_tps %.0f "")" "$(ratio_cell pg_ab_gain)" "$(ratio_cell pg_pre_gain)"
row "latency average (lower is better; gain = control/treated)" "$(value_cell pg_ab_ctl_lat %.3f ms)" "$(value_cell pg_ab_trt_lat %.3f ms)" "$(ratio_cell pg_ab_lat_gain)" "$(ratio_cell pg_pre_lat_gain)"
row "minor page faults per pgbench backend, $(fmt %.1f "$(awk -v s="$PG_SECONDS" 'BEGIN { print s * 0.6 }')") s into a run" "$(value_cell pg_ab_ctl_minflt %.0f "")" "$(value_cell pg_ab_trt_minflt %.0f "")" "" "$(value_cell pg_pre_ctl_minflt %.0f "") / $(value_cell pg_pre_trt_minflt %.0f "")"
row "pgbench backends' shared memory PMD-mapped, %" "$(value_cell pg_ab_ctl_pmd %.1f "")" "$(value_cell pg_ab_trt_pmd %.1f "")" "holder's: $(fmt %.1f "$(med pg_holder_pmd)")% treated, $(fmt %.1f "$(med pg_holder_ctl_pmd)")% control, $(fmt %.1f "$(med pg_collapse_s)") s after thpd started" ""
frag "" \
	"Shared memory 2 MiB aligned: control ${ALIGNED[ctl]}, treated ${ALIGNED[trt]} (shmem_enabled was" \
	"$shm_orig; \"advise\" while the postmasters started, see below). thpd's collapse" \
	"attempts: ${attempts:-none}." \
	"" \
	"Why PostgreSQL: many operators run it, and its shared_buffers is one large" \
	"shared memory area that every backend reads at random, which is what" \
	"\`shmem: true\` is for. Both clusters are copies of one database, with" \
	"autovacuum off so that neither does background work the other does not;" \
	"a holder session per cluster loaded the tables and indexes into" \
	"shared_buffers (pg_prewarm) and keeps them mapped, so thpd collapses them" \
	"through it; pgbench's backends then map the huge pages at first touch." \
	"The kernel PMD-maps shmem only where the mapping is 2 MiB aligned, and it" \
	"aligns a shared anonymous mapping only when shmem huge pages are not" \
	"\"never\" at the time the mapping is made: with \`shmem_enabled=never\`" \
	"(Debian's default) every collapse of postgres's shared memory fails with" \
	"EINVAL. So the benchmark sets \`shmem_enabled=advise\` while the two" \
	"postmasters start and restores it right after (with advise nothing becomes" \
	"huge unless madvised, and postgres does not madvise). An operator who" \
	"wants thpd to collapse postgres's shared buffers needs shmem_enabled" \
	"(or hugepages-2048kB/shmem_enabled) at advise when postgres starts." ""
log "done"
}
main "$@"
exit
