// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm fault inject
 * Category: Core
 * Description: the userptr and SVM basics on vsvm with memory allocation
 *   failures injected into the vsvm/drm_svm paths; every failure must reach
 *   userspace as a documented errno and leave the device usable.
 *
 * Two ways of injecting, both through the kernel's fault-injection
 * framework (Documentation/fault-injection/fault-injection.rst), with
 * failslab and fail_page_alloc restricted by their stack-trace filter
 * (require-start/require-end) to allocations made with vsvm's code on the
 * stack (which covers drm_svm and DRM core calls made on vsvm's behalf):
 *
 * - fail-nth: /proc/thread-self/fail-nth fails exactly the n-th
 *   allocation of this thread. The whole flow runs for n = 1, 2, ... until
 *   a run completes with no failure left to inject, so every allocation
 *   point the flow reaches in task context fails once.
 * - random: failslab/fail_page_alloc fail a share of the allocations in
 *   any context (the engine's workers too, where SVM jobs fault), while the
 *   flow runs repeatedly.
 *
 * After each injected failure the flow is cleaned up, then run again
 * without injection, and its data is checked: nothing is left half done.
 * Leaks are checked by the suite (kmemleak, module unload).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt.h"
#include "igt_syncobj.h"
#include "igt_vsvm.h"

IGT_TEST_DESCRIPTION("Inject allocation failures into the vsvm/drm_svm "
		     "userptr and SVM paths: every failure is a documented "
		     "errno, the device stays usable and the data correct.");

#define BUF_SZ (256ull << 10)
#define JOB_TIMEOUT_NS (60ll * NSEC_PER_SEC)
#define MAX_NTH 4000
#define RANDOM_ROUNDS 40
#define RANDOM_PERCENT "3"

static const char *const fi_dirs[] = {
	"/sys/kernel/debug/failslab",
	"/sys/kernel/debug/fail_page_alloc",
};

static char dev_path[PATH_MAX];
static unsigned long text_start, text_end;

/* --- fault-injection knobs --- */

static void fi_write(const char *dir, const char *knob, const char *val)
{
	char path[PATH_MAX];
	int f, len = strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, knob);
	f = open(path, O_WRONLY);
	igt_assert_f(f >= 0, "open %s: %m\n", path);
	igt_assert_f(write(f, val, len) == len, "write %s=%s: %m\n", path, val);
	close(f);
}

static void fi_set_all(const char *knob, const char *val)
{
	for (int i = 0; i < ARRAY_SIZE(fi_dirs); i++)
		fi_write(fi_dirs[i], knob, val);
}

static void fi_off(void)
{
	fi_set_all("probability", "0");
	fi_set_all("times", "1");
}

static void fi_exit_handler(int sig)
{
	int f = open("/proc/thread-self/fail-nth", O_WRONLY);

	if (f >= 0) {
		if (write(f, "0", 1) != 1)
			igt_debug("cannot reset fail-nth\n");
		close(f);
	}
	for (int i = 0; i < ARRAY_SIZE(fi_dirs); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/probability", fi_dirs[i]);
		f = open(path, O_WRONLY);
		if (f >= 0) {
			if (write(f, "0", 1) != 1)
				igt_debug("cannot reset %s\n", path);
			close(f);
		}
	}
}

/*
 * The text of the vsvm module, from /proc/kallsyms: from its lowest text
 * symbol up to the first symbol that is not vsvm's (or 64K past its last
 * text symbol). Any foreign symbol inside means the range is not one
 * piece, and the test cannot filter on it.
 */
static void find_vsvm_text(void)
{
	unsigned long lo = ULONG_MAX, hi = 0, next = ULONG_MAX, addr;
	char line[512], type, name[256], mod[128];
	FILE *f = fopen("/proc/kallsyms", "r");

	igt_assert(f);
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%lx %c %255s %127s", &addr, &type, name,
			   mod) < 3)
			continue;
		if (!strcmp(mod, "[vsvm]") && (type == 't' || type == 'T')) {
			lo = addr < lo ? addr : lo;
			hi = addr > hi ? addr : hi;
		}
	}
	igt_require_f(hi, "no vsvm text symbols in /proc/kallsyms\n");
	igt_require_f(lo, "/proc/kallsyms hides addresses\n");
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%lx %c %255s %127s", &addr, &type, name,
			   mod) < 3 || !strcmp(mod, "[vsvm]"))
			continue;
		igt_assert_f(addr < lo || addr > hi,
			     "%s inside vsvm's text [%lx, %lx]\n", name, lo, hi);
		if (addr > hi && addr < next)
			next = addr;
	}
	fclose(f);
	text_start = lo;
	text_end = next < hi + 0x10000 ? next : hi + 0x10000;
	igt_info("vsvm text: [%#lx, %#lx)\n", text_start, text_end);
}

