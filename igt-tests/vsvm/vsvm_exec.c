// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm exec
 * Category: Core
 * Description: The job submission contract of vsvm, the virtual SVM GPU:
 *   dma-fence rules, userptr objects only for their creator's mm, per-file
 *   queues, bounded queues.
 *
 * Expected behaviour comes from "vsvm uapi" and &struct drm_vsvm_exec in
 * vsvm_drm.h:
 * - a dma-fence job never faults: userptr objects are validated by EXEC
 *   (errors come back from EXEC), and an invalidation of a userptr range
 *   waits for the jobs using it;
 * - in SVM mode jobs have no dma-fence: an out-syncobj is refused with
 *   EOPNOTSUPP, completion is a user fence plus DRM_IOCTL_VSVM_WAIT_UFENCE;
 * - a userptr object is refused (EPERM) to any other mm;
 * - each file has its own queue; a killed process's queued jobs are
 *   dropped; at most DRM_VSVM_MAX_JOBS_IN_FLIGHT jobs per file (EAGAIN).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt.h"
#include "igt_syncobj.h"
#include "igt_vsvm.h"
#include "sw_sync.h"

IGT_TEST_DESCRIPTION("The job submission contract of vsvm: dma-fence "
		     "rules, userptr only for its creator's mm, per-file "
		     "queues and bounded queues.");

#define PAGE_SZ 4096ull
#define SZ_64K (64ull << 10)
#define SZ_1M (1ull << 20)
#define JOB_TIMEOUT_NS (60ll * NSEC_PER_SEC)

static int fd = -1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * (uint64_t)NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t va(const void *p)
{
	return (uintptr_t)p;
}

/* CPU checksum of vsvm_pattern(@seed) over @size bytes. */
static uint64_t pattern_sum(uint64_t size, uint32_t seed)
{
	char *r = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint64_t c;

	vsvm_pattern(r, size, seed);
	c = vsvm_checksum(r, size);
	munmap(r, size);
	return c;
}

/* ---- SCM_RIGHTS ----------------------------------------------------------- */

static void send_fd(int sock, int f)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &f, sizeof(int));
	igt_assert_eq(sendmsg(sock, &msg, 0), 1);
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int f;

	igt_assert_eq(recvmsg(sock, &msg, 0), 1);
	cmsg = CMSG_FIRSTHDR(&msg);
	igt_assert(cmsg && cmsg->cmsg_type == SCM_RIGHTS);
	memcpy(&f, CMSG_DATA(cmsg), sizeof(int));
	return f;
}

/* ---- dma-fence rules -------------------------------------------------------- */

/* A syncobj holding a fence of @timeline that signals at its next step. */
static uint32_t syncobj_from_sw_sync(int f, int timeline)
{
	int fence = sw_sync_timeline_create_fence(timeline, 1);
	uint32_t syncobj = syncobj_create(f, 0);

	syncobj_import_sync_file(f, syncobj, fence);
	close(fence);
	return syncobj;
}

static void test_userptr_validated_at_exec(void)
{
	char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
	struct drm_vsvm_get_stats s0, s1;
	struct drm_vsvm_cmd cmd;
	struct vsvm_uptr u;

	vsvm_uptr_create(fd, &u, buf, SZ_64K, 0);
	igt_assert_eq(munmap(buf, SZ_64K), 0);

	/* The error comes from EXEC, no job is queued, no fence exists. */
	vsvm_get_stats(fd, &s0);
	cmd = vsvm_cmd_fill(u.va, SZ_64K, 1);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EFAULT);
	vsvm_get_stats(fd, &s1);
	igt_assert_eq_u64(s1.jobs_submitted, s0.jobs_submitted);

	/* A writable object over read-only memory: EPERM, also from EXEC. */
	buf = mmap(buf, SZ_64K, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_FIXED, -1, 0);
	igt_assert(buf != MAP_FAILED);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EPERM);

	/* Memory back: the same object works again. */
	vsvm_remap_fixed(buf, SZ_64K);
	igt_assert_eq(vsvm_gpu_fill(fd, u.va, SZ_64K, 0xabcd0123), 0);
	igt_assert(vsvm_all_words(buf, SZ_64K, 0xabcd0123));
	vsvm_uptr_destroy(fd, &u);
	munmap(buf, SZ_64K);
}

/*
 * munmap of a range a queued job uses waits for the job: the job reads the
 * pages that were mapped at submission and succeeds.
 */
