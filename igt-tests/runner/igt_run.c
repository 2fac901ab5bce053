// SPDX-License-Identifier: MIT
/*
 * igt_run - a minimal runner for IGT-format test binaries.
 *
 * igt-gpu-tools' own igt_runner is not packaged in Debian's intel-gpu-tools,
 * and the guest has only busybox, so this small C program speaks the same
 * protocol igt_runner uses with a test binary:
 *
 *   1. `BIN --list-subtests`: one subtest name per line (exit 0). A binary
 *      without subtests prints nothing and is run once without arguments.
 *   2. `BIN --run-subtest NAME` for every subtest, one process each, with
 *      stdout+stderr captured through one pipe (IGT flushes its log lines,
 *      so their order is kept) and a per-subtest timeout: on expiry the
 *      whole process group gets SIGTERM, then SIGKILL 2 s later, and the
 *      subtest fails with reason "timeout".
 *   3. Result from the exit status: 0 pass, 77 skip, 98 fail, 79 (unknown
 *      subtest) fail, any other code fail, death by signal fail ("crash").
 *
 * Dynamic subtests: the lines "Dynamic subtest D: SUCCESS|SKIP|FAIL|..."
 * that libigt prints are parsed (as igt_runner does) and each dynamic
 * subtest is reported as its own line, igt.<bin>.<subtest>.<dynamic>.
 * The parent is then not reported, except when its own result contradicts
 * its children (it failed while no dynamic subtest failed, e.g. a timeout
 * or crash between dynamic subtests) - then the parent gets a fail line
 * too. A dynamic subtest that started but printed no result (timeout or
 * crash inside it) is reported as fail with the parent's reason. A parent
 * that ran no dynamic subtest is reported as itself.
 *
 * Output, one line per (dynamic) subtest, on stdout:
 *
 *   RESULT pass|fail|skip igt.<binary>.<subtest>[.<dynamic>] [reason]
 *
 * For skips the reason is the igt_require_f()/igt_skip() message (or the
 * "Test requirement: <expr>" line when there is no message); for failures
 * the "Failed assertion: ..." line and its message, or "timeout",
 * "crash: <signal>", "exit <code>"; for passes the figures the test
 * printed as igt_info("figure: ..."), so that a measured value reaches the
 * summary. Everything else this program prints
 * starts with "igt_run:" or "  | " (the test's output, shown for failures
 * or with -v).
 *
 * Exit status: 0 if nothing failed, 1 if anything failed, 2 on usage error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_IGT_SKIP 77
#define EXIT_IGT_INVALID 79
#define EXIT_IGT_FAILURE 98

#define MAX_OUTPUT (8u << 20) /* keep at most this much of a subtest's log */
#define REASON_MAX 240

static int opt_timeout = 120;
static int opt_list_timeout = 60;
static bool opt_verbose;
static const char *opt_logdir;
static const char *opt_filter; /* substring of "<bin>.<subtest>" */
static int n_pass, n_fail, n_skip;

