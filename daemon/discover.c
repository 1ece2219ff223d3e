/* SPDX-License-Identifier: MIT */
#include "discover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <systemd/sd-login.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "policy.h"
#include "procfs.h"
#include "util.h"

void discovered_clear(struct discovered *d)
{
	free(d->comm);
	free(d->exe);
	free(d->unit);
	free(d->cgroup);
	free(d->memcg);
	if (d->pidfd >= 0)
		close(d->pidfd);
	memset(d, 0, sizeof(*d));
	d->pidfd = -1;
}

static const struct known_pid *find_known(const struct discover_job *job, pid_t pid)
{
	size_t lo = 0, hi = job->n_known;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (job->known[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < job->n_known && job->known[lo].pid == pid) ? &job->known[lo] : NULL;
}

static int read_starttime(int dfd, uint64_t *ret)
{
	char *buf;
	size_t len;
	int r = read_file_at(dfd, "stat", &buf, &len);

	if (r < 0)
		return r;
	r = stat_starttime(buf, len, ret);
	free(buf);
	return r;
}

struct ident {
	UT_hash_handle hh; /* by pid */
	pid_t pid;
	uint64_t starttime;
	bool kthread; /* no exe: nothing to collapse, ever */
	char name[64];
	uid_t uid;
	bool has_owner; /* see struct discovered */
	char *exe, *cgroup, *unit, *memcg;
	unsigned full_walk; /* walk of the last full read */
	unsigned seen_walk;
};

struct discover_cache {
	struct ident *by_pid;
	unsigned walk;
};

struct discover_cache *discover_cache_new(void)
{
	return calloc(1, sizeof(struct discover_cache));
}

static void ident_clear_strings(struct ident *e)
{
	free(e->exe);
	free(e->cgroup);
	free(e->unit);
	free(e->memcg);
	e->exe = e->cgroup = e->unit = e->memcg = NULL;
}

static void ident_delete(struct discover_cache *c, struct ident *e)
{
	HASH_DEL(c->by_pid, e);
	ident_clear_strings(e);
	free(e);
}

void discover_cache_free(struct discover_cache *c)
{
	if (!c)
		return;
	while (c->by_pid)
		ident_delete(c, c->by_pid);
	free(c);
}

/* exe, cgroups and unit: what changes only at exec or cgroup moves. */
static int read_full_identity(pid_t pid, int dfd, struct ident *e)
{
	char *buf = NULL, link[4096], memcg[4096];
	size_t len;
	ssize_t n = readlinkat(dfd, "exe", link, sizeof(link) - 1);

	ident_clear_strings(e);
	if (n < 0 && errno == ENOENT) {
		e->kthread = true; /* kernel thread or zombie: nothing to collapse */
		return -ENOENT;
	}
	if (n >= 0) {
		link[n] = '\0';
		e->exe = strdup(link);
	}
	if (read_file_at(dfd, "cgroup", &buf, &len) == 0) {
		if (cgroup_memory_path(buf, len, memcg, sizeof(memcg)) == 0)
			e->memcg = strdup(memcg);
		free(buf);
	}
	/* sd_pid_get_*() read /proc/PID/cgroup by pid; the caller re-checks
	 * through dfd afterwards that the pid was not reused meanwhile. */
	(void)sd_pid_get_cgroup(pid, &e->cgroup);
	(void)sd_pid_get_unit(pid, &e->unit);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * Does the process belong to its real uid the way ptrace(2) sees it (the
 * kernel's PTRACE_MODE_READ_REALCREDS rule, minus capabilities)? Its real,
 * effective and saved uids agree, and so do its gids (no set-uid or set-gid
 * program), and it is dumpable: the files in /proc/PID belong to root
 * otherwise (the directory itself keeps the process's uid).
 */
static bool has_owner(int dfd, const struct proc_status *st)
{
	struct stat sb;

	return st->uid == st->euid && st->uid == st->suid && st->gid == st->egid &&
	       st->gid == st->sgid && fstatat(dfd, "status", &sb, 0) == 0 && sb.st_uid == st->euid;
}

bool proc_owned_by(pid_t pid, uid_t uid)
{
	char path[32], *buf;
	size_t len;
	struct proc_status st;
	bool owned = false;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	int dfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	if (read_file_at(dfd, "status", &buf, &len) == 0) {
		owned = status_parse(buf, len, &st) == 0 && st.uid == uid && has_owner(dfd, &st);
		free(buf);
	}
	close(dfd);
	return owned;
}

/* Does this cache entry need its exe/cgroups/uid read again? */
static bool needs_refresh(const struct discover_job *job, const struct ident *e,
			  const struct proc_stat *ps)
{
	return job->only || !streq(e->name, ps->comm) ||
	       job->cache->walk - e->full_walk >= DISCOVER_REFRESH_WALKS;
}

/*
 * The cache entry for pid, created or re-read as needed (see
 * DISCOVER_REFRESH_WALKS). Reads status only when need_status (adoption
 * needs RssAnon) or the entry is refreshed. NULL: skip this pid.
 */
static struct ident *identify(struct discover_job *job, pid_t pid, int dfd,
			      const struct proc_stat *ps, bool need_status, uint64_t *rss_anon,
			      bool *refreshed)
{
	struct discover_cache *c = job->cache;
	struct ident *e;
	struct proc_status st;
	char *buf;
	size_t len;

	HASH_FIND(hh, c->by_pid, &pid, sizeof(pid), e);
	if (e && e->starttime != ps->starttime) { /* another process now */
		ident_delete(c, e);
		e = NULL;
	}
	if (e && e->kthread) {
		e->seen_walk = c->walk;
		return NULL;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		e->pid = pid;
		e->starttime = ps->starttime;
		e->full_walk = c->walk - DISCOVER_REFRESH_WALKS; /* read it all now */
		HASH_ADD(hh, c->by_pid, pid, sizeof(e->pid), e);
	}
	e->seen_walk = c->walk;
	*refreshed = needs_refresh(job, e, ps);
	if (*refreshed || need_status) {
		if (read_file_at(dfd, "status", &buf, &len) < 0)
			return NULL;
		int r = status_parse(buf, len, &st);
		free(buf);
		if (r < 0)
			return NULL;
		*rss_anon = st.rss_anon;
		e->uid = st.uid;
		e->has_owner = has_owner(dfd, &st);
	}
	snprintf(e->name, sizeof(e->name), "%s", ps->comm);
	if (*refreshed) {
		e->full_walk = c->walk;
		if (read_full_identity(pid, dfd, e) < 0)
			return NULL;
	}
	return e;
}

static int read_stat(int proc_fd, pid_t pid, struct proc_stat *ps)
{
	char path[32], *buf;
	size_t len;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	int r = read_file_at(proc_fd, path, &buf, &len);

	if (r < 0)
		return r;
	r = stat_parse(buf, len, ps);
	free(buf);
	return r;
}

int proc_look(pid_t pid, struct proc_look *out)
{
	struct proc_stat ps;
	struct proc_status st;
	struct ident e = {0};
	char path[32], *buf;
	size_t len;
	int proc_fd, dfd = -1, r;

	*out = (struct proc_look){.thp_enabled = -1};
	proc_fd = open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	r = read_stat(proc_fd, pid, &ps);
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "%d", (int)pid);
	dfd = openat(proc_fd, path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		goto out;
	}
	r = read_file_at(dfd, "status", &buf, &len);
	if (r < 0)
		goto out;
	r = status_parse(buf, len, &st);
	free(buf);
	if (r < 0)
		goto out;
	out->state = ps.state;
	snprintf(out->comm, sizeof(out->comm), "%s", ps.comm);
	out->uid = st.uid;
	out->has_owner = has_owner(dfd, &st);
	out->thp_enabled = st.thp_enabled;
	out->anon_bytes = st.rss_anon;
	(void)read_full_identity(pid, dfd, &e);
	out->kthread = e.kthread || ps.vsize == 0;
	out->exe = e.exe;
	out->unit = e.unit;
	out->cgroup = e.cgroup;
	out->memcg = e.memcg;
out:
	if (dfd >= 0)
		close(dfd);
	close(proc_fd);
	return r;
}

void proc_look_clear(struct proc_look *l)
{
	free(l->exe);
	free(l->unit);
	free(l->cgroup);
	free(l->memcg);
	l->exe = l->unit = l->cgroup = l->memcg = NULL;
}

static bool push_found(struct discover_job *job, struct discovered *d)
{
	if (grow_array((void **)&job->found, &job->cap_found, job->n_found + 1,
		       sizeof(*job->found)) < 0)
		return false;
	job->found[job->n_found++] = *d;
	return true;
}

/* The steady state for a known target: one read of /proc/PID/stat. */
static bool known_and_unchanged(const struct discover_job *job, const struct known_pid *known,
				const struct proc_stat *ps)
{
	struct mem_fingerprint fp = {ps->minflt, ps->vsize, ps->rss};
	struct ident *e;

	if (!known || job->only || !mem_fingerprint_eq(&fp, &known->fp))
		return false;
	HASH_FIND(hh, job->cache->by_pid, &known->pid, sizeof(known->pid), e);
	if (!e || e->starttime != ps->starttime || needs_refresh(job, e, ps))
		return false;
	e->seen_walk = job->cache->walk;
	return true;
}

static void consider(struct discover_job *job, int proc_fd, pid_t pid)
{
	struct discovered d = {.pidfd = -1};
	const struct known_pid *known = find_known(job, pid);
	struct proc_stat ps;
	uint64_t again, rss_anon = 0;
	bool refreshed = false;
	char name[16];
	int dfd = -1;

	if (read_stat(proc_fd, pid, &ps) < 0)
		return;
	if (known && known->starttime != ps.starttime)
		return; /* reused pid: the old target's pidfd reports its exit */
	/* Exited, not yet reaped: /proc/PID and pidfd_open() still work, but
	 * there is nothing to collapse (and it would be adopted again). */
	if (ps.state == 'Z' || ps.state == 'X')
		return;
	/* Exiting: the address space is already gone (exit_mm) while the task
	 * still runs its last steps, state R. Same verdict: nothing to collapse
	 * (kernel threads read 0 too and are not candidates either). */
	if (ps.vsize == 0)
		return;
	if (known_and_unchanged(job, known, &ps))
		return;
	snprintf(name, sizeof(name), "%d", (int)pid);
	dfd = openat(proc_fd, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return;
	struct mem_fingerprint fp = {ps.minflt, ps.vsize, ps.rss};
	const struct ident *e = identify(job, pid, dfd, &ps, !known, &rss_anon, &refreshed);
	if (!e)
		goto drop;
	if (known) {
		/* Report a known target only when something changed: its
		 * identity (exec, rename, cgroup move) or its memory. */
		if (!refreshed && mem_fingerprint_eq(&fp, &known->fp))
			return;
		d = (struct discovered){.pid = pid,
					.pidfd = -1,
					.starttime = ps.starttime,
					.fp = fp,
					.anon_bytes = rss_anon};
		if (!refreshed) {
			if (!push_found(job, &d))
				discovered_clear(&d);
			close(dfd);
			return;
		}
	}
	struct proc_identity id = {
	    .pid = pid,
	    .uid = e->uid,
	    .comm = e->name,
	    .exe = e->exe,
	    .unit = e->unit,
	    .cgroup = e->cgroup,
	    .anon_bytes = rss_anon,
	};
	const struct policy *p = policy_find(job->cfg->cfg, &id);
	if (!known && (!p || p->ignore))
		goto drop;
	d = (struct discovered){
	    .pid = pid,
	    .pidfd = -1,
	    .identity = true,
	    .fp = fp,
	    .starttime = ps.starttime,
	    .uid = e->uid,
	    .has_owner = e->has_owner,
	    .anon_bytes = rss_anon,
	    .comm = strdup(e->name),
	    .exe = dup_or_null(e->exe),
	    .unit = dup_or_null(e->unit),
	    .cgroup = dup_or_null(e->cgroup),
	    .memcg = dup_or_null(e->memcg),
	    .policy = p ? (int)(p - job->cfg->cfg->policies) : -1,
	};
	if (!d.comm)
		goto drop;
	if (!known) {
		d.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (d.pidfd < 0)
			goto drop;
	}
	/* Still the same process as the one dfd refers to (else: reused pid). */
	if (read_starttime(dfd, &again) < 0 || again != ps.starttime)
		goto drop;
	if (!push_found(job, &d))
		goto drop;
	close(dfd);
	return;
drop:
	discovered_clear(&d);
	if (dfd >= 0)
		close(dfd);
}

/* After a full walk: forget processes that were not seen (gone). */
static void prune_cache(struct discover_cache *c)
{
	for (struct ident *e = c->by_pid, *next; e; e = next) {
		next = e->hh.next;
		if (e->seen_walk != c->walk)
			ident_delete(c, e);
	}
}

static void visit(struct discover_job *job, int proc_fd, pid_t pid)
{
	job->n_processes++;
	consider(job, proc_fd, pid);
}

static void discover_run(struct work *w, const atomic_bool *stop)
{
	struct discover_job *job = (struct discover_job *)w;
	uint64_t t0 = now_usec();

	/* Only full walks count: exec events elsewhere must not speed up the
	 * periodic identity refresh. */
	if (!job->only)
		job->cache->walk++;
	if (job->only) {
		int proc_fd = open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (proc_fd < 0)
			return;
		for (size_t i = 0; i < job->n_only && !atomic_load(stop); i++)
			if (job->only[i] != job->self)
				visit(job, proc_fd, job->only[i]);
		close(proc_fd);
		job->duration_usec = now_usec() - t0;
		return;
	}
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc)) && !atomic_load(stop)) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX || pid == job->self)
			continue;
		visit(job, dirfd(proc), (pid_t)pid);
	}
	closedir(proc);
	if (!atomic_load(stop))
		prune_cache(job->cache);
	job->duration_usec = now_usec() - t0;
}

