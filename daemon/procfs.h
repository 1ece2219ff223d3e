/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for /proc/PID/{smaps,maps,status,cgroup}. They take a buffer,
 * never a path, so tests feed them recorded files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vma_flag {
	VMA_READ = 1u << 0,
	VMA_WRITE = 1u << 1,
	VMA_EXEC = 1u << 2,
	VMA_SHARED = 1u << 3,	    /* 's' in perms */
	VMA_ANON = 1u << 4,	    /* private, no backing file (incl. [heap], [stack], [anon:x]) */
	VMA_SHMEM = 1u << 5,	    /* shared memory: /dev/zero, memfd:, SYSV, /dev/shm/ */
	VMA_HG = 1u << 6,	    /* VmFlags hg: MADV_HUGEPAGE */
	VMA_NH = 1u << 7,	    /* VmFlags nh: MADV_NOHUGEPAGE */
	VMA_THP_ELIGIBLE = 1u << 8, /* THPeligible: 1 */
	VMA_SPECIAL = 1u << 9,	    /* [vsyscall], [vdso], [vvar], io/pfnmap (VmFlags io, pf) */
	VMA_HAS_SMAPS = 1u << 10,   /* fields below the header were parsed (smaps, not maps) */
};

struct vma {
	uint64_t start, end;
	uint32_t flags; /* enum vma_flag */
	uint64_t inode;
	/* smaps only (bytes); 0 from maps */
	uint64_t rss;
	uint64_t anonymous;
	uint64_t anon_huge;
	uint64_t shmem_pmd_mapped;
	uint64_t referenced;
};

struct vma_list {
	struct vma *v;
	size_t n, cap;
};

/*
 * Parse /proc/PID/smaps (or maps) text into out (appended). Returns 0 or
 * -EINVAL on malformed input (out then holds the VMAs parsed before it),
 * -ENOMEM.
 */
int smaps_parse(const char *buf, size_t len, struct vma_list *out);
int maps_parse(const char *buf, size_t len, struct vma_list *out);
void vma_list_free(struct vma_list *l);

struct proc_status {
	char name[64];
	uid_t uid;	  /* real uid */
	uid_t euid, suid; /* effective, saved */
	gid_t gid, egid, sgid;
	int thp_enabled;    /* THP_enabled: 1/0, -1 if the line is absent */
	uint64_t rss_anon;  /* RssAnon in bytes */
	uint64_t rss_shmem; /* RssShmem in bytes */
};

/* /proc/PID/status. Returns 0 or -EINVAL if Uid: or Gid: is missing or
 * malformed (each holds real, effective, saved and filesystem ids). */
int status_parse(const char *buf, size_t len, struct proc_status *out);

/*
 * /proc/PID/cgroup -> path of the memory cgroup: the v1 line whose
 * controller list contains "memory" if any, else the v2 "0::" line.
 * Writes into out (NUL-terminated). Returns 0, -ENOENT if none, -ENAMETOOLONG.
 */
int cgroup_memory_path(const char *buf, size_t len, char *out, size_t outlen);

/* /proc/PID/stat field 22 (starttime, clock ticks) for pid identity. 0 or -EINVAL. */
int stat_starttime(const char *buf, size_t len, uint64_t *ret);

/* What /proc/PID/stat tells cheaply: identity and a memory fingerprint. */
struct proc_stat {
	char comm[64];	    /* field 2, between the first '(' and the last ')' */
	char state;	    /* field 3: R, S, D, Z (zombie), X (dead), ... */
	uint64_t minflt;    /* field 10: minor faults (new pages touched) */
	uint64_t majflt;    /* field 12 */
	uint64_t utime;	    /* field 14: clock ticks in user mode */
	uint64_t stime;	    /* field 15: clock ticks in kernel mode */
	uint64_t starttime; /* field 22 */
	uint64_t vsize;	    /* field 23: bytes of address space */
	uint64_t rss;	    /* field 24: resident pages */
};

/* 0 or -EINVAL (a truncated or malformed line). */
int stat_parse(const char *buf, size_t len, struct proc_stat *out);
