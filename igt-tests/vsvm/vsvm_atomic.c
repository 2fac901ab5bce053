// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm atomic
 * Category: Core
 * Description: GPU atomics on SVM memory: vsvm's DRM_VSVM_OP_ATOMIC_ADD
 *   goes through drm_svm's atomic fault, which makes the page
 *   device-exclusive (make_device_exclusive_range()) for the access.
 *
 * The CPU and the GPU add to the same words; no addition may be lost, the
 * CPU's next touch takes the page back, and the atomic fault must not
 * invalidate the GPU's own mirror of the page (drm_svm's own-exclusive
 * event filter). Expected errors come from &DRM_VSVM_OP_ATOMIC_ADD in
 * vsvm_drm.h.
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt.h"
#include "igt_vsvm.h"

IGT_TEST_DESCRIPTION("GPU atomics on SVM memory through drm_svm's atomic "
		     "(device-exclusive) fault.");

#define PAGE_SZ 4096ull
#define SZ_64K (64ull << 10)
#define SENTINEL 0x5e1f5e1f5e1f5e1full

static int fd = -1;		/* SVM enabled, all chunk sizes */
static struct vsvm_bo out;	/* checksum results land here */

static uint64_t va(const void *p)
{
	return (uintptr_t)p;
}

static struct drm_vsvm_cmd cmd_atomic_add(const void *p, uint32_t add)
{
	return (struct drm_vsvm_cmd) {
		.op = DRM_VSVM_OP_ATOMIC_ADD,
		.dst = va(p),
		.value = add,
	};
}

/* 64K of private anonymous memory, never a transparent huge page. */
static uint32_t *map_words(void)
{
	uint32_t *p = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);

	madvise(p, SZ_64K, MADV_NOHUGEPAGE);
	memset(p, 0, SZ_64K);
	return p;
}

static int gpu_add(uint32_t *p, uint32_t add, unsigned int times)
{
	struct drm_vsvm_cmd cmds[64];

	igt_assert(times <= ARRAY_SIZE(cmds));
	for (unsigned int i = 0; i < times; i++)
		cmds[i] = cmd_atomic_add(p, add);
	return vsvm_exec_sync(fd, cmds, times);
}

static void stats(struct drm_vsvm_get_stats *s)
{
	vsvm_get_stats(fd, s);
}

static void test_add(void)
{
	uint32_t *p = map_words();
	const unsigned int words[] = { 0, 1, 1023, 1024, 16383 };

	for (unsigned int i = 0; i < ARRAY_SIZE(words); i++)
		p[words[i]] = 1000 * i;
	for (unsigned int i = 0; i < ARRAY_SIZE(words); i++)
		igt_assert_eq(gpu_add(&p[words[i]], 7, 10), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(words); i++)
		igt_assert_eq_u32(p[words[i]], 1000 * i + 70);
	/* Wraps like a 32-bit GPU atomic. */
	p[5] = 0xfffffffe;
	igt_assert_eq(gpu_add(&p[5], 3, 1), 0);
	igt_assert_eq_u32(p[5], 1);
	/* The neighbours are untouched. */
	igt_assert_eq_u32(p[2], 0);
	igt_assert_eq_u32(p[6], 0);
	munmap(p, SZ_64K);
}

/*
 * The GPU mirrors the page (checksum), then does atomics on it: its own
 * exclusive event must not invalidate the mirror, the CPU's next touch
 * must.
 */
static void test_after_read(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint32_t *p = map_words();
	struct drm_vsvm_cmd sum;
	uint32_t before, after;
	uint64_t want;

	vsvm_pattern(p, SZ_64K, 0x1234);
	want = vsvm_checksum(p, SZ_64K);
	*(volatile uint64_t *)out.map = SENTINEL;
	sum = vsvm_cmd_checksum(out.va, va(p), SZ_64K);
	igt_assert_eq(vsvm_exec_sync(fd, &sum, 1), 0);
	igt_assert_eq_u64(*(volatile uint64_t *)out.map, want);

	before = p[100];
	stats(&s0);
	igt_assert_eq(gpu_add(&p[100], 5, 1), 0);
	stats(&s1);
	igt_info("svm_invalidations %llu -> %llu over a GPU atomic\n",
		 (unsigned long long)s0.svm_invalidations,
		 (unsigned long long)s1.svm_invalidations);
	igt_assert_f(s1.svm_invalidations == s0.svm_invalidations,
		     "the GPU's own atomic fault invalidated its mirror\n");

	/* The CPU takes the page back: an invalidation, and it sees the sum. */
	after = p[100];
	stats(&s2);
	igt_assert_eq_u32(after, before + 5);
	igt_assert_lt_u64(s1.svm_invalidations, s2.svm_invalidations);

	/* The GPU sees what the CPU writes afterwards. */
	vsvm_pattern(p, SZ_64K, 0x4321);
	want = vsvm_checksum(p, SZ_64K);
	*(volatile uint64_t *)out.map = SENTINEL;
	igt_assert_eq(vsvm_exec_sync(fd, &sum, 1), 0);
	igt_assert_eq_u64(*(volatile uint64_t *)out.map, want);
	munmap(p, SZ_64K);
}