struct discover_job *discover_job_new(struct config_ref *cfg, const struct known_pid *known,
				      size_t n_known, void (*done)(struct work *, bool, void *))
{
	struct discover_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->known = malloc((n_known ? n_known : 1) * sizeof(*known));
	if (!job->known) {
		free(job);
		return NULL;
	}
	if (n_known)
		memcpy(job->known, known, n_known * sizeof(*known));
	job->n_known = n_known;
	job->cfg = config_ref_get(cfg);
	job->self = getpid();
	job->work.run = discover_run;
	job->work.done = done;
	return job;
}

void discover_job_free(struct discover_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->n_found; i++)
		discovered_clear(&job->found[i]);
	free(job->found);
	free(job->known);
	free(job->only);
	config_ref_put(job->cfg);
	free(job);
}

/* Linux 6.6 lets a listener pick event types: exec and comm only, instead
 * of every fork and exit on the machine. Older kernels ignore a listen
 * message of this size, so it is sent only where it is understood. */
struct proc_cn_filter {
	uint32_t mcast_op;
	uint32_t event_type;
};

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &ma, &mi) == 2 &&
	       (ma > major || (ma == major && mi >= minor));
}

/* Send a listen or ignore message for the proc connector's group. */
static int proc_connector_send_op(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		struct proc_cn_filter filter;
	} __attribute__((packed)) msg = {0};
	bool filtered = kernel_at_least(6, 6);

	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.filter.mcast_op = op;
	msg.filter.event_type = PROC_EVENT_EXEC | PROC_EVENT_COMM;
	msg.cn.len = filtered ? sizeof(msg.filter) : sizeof(msg.filter.mcast_op);
	size_t len = sizeof(msg) - sizeof(msg.filter) + msg.cn.len;
	msg.nl.nlmsg_len = (uint32_t)len;
	msg.nl.nlmsg_type = NLMSG_DONE;
	return send(fd, &msg, len, 0) < 0 ? -errno : 0;
}

