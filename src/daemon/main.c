/* edhocd: EDHOC responder and OSCORE gateway daemon.
 *
 * Lifecycle only: options, config load and reload, signals, sd_notify, the
 * event loop.  Everything protocol-related is in the gateway module. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/loop.h"
#include "diag/diag.h"
#include "gateway/gateway.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Housekeeping cadence when no table deadline is nearer: flushes throttled
 * diagnostics. */
#define HOUSEKEEPING_MS 1000

struct daemon {
	const char *config_path;
	cfg *cfg;
	diag *diag;
	gw *gw;
	loop *loop;
	int sig_fd;
	int timer_fd;
	uint64_t armed_ms; /* when timer_fd fires next (monotonic ms); 0: not armed */
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: edhocd [-c FILE] [--check-config] [--log-target=journal|stderr|auto]\n"
	        "              [--foreground]\n"
	        "EDHOC responder and OSCORE gateway for CoAP devices.\n\n"
	        "  -c, --config FILE     configuration file (default %s)\n"
	        "  -t, --check-config    validate the configuration and exit\n"
	        "  -l, --log-target=T    journal, stderr or auto (default: from the config)\n"
	        "  -f, --foreground      accepted for compatibility: edhocd never forks\n"
	        "  -h, --help            this text\n"
	        "  -V, --version         print the version\n",
	        CFG_DEFAULT_PATH);
}

/* Sets timer_fd for the gateway's next deadline.  After I/O (fired false)
 * an earlier wakeup that is still pending is kept: gw_tick copes with
 * waking early and re-arms then, and skipping timerfd_settime on every
 * I/O turn saves a system call per datagram. */