/*
 * Common setup: failslab and fail_page_alloc consider every allocation
 * (sleeping ones, order 0, highmem), stay quiet, and only fail with vsvm's
 * code on the stack.
 */
static void fi_setup(void)
{
	char buf[32];

	fi_off();
	fi_set_all("verbose", "0");
	fi_set_all("task-filter", "N");
	fi_set_all("interval", "1");
	fi_set_all("space", "0");
	fi_set_all("ignore-gfp-wait", "N");
	fi_write(fi_dirs[1], "ignore-gfp-highmem", "N");
	fi_write(fi_dirs[1], "min-order", "0");
	fi_set_all("stacktrace-depth", "32");
	snprintf(buf, sizeof(buf), "%#lx", text_start);
	fi_set_all("require-start", buf);
	snprintf(buf, sizeof(buf), "%#lx", text_end);
	fi_set_all("require-end", buf);
	fi_set_all("reject-start", "0");
	fi_set_all("reject-end", "0");
}

static int nth_fd = -1;

static void nth_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	igt_assert_eq(pwrite(nth_fd, buf, len, 0), len);
}

/* Disarm; true when the armed failure was injected. */
static bool nth_fired(void)
{
	char buf[16] = {};
	unsigned int left;

	igt_assert(pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0);
	left = strtoul(buf, NULL, 10);
	igt_assert_eq(pwrite(nth_fd, "0", 1, 0), 1);
	return left == 0;
}

/*
 * The errno an allocation failure may surface as (drm.h's
 * DRM_IOCTL_USERPTR_CREATE table, vsvm_drm.h's ioctl and job tables).
 */
static bool documented_alloc_errno(int err)
{
	return err == -ENOMEM;
}

/* --- the flows --- */

struct flow {
	int fd;
	bool svm;
	struct vsvm_bo out;	/* staging bo: checksum results */
	uint32_t *buf;		/* CPU memory the GPU works on */
	uint32_t handle;	/* userptr object */
	uint64_t va;
	const char *step;	/* where it stopped */
};

static int exec_wait(int fd, struct drm_vsvm_cmd *cmd)
{
	uint32_t syncobj = syncobj_create(fd, 0);
	int err;

	err = __vsvm_exec(fd, cmd, 1, 0, syncobj, NULL);
	if (!err)
		err = vsvm_job_wait(fd, syncobj, JOB_TIMEOUT_NS);
	igt_assert_f(err != -ETIME, "job did not complete\n");
	syncobj_destroy(fd, syncobj);
	return err;
}

#define STEP(f, name, expr) ({ (f)->step = (name); (expr); })

/* How many injected failures each step of the flow returned. */
struct step_count {
	const char *step;
	unsigned int n;
};

static void step_count_add(struct step_count *c, int max, const char *step)
{
	for (int i = 0; i < max; i++) {
		if (!c[i].step)
			c[i].step = step;
		if (!strcmp(c[i].step, step)) {
			c[i].n++;
			return;
		}
	}
}