static void test_invalidate_waits_for_job(void)
{
	uint64_t size = SZ_64K, t0, dt;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmds[2];
	struct vsvm_bo out;
	struct vsvm_uptr u;
	uint32_t syncobj;

	vsvm_pattern(buf, size, 77);
	vsvm_bo_create(fd, &out, PAGE_SZ);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_READ_ONLY);

	cmds[0] = vsvm_cmd_delay(300 * 1000);
	cmds[1] = vsvm_cmd_checksum(out.va, u.va, size);
	syncobj = vsvm_exec(fd, cmds, 2);

	t0 = now_ns();
	igt_assert_eq(munmap(buf, size), 0);
	dt = now_ns() - t0;
	igt_info("munmap under a queued 300 ms job took %.1f ms\n", dt / 1e6);

	igt_assert_eq(vsvm_job_wait(fd, syncobj, JOB_TIMEOUT_NS), 0);
	igt_assert_f(dt >= 200ull * 1000 * 1000,
		     "munmap did not wait for the job using the range (%.1f ms)\n",
		     dt / 1e6);
	/* the job saw the pages of submission time */
	igt_assert_eq_u64(*(uint64_t *)out.map, pattern_sum(size, 77));
	syncobj_destroy(fd, syncobj);
	vsvm_uptr_destroy(fd, &u);
	vsvm_bo_destroy(fd, &out);
}

/*
 * A job waiting for a sw_sync fence that does not signal: it does not run,
 * another file's queue is not held up, and it runs once the fence signals.
 */
static void test_never_signalling_in_fence(void)
{
	int f2 = drm_open_vsvm();
	struct drm_vsvm_cmd cmd;
	struct vsvm_bo bo, bo2;
	uint32_t in, out, out2;
	int timeline;
	uint64_t t0;

	igt_require_sw_sync();
	vsvm_bo_create(fd, &bo, PAGE_SZ);
	vsvm_bo_create(f2, &bo2, PAGE_SZ);

	timeline = sw_sync_timeline_create();
	in = syncobj_from_sw_sync(fd, timeline);

	out = syncobj_create(fd, 0);
	cmd = vsvm_cmd_fill(bo.va, PAGE_SZ, 0x600dcafe);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, in, out, NULL), 0);
	igt_assert_eq(vsvm_job_wait(fd, out, 200ll * 1000 * 1000), -ETIME);
	igt_assert(vsvm_all_words(bo.map, PAGE_SZ, 0));

	/* another file is not held up */
	t0 = now_ns();
	cmd = vsvm_cmd_fill(bo2.va, PAGE_SZ, 0x2);
	out2 = vsvm_exec(f2, &cmd, 1);
	igt_assert_eq(vsvm_job_wait(f2, out2, JOB_TIMEOUT_NS), 0);
	t0 = now_ns() - t0;
	igt_info("other file's job: %.1f ms\n", t0 / 1e6);
	igt_assert_f(t0 < NSEC_PER_SEC,
		     "another file's job waited %.1f ms for this in-fence\n",
		     t0 / 1e6);
	igt_assert(vsvm_all_words(bo2.map, PAGE_SZ, 2));

	/* still blocked; signal: it runs */
	igt_assert_eq(vsvm_job_wait(fd, out, 0), -ETIME);
	sw_sync_timeline_inc(timeline, 1);
	igt_assert_eq(vsvm_job_wait(fd, out, JOB_TIMEOUT_NS), 0);
	igt_assert(vsvm_all_words(bo.map, PAGE_SZ, 0x600dcafe));

	close(timeline);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	syncobj_destroy(f2, out2);
	vsvm_bo_destroy(fd, &bo);
	vsvm_bo_destroy(f2, &bo2);
	close(f2);
}

/* An in-fence that signals with an error fails the job with that error. */
static void test_in_fence_error(void)
{
	struct drm_vsvm_cmd cmd;
	struct vsvm_bo bo;
	uint32_t in, out;
	int timeline;

	igt_require_sw_sync();
	vsvm_bo_create(fd, &bo, PAGE_SZ);
	timeline = sw_sync_timeline_create();
	in = syncobj_from_sw_sync(fd, timeline);

	out = syncobj_create(fd, 0);
	cmd = vsvm_cmd_fill(bo.va, PAGE_SZ, 0xbad);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, in, out, NULL), 0);
	/* closing a sw_sync timeline signals its fences with -ENOENT */
	close(timeline);
	igt_assert_eq(vsvm_job_wait(fd, out, JOB_TIMEOUT_NS), -ENOENT);
	igt_assert(vsvm_all_words(bo.map, PAGE_SZ, 0));

	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	vsvm_bo_destroy(fd, &bo);
}

/* ---- SVM mode: user fences ---------------------------------------------- */

