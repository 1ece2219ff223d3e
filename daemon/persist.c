/* SPDX-License-Identifier: MIT */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* A state file larger than this is not ours. */
#define STATE_MAX_FILE (64u << 20)

int persist_load(const char *dir, struct saved_state *state, const char **why)
{
	char path[4096], *buf = NULL;
	size_t len;
	json_error_t jerr;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	r = read_file_at(AT_FDCWD, path, &buf, &len);
	if (r < 0)
		return r;
	if (len > STATE_MAX_FILE) {
		free(buf);
		*why = "too large";
		return -EINVAL;
	}
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!j) {
		*why = "not valid JSON";
		return -EINVAL;
	}
	r = state_from_json(j, state, why);
	json_decref(j);
	return r;
}

int persist_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], tmp[4096];
	size_t dlen;
	int fd, dfd, r = 0;

	if (!slash)
		return -EINVAL;
	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= sizeof(dir) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp", (int)(slash - path), path,
			     slash + 1) >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* The umask does not decide who may read it (thpd.service: 0077). */
	if (fchmod(fd, mode) < 0)
		r = -errno;
	for (size_t off = 0; r == 0 && off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* Make the rename itself durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			r = -errno;
		close(dfd);
	}
	return r;
}

int persist_write(const char *dir, const char *data)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	return persist_write_atomic(path, data, strlen(data), 0600);
}

static void persist_run(struct work *w, const atomic_bool *stop)
{
	struct persist_job *job = (struct persist_job *)w;

	job->err = persist_write(job->dir, job->data);
}

struct persist_job *persist_job_new(const char *dir, char *data,
				    void (*done)(struct work *, bool, void *))
{
	struct persist_job *job = calloc(1, sizeof(*job));

	if (!job || !(job->dir = strdup(dir))) {
		free(job);
		free(data);
		return NULL;
	}
	job->data = data;
	job->work.run = persist_run;
	job->work.done = done;
	return job;
}

void persist_job_free(struct persist_job *job)
{
	if (!job)
		return;
	free(job->dir);
	free(job->data);
	free(job);
}
