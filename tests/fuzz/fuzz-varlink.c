/* SPDX-License-Identifier: MIT */
/*
 * The control-message path without sockets: the input is what a client
 * writes, NUL-terminated messages back to back (a trailing unterminated one
 * counts too). Each message goes through varlink_parse_call, as in
 * control.c's handle_message; a parse error that closes the connection ends
 * the input. Each call is dispatched with methods_call twice, as an
 * unprivileged and as a privileged peer, against one real manager; the reply
 * is then wrapped and serialized the way control.c sends it.
 *
 * The manager is built once from a literal config and never started: no
 * workers, no timers, no proc connector, no targets (every pid is "no such
 * target"). manager_stop() on it sets the stopping flag, so the methods that
 * would kick the scan timer or the workers (Resume, Collapse, the rediscovery
 * after Reload) leave them alone; its config file is a memfd, so Reload
 * really re-reads and swaps the config.
 *
 * Contract checked: an unprivileged peer cannot pause everything, reload or
 * read the counters (methods.c's table), every reply is a known error or a
 * success, and every reply serializes.
 */
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "fuzz.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "varlink.h"

static const char fuzz_config[] = "daemon:\n"
				  "  scan_interval: 1s\n"
				  "policies:\n"
				  "  - name: fuzz\n"
				  "    match: {comm: [\"thpd-fuzz-*\"], min_anon: 1GiB}\n"
				  "    max_rate: 64MiB\n"
				  "  - name: never\n"
				  "    match: {exe: [\"/nonexistent/*\"]}\n"
				  "    ignore: true\n";

static struct manager *fuzz_manager(void)
{
	static struct manager *m;
	static struct event_base *base;
	struct config_diags diags = {0};
	struct thpd_config *cfg;
	char path[64];
	int fd;

	if (m)
		return m;
	log_setup(LOG_CRIT, LOG_TARGET_STDERR); /* Pause/Resume/Reload log at notice */
	fd = memfd_create("thpd-fuzz.yaml", MFD_CLOEXEC);
	fuzz_check(fd >= 0);
	fuzz_check(write(fd, fuzz_config, strlen(fuzz_config)) == (ssize_t)strlen(fuzz_config));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cfg = malloc(sizeof(*cfg));
	fuzz_check(cfg);
	config_init(cfg);
	fuzz_check(config_parse(path, fuzz_config, strlen(fuzz_config), cfg, &diags) == 0);
	fuzz_check(config_validate(cfg, &diags) == 0);
	base = event_base_new();
	fuzz_check(base);
	fuzz_check(manager_new(base, path, cfg, &m) == 0);
	manager_stop(m);
	return m;
}

static bool known_error(const char *e)
{
	static const char *const errors[] = {
	    VARLINK_ERR_METHOD_NOT_FOUND,    VARLINK_ERR_INVALID_PARAM, VARLINK_ERR_PERMISSION,
	    VARLINK_ERR_INTERFACE_NOT_FOUND, THPD_ERR_NO_SUCH_TARGET,	THPD_ERR_RELOAD_FAILED,
	    THPD_ERR_TARGET_NOT_ACTIVE,	     VARLINK_ERR_EXPECTED_MORE,
	};

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(e, errors[i]) == 0)
			return true;
	return false;
}

/* control.c's send_json: compact JSON; the NUL is the framing. */
static void serialize(json_t *msg)
{
	char *s;

	fuzz_check(msg);
	s = json_dumps(msg, JSON_COMPACT);
	fuzz_check(s);
	free(s);
	json_decref(msg);
}

/* control.c's handle_message from methods_call on, minus the socket. */
static void dispatch(struct manager *m, const struct peer *peer, const struct varlink_call *call)
{
	struct call_flags flags = {.more = call->more};
	struct method_reply reply = {0};

	fuzz_check(methods_call(m, NULL, peer, call->method, call->parameters, &flags, &reply) ==
		   0);
	fuzz_check(!reply.error || known_error(reply.error));
	if (call->oneway) {
		json_decref(reply.parameters);
		return;
	}
	if (reply.error) {
		serialize(json_pack("{s:s, s:o}", "error", reply.error, "parameters",
				    reply.parameters ? reply.parameters : json_object()));
	} else {
		json_t *msg = json_pack("{s:o}", "parameters",
					reply.parameters ? reply.parameters : json_object());
		if (msg && reply.subscribe)
			json_object_set_new(msg, "continues", json_true());
		serialize(msg);
	}
}

static bool is_call(const struct varlink_call *call, const char *method)
{
	return strcmp(call->method, method) == 0;
}

static void fuzz_call(struct manager *m, const struct varlink_call *call)
{
	static const struct peer user = {.pid = 4242, .uid = 65534, .gid = 65534};
	static const struct peer root = {.pid = 1, .uid = 0, .gid = 0, .privileged = true};
	uint64_t until;
	const char *paused = manager_pause_reason(m, 0, &until);
	unsigned generation = manager_config_generation(m);
	uint64_t reloads = manager_counters(m)->reload_failures + manager_counters(m)->reloads;
	struct method_reply reply = {0};
	struct call_flags flags = {.more = call->more};

	dispatch(m, &user, call);
	/* Operator actions on the whole daemon are for privileged peers. */
	fuzz_check(manager_pause_reason(m, 0, &until) == paused);
	fuzz_check(manager_config_generation(m) == generation);
	fuzz_check(manager_counters(m)->reload_failures + manager_counters(m)->reloads == reloads);
	if (is_call(call, "io.thpd.Manager.GetCounters") ||
	    is_call(call, "io.thpd.Manager.Reload")) {
		methods_call(m, NULL, &user, call->method, call->parameters, &flags, &reply);
		fuzz_check(reply.error && strcmp(reply.error, VARLINK_ERR_PERMISSION) == 0);
		json_decref(reply.parameters);
	}
	dispatch(m, &root, call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manager *m = fuzz_manager();
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul ? nul : end) - p);
		struct varlink_call call;
		const char *error;
		char *error_param;
		int r;

		if (len > CONTROL_MAX_MESSAGE)
			break; /* control.c disconnects */
		r = varlink_parse_call(p, len, &call, &error, &error_param);
		fuzz_check(r == 0 || r == -EBADMSG || r == -EINVAL);
		if (r == -EBADMSG) {
			fuzz_check(!error && !call.message);
			free(error_param);
			break; /* control.c closes the connection */
		}
		if (r == -EINVAL) {
			fuzz_check(error && strcmp(error, VARLINK_ERR_INVALID_PARAM) == 0);
			fuzz_check(error_param && !call.message);
			serialize(json_pack("{s:s, s:{s:s}}", "error", error, "parameters",
					    "parameter", error_param));
			free(error_param);
		} else {
			fuzz_check(call.method && !error && !error_param);
			fuzz_check(!call.parameters || json_is_object(call.parameters));
			fuzz_call(m, &call);
			varlink_call_free(&call);
		}
		if (!nul)
			break;
		p = nul + 1;
	}
	return 0;
}