static void test_svm_no_out_fence(void)
{
	int f = drm_open_vsvm();
	char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
	volatile uint64_t *ufence = (uint64_t *)(buf + SZ_64K - 64);
	uint32_t syncobj = syncobj_create(f, 0);
	struct drm_vsvm_cmd cmd = vsvm_cmd_fill(va(buf), PAGE_SZ, 0x5);
	uint64_t seqno = 0;

	/* no user fence without SVM mode */
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0, ufence, 1, NULL),
		      -EINVAL);

	vsvm_svm_enable(f, 0);
	/* a job that may fault never gets a dma-fence */
	igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, syncobj, NULL), -EOPNOTSUPP);
	/* misaligned user fence */
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0,
					 (uint64_t *)(buf + 4), 1, NULL),
		      -EINVAL);

	*ufence = 0;
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0, ufence, 42, &seqno),
		      0);
	igt_assert_eq(__vsvm_wait_ufence(f, ufence, 42, JOB_TIMEOUT_NS), 0);
	igt_assert_eq_u64(*ufence, 42);
	igt_assert(vsvm_all_words(buf, PAGE_SZ, 0x5));
	igt_assert_eq(vsvm_job_error(f, seqno), 0);

	/* a failed job still writes its user fence, the error is reported */
	igt_assert_eq(munmap(buf, PAGE_SZ), 0);
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0, ufence, 43, &seqno),
		      0);
	igt_assert_eq(__vsvm_wait_ufence(f, ufence, 43, JOB_TIMEOUT_NS), 0);
	igt_assert_eq(vsvm_job_error(f, seqno), -EFAULT);

	syncobj_destroy(f, syncobj);
	close(f);
	munmap(buf + PAGE_SZ, SZ_64K - PAGE_SZ);
}

static void test_svm_wait_ufence(void)
{
	int f = drm_open_vsvm();
	volatile uint64_t *ufence = vsvm_mmap_anon(PAGE_SZ,
						   PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmd = vsvm_cmd_delay(300 * 1000);
	uint64_t t0;

	vsvm_svm_enable(f, 0);
	/* bad arguments */
	igt_assert_eq(__vsvm_wait_ufence(f, NULL, 1, 0), -EINVAL);
	igt_assert_eq(__vsvm_wait_ufence(f, (uint64_t *)((char *)ufence + 4),
					 1, 0), -EINVAL);
	igt_assert_eq(__vsvm_wait_ufence(f, ufence, 1, -1), -EINVAL);

	*ufence = 0;
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0, ufence, 7, NULL), 0);
	t0 = now_ns();
	igt_assert_eq(__vsvm_wait_ufence(f, ufence, 7, 20ll * 1000 * 1000),
		      -ETIME);
	igt_assert(now_ns() - t0 >= 15ull * 1000 * 1000);
	/*
	 * Any file of the device can wait, and is woken by the write, not by
	 * its deadline: the job takes 300 ms, the deadline is 60 s away.
	 */
	t0 = now_ns();
	igt_assert_eq(__vsvm_wait_ufence(fd, ufence, 7, JOB_TIMEOUT_NS), 0);
	igt_assert_f(now_ns() - t0 < JOB_TIMEOUT_NS / 2,
		     "a wait on another file ended only at its deadline\n");
	igt_assert_eq_u64(*ufence, 7);
	/* already reached: no wait, also with a zero timeout */
	igt_assert_eq(__vsvm_wait_ufence(f, ufence, 6, 0), 0);
	munmap((void *)ufence, PAGE_SZ);
	close(f);
}

/* Until the installed uapi headers have it (IGT keeps such fallbacks). */
#ifndef DRM_VSVM_UFENCE_WAIT_ABSTIME
#define DRM_VSVM_UFENCE_WAIT_ABSTIME (1 << 0)
#endif

static int wait_ufence_flags(int f, volatile uint64_t *addr, uint64_t value,
			     int64_t timeout_ns, uint32_t flags)
{
	struct drm_vsvm_wait_ufence arg = {
		.addr = (uintptr_t)addr,
		.value = value,
		.timeout_ns = timeout_ns,
		.flags = flags,
	};

	/* Not igt_ioctl(): the kernel itself restarts after SA_RESTART. */
	return ioctl(f, DRM_IOCTL_VSVM_WAIT_UFENCE, &arg) ? -errno : 0;
}

#define TICK_US 20000
#define TICKS_GIVE_UP 250

static volatile sig_atomic_t ticks;

static void tick(int sig)
{
	static const struct itimerval off;

	/* Stop interrupting at some point, so a broken wait ends too. */
	if (++ticks == TICKS_GIVE_UP)
		setitimer(ITIMER_REAL, &off, NULL);
}

