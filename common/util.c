/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK_MIN 4096U

uint64_t now_usec(void)
{
	struct timespec ts;

	/* Cannot fail for CLOCK_MONOTONIC with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/*
 * Reads fd to EOF, with read() or, if use_pread, pread() from offset 0. The stat size is
 * only a hint: /proc and sysfs files report 0 or a page.
 */
static int read_all(int fd, bool use_pread, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	size_t cap = READ_CHUNK_MIN, len = 0;
	char *buf;

	/* +2: the NUL, and room to see EOF without growing. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < SIZE_MAX / 2 && (size_t)st.st_size + 2 > cap)
		cap = (size_t)st.st_size + 2;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nbuf;

			if (cap > SIZE_MAX / 2) {
				free(buf);
				return -EFBIG;
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap *= 2;
		}
		if (use_pread)
			n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
		else
			n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int read_file_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len)
{
	int fd, r;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = read_all(fd, false, ret_buf, ret_len);
	close(fd);
	return r;
}

int read_fd_all(int fd, char **ret_buf, size_t *ret_len)
{
	return read_all(fd, true, ret_buf, ret_len);
}

int grow_array(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t ncap, bytes;
	void *nv;

	assert(elem > 0);
	if (need <= *cap)
		return 0;

	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (__builtin_mul_overflow(ncap, elem, &bytes))
		return -ENOMEM;

	nv = realloc(*v, bytes);
	if (!nv)
		return -ENOMEM;
	/* Zero the new tail so callers never see uninitialized elements. */
	memset((char *)nv + *cap * elem, 0, (ncap - *cap) * elem);
	*v = nv;
	*cap = ncap;
	return 0;
}

bool pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}
