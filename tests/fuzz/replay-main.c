/* SPDX-License-Identifier: MIT */
/*
 * Replays corpus files through a harness without libFuzzer, so that every
 * harness runs its seeds and crash reproducers as a normal test:
 *   fuzz-replay-HARNESS DIR|FILE...
 * Each file is read into a buffer of exactly its size (sanitizer builds see
 * any read past the end). Fails if no input was found at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: short read\n", path);
			goto out;
		}
		got += (size_t)n;
	}
	LLVMFuzzerTestOneInput(buf, got);
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

static int not_hidden(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	unsigned n = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;
		int nents;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed += replay_file(argv[i]) < 0;
			n++;
			continue;
		}
		nents = scandir(argv[i], &ents, not_hidden, alphasort);
		if (nents < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		for (int j = 0; j < nents; j++) {
			char *path;

			if (asprintf(&path, "%s/%s", argv[i], ents[j]->d_name) < 0) {
				failed++;
			} else {
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
					fprintf(stderr, "replay %s\n", path);
					failed += replay_file(path) < 0;
					n++;
				}
				free(path);
			}
			free(ents[j]);
		}
		free(ents);
	}
	printf("replayed %u inputs, %u unreadable\n", n, failed);
	return n > 0 && failed == 0 ? 0 : 1;
}