/*
 * An absolute deadline bounds a wait that signals keep interrupting: the
 * IOCTL restarts after each one (SA_RESTART) with the same arguments, so a
 * relative timeout would start over every 20 ms and never expire.
 */
static void test_wait_ufence_abstime(void)
{
	int f = drm_open_vsvm();
	volatile uint64_t *ufence = vsvm_mmap_anon(PAGE_SZ,
						   PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmd = vsvm_cmd_delay(100 * 1000);
	struct itimerval it = {
		.it_interval = { .tv_usec = TICK_US },
		.it_value = { .tv_usec = TICK_US },
	};
	static const struct itimerval off;
	struct sigaction sa = { .sa_handler = tick, .sa_flags = SA_RESTART };
	struct sigaction old;
	int ret, n;

	vsvm_svm_enable(f, 0);
	*ufence = 0;
	ret = wait_ufence_flags(f, ufence, 1, 0, DRM_VSVM_UFENCE_WAIT_ABSTIME);
	igt_require_f(ret != -EINVAL,
		      "no DRM_VSVM_UFENCE_WAIT_ABSTIME (the Linux 6.12 vsvm)\n");
	/* time 0 is long past */
	igt_assert_eq(ret, -ETIME);
	igt_assert_eq(wait_ufence_flags(f, ufence, 1, 0, 1u << 1), -EINVAL);

	igt_assert_eq(sigaction(SIGALRM, &sa, &old), 0);
	ticks = 0;
	igt_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ret = wait_ufence_flags(f, ufence, 1, now_ns() + 300ll * 1000 * 1000,
				DRM_VSVM_UFENCE_WAIT_ABSTIME);
	n = ticks;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	igt_info("figure: the wait ended with %d after %d signals\n", ret, n);
	igt_assert_eq(ret, -ETIME);
	igt_assert_f(n > 0, "no signal interrupted the wait\n");
	igt_assert_f(n < TICKS_GIVE_UP,
		     "the wait outlived its deadline by %d restarts\n", n);

	/* and a job that completes before the deadline ends it with 0 */
	igt_assert_eq(__vsvm_exec_ufence(f, &cmd, 1, 0, ufence, 3, NULL), 0);
	igt_assert_eq(wait_ufence_flags(f, ufence, 3,
					now_ns() + JOB_TIMEOUT_NS,
					DRM_VSVM_UFENCE_WAIT_ABSTIME), 0);
	igt_assert_eq_u64(*ufence, 3);
	munmap((void *)ufence, PAGE_SZ);
	close(f);
}

/* ---- foreign mm ------------------------------------------------------------- */

static void test_foreign_mm_fork(void)
{
	char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
	struct vsvm_bo out;
	struct vsvm_uptr u;

	vsvm_pattern(buf, SZ_64K, 3);
	vsvm_bo_create(fd, &out, PAGE_SZ);
	vsvm_uptr_create(fd, &u, buf, SZ_64K, 0);

	igt_fork(child, 1) {
		struct drm_vsvm_cmd cmd;
		struct vsvm_uptr mine;
		char *b2;

		/* neither read nor write the parent's memory */
		cmd = vsvm_cmd_checksum(out.va, u.va, SZ_64K);
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EPERM);
		cmd = vsvm_cmd_fill(u.va, SZ_64K, 0xdead);
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EPERM);
		/* nor pass it on as a dma-buf */
		{
			struct drm_prime_handle prime = {
				.handle = u.handle, .flags = DRM_CLOEXEC,
			};

			igt_assert_eq(igt_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD,
						&prime), -1);
			igt_assert_eq(errno, EPERM);
			errno = 0;
		}

		/* its own userptr on the inherited file works */
		b2 = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
		vsvm_uptr_create(fd, &mine, b2, SZ_64K, 0);
		igt_assert_eq(vsvm_gpu_fill(fd, mine.va, SZ_64K, 0x1234), 0);
		igt_assert(vsvm_all_words(b2, SZ_64K, 0x1234));
		vsvm_uptr_destroy(fd, &mine);
	}
	igt_waitchildren();

	/* its creator cannot export it either: no userptr object can be */
	{
		struct drm_prime_handle prime = {
			.handle = u.handle, .flags = DRM_CLOEXEC,
		};

		igt_assert_eq(igt_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD,
					&prime), -1);
		igt_assert_eq(errno, EPERM);
		errno = 0;
	}

	/* untouched, and still usable by its creator */
	igt_assert_eq_u64(vsvm_checksum(buf, SZ_64K), pattern_sum(SZ_64K, 3));
	{
		uint64_t sum;

		igt_assert_eq(vsvm_gpu_checksum(fd, u.va, SZ_64K, &out, 0,
						&sum), 0);
		igt_assert_eq_u64(sum, vsvm_checksum(buf, SZ_64K));
	}
	vsvm_uptr_destroy(fd, &u);
	vsvm_bo_destroy(fd, &out);
	munmap(buf, SZ_64K);
}