int proc_connector_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	int r;

	if (fd < 0)
		return -errno;
	sa.nl_pid = 0; /* let the kernel pick a port id */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = proc_connector_send_op(fd, PROC_CN_MCAST_LISTEN);
	if (r < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

void proc_connector_close(int fd)
{
	if (fd < 0)
		return;
	/* The kernel counts listeners until they say "ignore" (closing does not
	 * tell it): without this, it builds proc events for nobody. */
	proc_connector_send_op(fd, PROC_CN_MCAST_IGNORE);
	close(fd);
}

int proc_connector_drain(int fd, pid_t **pids, size_t *n_pids, size_t *cap, size_t max_pids,
			 bool *overrun)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int events = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return events;
			if (errno == ENOBUFS) { /* overrun: events lost, a rescan covers it */
				*overrun = true;
				continue;
			}
			return -errno;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)))
				continue;
			/* cn->data sits at offset 36: copy it out aligned. */
			struct proc_event ev;
			memcpy(&ev, cn->data, sizeof(ev));
			pid_t pid;
			if (ev.what == PROC_EVENT_EXEC)
				pid = ev.event_data.exec.process_tgid;
			else if (ev.what == PROC_EVENT_COMM)
				pid = ev.event_data.comm.process_tgid;
			else
				continue;
			events++;
			if (*n_pids >= max_pids) {
				*overrun = true;
				continue;
			}
			if (grow_array((void **)pids, cap, *n_pids + 1, sizeof(**pids)) == 0)
				(*pids)[(*n_pids)++] = pid;
		}
	}
}
