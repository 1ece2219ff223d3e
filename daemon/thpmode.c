/* SPDX-License-Identifier: MIT */
#include "thpmode.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *thp_mode_parse(const char *text, char *buf, size_t len)
{
	const char *l = strchr(text, '['), *r = l ? strchr(l, ']') : NULL;

	if (l && r)
		snprintf(buf, len, "%.*s", (int)(r - l - 1), l + 1);
	else
		snprintf(buf, len, "unknown");
	return buf;
}

const char *thp_mode_read(char *buf, size_t len)
{
	return thp_mode_read_path(THP_ENABLED_PATH, buf, len);
}

const char *thp_mode_read_path(const char *path, char *buf, size_t len)
{
	char *text = NULL;
	size_t n;

	if (read_file_at(AT_FDCWD, path, &text, &n) < 0)
		return thp_mode_parse("", buf, len);
	thp_mode_parse(text, buf, len);
	free(text);
	return buf;
}