static void test_foreign_mm_scm_rights(void)
{
	int sv[2];

	igt_require_f(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
		      "no AF_UNIX sockets (CONFIG_UNIX)\n");
	igt_fork(child, 1) {
		/* forked before the file exists: shares nothing of it */
		int f = recv_fd(sv[1]);
		uint64_t uva, outva;
		struct drm_vsvm_cmd cmd;
		uint32_t h;

		igt_assert_eq(read(sv[1], &uva, sizeof(uva)), sizeof(uva));
		igt_assert_eq(read(sv[1], &outva, sizeof(outva)),
			      sizeof(outva));
		igt_assert_eq(read(sv[1], &h, sizeof(h)), sizeof(h));
		cmd = vsvm_cmd_checksum(outva, uva, SZ_64K);
		igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, 0, NULL), -EPERM);
		cmd = vsvm_cmd_fill(uva, SZ_64K, 0xdead);
		igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, 0, NULL), -EPERM);
		close(f);
		vsvm_kick_pipe(sv[1]);
	}
	{
		int f = drm_open_vsvm();
		char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
		struct vsvm_bo out;
		struct vsvm_uptr u;

		vsvm_pattern(buf, SZ_64K, 9);
		vsvm_bo_create(f, &out, PAGE_SZ);
		vsvm_uptr_create(f, &u, buf, SZ_64K, 0);
		send_fd(sv[0], f);
		igt_assert_eq(write(sv[0], &u.va, sizeof(u.va)), sizeof(u.va));
		igt_assert_eq(write(sv[0], &out.va, sizeof(out.va)),
			      sizeof(out.va));
		igt_assert_eq(write(sv[0], &u.handle, sizeof(u.handle)),
			      sizeof(u.handle));
		vsvm_wait_pipe(sv[0]);
		igt_waitchildren();
		igt_assert_eq(vsvm_all_words(buf, SZ_64K, 0xdead), false);
		vsvm_uptr_destroy(f, &u);
		vsvm_bo_destroy(f, &out);
		close(f);
		munmap(buf, SZ_64K);
	}
	close(sv[0]);
	close(sv[1]);
}

/*
 * Open vsvm's primary node: flink and GEM_OPEN need an authenticated
 * primary-node file (render nodes refuse them). The first opener is master,
 * hence authenticated.
 */
static int open_vsvm_primary(void)
{
	int f = drm_open_driver(DRIVER_ANY);

	igt_require_f(is_vsvm_device(f), "the primary node IGT opened is not vsvm\n");
	return f;
}

static void test_foreign_mm_open(void)
{
	char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);
	int card = open_vsvm_primary();
	struct drm_gem_flink flink = { 0 };
	struct drm_gem_open op = { 0 };
	uint32_t h;

	h = drm_userptr_create(card, buf, SZ_64K, 0);
	/* the creator may name it ... */
	flink.handle = h;
	do_ioctl(card, DRM_IOCTL_GEM_FLINK, &flink);
	igt_assert(flink.name);

	igt_fork(child, 1) {
		/* ... but no other mm may open it (inherited, authenticated) */
		op.name = flink.name;
		igt_assert_eq(igt_ioctl(card, DRM_IOCTL_GEM_OPEN, &op), -1);
		igt_assert_eq(errno, EPERM);
		errno = 0;
	}
	igt_waitchildren();

	/* the creator can */
	op.name = flink.name;
	do_ioctl(card, DRM_IOCTL_GEM_OPEN, &op);
	igt_assert(op.handle);
	gem_close(card, op.handle);
	gem_close(card, h);
	close(card);
	munmap(buf, SZ_64K);
}

/* ---- per-file queues -------------------------------------------------------- */

#define BACKLOG_JOBS 6