struct run {
	char *out;		/* captured stdout+stderr, NUL terminated */
	size_t len;
	bool timed_out;
	int status;		/* wait status */
	double secs;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void append(struct run *r, const char *buf, size_t n)
{
	if (r->len + n > MAX_OUTPUT)
		n = r->len < MAX_OUTPUT ? MAX_OUTPUT - r->len : 0;
	if (!n)
		return;
	r->out = realloc(r->out, r->len + n + 1);
	if (!r->out) {
		perror("igt_run: realloc");
		exit(2);
	}
	memcpy(r->out + r->len, buf, n);
	r->len += n;
	r->out[r->len] = 0;
}

/* Run argv with a timeout, capturing stdout+stderr. */
static void run_cmd(char *const argv[], int timeout, struct run *r)
{
	int pfd[2];
	pid_t pid;
	double start, deadline, kill_at = 0, drain_until = 0;
	bool eof = false, reaped = false;

	memset(r, 0, sizeof(*r));
	r->out = calloc(1, 1);
	if (pipe2(pfd, O_CLOEXEC)) {
		perror("igt_run: pipe");
		exit(2);
	}
	fflush(stdout);
	start = now();
	pid = fork();
	if (pid < 0) {
		perror("igt_run: fork");
		exit(2);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(argv[0], argv);
		fprintf(stderr, "igt_run: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	deadline = start + timeout;

	while (!eof || !reaped) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		double t = now();
		int ms = 200;

		if (!reaped) {
			pid_t w = waitpid(pid, &r->status, WNOHANG);

			if (w == pid) {
				/*
				 * The test is gone; a leftover helper may keep
				 * the pipe open: drain it for 2 s at most.
				 */
				reaped = true;
				drain_until = t + 2;
			}
		}
		if (reaped && !eof && t >= drain_until) {
			kill(-pid, SIGKILL);
			break;
		}
		if (!r->timed_out && !reaped && t >= deadline) {
			r->timed_out = true;
			kill(-pid, SIGTERM);
			kill(pid, SIGTERM);
			kill_at = t + 2;
		}
		if (r->timed_out && kill_at && t >= kill_at) {
			kill(-pid, SIGKILL);
			if (!reaped)
				kill(pid, SIGKILL);
			kill_at = 0;
		}
		if (r->timed_out && !kill_at && t >= deadline + 10) {
			/* Unkillable (D state?): give up on the pipe. */
			if (!reaped) {
				fprintf(stdout, "igt_run: pid %d does not die\n", pid);
				r->status = SIGKILL; /* reported as a timeout */
				reaped = true;
			}
			break;
		}
		if (eof) {
			if (!reaped)
				usleep(20000);
			continue;
		}
		if (poll(&p, 1, ms) > 0) {
			char buf[4096];
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n > 0)
				append(r, buf, n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				eof = true;
		}
	}
	close(pfd[0]);
	/* Leftover members of the group (e.g. igt_fork children) die too. */
	kill(-pid, SIGKILL);
	r->secs = now() - start;
}

/* ---- output parsing ------------------------------------------------------ */

/* Remove ANSI colour escapes in place (libigt colours only on a tty). */
static void strip_ansi(char *s)
{
	char *d = s;

	while (*s) {
		if (*s == '\033' && s[1] == '[') {
			s += 2;
			while (*s && !isalpha((unsigned char)*s))
				s++;
			if (*s)
				s++;
			continue;
		}
		*d++ = *s++;
	}
	*d = 0;
}

struct lines {
	char **v;
	int n;
};

static void split_lines(char *buf, struct lines *l)
{
	char *save, *p;

	l->v = NULL;
	l->n = 0;
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		size_t k = strlen(p);

		while (k && (p[k - 1] == '\r' || p[k - 1] == ' '))
			p[--k] = 0;
		l->v = realloc(l->v, sizeof(char *) * (l->n + 1));
		l->v[l->n++] = p;
	}
}

/* "(bin:123) CRITICAL: text" or "(bin:123) igt_core-INFO: text" -> "text" */
static const char *strip_log_prefix(const char *s)
{
	if (*s == '(') {
		const char *c = strstr(s, ") ");
		const char *colon;

		if (c) {
			colon = strstr(c, ": ");
			if (colon)
				return colon + 2;
		}
	}
	return s;
}

static bool is_protocol_line(const char *s)
{
	return !strncmp(s, "IGT-Version:", 12) ||
	       !strncmp(s, "Starting subtest:", 17) ||
	       !strncmp(s, "Starting dynamic subtest:", 25) ||
	       !strncmp(s, "Subtest ", 8) ||
	       !strncmp(s, "Dynamic subtest ", 16) ||
	       !strncmp(s, "Stack trace:", 12) ||
	       !strncmp(s, "****", 4) ||
	       s[0] == ' ' || s[0] == '\t' || s[0] == 0;
}

static void reason_add(char *reason, const char *s)
{
	size_t have = strlen(reason);

	if (have >= REASON_MAX)
		return;
	if (have)
		strncat(reason, "; ", REASON_MAX - have);
	strncat(reason, s, REASON_MAX - strlen(reason));
}

/* Skip reason from lines [from, to) of the output. */
static void skip_reason(struct lines *l, int from, int to, char *reason)
{
	int i, req = -1;

	reason[0] = 0;
	for (i = from; i < to; i++)
		if (!strncmp(l->v[i], "Test requirement: ", 18))
			req = i;
	if (req >= 0) {
		for (i = req + 1; i < to; i++) {
			if (is_protocol_line(l->v[i]) || l->v[i][0] == '(')
				break;
			if (!strncmp(l->v[i], "Last errno:", 11))
				continue;
			reason_add(reason, l->v[i]);
		}
		if (!reason[0])
			reason_add(reason, l->v[req]);
		return;
	}
	/* Plain igt_skip("msg"): the last free-form line before the result. */
	for (i = to - 1; i >= from; i--) {
		if (is_protocol_line(l->v[i]) || l->v[i][0] == '(' ||
		    !strncmp(l->v[i], "Last errno:", 11))
			continue;
		reason_add(reason, l->v[i]);
		return;
	}
	strcpy(reason, "skipped (no reason printed)");
}

/* Pass "reason" from lines [from, to): the test's "figure: " lines. */
static void figure_reason(struct lines *l, int from, int to, char *reason)
{
	int i;

	reason[0] = 0;
	for (i = from; i < to; i++) {
		const char *s = strip_log_prefix(l->v[i]);

		if (!strncmp(s, "figure: ", 8))
			reason_add(reason, s + 8);
	}
}

/* Failure reason from lines [from, to): the assertion and its message. */
static void fail_reason(struct lines *l, int from, int to, char *reason)
{
	int i;

	reason[0] = 0;
	for (i = from; i < to; i++) {
		const char *s = strip_log_prefix(l->v[i]);

		if (!strncmp(s, "Failed assertion: ", 18)) {
			reason_add(reason, s);
			/* The message lines that follow at CRITICAL level. */
			while (++i < to && strstr(l->v[i], "CRITICAL: ")) {
				s = strip_log_prefix(l->v[i]);
				if (!strncmp(s, "Test assertion failure", 22) ||
				    !strncmp(s, "Last errno", 10))
					break;
				reason_add(reason, s);
			}
			return;
		}
	}
	for (i = from; i < to; i++) {
		const char *s = l->v[i];

		if (strstr(s, "child ") && strstr(s, " failed with exit status")) {
			reason_add(reason, s);
			return;
		}
		if (!strncmp(s, "Received signal ", 16)) {
			reason_add(reason, s);
			return;
		}
	}
	for (i = from; i < to; i++)
		if (strstr(l->v[i], "CRITICAL: ")) {
			reason_add(reason, strip_log_prefix(l->v[i]));
			return;
		}
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || (unsigned char)*s < 0x20)
			*s = ' ';
}

