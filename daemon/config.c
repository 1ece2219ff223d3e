/* SPDX-License-Identifier: MIT */
/*
 * Loading the config: the main file and its drop-ins (thpd.d/NAME.yaml, in
 * name order), then user names resolved through NSS. The parsing itself is
 * pure: config-yaml.c (YAML -> tree), config-fields.c and config-schema.c
 * (tree -> struct thpd_config), sharing config-internal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "util.h"

/* getpwnam_r with a growing buffer: 1 found, 0 unknown, negative errno. */
static int lookup_user(const char *name, uid_t *ret)
{
	struct passwd pw, *res = NULL;
	size_t size = 1024;
	char *buf = NULL;
	int r;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb) {
			r = -ENOMEM;
			goto out;
		}
		buf = nb;
		r = getpwnam_r(name, &pw, buf, size, &res);
		if (r != ERANGE || size >= (1U << 20))
			break;
		size *= 2;
	}
	if (res) {
		*ret = pw.pw_uid;
		r = 1;
	} else if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) {
		r = 0;
	} else {
		r = -r;
	}
out:
	free(buf);
	return r;
}

int config_resolve_users(struct thpd_config *cfg, struct config_diags *diags)
{
	char eb[ESC_BUF];
	bool failed = false;
	int res = 0;

	for (size_t i = 0; i < cfg->n_policies; i++) {
		struct policy_match *m = &cfg->policies[i].match;
		const char *file = cfg->policies[i].file;

		free(m->uids);
		m->uids = NULL;
		m->n_uids = 0;
		if (!m->user.n)
			continue;
		m->uids = calloc(m->user.n, sizeof(*m->uids));
		if (!m->uids) {
			config_diag_add(diags, file, 0, 0, "out of memory");
			return -ENOMEM;
		}
		for (size_t j = 0; j < m->user.n; j++) {
			const struct match_item *it = &m->user.v[j];
			uint64_t v;
			uid_t uid = 0;
			int r;

			if (config_parse_decimal(it->pattern, UINT32_MAX, &v)) {
				if ((uid_t)v != v || (uid_t)v == (uid_t)-1) {
					config_diag_add(diags, file, it->line, it->col,
							"bad uid \"%s\"",
							config_esc(it->pattern, eb, sizeof(eb)));
					failed = true;
					continue;
				}
				m->uids[m->n_uids++] = (uid_t)v;
				continue;
			}
			r = lookup_user(it->pattern, &uid);
			if (r > 0) {
				m->uids[m->n_uids++] = uid;
			} else if (r == 0) {
				config_diag_add(diags, file, it->line, it->col,
						"unknown user \"%s\"",
						config_esc(it->pattern, eb, sizeof(eb)));
				failed = true;
			} else {
				config_diag_add(diags, file, it->line, it->col,
						"cannot look up user \"%s\": %s",
						config_esc(it->pattern, eb, sizeof(eb)),
						strerror(-r));
				failed = true;
				if (r == -ENOMEM)
					res = -ENOMEM;
			}
		}
	}
	if (res < 0)
		return res;
	return failed ? -EINVAL : 0;
}

/* Regular-looking drop-in names: "*.yaml", not hidden. */
static int dropin_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 5 && streq(de->d_name + l - 5, ".yaml");
}

/* Keep the most telling error: anything beats -EINVAL, the first one wins. */
static void keep_err(int *res, int r)
{
	if (r < 0 && (*res == 0 || *res == -EINVAL))
		*res = r;
}

static int load_one(const char *path, struct thpd_config *cfg, struct config_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, &buf, &len);
	if (r < 0) {
		config_diag_add(diags, path, 0, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	r = config_parse(path, buf, len, cfg, diags);
	free(buf);
	return r;
}

int config_load(const char *main_path, struct thpd_config **ret, struct config_diags *diags)
{
	struct thpd_config *cfg = NULL;
	struct dirent **ents = NULL;
	char *dcopy = NULL, *ddir = NULL, *path = NULL;
	size_t diag0 = diags ? diags->n : 0;
	int nents = 0, res = 0, r;

	*ret = NULL;
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		config_diag_add(diags, main_path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	config_init(cfg);

	r = load_one(main_path, cfg, diags);
	if (r < 0 && r != -EINVAL) {
		res = r;
		goto out;
	}
	keep_err(&res, r);

	dcopy = strdup(main_path);
	if (!dcopy || asprintf(&ddir, "%s/thpd.d", dirname(dcopy)) < 0) {
		ddir = NULL;
		res = -ENOMEM;
		config_diag_add(diags, main_path, 0, 0, "out of memory");
		goto out;
	}
	nents = scandir(ddir, &ents, dropin_filter, alphasort);
	if (nents < 0) {
		r = -errno;
		nents = 0;
		if (r != -ENOENT && r != -ENOTDIR) {
			config_diag_add(diags, ddir, 0, 0, "cannot read directory: %s",
					strerror(-r));
			keep_err(&res, r);
		}
	}
	for (int i = 0; i < nents; i++) {
		struct stat st;

		free(path);
		if (asprintf(&path, "%s/%s", ddir, ents[i]->d_name) < 0) {
			path = NULL;
			keep_err(&res, -ENOMEM);
			config_diag_add(diags, main_path, 0, 0, "out of memory");
			break;
		}
		if (stat(path, &st) < 0) {
			r = -errno;
			config_diag_add(diags, path, 0, 0, "cannot read: %s", strerror(-r));
			keep_err(&res, r);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		keep_err(&res, load_one(path, cfg, diags));
	}

	if (res == 0)
		keep_err(&res, config_validate(cfg, diags));
	keep_err(&res, config_resolve_users(cfg, diags));

	/* Whole-config diagnostics have no file of their own: name the main one. */
	for (size_t i = diag0; diags && i < diags->n; i++) {
		if (!diags->v[i].file) {
			diags->v[i].file = strdup(main_path);
			if (!diags->v[i].file)
				keep_err(&res, -ENOMEM);
		}
	}
	if (res == 0) {
		*ret = cfg;
		cfg = NULL;
	}
out:
	for (int i = 0; i < nents; i++)
		free(ents[i]);
	free(ents);
	free(path);
	free(ddir);
	free(dcopy);
	if (cfg) {
		config_free(cfg);
		free(cfg);
	}
	return res;
}