/* Queue ~6 s of work on @f; returns the syncobj of the last job. */
static uint32_t queue_backlog(int f)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
	uint32_t last = 0;

	for (int i = 0; i < BACKLOG_JOBS; i++) {
		if (last)
			syncobj_destroy(f, last);
		last = vsvm_exec(f, &cmd, 1);
	}
	return last;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_fairness(void)
{
	int a = drm_open_vsvm(), b = drm_open_vsvm();
	uint64_t t[5];
	struct vsvm_bo bo;
	uint32_t last;

	vsvm_bo_create(b, &bo, PAGE_SZ);
	last = queue_backlog(a);

	for (int i = 0; i < 5; i++) {
		struct drm_vsvm_cmd cmd = vsvm_cmd_fill(bo.va, 4, i + 1);
		uint64_t t0 = now_ns();

		igt_assert_eq(vsvm_exec_sync(b, &cmd, 1), 0);
		t[i] = now_ns() - t0;
		igt_assert_eq(*(uint32_t *)bo.map, i + 1);
	}
	qsort(t, 5, sizeof(t[0]), cmp_u64);
	igt_info("trivial job on fd B with %d s queued on fd A: median %.2f ms, max %.2f ms\n",
		 BACKLOG_JOBS, t[2] / 1e6, t[4] / 1e6);
	/* target < 50 ms; none may wait for the other file's queue */
	igt_assert_f(t[2] < 50ull * 1000 * 1000,
		     "trivial job took %.1f ms (median) behind another file's queue\n",
		     t[2] / 1e6);
	igt_assert_f(t[4] < NSEC_PER_SEC,
		     "trivial job took %.1f ms behind another file's queue\n",
		     t[4] / 1e6);
	/* A's work is still queued */
	igt_assert_eq(vsvm_job_wait(a, last, 0), -ETIME);

	syncobj_destroy(a, last);
	vsvm_bo_destroy(b, &bo);
	close(a);
	close(b);
}

/* A killed process's queued jobs are dropped (their fences: -ESRCH). */
static void test_killed_jobs_dropped(void)
{
	int sv[2], sf, status;
	struct igt_helper_process proc = {};
	uint64_t t0;

	igt_require_f(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
		      "no AF_UNIX sockets (CONFIG_UNIX)\n");
	igt_fork_helper(&proc) {
		int f = drm_open_vsvm();
		uint32_t last = queue_backlog(f);
		int s;

		s = syncobj_handle_to_fd(f, last,
					 DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE);
		send_fd(sv[1], s);
		for (;;)
			pause();
	}
	sf = recv_fd(sv[0]);
	igt_assert_eq(sync_fence_status(sf), 0);
	t0 = now_ns();
	kill(proc.pid, SIGKILL);
	igt_wait_helper(&proc);

	/* the running job (at most 1 s) completes, the rest is dropped */
	igt_assert_eq(sync_fence_wait(sf, 60000), 0);
	status = sync_fence_status(sf);
	igt_info("last queued job of the killed process: status %d after %.0f ms\n",
		 status, (now_ns() - t0) / 1e6);
	igt_assert_eq(status, -ESRCH);
	igt_assert(now_ns() - t0 < 3ull * NSEC_PER_SEC);
	close(sf);
	close(sv[0]);
	close(sv[1]);
}

/* ---- bounded queues --------------------------------------------------------- */

/*
 * EXEC with plain ioctl(): igt_ioctl() and libdrm's drmIoctl() retry on
 * EAGAIN (and EINTR), so through them a full queue makes EXEC spin until
 * a job is freed, which is what callers of those wrappers want.
 */
static int raw_exec(int f, const struct drm_vsvm_cmd *cmd, uint32_t out)
{
	struct drm_vsvm_exec arg = {
		.cmds = (uintptr_t)cmd,
		.num_cmds = 1,
		.out_syncobj = out,
	};
	int err = 0;

	if (ioctl(f, DRM_IOCTL_VSVM_EXEC, &arg))
		err = -errno;
	errno = 0;
	return err;
}