static void step_count_print(const struct step_count *c, int max)
{
	for (int i = 0; i < max && c[i].step; i++)
		igt_info("  -ENOMEM from %-14s %u\n", c[i].step, c[i].n);
}

/*
 * The userptr basics, or the SVM basics: create and bind a userptr object
 * (or enable SVM), GPU checksum of the CPU's data, GPU fill, CPU check of
 * the fill. Returns 0 or the first error; sets f->step.
 */
static int flow_run(struct flow *f)
{
	struct drm_vsvm_cmd cmd;
	volatile uint64_t *res = f->out.map;
	int err;

	vsvm_pattern(f->buf, BUF_SZ, 0xfa17);
	if (f->svm) {
		err = STEP(f, "svm-enable", __vsvm_svm_enable(f->fd, 0, 0, 0));
		if (err)
			return err;
		f->va = (uintptr_t)f->buf;
	} else {
		err = STEP(f, "userptr-create",
			   __drm_userptr_create(f->fd, f->buf, BUF_SZ,
						DRM_USERPTR_VALIDATE,
						&f->handle));
		if (err)
			return err;
		err = STEP(f, "vm-bind", __vsvm_vm_bind(f->fd, f->handle, 0,
							f->va, BUF_SZ, 0));
		if (err)
			return err;
	}

	*res = 0;
	cmd = vsvm_cmd_checksum(f->out.va, f->va, BUF_SZ);
	err = STEP(f, "checksum-job", exec_wait(f->fd, &cmd));
	if (err)
		return err;
	igt_assert_eq_u64(*res, vsvm_checksum(f->buf, BUF_SZ));

	cmd = vsvm_cmd_fill(f->va, BUF_SZ, 0xf111f111);
	err = STEP(f, "fill-job", exec_wait(f->fd, &cmd));
	if (err)
		return err;
	igt_assert(vsvm_all_words(f->buf, BUF_SZ, 0xf111f111));

	if (!f->svm) {
		err = STEP(f, "vm-unbind", __vsvm_vm_unbind(f->fd, f->va,
							    BUF_SZ));
		if (err)
			return err;
	}
	f->step = "done";
	return 0;
}

/* A fresh file (SVM is enabled once per file), staging bo, CPU buffer. */
static void flow_init(struct flow *f, bool svm)
{
	memset(f, 0, sizeof(*f));
	f->svm = svm;
	f->fd = open(dev_path, O_RDWR | O_CLOEXEC);
	igt_assert_fd(f->fd);
	vsvm_bo_create(f->fd, &f->out, 4096);
	f->buf = vsvm_mmap_anon(BUF_SZ, PROT_READ | PROT_WRITE);
	memset(f->buf, 0, BUF_SZ);	/* prefault: no user page allocations */
	f->va = vsvm_va_alloc(BUF_SZ);
}

static void flow_fini(struct flow *f)
{
	if (f->handle)
		igt_assert_eq(__gem_close_handle(f->fd, f->handle), 0);
	vsvm_bo_destroy(f->fd, &f->out);
	munmap(f->buf, BUF_SZ);
	close(f->fd);
}

/* Clean run: everything succeeds and the data is right. */
static void flow_check_clean(bool svm)
{
	struct flow f;
	int err;

	flow_init(&f, svm);
	err = flow_run(&f);
	igt_assert_f(err == 0, "clean run failed at %s: %s\n", f.step,
		     strerror(-err));
	flow_fini(&f);
}

