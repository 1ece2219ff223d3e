/* SPDX-License-Identifier: MIT */
/* thpd: arguments, --check-config, event loop start-up, signals, sd_notify. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "caps.h"
#include "config.h"
#include "control.h"
#include "kfeatures.h"
#include "log.h"
#include "manager.h"
#include "metrics-textfile.h"
#include "util.h"

struct options {
	const char *config_path;
	const char *socket_path; /* NULL: from config, else built-in default */
	const char *state_dir;	 /* NULL: $STATE_DIRECTORY (systemd), else none */
	bool foreground;
	bool check_config;
	int log_level;
};

struct daemon_ctx {
	struct event_base *base;
	struct manager *manager;
	struct control *control;
	struct metrics_textfile *metrics; /* daemon.metrics_textfile */
	struct event *watchdog_ev;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: thpd [OPTIONS]\n"
		"\n"
		"Collapse the hot memory of the processes a policy selects into transparent\n"
		"huge pages with process_madvise(MADV_COLLAPSE).\n"
		"\n"
		"  -c, --config FILE     policy file (default %s); drop-ins are read from\n"
		"                        thpd.d/*.yaml beside it, in name order\n"
		"  -s, --socket PATH     control socket (default: daemon.socket from the\n"
		"                        config, else %s)\n"
		"  -f, --foreground      do not detach (implied when started by systemd)\n"
		"      --state-dir DIR   keep backoffs, quarantines, pauses and counters in\n"
		"                        DIR/state.json across restarts (default:\n"
		"                        $STATE_DIRECTORY, set by systemd; else none)\n"
		"      --check-config    validate the policy, print file:line:column: message\n"
		"                        for each problem, exit 0 (valid) or 1\n"
		"  -l, --log-level LVL   error, warning, notice, info (default) or debug\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Signals: SIGHUP reloads the policy (a bad one is reported, the old one stays);\n"
		"SIGTERM and SIGINT stop.\n",
		THPD_DEFAULT_CONFIG, THPD_DEFAULT_SOCKET);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 0x100, OPT_STATE_DIR };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"check-config", no_argument, NULL, OPT_CHECK},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"log-level", required_argument, NULL, 'l'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	*o = (struct options){.config_path = THPD_DEFAULT_CONFIG, .log_level = LOG_INFO};
	while ((c = getopt_long(argc, argv, "c:s:fl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case OPT_CHECK:
			o->check_config = true;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case 'l':
			if (log_parse_level(optarg, &o->log_level) < 0) {
				fprintf(stderr,
					"thpd: --log-level: unknown level \"%s\" (expected "
					"error, warning, notice, info or debug)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'V':
			printf("thpd %s\n", THPD_VERSION);
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "Try 'thpd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "thpd: unexpected argument \"%s\"\nTry 'thpd --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void print_diags(FILE *f, const struct config_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct config_diag *x = &d->v[i];
		if (x->line)
			fprintf(f, "%s:%u:%u: %s\n", x->file, x->line, x->col, x->msg);
		else
			fprintf(f, "%s: %s\n", x->file, x->msg);
	}
}

static int check_config(const struct options *o)
{
	struct config_diags diags = {0};
	struct thpd_config *cfg = NULL;
	int r = config_load(o->config_path, &cfg, &diags);

	print_diags(stderr, &diags);
	if (r == 0)
		printf("%s: OK, %zu polic%s\n", o->config_path, cfg->n_policies,
		       cfg->n_policies == 1 ? "y" : "ies");
	config_diags_free(&diags);
	if (cfg) {
		config_free(cfg);
		free(cfg);
	}
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx *d = arg;

	log_info("%s: stopping", strsignal((int)sig));
	sd_notify(0, "STOPPING=1");
	/* Ends in-flight collapses after their current 2 MiB chunk. */
	manager_stop(d->manager);
	event_base_loopbreak(d->base);
}

/* The end of a SIGHUP reload: READY=1 with what happened, for systemd. */
static void on_reloaded(int r, const struct config_diags *diags, void *userdata)
{
	if (r < 0 && diags->n)
		sd_notifyf(0, "READY=1\nSTATUS=reload failed, old policy kept: %s:%u:%u: %s",
			   diags->v[0].file, diags->v[0].line, diags->v[0].col, diags->v[0].msg);
	else if (r < 0)
		sd_notifyf(0, "READY=1\nSTATUS=reload failed, old policy kept: %s", strerror(-r));
	else
		sd_notify(0, "READY=1\nSTATUS=reloaded");
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx *d = arg;
	struct config_diags none = {0};
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
		       (unsigned long long)ts.tv_nsec / 1000);
	/* The files are read on a worker; on_reloaded runs when it is done. */
	int r = manager_reload_async(d->manager, on_reloaded, d);
	if (r < 0)
		on_reloaded(r, &none, d);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	/* Sent from the loop: if the loop hangs, systemd notices. */
	sd_notify(0, "WATCHDOG=1");
}

static int setup_watchdog(struct daemon_ctx *d)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	struct timeval tv = {.tv_sec = (time_t)(usec / 1000000),
			     .tv_usec = (suseconds_t)(usec % 1000000)};
	d->watchdog_ev = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
	if (!d->watchdog_ev || event_add(d->watchdog_ev, &tv) < 0)
		return -ENOMEM;
	return 0;
}

/* Say at start which capabilities are missing and what will not work. */
static void check_capabilities(const struct thpd_config *cfg)
{
	bool refs = false;

	for (size_t i = 0; i < cfg->n_policies; i++)
		refs = refs || cfg->policies[i].hotness == HOTNESS_REFS;
	for (size_t i = 0; i < thpd_n_cap_needs; i++) {
		const struct cap_need *n = &thpd_cap_needs[i];
		if (cap_effective(n->cap) != 0)
			continue;
		if (!n->optional)
			log_warning("missing %s, needed for %s: collapses will fail with %s",
				    n->name, n->why, n->cap == CAP_SYS_NICE ? "EPERM" : "EACCES");
		else if (refs)
			log_warning("missing %s, needed for %s: those policies fall back to "
				    "hotness none",
				    n->name, n->why);
	}
}

static bool under_systemd(void)
{
	return getenv("NOTIFY_SOCKET") || getenv("INVOCATION_ID");
}

/*
 * Find the kernel's features and log them in one line. Returns false (after
 * saying why) on a kernel thpd cannot work on: no MADV_COLLAPSE.
 */
static bool probe_features(struct kernel_features *kf)
{
	char line[512];

	features_probe(kf);
	log_info("%s", features_format_line(kf, line, sizeof(line)));
	if (features_fatal(kf, line, sizeof(line))) {
		log_error("%s", line);
		return false;
	}
	return true;
}

static int run(const struct options *o, struct thpd_config *cfg, const struct kernel_features *kf)
{
	struct daemon_ctx d = {0};
	struct event *sigs[3] = {0};
	const char *socket_path = o->socket_path	    ? o->socket_path
				  : cfg->daemon.socket_path ? cfg->daemon.socket_path
							    : THPD_DEFAULT_SOCKET;
	char *socket_copy = strdup(socket_path);
	int r;

	d.base = event_base_new();
	if (!d.base || !socket_copy) {
		r = -ENOMEM;
		goto out;
	}
	r = manager_new(d.base, o->config_path, cfg, &d.manager);
	if (r < 0) {
		config_free(cfg);
		free(cfg);
		goto out;
	}
	const char *state_dir = o->state_dir ? o->state_dir : getenv("STATE_DIRECTORY");
	if (state_dir && *state_dir) {
		/* systemd may pass several directories separated by ':'. */
		char *dir = strndup(state_dir, strcspn(state_dir, ":"));
		r = dir ? manager_set_state_dir(d.manager, dir) : -ENOMEM;
		free(dir);
		if (r < 0)
			goto out;
	}
	r = control_new(d.base, d.manager, kf, socket_copy, &d.control);
	if (r < 0)
		goto out; /* control_new logged why */
	sigs[0] = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	sigs[1] = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	sigs[2] = evsignal_new(d.base, SIGHUP, on_reload_signal, &d);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (!sigs[i] || event_add(sigs[i], NULL) < 0) {
			r = -ENOMEM;
			goto out;
		}
	check_capabilities(manager_config(d.manager));
	manager_set_damon_vaddr(d.manager, kf->damon_vaddr.state);
	r = manager_start(d.manager);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		goto out;
	}
	r = setup_watchdog(&d);
	if (r < 0)
		goto out;
	r = metrics_textfile_new(d.base, d.manager, kf, &d.metrics);
	if (r < 0)
		goto out;
	size_t n_policies = manager_config(d.manager)->n_policies;
	log_info("thpd %s started: %zu polic%s from %s, control socket %s", THPD_VERSION,
		 n_policies, n_policies == 1 ? "y" : "ies", o->config_path, socket_copy);
	sd_notify(0, "READY=1\nSTATUS=running");
	event_base_dispatch(d.base);
	r = 0;
out:
	if (d.manager)
		manager_stop(d.manager);
	control_free(d.control);
	metrics_textfile_free(d.metrics);
	manager_free(d.manager);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (d.watchdog_ev)
		event_free(d.watchdog_ev);
	if (d.base)
		event_base_free(d.base);
	free(socket_copy);
	return r;
}

int main(int argc, char **argv)
{
	struct options o;
	struct config_diags diags = {0};
	struct thpd_config *cfg = NULL;
	struct kernel_features kf;
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.check_config)
		return check_config(&o);
	log_setup(o.log_level, LOG_TARGET_AUTO);
	r = config_load(o.config_path, &cfg, &diags);
	if (r < 0) {
		log_error("cannot load the policy (%zu problems):", diags.n);
		print_diags(stderr, &diags);
		config_diags_free(&diags);
		return EXIT_FAILURE;
	}
	config_diags_free(&diags);
	/* Before detaching: a kernel thpd cannot work on ends it here, with the
	 * reason on stderr and a non-zero exit (and before READY=1). */
	if (!probe_features(&kf)) {
		config_free(cfg);
		free(cfg);
		return EXIT_FAILURE;
	}
	if (!o.foreground && !under_systemd() && daemon(0, 0) < 0) {
		log_error("cannot detach: %m");
		return EXIT_FAILURE;
	}
	if (!o.foreground && !under_systemd())
		log_setup(o.log_level, LOG_TARGET_JOURNAL); /* stderr is /dev/null now */
	signal(SIGPIPE, SIG_IGN);
	r = run(&o, cfg, &kf);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