static void test_in_flight_cap(void)
{
	int f = drm_open_vsvm();
	struct drm_vsvm_cmd block[5], cmd = vsvm_cmd_delay(0);
	struct drm_vsvm_get_stats st;
	uint32_t syncobj = syncobj_create(f, 0);
	uint64_t t0 = now_ns();
	int n, ret;

	/* a 5 s job first: everything submitted behind it stays queued */
	for (int i = 0; i < 5; i++)
		block[i] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
	igt_assert_eq(__vsvm_exec(f, block, 5, 0, 0, NULL), 0);
	for (n = 1; n < 4 * DRM_VSVM_MAX_JOBS_IN_FLIGHT; n++) {
		ret = raw_exec(f, &cmd, syncobj);
		if (ret)
			break;
	}
	igt_info("EXEC #%d returned %d (%s) after %.0f ms\n", n + 1, ret,
		 strerror(-ret), (now_ns() - t0) / 1e6);
	igt_assert_eq(ret, -EAGAIN);
	igt_assert_eq(n, DRM_VSVM_MAX_JOBS_IN_FLIGHT);
	vsvm_get_stats(f, &st);
	igt_assert_eq_u64(st.jobs_submitted, n);
	igt_assert_f(now_ns() - t0 < 5ull * NSEC_PER_SEC,
		     "submission outlasted the blocking job\n");

	/* once they are done, EXEC works again */
	igt_assert_eq(vsvm_job_wait(f, syncobj, JOB_TIMEOUT_NS), 0);
	igt_until_timeout(10) {
		ret = raw_exec(f, &cmd, syncobj);
		if (ret != -EAGAIN)
			break;
		usleep(1000);	/* the last jobs are being freed */
	}
	igt_assert_eq(ret, 0);
	/* igt_ioctl() (like drmIoctl()) turns the EAGAIN into a wait */
	igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, syncobj, NULL), 0);
	igt_assert_eq(vsvm_job_wait(f, syncobj, JOB_TIMEOUT_NS), 0);
	syncobj_destroy(f, syncobj);
	close(f);
}