struct race {
	_Atomic uint32_t *word;
	atomic_bool stop;
	uint64_t cpu_adds;
};

static void *cpu_adder(void *data)
{
	struct race *r = data;

	while (!atomic_load(&r->stop)) {
		atomic_fetch_add(r->word, 1);
		r->cpu_adds++;
	}
	return NULL;
}

/* CPU and GPU add to the same word at the same time: nothing is lost. */
static void test_race(void)
{
	uint32_t *p = map_words();
	struct race r = { .word = (_Atomic uint32_t *)&p[42] };
	const unsigned int jobs = 8, per_job = 64;
	pthread_t thread;

	p[42] = 5;
	igt_assert_eq(pthread_create(&thread, NULL, cpu_adder, &r), 0);
	for (unsigned int i = 0; i < jobs; i++)
		igt_assert_eq(gpu_add(&p[42], 1, per_job), 0);
	atomic_store(&r.stop, true);
	igt_assert_eq(pthread_join(thread, NULL), 0);
	igt_info("CPU adds %llu, GPU adds %u\n",
		 (unsigned long long)r.cpu_adds, jobs * per_job);
	igt_assert_eq_u64(p[42], 5 + r.cpu_adds + jobs * per_job);
	munmap(p, SZ_64K);
}

static void test_invalid(void)
{
	uint32_t *p = map_words();
	uint32_t *ro = vsvm_mmap_anon(SZ_64K, PROT_READ);
	uint32_t *shared = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile uint64_t uf = 0;
	struct drm_vsvm_cmd cmd;
	uint64_t seqno;
	int ret;

	igt_assert(shared != MAP_FAILED);
	/* EXEC checks the command. */
	cmd = cmd_atomic_add(p, 1);
	cmd.size = 4;
	igt_assert_eq(__vsvm_exec_ufence(fd, &cmd, 1, 0, &uf, 1, &seqno),
		      -EINVAL);
	cmd = cmd_atomic_add((char *)p + 2, 1);
	igt_assert_eq(__vsvm_exec_ufence(fd, &cmd, 1, 0, &uf, 1, &seqno),
		      -EINVAL);
	cmd = cmd_atomic_add(p, 1);
	cmd.src = va(p);
	igt_assert_eq(__vsvm_exec_ufence(fd, &cmd, 1, 0, &uf, 1, &seqno),
		      -EINVAL);
	/* Atomics go through SVM only, not bound objects. */
	cmd = cmd_atomic_add((void *)(uintptr_t)out.va, 1);
	igt_assert_eq(__vsvm_exec_ufence(fd, &cmd, 1, 0, &uf, 1, &seqno),
		      -EINVAL);

	/* The job fails where the page cannot be made exclusive. */
	igt_assert_eq(gpu_add(ro, 1, 1), -EPERM);
	igt_assert_eq(gpu_add(shared, 1, 1), -EFAULT);
	munmap(p, SZ_64K);
	ret = gpu_add(p, 1, 1);
	igt_assert_eq(ret, -EFAULT);
	igt_assert_eq_u32(*shared, 0);
	igt_assert_eq_u64(uf, 0);
	munmap(ro, SZ_64K);
	munmap(shared, PAGE_SZ);
}

static void test_no_svm(void)
{
	int f = drm_open_vsvm();
	uint32_t *p = map_words();
	struct drm_vsvm_cmd cmd = cmd_atomic_add(p, 1);

	/* Without SVM mode there is nothing to make exclusive. */
	igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, 0, NULL), -EFAULT);
	igt_assert_eq_u32(p[0], 0);
	close(f);
	munmap(p, SZ_64K);
}

igt_main
{
	igt_fixture {
		fd = drm_open_vsvm();
		igt_require_f(__vsvm_svm_enable(fd, 0, 0, 0) == 0,
			      "vsvm without SVM mode (DRM_IOCTL_VSVM_SVM_ENABLE failed)\n");
		vsvm_bo_create(fd, &out, PAGE_SZ);
	}

	igt_describe("ATOMIC_ADD on SVM words in several pages: every addition lands, 32-bit wrap, neighbours untouched.");
	igt_subtest("add")
		test_add();

	igt_describe("Atomics on a page the GPU mirrors already: no invalidation from the GPU's own exclusive fault, one when the CPU touches the page, the GPU then sees the CPU's data.");
	igt_subtest("after-read")
		test_after_read();

	igt_describe("The CPU and the GPU add to one word at the same time: no addition is lost.");
	igt_subtest("race")
		test_race();

	igt_describe("Bad ATOMIC_ADD commands fail EXEC with EINVAL; read-only, shared and unmapped memory fail the job with EPERM / EFAULT.");
	igt_subtest("invalid")
		test_invalid();

	igt_describe("ATOMIC_ADD without SVM mode is refused by EXEC with EFAULT.");
	igt_subtest("no-svm")
		test_no_svm();

	igt_fixture {
		vsvm_bo_destroy(fd, &out);
		close(fd);
	}
}