static void arm_timer(struct daemon *d, bool fired)
{
	uint64_t now = gw_now_ms();
	uint64_t when = gw_next_deadline(d->gw);
	struct itimerspec its;
	if (when > now + HOUSEKEEPING_MS)
		when = now + HOUSEKEEPING_MS;
	if (when <= now)
		when = now + 1;
	if (!fired && d->armed_ms > now && d->armed_ms <= when)
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(when / 1000);
	its.it_value.tv_nsec = (long)(when % 1000) * 1000000L;
	if (timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		d->armed_ms = when;
	else
		d->armed_ms = 0;
}

static void on_gateway(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	gw_process(d->gw);
	arm_timer(d, false);
}

static void on_timer_fd(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		diag_log(d->diag, LOG_WARNING, "timerfd read: %s", strerror(errno));
	gw_tick(d->gw);
	diag_flush(d->diag);
	arm_timer(d, true);
}

static void reload(struct daemon *d)
{
	cfg_errors *errs = NULL;
	int rc;

	sd_notify(0, "RELOADING=1");
	diag_log(d->diag, LOG_NOTICE, "reloading %s", d->config_path);
	rc = cfg_reload(&d->cfg, d->config_path, &errs);
	if (rc != 0) {
		size_t n = cfg_errors_count(errs);
		for (size_t i = 0; i < n; i++)
			diag_log(d->diag, LOG_ERR, "%s", cfg_errors_get(errs, i));
		if (cfg_errors_dropped(errs))
			diag_log(d->diag, LOG_ERR, "... and %zu more errors",
			         cfg_errors_dropped(errs));
		diag_log(d->diag, LOG_ERR, "reload failed: keeping the running configuration");
	} else {
		rc = gw_reload(d->gw, d->cfg);
		if (rc != 0)
			diag_log(d->diag, LOG_ERR, "reload: gateway could not switch (%s)",
			         edhoc_result_name(rc));
		else
			diag_log(d->diag, LOG_NOTICE, "configuration reloaded");
	}
	cfg_errors_free(errs);
	sd_notify(0, "READY=1");
}

static void on_signal(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			diag_log(d->diag, LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
			sd_notify(0, "STOPPING=1");
			loop_quit(d->loop);
			return;
		case SIGHUP:
			reload(d);
			break;
		default:
			break;
		}
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sig_fd < 0 ? -1 : 0;
}

static void print_errors(diag *dg, cfg_errors *errs)
{
	size_t n = cfg_errors_count(errs);
	for (size_t i = 0; i < n; i++)
		diag_log(dg, LOG_ERR, "%s", cfg_errors_get(errs, i));
	if (cfg_errors_dropped(errs))
		diag_log(dg, LOG_ERR, "... and %zu more errors", cfg_errors_dropped(errs));
}

static int make_diag(int target, diag **ret)
{
	diag_options opt;
	memset(&opt, 0, sizeof(opt));
	opt.target = target;
	return diag_create(&opt, ret);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 't'},
	    {"log-target", required_argument, NULL, 'l'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon d;
	bool check = false;
	int target = -1, opt, rc;
	cfg_errors *errs = NULL;

	memset(&d, 0, sizeof(d));
	d.config_path = CFG_DEFAULT_PATH;
	d.sig_fd = -1;
	d.timer_fd = -1;
	d.exit_code = 1;

	while ((opt = getopt_long(argc, argv, "c:tl:fhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'l':
			target = diag_target_from_name(optarg);
			if (target < 0) {
				fprintf(stderr,
				        "edhocd: --log-target: '%s' is not journal, "
				        "stderr or auto\n",
				        optarg);
				return 2;
			}
			break;
		case 'f':
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("edhocd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return cfg_check(d.config_path, stdout) == 0 ? 0 : 1;

	if (make_diag(target < 0 ? DIAG_TARGET_AUTO : target, &d.diag) != 0) {
		fprintf(stderr, "edhocd: cannot set up logging\n");
		return 1;
	}
	rc = cfg_load(d.config_path, &d.cfg, &errs);
	if (rc != 0) {
		diag_log(d.diag, LOG_ERR, "%s: invalid configuration", d.config_path);
		print_errors(d.diag, errs);
		cfg_errors_free(errs);
		goto out;
	}
	/* The command line wins; otherwise the config chooses the target. */
	if (target < 0 && cfg_gateway_get(d.cfg)->log_target != DIAG_TARGET_AUTO) {
		diag *nd = NULL;
		if (make_diag(cfg_gateway_get(d.cfg)->log_target, &nd) == 0) {
			diag_free(d.diag);
			d.diag = nd;
		}
	}

	if (setup_signals(&d) != 0) {
		diag_log(d.diag, LOG_ERR, "signal setup failed: %s", strerror(errno));
		goto out;
	}
	d.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d.timer_fd < 0) {
		diag_log(d.diag, LOG_ERR, "timerfd: %s", strerror(errno));
		goto out;
	}
	rc = gw_create(d.cfg, d.diag, &d.gw);
	if (rc != 0) {
		diag_log(d.diag, LOG_ERR, "gateway start failed (%s)", edhoc_result_name(rc));
		goto out;
	}
	if (loop_create(&d.loop) != 0 ||
	    loop_add(d.loop, gw_fd(d.gw), EPOLLIN, on_gateway, &d) != 0 ||
	    loop_add(d.loop, d.sig_fd, EPOLLIN, on_signal, &d) != 0 ||
	    loop_add(d.loop, d.timer_fd, EPOLLIN, on_timer_fd, &d) != 0) {
		diag_log(d.diag, LOG_ERR, "event loop setup failed");
		goto out;
	}
	arm_timer(&d, true);
	diag_log(d.diag, LOG_NOTICE, "edhocd %s started (config %s)", PACKAGE_VERSION,
	         d.config_path);
	sd_notify(0, "READY=1");
	if (loop_run(d.loop) != 0) {
		diag_log(d.diag, LOG_ERR, "event loop failed: %s", strerror(errno));
		goto out;
	}
	d.exit_code = 0;
out:
	loop_free(d.loop);
	gw_free(d.gw);
	if (d.timer_fd >= 0)
		close(d.timer_fd);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	cfg_unref(d.cfg);
	if (d.diag && d.exit_code == 0)
		diag_log(d.diag, LOG_NOTICE, "stopped");
	diag_free(d.diag);
	return d.exit_code;
}