static void test_fail_nth(bool svm)
{
	unsigned int n, injected = 0, failed = 0, survived = 0;
	struct step_count steps[8] = {};

	fi_setup();
	flow_check_clean(svm);

	for (n = 1; n <= MAX_NTH; n++) {
		struct flow f;
		bool fired;
		int err;

		flow_init(&f, svm);
		nth_arm(n);
		err = flow_run(&f);
		fired = nth_fired();
		flow_fini(&f);

		if (!fired) {
			igt_assert_f(err == 0, "no failure injected, yet %s "
				     "failed: %s\n", f.step, strerror(-err));
			break;
		}
		injected++;
		if (err) {
			failed++;
			step_count_add(steps, ARRAY_SIZE(steps), f.step);
			igt_debug("n=%u: %s -> %s\n", n, f.step, strerror(-err));
			igt_assert_f(documented_alloc_errno(err),
				     "allocation failure #%u: %s returned %d "
				     "(%s), not a documented errno\n", n,
				     f.step, err, strerror(-err));
		} else {
			survived++;
		}
		/* The failure left nothing half done behind. */
		flow_check_clean(svm);
	}
	igt_assert_f(n <= MAX_NTH, "more than %d allocation points?\n",
		     MAX_NTH);
	igt_assert_f(injected > 0, "no allocation point in vsvm's paths was "
		     "reached: the stack filter or fail-nth does not work\n");
	igt_info("%u allocation points failed once each: %u surfaced as "
		 "-ENOMEM, %u were absorbed\n", injected, failed, survived);
	step_count_print(steps, ARRAY_SIZE(steps));
}

static void test_random(bool svm)
{
	unsigned int ok = 0, enomem = 0;
	struct step_count steps[8] = {};

	fi_setup();
	flow_check_clean(svm);

	fi_set_all("times", "-1");
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		struct flow f;
		int err;

		flow_init(&f, svm);
		/* The file and staging bo are set up: fail from here on. */
		fi_set_all("probability", RANDOM_PERCENT);
		err = flow_run(&f);
		fi_set_all("probability", "0");
		flow_fini(&f);
		if (!err) {
			ok++;
			continue;
		}
		enomem++;
		step_count_add(steps, ARRAY_SIZE(steps), f.step);
		igt_assert_f(documented_alloc_errno(err),
			     "round %d: %s returned %d (%s), not a documented "
			     "errno\n", i, f.step, err, strerror(-err));
	}
	fi_off();
	igt_info("%d rounds at %s%% failures: %u complete, %u -ENOMEM\n",
		 RANDOM_ROUNDS, RANDOM_PERCENT, ok, enomem);
	step_count_print(steps, ARRAY_SIZE(steps));
	igt_assert_f(enomem > 0, "no round saw an injected failure\n");
	flow_check_clean(svm);
}

igt_main
{
	igt_fixture {
		char link[64];
		ssize_t len;
		int fd;

		fd = drm_open_vsvm();
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, dev_path, sizeof(dev_path) - 1);
		igt_assert(len > 0);
		dev_path[len] = 0;
		close(fd);

		igt_require_f(access(fi_dirs[0], F_OK) == 0 &&
			      access(fi_dirs[1], F_OK) == 0,
			      "no failslab/fail_page_alloc in debugfs "
			      "(CONFIG_FAULT_INJECTION_DEBUG_FS)\n");
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
		igt_require_f(nth_fd >= 0, "no fail-nth (CONFIG_FAULT_INJECTION)\n");
		find_vsvm_text();
		igt_install_exit_handler(fi_exit_handler);
	}

	igt_describe("Fail each allocation of the userptr basics once, in turn.");
	igt_subtest("userptr-fail-nth")
		test_fail_nth(false);

	igt_describe("Fail each allocation of the SVM basics once, in turn.");
	igt_subtest("svm-fail-nth")
		test_fail_nth(true);

	igt_describe("Fail random allocations of the userptr basics, in any "
		     "context.");
	igt_subtest("userptr-random")
		test_random(false);

	igt_describe("Fail random allocations of the SVM basics, in any "
		     "context (the engine's GPU faults too).");
	igt_subtest("svm-random")
		test_random(true);

	igt_fixture {
		fi_off();
		close(nth_fd);
	}
}
