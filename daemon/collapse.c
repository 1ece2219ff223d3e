/* SPDX-License-Identifier: MIT */
#include "collapse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"
#include "errno-policy.h"

bool maps_covers(const char *maps, size_t len, uint64_t start, uint64_t end)
{
	struct vma_list l = {0};
	uint64_t pos = start;

	if (maps_parse(maps, len, &l) < 0 && l.n == 0)
		return false;
	/* maps is sorted; walk forward extending the covered prefix. */
	for (size_t i = 0; i < l.n && pos < end; i++) {
		if (l.v[i].end <= pos)
			continue;
		if (l.v[i].start > pos)
			break;
		pos = l.v[i].end;
	}
	vma_list_free(&l);
	return pos >= end;
}

static bool chunk_still_mapped(pid_t pid, uint64_t addr)
{
	char path[64], *buf = NULL;
	size_t len;
	bool mapped;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (read_file_at(AT_FDCWD, path, &buf, &len) < 0)
		return false;
	mapped = maps_covers(buf, len, addr, addr + PMD_SIZE_2M);
	free(buf);
	return mapped;
}

static int madvise_collapse(int pidfd, uint64_t addr)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)addr, .iov_len = PMD_SIZE_2M};

	return syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_COLLAPSE, 0) >= 0 ? 0 : errno;
}

int collapse_chunk(int pidfd, pid_t pid, uint64_t addr)
{
	int err = madvise_collapse(pidfd, addr);

	if (err != ENOMEM)
		return err;
	/* ENOMEM also means "not mapped": only the maps can tell them apart
	 * (the pidfd check makes sure /proc/PID was still our process). The
	 * range may also have been unmapped and mapped again between the call
	 * and the check, so a mapped range gets one more try before ENOMEM is
	 * believed: a real allocation failure fails again. */
	if (pidfd_alive(pidfd) && !chunk_still_mapped(pid, addr))
		return COLLAPSE_ERR_UNMAPPED;
	err = madvise_collapse(pidfd, addr);
	if (err == ENOMEM && pidfd_alive(pidfd) && !chunk_still_mapped(pid, addr))
		return COLLAPSE_ERR_UNMAPPED;
	return err;
}

/* AnonHugePages + ShmemPmdMapped of the whole process, bytes; -1 on error. */
int64_t process_cpu_ticks(pid_t pid)
{
	struct proc_stat ps;
	char path[64], *buf = NULL;
	size_t len;
	int64_t ticks = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file_at(AT_FDCWD, path, &buf, &len) < 0)
		return -1;
	if (stat_parse(buf, len, &ps) == 0 && ps.utime + ps.stime <= INT64_MAX)
		ticks = (int64_t)(ps.utime + ps.stime);
	free(buf);
	return ticks;
}

static int64_t process_huge_bytes(pid_t pid)
{
	struct vma_list l = {0};
	char path[64], *buf = NULL;
	size_t len;
	int64_t huge = -1;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_file_at(AT_FDCWD, path, &buf, &len) < 0)
		return -1;
	if (smaps_parse(buf, len, &l) == 0 && l.n == 1)
		huge = (int64_t)(l.v[0].anon_huge + l.v[0].shmem_pmd_mapped);
	free(buf);
	vma_list_free(&l);
	return huge;
}

uint32_t collapse_new_huge(const struct collapse_job *job, uint32_t certain_ok, uint32_t maybe_ok)
{
	int64_t grown;
	uint64_t chunks;

	if (maybe_ok == 0)
		return certain_ok;
	/* Unknown: believe the kernel's success, as on other kernels. */
	if (job->huge_before < 0 || job->huge_after < 0)
		return certain_ok + maybe_ok;
	grown = job->huge_after - job->huge_before;
	chunks = grown > 0 ? (uint64_t)grown / PMD_SIZE_2M : 0;
	return (uint32_t)MIN(MAX(chunks, (uint64_t)certain_ok), (uint64_t)certain_ok + maybe_ok);
}

static void collapse_run(struct work *w, const atomic_bool *stop)
{
	struct collapse_job *job = (struct collapse_job *)w;

	job->started_usec = now_usec();
	if (job->verify)
		job->huge_before = process_huge_bytes(job->pid);
	for (size_t i = 0; i < job->n; i++)
		job->errs[i] = COLLAPSE_NOT_TRIED;
	for (size_t i = 0; i < job->n; i++) {
		if (atomic_load(stop))
			break;
		uint64_t t0 = now_usec();
		int err = job->inject_errno > 0
			      ? job->inject_errno
			      : collapse_chunk(job->pidfd, job->pid, job->addrs[i]);
		uint64_t took = now_usec() - t0;
		histogram_add(&job->latency, took);
		job->calls_usec += took;
		job->errs[i] = err;
		if (errno_policy_ends_job(err))
			break;
	}
	if (job->verify)
		job->huge_after = process_huge_bytes(job->pid);
	if (job->want_cpu)
		job->cpu_ticks = process_cpu_ticks(job->pid);
	job->finished_usec = now_usec();
}

struct collapse_job *collapse_job_new(uint64_t target_id, pid_t pid, int pidfd, size_t n,
				      void (*done)(struct work *, bool, void *))
{
	struct collapse_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->addrs = calloc(n ? n : 1, sizeof(*job->addrs));
	job->errs = calloc(n ? n : 1, sizeof(*job->errs));
	job->maybe = calloc(n ? n : 1, sizeof(*job->maybe));
	job->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	job->huge_before = job->huge_after = -1;
	if (!job->addrs || !job->errs || !job->maybe || job->pidfd < 0) {
		collapse_job_free(job);
		return NULL;
	}
	job->target_id = target_id;
	job->pid = pid;
	job->n = n;
	job->work.run = collapse_run;
	job->work.done = done;
	return job;
}

void collapse_job_free(struct collapse_job *job)
{
	if (!job)
		return;
	if (job->pidfd >= 0)
		close(job->pidfd);
	free(job->addrs);
	free(job->errs);
	free(job->maybe);
	free(job);
}