static void result(const char *st, const char *name, const char *reason)
{
	char r[REASON_MAX + 8];

	snprintf(r, sizeof(r), "%s", reason ? reason : "");
	sanitize(r);
	printf("RESULT %s %s%s%s\n", st, name, r[0] ? " " : "", r);
	fflush(stdout);
	if (!strcmp(st, "pass"))
		n_pass++;
	else if (!strcmp(st, "skip"))
		n_skip++;
	else
		n_fail++;
}

/* Map a libigt result word to pass/fail/skip. */
static const char *word_to_status(const char *w)
{
	if (!strncmp(w, "SUCCESS", 7))
		return "pass";
	if (!strncmp(w, "SKIP", 4))
		return "skip";
	return "fail"; /* FAIL, CRASH, TIMEOUT, ... */
}

static void dump_output(const char *raw)
{
	const char *p = raw;

	while (*p) {
		const char *e = strchr(p, '\n');
		int n = e ? (int)(e - p) : (int)strlen(p);

		printf("  | %.*s\n", n, p);
		p += n + (e ? 1 : 0);
	}
}

static void save_log(const char *name, const struct run *r)
{
	char path[PATH_MAX];
	FILE *f;

	if (!opt_logdir)
		return;
	snprintf(path, sizeof(path), "%s/%s.log", opt_logdir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fwrite(r->out, 1, r->len, f);
	fprintf(f, "\n-- igt_run: status %#x%s, %.3fs\n", r->status,
		r->timed_out ? " (timeout)" : "", r->secs);
	fclose(f);
}

/* Report one subtest run (possibly with dynamic subtests). */
static void report(const char *full, const char *sub, struct run *r)
{
	char *raw = strdup(r->out);
	struct lines l;
	char reason[REASON_MAX + 1] = "";
	const char *st;
	int i, start = 0, end, ndyn = 0, dyn_fail = 0;
	int dyn_start = -1;
	char dyn_name[512] = "";
	char dname[1024];
	bool any_fail = false;

	strip_ansi(r->out);
	split_lines(r->out, &l);
	end = l.n;

	/* Segment of this subtest: from "Starting subtest: sub" on. */
	for (i = 0; i < l.n; i++) {
		if (!strncmp(l.v[i], "Starting subtest: ", 18) &&
		    !strcmp(l.v[i] + 18, sub)) {
			start = i;
			break;
		}
	}

	/* Parent result from the exit status. */
	if (r->timed_out) {
		st = "fail";
		strcpy(reason, "timeout");
	} else if (WIFSIGNALED(r->status)) {
		st = "fail";
		snprintf(reason, sizeof(reason), "crash: %s",
			 strsignal(WTERMSIG(r->status)));
	} else {
		int code = WEXITSTATUS(r->status);

		if (code == 0) {
			st = "pass";
		} else if (code == EXIT_IGT_SKIP) {
			st = "skip";
		} else {
			st = "fail";
			if (code == EXIT_IGT_INVALID)
				snprintf(reason, sizeof(reason),
					 "exit 79: unknown subtest or bad arguments");
			else if (code > 128 && code < 128 + 65)
				/* libigt's fatal-signal handler exits 128+sig */
				snprintf(reason, sizeof(reason), "crash: %s (exit %d)",
					 strsignal(code - 128), code);
			else if (code != EXIT_IGT_FAILURE)
				snprintf(reason, sizeof(reason), "exit %d", code);
		}
	}

	/* Dynamic subtests. */
	for (i = start; i < l.n; i++) {
		const char *s = l.v[i];

		if (!strncmp(s, "Starting dynamic subtest: ", 26)) {
			dyn_start = i;
			snprintf(dyn_name, sizeof(dyn_name), "%s", s + 26);
			continue;
		}
		if (!strncmp(s, "Dynamic subtest ", 16)) {
			const char *colon = strstr(s + 16, ": ");
			char name[512];
			char dr[REASON_MAX + 1] = "";
			const char *dst;

			if (!colon || strstr(s, " failed."))
				continue;
			snprintf(name, sizeof(name), "%.*s",
				 (int)(colon - (s + 16)), s + 16);
			dst = word_to_status(colon + 2);
			if (!strcmp(dst, "skip"))
				skip_reason(&l, dyn_start >= 0 ? dyn_start : start, i, dr);
			else if (!strcmp(dst, "fail"))
				fail_reason(&l, dyn_start >= 0 ? dyn_start : start, i, dr);
			if (!strcmp(dst, "fail")) {
				dyn_fail++;
				if (!dr[0])
					snprintf(dr, sizeof(dr), "%s", colon + 2);
			}
			snprintf(dname, sizeof(dname), "%s.%s", full, name);
			result(dst, dname, dr);
			any_fail |= !strcmp(dst, "fail");
			ndyn++;
			dyn_start = -1;
			dyn_name[0] = 0;
		}
	}
	if (dyn_name[0]) {
		/* Started, never finished: timeout or crash inside it. */
		char dr[REASON_MAX + 1] = "";

		if (!strcmp(st, "fail") && reason[0])
			snprintf(dr, sizeof(dr), "%s", reason);
		else
			fail_reason(&l, dyn_start, l.n, dr);
		if (!dr[0])
			strcpy(dr, "no result printed");
		snprintf(dname, sizeof(dname), "%s.%s", full, dyn_name);
		result("fail", dname, dr);
		any_fail = true;
		dyn_fail++;
		ndyn++;
	}

	if (!ndyn || (!strcmp(st, "fail") && !dyn_fail)) {
		if (!strcmp(st, "skip")) {
			skip_reason(&l, 0, end, reason);
		} else if (!strcmp(st, "pass")) {
			figure_reason(&l, start, end, reason);
		} else if (!strcmp(st, "fail") && !reason[0]) {
			fail_reason(&l, start, end, reason);
		} else if (!strcmp(st, "fail") && (r->timed_out || WIFSIGNALED(r->status))) {
			/* keep "timeout" / "crash: ..." */
		}
		result(st, full, reason);
		any_fail |= !strcmp(st, "fail");
	}

	save_log(full, r);
	if (any_fail || opt_verbose)
		dump_output(raw);
	free(raw);
	free(l.v);
}

static bool wanted(const char *full)
{
	return !opt_filter || strstr(full, opt_filter);
}

static void run_binary(const char *path)
{
	const char *base = strrchr(path, '/');
	char *argv[4];
	struct run r;
	struct lines subs;
	char full[1024];
	int i;

	base = base ? base + 1 : path;
	argv[0] = (char *)path;
	argv[1] = "--list-subtests";
	argv[2] = NULL;
	run_cmd(argv, opt_list_timeout, &r);
	snprintf(full, sizeof(full), "igt.%s", base);

	if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
		/* --list-subtests must not fail; report the binary. */
		char reason[REASON_MAX + 1];

		snprintf(reason, sizeof(reason), "--list-subtests: %s",
			 r.timed_out ? "timeout" :
			 WIFSIGNALED(r.status) ? strsignal(WTERMSIG(r.status)) :
			 "non-zero exit");
		if (wanted(full)) {
			result("fail", full, reason);
			dump_output(r.out);
		}
		free(r.out);
		return;
	}

	split_lines(r.out, &subs);
	/* Keep only plausible names: stderr noise is merged into the list. */
	for (i = 0; i < subs.n; ) {
		if (strpbrk(subs.v[i], " \t()") || !subs.v[i][0])
			memmove(&subs.v[i], &subs.v[i + 1],
				sizeof(char *) * (--subs.n - i));
		else
			i++;
	}
	if (subs.n == 0) {
		/* A simple test without subtests. */
		if (wanted(full)) {
			struct run s;

			argv[1] = NULL;
			printf("igt_run: %s\n", full);
			run_cmd(argv, opt_timeout, &s);
			report(full, "", &s);
			free(s.out);
		}
	}
	for (i = 0; i < subs.n; i++) {
		struct run s;

		snprintf(full, sizeof(full), "igt.%s.%s", base, subs.v[i]);
		if (!wanted(full))
			continue;
		argv[1] = "--run-subtest";
		argv[2] = subs.v[i];
		argv[3] = NULL;
		printf("igt_run: %s\n", full);
		run_cmd(argv, opt_timeout, &s);
		report(full, subs.v[i], &s);
		free(s.out);
	}
	free(subs.v);
	free(r.out);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: igt_run [-t SECS] [-l SECS] [-o LOGDIR] [-f FILTER] [-v] BINARY...\n"
		"  -t SECS    per-subtest timeout (default %d, env IGT_RUN_TIMEOUT)\n"
		"  -l SECS    --list-subtests timeout (default %d)\n"
		"  -o LOGDIR  write each subtest's full output to LOGDIR/<name>.log\n"
		"  -f FILTER  only run igt.<bin>.<subtest> names containing FILTER\n"
		"  -v         print every subtest's output, not only failures'\n",
		opt_timeout, opt_list_timeout);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *env = getenv("IGT_RUN_TIMEOUT");
	int c, i;

	if (env && atoi(env) > 0)
		opt_timeout = atoi(env);
	while ((c = getopt(argc, argv, "t:l:o:f:vh")) != -1) {
		switch (c) {
		case 't':
			opt_timeout = atoi(optarg);
			break;
		case 'l':
			opt_list_timeout = atoi(optarg);
			break;
		case 'o':
			opt_logdir = optarg;
			mkdir(opt_logdir, 0755);
			break;
		case 'f':
			opt_filter = optarg;
			break;
		case 'v':
			opt_verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || opt_timeout <= 0 || opt_list_timeout <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);

	for (i = optind; i < argc; i++) {
		if (access(argv[i], X_OK)) {
			const char *b = strrchr(argv[i], '/');
			char full[1024];

			snprintf(full, sizeof(full), "igt.%s", b ? b + 1 : argv[i]);
			result("fail", full, "binary missing or not executable");
			continue;
		}
		run_binary(argv[i]);
	}
	printf("igt_run: %d pass, %d fail, %d skip\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
