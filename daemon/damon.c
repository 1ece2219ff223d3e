/* SPDX-License-Identifier: MIT */
/* DAMON vaddr monitoring through sysfs: thpd's kdamonds (see damon.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "damon.h"
#include "util.h"

#define MAX_SLOTS 64

static struct {
	char kdamonds[256]; /* ADMIN/kdamonds */
	unsigned slots;
	pid_t watched[MAX_SLOTS]; /* 0: none */
} pool;

static int write_at(const char *dir, const char *rel, const char *value)
{
	char path[512];
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != len)
		r = -EIO;
	close(fd);
	return r;
}

static int write_u64(const char *dir, const char *rel, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return write_at(dir, rel, buf);
}

/* The first line of dir/rel, trailing newline removed, into buf. */
static int read_line(const char *dir, const char *rel, char *buf, size_t len)
{
	char path[512], *text = NULL;
	size_t n;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_file_at(AT_FDCWD, path, &text, &n);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	free(text);
	return 0;
}

static void slot_dir(unsigned slot, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u", pool.kdamonds, slot);
}

/* One kdamond: a vaddr context, the attributes, one target, one stat scheme
 * over every region (access_pattern maxima default to 0: set them). */
static int setup_slot(unsigned slot, char *why, size_t why_len)
{
	char k[300], c[340];
	int r;

	slot_dir(slot, k, sizeof(k));
	snprintf(c, sizeof(c), "%s/contexts/0", k);
	static const struct {
		const char *rel;
		uint64_t v;
	} nums[] = {
	    {"monitoring_attrs/intervals/sample_us", DAMON_SAMPLE_US},
	    {"monitoring_attrs/intervals/aggr_us", DAMON_AGGR_US},
	    {"monitoring_attrs/intervals/update_us", DAMON_UPDATE_US},
	    {"monitoring_attrs/nr_regions/max", DAMON_MAX_REGIONS},
	    {"monitoring_attrs/nr_regions/min", DAMON_MIN_REGIONS},
	    {"targets/nr_targets", 1},
	    {"schemes/nr_schemes", 1},
	    {"schemes/0/access_pattern/sz/min", 0},
	    {"schemes/0/access_pattern/sz/max", UINT64_MAX},
	    {"schemes/0/access_pattern/nr_accesses/min", 0},
	    {"schemes/0/access_pattern/nr_accesses/max", UINT32_MAX},
	    {"schemes/0/access_pattern/age/min", 0},
	    {"schemes/0/access_pattern/age/max", UINT32_MAX},
	};

	if ((r = write_at(k, "contexts/nr_contexts", "1")) < 0) {
		snprintf(why, why_len, "cannot create a DAMON context: %s", strerror(-r));
		return r;
	}
	if ((r = write_at(c, "operations", "vaddr")) < 0) {
		snprintf(why, why_len,
			 "the kernel has no DAMON virtual-address operations (vaddr)");
		return r == -EINVAL ? -EOPNOTSUPP : r;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((r = write_u64(c, nums[i].rel, nums[i].v)) < 0) {
			snprintf(why, why_len, "cannot set DAMON's %s: %s", nums[i].rel,
				 strerror(-r));
			return r;
		}
	if ((r = write_at(c, "schemes/0/action", "stat")) < 0) {
		snprintf(why, why_len, "cannot set a DAMON stat scheme: %s", strerror(-r));
		return r;
	}
	/* tried_regions (6.2+) is what thpd reads the regions from. */
	char tried[400];
	snprintf(tried, sizeof(tried), "%s/schemes/0/tried_regions", c);
	if (access(tried, F_OK) < 0) {
		snprintf(why, why_len,
			 "DAMON has no tried_regions (Linux 6.2+) to read regions from");
		return -EOPNOTSUPP;
	}
	return 0;
}

int damon_pool_open(const char *admin, unsigned slots, char *why, size_t why_len)
{
	char buf[32];
	int r;

	if (pool.slots)
		return 0;
	if (slots == 0 || slots > MAX_SLOTS)
		return -EINVAL;
	snprintf(pool.kdamonds, sizeof(pool.kdamonds), "%s/kdamonds", admin);
	r = read_line(pool.kdamonds, "nr_kdamonds", buf, sizeof(buf));
	if (r < 0) {
		snprintf(why, why_len, "%s/nr_kdamonds: %s", pool.kdamonds,
			 r == -ENOENT ? "no DAMON sysfs interface (CONFIG_DAMON_SYSFS)"
				      : strerror(-r));
		return r;
	}
	if (strtoul(buf, NULL, 10) != 0) {
		snprintf(why, why_len,
			 "%s kdamond(s) already exist: DAMON is in use by someone else, "
			 "thpd leaves it alone",
			 buf);
		return -EBUSY;
	}
	snprintf(buf, sizeof(buf), "%u", slots);
	r = write_at(pool.kdamonds, "nr_kdamonds", buf);
	if (r < 0) {
		snprintf(why, why_len, "cannot create kdamonds (%s/nr_kdamonds): %s", pool.kdamonds,
			 strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < slots; i++) {
		r = setup_slot(i, why, why_len);
		if (r < 0) {
			write_at(pool.kdamonds, "nr_kdamonds", "0");
			return r;
		}
	}
	pool.slots = slots;
	memset(pool.watched, 0, sizeof(pool.watched));
	return 0;
}

unsigned damon_pool_slots(void)
{
	return pool.slots;
}

static bool slot_running(unsigned slot)
{
	char k[300], state[32];

	slot_dir(slot, k, sizeof(k));
	return read_line(k, "state", state, sizeof(state)) == 0 && strcmp(state, "on") == 0;
}

void damon_slot_stop(unsigned slot)
{
	char k[300];

	if (slot >= pool.slots)
		return;
	slot_dir(slot, k, sizeof(k));
	if (slot_running(slot))
		write_at(k, "state", "off");
	pool.watched[slot] = 0;
}

int damon_slot_watch(unsigned slot, pid_t pid)
{
	char k[300];
	int r;

	if (slot >= pool.slots)
		return -EINVAL;
	damon_slot_stop(slot);
	slot_dir(slot, k, sizeof(k));
	if ((r = write_u64(k, "contexts/0/targets/0/pid_target", (uint64_t)pid)) < 0)
		return r;
	if ((r = write_at(k, "state", "on")) < 0)
		return r;
	pool.watched[slot] = pid;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int read_u64_at(int dirfd, const char *rel, uint64_t *v)
{
	char *text = NULL, *end;
	size_t n;
	int r = read_file_at(dirfd, rel, &text, &n);

	if (r < 0)
		return r;
	errno = 0;
	*v = strtoull(text, &end, 10);
	r = (errno || end == text) ? -EINVAL : 0;
	free(text);
	return r;
}

int damon_read_tried_regions(int dirfd, struct hot_region **ret, size_t *n)
{
	int dfd = dup(dirfd);
	DIR *d;
	struct dirent *e;
	struct hot_region *v = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	*ret = NULL;
	*n = 0;
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		char rel[300];
		uint64_t start, end, nr;
		if (!all_digits(e->d_name))
			continue; /* ".", "..", total_bytes */
		snprintf(rel, sizeof(rel), "%s/start", e->d_name);
		if ((r = read_u64_at(dirfd, rel, &start)) < 0)
			break;
		snprintf(rel, sizeof(rel), "%s/end", e->d_name);
		if ((r = read_u64_at(dirfd, rel, &end)) < 0)
			break;
		snprintf(rel, sizeof(rel), "%s/nr_accesses", e->d_name);
		if ((r = read_u64_at(dirfd, rel, &nr)) < 0)
			break;
		if (end <= start)
			continue;
		if ((r = grow_array((void **)&v, &cap, len + 1, sizeof(*v))) < 0)
			break;
		v[len++] =
		    (struct hot_region){start, end,
					hotmap_damon_bp(nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr,
							DAMON_MAX_ACCESSES)};
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	hotmap_sort(v, len);
	*ret = v;
	*n = len;
	return 0;
}

int damon_slot_snapshot(unsigned slot, pid_t pid, struct hot_region **ret, size_t *n)
{
	char k[300], tried[400];
	int r, dfd;

	*ret = NULL;
	*n = 0;
	if (slot >= pool.slots || pool.watched[slot] != pid || !slot_running(slot))
		return -ESRCH;
	slot_dir(slot, k, sizeof(k));
	/* Blocks until the kdamond has filled the directory (1-2 aggregations). */
	if ((r = write_at(k, "state", "update_schemes_tried_regions")) < 0)
		return r == -EINVAL ? -ESRCH : r; /* EINVAL: the kdamond is off */
	snprintf(tried, sizeof(tried), "%s/contexts/0/schemes/0/tried_regions", k);
	dfd = open(tried, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = damon_read_tried_regions(dfd, ret, n);
	close(dfd);
	return r;
}

void damon_pool_close(void)
{
	if (!pool.slots)
		return;
	for (unsigned i = 0; i < pool.slots; i++)
		damon_slot_stop(i);
	write_at(pool.kdamonds, "nr_kdamonds", "0");
	pool.slots = 0;
}
