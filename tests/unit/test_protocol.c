/* SPDX-License-Identifier: MIT */
/*
 * common/protocol.h against the schema, daemon/io.thpd.Manager.varlink: the
 * same interface, the same methods, the same errors. Arguments: the paths of
 * protocol.h and of the .varlink file (tests/unit/meson.build passes them).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

#define MAX_NAMES 64
#define NAME_LEN  128

static const char *header_path, *idl_path;

static const char *const methods[] = {THPD_ALL_METHODS};
static const char *const errors[] = {THPD_ALL_ERRORS};

/* What the .varlink file declares; names are full ("io.thpd.Manager.X"). */
struct idl {
	char interface[NAME_LEN];
	char methods[MAX_NAMES][NAME_LEN];
	size_t n_methods;
	char errors[MAX_NAMES][NAME_LEN];
	size_t n_errors;
};

/* "  method GetTarget(pid: int) -> ..." with keyword "method" -> "GetTarget". */
static bool declared(const char *line, const char *keyword, char *name, size_t len)
{
	size_t k = strlen(keyword), n;

	line += strspn(line, " \t");
	if (strncmp(line, keyword, k) != 0 || (line[k] != ' ' && line[k] != '\t'))
		return false;
	line += k;
	line += strspn(line, " \t");
	n = strcspn(line, " \t(\r\n");
	assert_true(n > 0 && n < len);
	memcpy(name, line, n);
	name[n] = '\0';
	return true;
}

static void add_name(char (*names)[NAME_LEN], size_t *n, const char *interface, const char *name)
{
	assert_true(*n < MAX_NAMES);
	assert_true(*interface); /* "interface" comes first */
	assert_true(snprintf(names[*n], NAME_LEN, "%s.%s", interface, name) < NAME_LEN);
	(*n)++;
}

static void read_idl(struct idl *idl)
{
	FILE *f = fopen(idl_path, "r");
	char *line = NULL, name[NAME_LEN];
	size_t cap = 0;

	assert_non_null(f);
	memset(idl, 0, sizeof(*idl));
	while (getline(&line, &cap, f) >= 0) {
		if (line[strspn(line, " \t")] == '#')
			continue;
		if (declared(line, "interface", name, sizeof(name))) {
			assert_string_equal(idl->interface, ""); /* one interface per file */
			strcpy(idl->interface, name);
		} else if (declared(line, "method", name, sizeof(name))) {
			add_name(idl->methods, &idl->n_methods, idl->interface, name);
		} else if (declared(line, "error", name, sizeof(name))) {
			add_name(idl->errors, &idl->n_errors, idl->interface, name);
		}
	}
	free(line);
	fclose(f);
}

/* Lines of protocol.h that start with "#define PREFIX". */
static size_t count_defines(const char *prefix)
{
	FILE *f = fopen(header_path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, k = strlen(prefix);

	assert_non_null(f);
	while (getline(&line, &cap, f) >= 0)
		if (strncmp(line, "#define ", 8) == 0 && strncmp(line + 8, prefix, k) == 0)
			n++;
	free(line);
	fclose(f);
	return n;
}

static bool in(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Every name in a is in b, once; and the other way round. */
static void assert_same_names(const char *const *a, size_t n_a, char (*b)[NAME_LEN], size_t n_b)
{
	const char *bp[MAX_NAMES];

	for (size_t i = 0; i < n_b; i++)
		bp[i] = b[i];
	for (size_t i = 0; i < n_a; i++) {
		if (!in(a[i], bp, n_b))
			fail_msg("%s (protocol.h) is not declared in %s", a[i], idl_path);
		if (in(a[i], a, i))
			fail_msg("%s twice in protocol.h", a[i]);
	}
	for (size_t i = 0; i < n_b; i++) {
		if (!in(bp[i], a, n_a))
			fail_msg("%s (%s) is missing from protocol.h", bp[i], idl_path);
		if (in(bp[i], bp, i))
			fail_msg("%s declared twice in %s", bp[i], idl_path);
	}
}

static void test_interface(void **state)
{
	struct idl idl;
	(void)state;

	read_idl(&idl);
	assert_string_equal(idl.interface, THPD_INTERFACE);
}

static void test_methods(void **state)
{
	struct idl idl;
	(void)state;

	read_idl(&idl);
	assert_true(idl.n_methods > 0);
	assert_same_names(methods, sizeof(methods) / sizeof(methods[0]), idl.methods,
			  idl.n_methods);
}

static void test_errors(void **state)
{
	struct idl idl;
	(void)state;

	read_idl(&idl);
	assert_true(idl.n_errors > 0);
	assert_same_names(errors, sizeof(errors) / sizeof(errors[0]), idl.errors, idl.n_errors);
}

/* THPD_ALL_METHODS and THPD_ALL_ERRORS name every THPD_METHOD_* and THPD_ERR_*. */
static void test_lists_complete(void **state)
{
	(void)state;

	assert_int_equal(count_defines("THPD_METHOD_"), sizeof(methods) / sizeof(methods[0]));
	assert_int_equal(count_defines("THPD_ERR_"), sizeof(errors) / sizeof(errors[0]));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interface),
	    cmocka_unit_test(test_methods),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_lists_complete),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s PROTOCOL_H IDL_FILE\n", argv[0]);
		return 2;
	}
	header_path = argv[1];
	idl_path = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