/* "Name:  value kB" of /proc/meminfo, in bytes. */
static uint64_t meminfo(const char *name)
{
	char line[128];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	igt_assert(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) &&
		    sscanf(line + strlen(name), ": %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

/*
 * VM_BIND pins a shmem object: one larger than the memory available is
 * refused with ENOMEM up front, before anything is pinned or anyone is
 * OOM-killed.
 */
static void test_bind_beyond_available(void)
{
	uint64_t avail = meminfo("MemAvailable");
	uint64_t total = meminfo("MemTotal");
	uint64_t size = (avail + (64ull << 20)) & ~(PAGE_SZ - 1);
	uint32_t h;

	igt_require_f(size < total, "MemAvailable too close to MemTotal\n");
	h = vsvm_gem_create(fd, size);
	igt_assert_eq(__vsvm_vm_bind(fd, h, 0, vsvm_va_alloc(size), size, 0),
		      -ENOMEM);
	igt_info("bind of %" PRIu64 " MiB with %" PRIu64 " MiB available: ENOMEM; now %" PRIu64 " MiB available\n",
		 size >> 20, avail >> 20, meminfo("MemAvailable") >> 20);
	gem_close(fd, h);
}

/*
 * Settle kernel memory so that two SUnreclaim figures compare: drop the
 * caches and shrink every slab cache, which also empties KASAN's
 * quarantine of freed objects (kasan_cache_shrink()).
 */
static void slab_settle(void)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	int f;

	sync();
	f = open("/proc/sys/vm/drop_caches", O_WRONLY);
	igt_assert_lte(0, f);
	igt_assert_eq(write(f, "3", 1), 1);
	d = opendir("/sys/kernel/slab");
	igt_require_f(d, "no /sys/kernel/slab\n");
	while ((e = readdir(d))) {
		int s;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		s = open(path, O_WRONLY);
		if (s < 0)
			continue;
		igt_assert_eq(write(s, "1", 1), 1);
		close(s);
	}
	closedir(d);
	igt_assert_eq(write(f, "3", 1), 1);
	close(f);
}

/*
 * The lowest settled SUnreclaim of a few samples: what the closed files
 * left behind, once vsvm's deferred teardown (fini_work) and RCU frees
 * have run.
 */
static uint64_t settled_slab(void)
{
	uint64_t min = UINT64_MAX;

	for (int i = 0; i < 4; i++) {
		uint64_t v;

		usleep(250 * 1000);
		slab_settle();
		v = meminfo("SUnreclaim");
		if (v < min)
			min = v;
	}
	return min;
}

/* One file's life: a userptr object, one job on it, close. */
static void open_use_close(void *buf, uint64_t size)
{
	struct vsvm_uptr u;
	int f = drm_open_vsvm();

	vsvm_uptr_create(f, &u, buf, size, 0);
	igt_assert_eq(vsvm_gpu_fill(f, u.va, size, 0x5a5a5a5a), 0);
	vsvm_uptr_destroy(f, &u);
	close(f);
}

#define OPEN_CLOSE_CYCLES 400
#define OPEN_CLOSE_MAX_BYTES 512

/*
 * A file costs nothing once it is gone: the kernel memory that a file
 * which created an object and ran a job on it leaves behind, averaged over
 * OPEN_CLOSE_CYCLES files, is at most OPEN_CLOSE_MAX_BYTES per file. Two
 * settled SUnreclaim samples differ by up to 32 kB from run to run (80
 * bytes a cycle over 400 cycles); the 6.12 vsvm kept 6.6 kB a file.
 */
static void test_open_close_cost(void)
{
	uint64_t size = 4 * PAGE_SZ, s0, s1;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	int64_t per_cycle;

	/*
	 * The Linux 6.12 vsvm keeps a dead scheduler per file until unload
	 * (fixed in the 7.3 one). VSVM_TEST_OLD_KERNEL=1 runs it there, to
	 * see it fail.
	 */
	igt_require_f(vsvm_kernel_major() >= 7 || getenv("VSVM_TEST_OLD_KERNEL"),
		      "the per-file cost is fixed in the Linux 7.3 vsvm only (running Linux %d.x)\n",
		      vsvm_kernel_major());

	/* First-use allocations (caches, the device's first file) */
	for (int i = 0; i < 20; i++)
		open_use_close(buf, size);
	s0 = settled_slab();
	for (int i = 0; i < OPEN_CLOSE_CYCLES; i++)
		open_use_close(buf, size);
	igt_assert(vsvm_all_words(buf, size, 0x5a5a5a5a));
	s1 = settled_slab();
	munmap(buf, size);

	per_cycle = ((int64_t)s1 - (int64_t)s0) / OPEN_CLOSE_CYCLES;
	igt_info("figure: SUnreclaim %" PRIu64 " -> %" PRIu64 " kB after %d open/use/close cycles: %" PRId64 " bytes per cycle\n",
		 s0 >> 10, s1 >> 10, OPEN_CLOSE_CYCLES, per_cycle);
	igt_assert_f(per_cycle <= OPEN_CLOSE_MAX_BYTES,
		     "each closed file kept %" PRId64 " bytes of unreclaimable slab\n",
		     per_cycle);
}

igt_main
{
	igt_fixture
		fd = drm_open_vsvm();

	igt_describe("Userptr errors come back from EXEC: a job with a fence never faults.");
	igt_subtest("userptr-validated-at-exec")
		test_userptr_validated_at_exec();

	igt_describe("munmap of a userptr range waits for the queued job that uses it; the job sees the old pages.");
	igt_subtest("invalidate-waits-for-job")
		test_invalidate_waits_for_job();

	igt_describe("A job behind a never-signalling sw_sync fence waits, does not hold other files up, and runs once it signals.");
	igt_subtest("never-signalling-in-fence")
		test_never_signalling_in_fence();

	igt_describe("An in-fence signalled with an error fails the job with it.");
	igt_subtest("in-fence-error")
		test_in_fence_error();

	igt_describe("In SVM mode EXEC refuses out-syncobjs with EOPNOTSUPP; completion is a user fence.");
	igt_subtest("svm-no-out-fence")
		test_svm_no_out_fence();

	igt_describe("DRM_IOCTL_VSVM_WAIT_UFENCE: bad arguments, timeout, any file, woken by the write.");
	igt_subtest("svm-wait-ufence")
		test_svm_wait_ufence();

	igt_describe("WAIT_UFENCE with an absolute deadline ends at it although signals keep restarting the IOCTL.");
	igt_subtest("wait-ufence-abstime")
		test_wait_ufence_abstime();

	igt_describe("A fork child sharing the file cannot use, open or export the parent's userptr: EPERM.");
	igt_subtest("foreign-mm-fork")
		test_foreign_mm_fork();

	igt_describe("A process that received the file over SCM_RIGHTS cannot use its userptrs: EPERM.");
	igt_subtest("foreign-mm-scm-rights")
		test_foreign_mm_scm_rights();

	igt_describe("Another process cannot open a flinked userptr object (GEM_OPEN): EPERM.");
	igt_subtest("foreign-mm-open")
		test_foreign_mm_open();

	igt_describe("A trivial job on one file completes in under 50 ms while another file has 6 s queued.");
	igt_subtest("per-file-fairness")
		test_fairness();

	igt_describe("The queued jobs of a process killed with SIGKILL are dropped (-ESRCH).");
	igt_subtest("killed-process-jobs-dropped")
		test_killed_jobs_dropped();

	igt_describe("EXEC fails with EAGAIN once DRM_VSVM_MAX_JOBS_IN_FLIGHT jobs are queued.");
	igt_subtest("in-flight-cap")
		test_in_flight_cap();

	igt_describe("VM_BIND of a shmem object larger than the available memory fails with ENOMEM, without pinning.");
	igt_subtest("bind-beyond-available")
		test_bind_beyond_available();

	igt_describe("Opening, using and closing the device 400 times leaves at most 512 bytes of unreclaimable slab per file.");
	igt_subtest("open-close-cost")
		test_open_close_cost();

	igt_fixture
		close(fd);
}
