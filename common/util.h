/* SPDX-License-Identifier: MIT */
/* Small helpers shared by daemon and client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

#define PAGE_SIZE_4K	 4096ULL
#define PMD_SIZE_2M	 (2ULL << 20)
#define PAGES_PER_PMD	 512U
#define ALIGN_UP_2M(x)	 (((x) + PMD_SIZE_2M - 1) & ~(PMD_SIZE_2M - 1))
#define ALIGN_DOWN_2M(x) ((x) & ~(PMD_SIZE_2M - 1))

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* CLOCK_MONOTONIC in microseconds. */
uint64_t now_usec(void);

/*
 * Read a whole file (including /proc files that report size 0) relative to
 * dirfd (AT_FDCWD for plain paths) into a NUL-terminated malloc'd buffer.
 * Returns 0 or a negative errno; *ret_buf is owned by the caller.
 */
int read_file_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len);

/* Same, from an already open fd (read from offset 0 with pread). */
int read_fd_all(int fd, char **ret_buf, size_t *ret_len);

/* Grow *v (of *cap elements of size elem) to hold at least need. 0 or -ENOMEM. */
int grow_array(void **v, size_t *cap, size_t need, size_t elem);

/*
 * Is the process behind this pidfd still alive? A signal-0 probe: EPERM
 * (no CAP_KILL over another user's process) still means it exists.
 */
bool pidfd_alive(int pidfd);
