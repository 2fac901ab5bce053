// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm userptr
 * Category: Core
 * Description: userptr objects on vsvm, the virtual SVM GPU: the generic
 *   DRM userptr IOCTL backed by drm_svm, exercised from userspace.
 *
 * Modelled on i915's gem_userptr_blits: the GPU (vsvm's software engine)
 * reads and writes the process's memory through userptr objects while the
 * process munmaps, remaps, mprotects and forks under it. Data is always
 * checked (GPU checksums against CPU checksums, GPU writes read back by the
 * CPU), and vsvm's per-file counters show the invalidation machinery at
 * work. Expected errors come from the tables in drm.h (DRM_IOCTL_USERPTR_CREATE)
 * and vsvm_drm.h (the invalidation policy: a job whose pages were
 * invalidated revalidates them, or fails with the fence error listed there).
 */

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "igt.h"
#include "igt_syncobj.h"
#include "igt_vsvm.h"
#include "sw_sync.h"

IGT_TEST_DESCRIPTION("Exercise userptr objects on vsvm, the virtual SVM GPU: "
		     "the generic DRM userptr IOCTL, GPU access to user memory "
		     "and its invalidation on munmap/mprotect/remap/fork.");

#define PAGE_SZ 4096ull
#define SZ_64K (64ull << 10)
#define SZ_1M (1ull << 20)
#define SZ_2M (2ull << 20)
#define SENTINEL 0x5e1f5e1f5e1f5e1full
#define JOB_TIMEOUT_NS (60ll * NSEC_PER_SEC)

static int fd = -1;
static struct vsvm_bo out;	/* checksum results land here */

static const struct size_case {
	const char *name;
	uint64_t size;
} sizes[] = {
	{ "4k", PAGE_SZ },
	{ "64k", SZ_64K },
	{ "2m", SZ_2M },
	{ "6m-plus-4k", 3 * SZ_2M + PAGE_SZ },	/* spans several huge pages */
};

/* ---- memory helpers ------------------------------------------------------ */

/* Anonymous private memory aligned to @align (for huge-page sized tests). */
static void *mmap_aligned(uint64_t size, uint64_t align)
{
	uint64_t len = size + align;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	igt_assert(p != MAP_FAILED);
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, a - p);
	if (a + size < p + len)
		munmap(a + size, p + len - (a + size));
	return a;
}

/* ---- GPU helpers ----------------------------------------------------------- */

/* GPU checksum of [va, va + size); returns the job's status. */
static int gpu_sum(uint64_t va, uint64_t size, uint64_t *sum)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_checksum(out.va, va, size);
	volatile uint64_t *res = out.map;
	int ret;

	*res = SENTINEL;
	ret = vsvm_exec_sync(fd, &cmd, 1);
	*sum = *res;
	if (ret)
		igt_assert_f(*sum == SENTINEL,
			     "a failed job wrote its checksum anyway\n");
	return ret;
}

/* The GPU's checksum of a userptr must equal the CPU's of the same memory. */
static void assert_gpu_sees(const struct vsvm_uptr *u, uint64_t off,
			    uint64_t size)
{
	uint64_t sum;

	igt_assert_eq(gpu_sum(u->va + off, size, &sum), 0);
	igt_assert_f(sum == vsvm_checksum((char *)u->ptr + off, size),
		     "GPU checksum %#llx != CPU checksum %#llx (stale pages?)\n",
		     (unsigned long long)sum,
		     (unsigned long long)vsvm_checksum((char *)u->ptr + off, size));
}

static void assert_gpu_fails(const struct vsvm_uptr *u, uint64_t size, int err)
{
	uint64_t sum;

	igt_assert_eq(gpu_sum(u->va, size, &sum), err);
}

static int gpu_fill(const struct vsvm_uptr *u, uint64_t off, uint64_t size,
		    uint32_t v)
{
	return vsvm_gpu_fill(fd, u->va + off, size, v);
}

static void stats(struct drm_vsvm_get_stats *s)
{
	vsvm_get_stats(fd, s);
}

/* ---- basic --------------------------------------------------------------- */

static void test_getcap(void)
{
	uint64_t cap = drm_userptr_cap(fd);

	igt_assert_f(cap & DRM_USERPTR_VALIDATE,
		     "DRM_CAP_USERPTR %#llx lacks VALIDATE\n",
		     (unsigned long long)cap);
	igt_assert_eq_u64(cap, DRM_USERPTR_READ_ONLY | DRM_USERPTR_ANON_ONLY |
				DRM_USERPTR_VALIDATE);
}

static void test_create_close(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	void *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint32_t h1, h2;

	stats(&s0);
	h1 = drm_userptr_create(fd, buf, size, 0);
	h2 = drm_userptr_create(fd, buf, size, 0);
	igt_assert_neq(h1, h2);
	stats(&s1);
	/* Without VALIDATE nothing is faulted in at creation. */
	igt_assert_eq_u64(s1.faults, s0.faults);
	igt_assert_eq_u64(s1.validate_ns, s0.validate_ns);

	igt_assert_eq(__gem_close_handle(fd, h1), 0);
	igt_assert_eq(__gem_close_handle(fd, h1), -EINVAL);
	igt_assert_eq(__gem_close_handle(fd, h2), 0);

	/* Userptr objects have no mmap offset: the CPU already maps them. */
	h1 = drm_userptr_create(fd, buf, size, 0);
	{
		struct drm_vsvm_gem_mmap_offset arg = { .handle = h1 };

		igt_assert_eq(igt_ioctl(fd, DRM_IOCTL_VSVM_GEM_MMAP_OFFSET, &arg), -1);
		igt_assert_eq(errno, EINVAL);
	}
	gem_close(fd, h1);
	munmap(buf, size);
}

static void test_create_validate(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	void *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint32_t h;

	stats(&s0);
	h = drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE);
	stats(&s1);
	igt_assert_eq_u64(s1.faults, s0.faults + 1);
	igt_assert_eq_u64(s1.revalidations, s0.revalidations);
	/* The validation took time, and no SVM fault did. */
	igt_assert(s1.validate_ns > s0.validate_ns);
	igt_assert_eq_u64(s1.svm_fault_ns, s0.svm_fault_ns);
	igt_info("validating %llu pages: %llu ns\n",
		 (unsigned long long)(size / PAGE_SZ),
		 (unsigned long long)(s1.validate_ns - s0.validate_ns));
	gem_close(fd, h);
	munmap(buf, size);
}

static void test_gpu_read(uint64_t size)
{
	struct vsvm_uptr u;
	char *buf = mmap_aligned(size, SZ_2M);

	vsvm_pattern(buf, size, size);
	vsvm_uptr_create(fd, &u, buf, size, 0);
	assert_gpu_sees(&u, 0, size);

	/* The GPU mirrors memory, not a snapshot: CPU writes are seen. */
	((uint32_t *)(buf + size - 4))[0] ^= 0xffffffff;
	((uint32_t *)buf)[0] ^= 0x12345678;
	assert_gpu_sees(&u, 0, size);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_gpu_write(uint64_t size)
{
	struct vsvm_uptr u;
	struct vsvm_bo src;
	char *buf = mmap_aligned(size, SZ_2M);
	struct drm_vsvm_cmd cmd;
	uint32_t v = 0xc0ffee00 ^ (uint32_t)size;

	memset(buf, 0, size);
	vsvm_uptr_create(fd, &u, buf, size, 0);

	/* fill: every word the GPU wrote is visible to the CPU */
	igt_assert_eq(gpu_fill(&u, 0, size, v), 0);
	igt_assert(vsvm_all_words(buf, size, v));

	/* copy from a shmem object into the userptr */
	vsvm_bo_create(fd, &src, size);
	vsvm_pattern(src.map, size, 7);
	cmd = vsvm_cmd_copy(u.va, src.va, size);
	igt_assert_eq(vsvm_exec_sync(fd, &cmd, 1), 0);
	igt_assert(memcmp(buf, src.map, size) == 0);

	vsvm_bo_destroy(fd, &src);
	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_gpu_copy(uint64_t size)
{
	struct vsvm_uptr a, b;
	char *src = mmap_aligned(size, SZ_2M);
	char *dst = mmap_aligned(size, SZ_2M);
	struct drm_vsvm_cmd cmd;

	vsvm_pattern(src, size, 3);
	memset(dst, 0xa5, size);
	vsvm_uptr_create(fd, &a, src, size, DRM_USERPTR_READ_ONLY);
	vsvm_uptr_create(fd, &b, dst, size, 0);

	cmd = vsvm_cmd_copy(b.va, a.va, size);
	igt_assert_eq(vsvm_exec_sync(fd, &cmd, 1), 0);
	igt_assert(memcmp(src, dst, size) == 0);

	vsvm_uptr_destroy(fd, &a);
	vsvm_uptr_destroy(fd, &b);
	munmap(src, size);
	munmap(dst, size);
}

/* ---- bad input --------------------------------------------------------------- */

static void test_invalid_null(void)
{
	igt_assert_eq(__drm_userptr_create(fd, NULL, PAGE_SZ, 0, NULL), -EFAULT);
	igt_assert_eq(__drm_userptr_create(fd, NULL, PAGE_SZ,
					   DRM_USERPTR_VALIDATE, NULL), -EFAULT);
}

static void test_invalid_unaligned_pointer(void)
{
	char *buf = vsvm_mmap_anon(4 * PAGE_SZ, PROT_READ | PROT_WRITE);

	igt_assert_eq(__drm_userptr_create(fd, buf + 1, PAGE_SZ, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf + 2048, PAGE_SZ, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf + 64, 2 * PAGE_SZ,
					   DRM_USERPTR_VALIDATE, NULL), -EINVAL);
	munmap(buf, 4 * PAGE_SZ);
}

static void test_invalid_unaligned_size(void)
{
	char *buf = vsvm_mmap_anon(4 * PAGE_SZ, PROT_READ | PROT_WRITE);

	igt_assert_eq(__drm_userptr_create(fd, buf, PAGE_SZ + 1, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf, 100, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf, 2 * PAGE_SZ - 4,
					   DRM_USERPTR_VALIDATE, NULL), -EINVAL);
	munmap(buf, 4 * PAGE_SZ);
}

static void test_invalid_zero_size(void)
{
	char *buf = vsvm_mmap_anon(PAGE_SZ, PROT_READ | PROT_WRITE);

	igt_assert_eq(__drm_userptr_create(fd, buf, 0, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf, 0, DRM_USERPTR_VALIDATE,
					   NULL), -EINVAL);
	munmap(buf, PAGE_SZ);
}

static void test_invalid_size_overflow(void)
{
	char *buf = vsvm_mmap_anon(PAGE_SZ, PROT_READ | PROT_WRITE);

	/* addr + size wraps around 2^64 */
	igt_assert_eq(__drm_userptr_create(fd, buf, -PAGE_SZ, 0, NULL), -EINVAL);
	/* addr + size == 2^64 exactly */
	igt_assert_eq(__drm_userptr_create(fd, buf, 0 - (uint64_t)(uintptr_t)buf,
					   DRM_USERPTR_VALIDATE, NULL), -EINVAL);
	munmap(buf, PAGE_SZ);
}

static void test_invalid_size_huge(void)
{
	struct drm_vsvm_gem_create gc = { .size = 1ull << 46 };
	const uint64_t addr = 1ull << 40;

	/*
	 * 64 TiB of unmapped user address space: nothing backs it, but the
	 * kernel would need 16 bytes of bookkeeping per page to track it.
	 */
	igt_assert_eq(__drm_userptr_create(fd, (void *)(uintptr_t)addr,
					   1ull << 46, 0, NULL), -ENOMEM);
	/* A staging object that large could never be pinned for binding. */
	igt_assert_eq(igt_ioctl(fd, DRM_IOCTL_VSVM_GEM_CREATE, &gc), -1);
	igt_assert_eq(errno, ENOMEM);
}

static void test_invalid_kernel_address(void)
{
	/* x86-64 direct map and kernel text: never user addresses */
	igt_assert_eq(__drm_userptr_create_pad(fd, 0xffff888000000000ull, PAGE_SZ,
					       0, 0, NULL), -EFAULT);
	igt_assert_eq(__drm_userptr_create_pad(fd, 0xffffffff80000000ull,
					       16 * PAGE_SZ, DRM_USERPTR_VALIDATE,
					       0, NULL), -EFAULT);
}

static void test_invalid_unmapped(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 4 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct vsvm_uptr u;

	/* a hole in the middle */
	munmap(buf + PAGE_SZ, PAGE_SZ);
	igt_assert_eq(__drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE,
					   NULL), -EFAULT);
	/* nothing mapped at all */
	munmap(buf, size);
	igt_assert_eq(__drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE,
					   NULL), -EFAULT);

	/*
	 * Without VALIDATE creation succeeds and the first use fails: EXEC
	 * validates (a job with a fence never faults), nothing is queued.
	 */
	vsvm_uptr_create(fd, &u, buf, size, 0);
	stats(&s0);
	assert_gpu_fails(&u, size, -EFAULT);
	stats(&s1);
	igt_assert_eq_u64(s1.jobs_submitted, s0.jobs_submitted);
	igt_assert_eq_u64(s1.jobs_failed, s0.jobs_failed);
	vsvm_uptr_destroy(fd, &u);
}

static void test_invalid_flags(void)
{
	char *buf = vsvm_mmap_anon(PAGE_SZ, PROT_READ | PROT_WRITE);

	for (int bit = 3; bit < 32; bit++)
		igt_assert_f(__drm_userptr_create(fd, buf, PAGE_SZ, 1u << bit,
						  NULL) == -EINVAL,
			     "unknown flag bit %d accepted\n", bit);
	igt_assert_eq(__drm_userptr_create_pad(fd, (uintptr_t)buf, PAGE_SZ, 0,
					       1, NULL), -EINVAL);
	munmap(buf, PAGE_SZ);
}

static void test_readonly_mapping(void)
{
	uint64_t size = 4 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ);
	struct vsvm_uptr u;

	/* writable object over a PROT_READ mapping */
	igt_assert_eq(__drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE,
					   NULL), -EPERM);

	/* a read-only object is fine, and the GPU reads the (zero) pages */
	u.handle = 0;
	igt_assert_eq(__drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE |
					   DRM_USERPTR_READ_ONLY, &u.handle), 0);
	gem_close(fd, u.handle);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_READ_ONLY);
	assert_gpu_sees(&u, 0, size);
	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_anon_only(void)
{
	const uint32_t ao = DRM_USERPTR_ANON_ONLY | DRM_USERPTR_VALIDATE;
	uint64_t size = 4 * PAGE_SZ;
	int f = vsvm_tmp_file(size);
	char *shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	char *private = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	char *shanon = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *anon = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint32_t h;

	igt_assert(shared != MAP_FAILED && private != MAP_FAILED &&
		   shanon != MAP_FAILED);
	memset(shared, 1, size);

	/* file-backed: refused with ANON_ONLY, accepted without */
	igt_assert_eq(__drm_userptr_create(fd, shared, size, ao, NULL), -EPERM);
	igt_assert_eq(__drm_userptr_create(fd, private, size, ao, NULL), -EPERM);
	igt_assert_eq(__drm_userptr_create(fd, shanon, size, ao, NULL), -EPERM);
	h = drm_userptr_create(fd, shared, size, DRM_USERPTR_VALIDATE);
	gem_close(fd, h);

	/* private anonymous memory is what ANON_ONLY is for */
	h = drm_userptr_create(fd, anon, size, ao);
	gem_close(fd, h);

	munmap(shared, size);
	munmap(private, size);
	munmap(shanon, size);
	munmap(anon, size);
	close(f);
}

/* ---- invalidation -------------------------------------------------------- */

static void test_munmap(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct vsvm_uptr u;

	vsvm_pattern(buf, size, 1);
	vsvm_uptr_create(fd, &u, buf, size, 0);
	assert_gpu_sees(&u, 0, size);

	stats(&s0);
	munmap(buf, size);
	stats(&s1);
	igt_assert_f(s1.invalidations > s0.invalidations,
		     "munmap did not invalidate the userptr\n");

	/* Policy: EXEC cannot fault the range back in and fails. */
	assert_gpu_fails(&u, size, -EFAULT);
	stats(&s2);
	igt_assert_eq_u64(s2.jobs_submitted, s1.jobs_submitted);

	/* New memory at the same address: the object sees it. */
	vsvm_remap_fixed(buf, size);
	vsvm_pattern(buf, size, 2);
	assert_gpu_sees(&u, 0, size);
	stats(&s1);
	igt_assert(s1.revalidations > s2.revalidations);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_map_fixed(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint64_t old_sum, sum;
	struct vsvm_uptr u;

	vsvm_pattern(buf, size, 1);
	vsvm_uptr_create(fd, &u, buf, size, 0);
	assert_gpu_sees(&u, 0, size);
	old_sum = vsvm_checksum(buf, size);

	/* replace the whole range under the live object */
	stats(&s0);
	vsvm_remap_fixed(buf, size);
	vsvm_pattern(buf, size, 2);
	stats(&s1);
	igt_assert(s1.invalidations > s0.invalidations);
	igt_assert_eq(gpu_sum(u.va, size, &sum), 0);
	igt_assert_f(sum != old_sum, "GPU still reads the old pages\n");
	assert_gpu_sees(&u, 0, size);

	/* GPU writes land in the new pages */
	igt_assert_eq(gpu_fill(&u, 0, size, 0xfeedface), 0);
	igt_assert(vsvm_all_words(buf, size, 0xfeedface));

	/* replace a few pages in the middle only */
	vsvm_remap_fixed(buf + 4 * PAGE_SZ, 4 * PAGE_SZ);
	vsvm_pattern(buf + 4 * PAGE_SZ, 4 * PAGE_SZ, 3);
	assert_gpu_sees(&u, 0, size);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_mprotect_readonly(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmd;
	struct vsvm_uptr u;

	vsvm_pattern(buf, size, 4);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_READ_ONLY);
	assert_gpu_sees(&u, 0, size);

	igt_assert_eq(mprotect(buf, size, PROT_READ), 0);
	assert_gpu_sees(&u, 0, size);

	/* writes through a read-only object are refused at submission */
	cmd = vsvm_cmd_fill(u.va, size, 0);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EACCES);

	igt_assert_eq(mprotect(buf, size, PROT_READ | PROT_WRITE), 0);
	vsvm_pattern(buf, size, 5);
	assert_gpu_sees(&u, 0, size);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

/*
 * A userptr over the first 64K of a 2M-aligned block of 4K pages, and an
 * mprotect() of a page 1M away: no page of the object changes, so it must
 * not be invalidated (core mm once told every secondary MMU that the whole
 * 2M block changed, as if it had split a huge PMD there).
 */
static void test_mprotect_elsewhere(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	char *blk = mmap_aligned(SZ_2M, SZ_2M);
	struct vsvm_uptr u;

	igt_assert_eq(madvise(blk, SZ_2M, MADV_NOHUGEPAGE), 0);
	vsvm_pattern(blk, SZ_2M, 22);
	vsvm_uptr_create(fd, &u, blk, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);

	stats(&s0);
	vsvm_mprotect_round_trip(blk + SZ_1M);
	stats(&s1);
	igt_assert_f(s1.invalidations == s0.invalidations,
		     "mprotect() of a page 1M away invalidated the userptr %llu times\n",
		     (unsigned long long)(s1.invalidations - s0.invalidations));
	assert_gpu_sees(&u, 0, size);
	stats(&s1);
	igt_assert_eq_u64(s1.faults, s0.faults);

	vsvm_uptr_destroy(fd, &u);
	munmap(blk, SZ_2M);
}

/*
 * drm_gpusvm_unmap_pages_range() (drm-svm/patches/0012): an mprotect() round
 * trip of one page of a 2M userptr maps that page's DMA entry again, not
 * the 2M. The pages are faulted in an order that leaves no two neighbours
 * physically contiguous, so each entry is one page.
 */
static void test_mprotect_one_page(void)
{
	struct drm_vsvm_get_stats s0, s1;
	char *blk = mmap_aligned(SZ_2M, SZ_2M);
	const uint64_t half = SZ_1M / PAGE_SZ;
	uint64_t maps;
	struct vsvm_uptr u;

	igt_assert_eq(madvise(blk, SZ_2M, MADV_NOHUGEPAGE), 0);
	for (uint64_t i = 0; i < half; i++) {
		blk[i * PAGE_SZ] = 1;
		blk[SZ_1M + i * PAGE_SZ] = 1;
	}
	vsvm_pattern(blk, SZ_2M, 23);
	vsvm_uptr_create(fd, &u, blk, SZ_2M, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, SZ_2M);

	stats(&s0);
	vsvm_mprotect_round_trip(blk + SZ_1M);
	vsvm_pattern(blk + SZ_1M, PAGE_SZ, 24);
	assert_gpu_sees(&u, 0, SZ_2M);
	stats(&s1);
	igt_assert(s1.invalidations > s0.invalidations);
	maps = s1.svm_dma_maps - s0.svm_dma_maps;
	igt_assert_f(maps >= 1 && maps <= 4,
		     "revalidation after mprotect() of one page mapped %llu pages again\n",
		     (unsigned long long)maps);

	vsvm_uptr_destroy(fd, &u);
	munmap(blk, SZ_2M);
}

static void test_mprotect_writable(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint64_t before;
	struct vsvm_uptr u;

	vsvm_pattern(buf, size, 6);
	vsvm_uptr_create(fd, &u, buf, size, 0);
	assert_gpu_sees(&u, 0, size);
	before = vsvm_checksum(buf, size);

	stats(&s0);
	igt_assert_eq(mprotect(buf, size, PROT_READ), 0);
	stats(&s1);
	igt_assert(s1.invalidations > s0.invalidations);

	/* a writable object cannot be revalidated over PROT_READ memory */
	igt_assert_eq(gpu_fill(&u, 0, size, 0xbad0bad0), -EPERM);
	igt_assert_f(vsvm_checksum(buf, size) == before,
		     "GPU wrote to memory the process made read-only\n");

	igt_assert_eq(mprotect(buf, size, PROT_READ | PROT_WRITE), 0);
	igt_assert_eq(gpu_fill(&u, 0, size, 0x600d600d), 0);
	igt_assert(vsvm_all_words(buf, size, 0x600d600d));

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_readonly_write_rejected(void)
{
	uint64_t size = 4 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmd;
	uint32_t h;
	uint64_t va = vsvm_va_alloc(size);

	/* a READ_ONLY object is mapped read-only even if bound without flags */
	h = drm_userptr_create(fd, buf, size, DRM_USERPTR_READ_ONLY);
	vsvm_vm_bind(fd, h, 0, va, size, 0);
	cmd = vsvm_cmd_fill(va, size, 1);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EACCES);
	cmd = vsvm_cmd_copy(va, out.va, PAGE_SZ);
	igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EACCES);
	igt_assert(vsvm_all_words(buf, size, 0));
	vsvm_vm_unbind(fd, va, size);
	gem_close(fd, h);
	munmap(buf, size);
}

/* ---- fork ---------------------------------------------------------------- */

static void test_fork_cow(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *orig = malloc(size);
	struct vsvm_uptr u;
	int go[2];

	igt_assert(orig);
	igt_assert_eq(pipe(go), 0);
	vsvm_pattern(buf, size, 10);
	memcpy(orig, buf, size);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);

	igt_fork(child, 1) {
		uint64_t sum;

		vsvm_wait_pipe(go[0]);
		/* Neither the parent's CPU writes nor the GPU's leaked here. */
		igt_assert_f(memcmp(buf, orig, size) == 0,
			     "child's copy-on-write copy was modified\n");
		/* The object serves the parent's mm only: not from here. */
		igt_assert_eq(gpu_sum(u.va, size, &sum), -EPERM);
		/* and the child's own writes stay private */
		vsvm_pattern(buf, size, 11);
	}

	/*
	 * The parent writes first, while the child still shares the pages:
	 * the parent gets new copies and the GPU must follow it there; a
	 * GPU holding the pre-fork pages would now read the child's.
	 */
	vsvm_pattern(buf, size, 12);
	assert_gpu_sees(&u, 0, size);
	igt_assert_eq(gpu_fill(&u, 0, size, 0xd00dd00d), 0);
	igt_assert(vsvm_all_words(buf, size, 0xd00dd00d));

	vsvm_kick_pipe(go[1]);
	igt_waitchildren();
	igt_assert(vsvm_all_words(buf, size, 0xd00dd00d));
	assert_gpu_sees(&u, 0, size);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
	free(orig);
	close(go[0]);
	close(go[1]);
}

static void test_fork_dontfork(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint64_t parent_sum;
	struct vsvm_uptr u;

	igt_assert_eq(madvise(buf, size, MADV_DONTFORK), 0);
	vsvm_pattern(buf, size, 20);
	parent_sum = vsvm_checksum(buf, size);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);
	stats(&s0);

	igt_fork(child, 1) {
		unsigned char vec[16];
		uint64_t sum;

		/* not mapped in the child at all */
		igt_assert_eq(mincore(buf, size, vec), -1);
		igt_assert_eq(errno, ENOMEM);
		/* the parent's object is refused to this mm */
		igt_assert_eq(gpu_sum(u.va, size, &sum), -EPERM);
	}
	igt_waitchildren();

	igt_assert_eq_u64(vsvm_checksum(buf, size), parent_sum);
	/* No COW was set up, so fork did not invalidate the mirror ... */
	stats(&s1);
	igt_assert_eq_u64(s1.invalidations, s0.invalidations);
	/* ... and the parent's writes still go to the pages the GPU has. */
	vsvm_pattern(buf, size, 21);
	assert_gpu_sees(&u, 0, size);
	stats(&s1);
	igt_assert_eq_u64(s1.invalidations, s0.invalidations);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_fork_shared(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct vsvm_uptr u;

	igt_assert(buf != MAP_FAILED);
	vsvm_pattern(buf, size, 30);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);

	igt_fork(child, 1) {
		/* the child's writes are the parent's ... */
		vsvm_pattern(buf, size, 31);
		/* ... but the parent's object is not the child's to use */
		igt_assert_eq(gpu_fill(&u, 0, size, 0x5aa55aa5), -EPERM);
	}
	igt_waitchildren();
	/* the parent's GPU sees what the child wrote */
	{
		char *expect = malloc(size);

		igt_assert(expect);
		vsvm_pattern(expect, size, 31);
		igt_assert(memcmp(buf, expect, size) == 0);
		free(expect);
	}
	assert_gpu_sees(&u, 0, size);

	/* and the GPU's writes reach a child's mapping */
	igt_assert_eq(gpu_fill(&u, 0, size, 0x5aa55aa5), 0);
	igt_fork(child, 1)
		igt_assert(vsvm_all_words(buf, size, 0x5aa55aa5));
	igt_waitchildren();

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

/* ---- overlapping objects ------------------------------------------------- */

static void test_overlap_same(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct vsvm_uptr a, b;

	vsvm_pattern(buf, size, 40);
	vsvm_uptr_create(fd, &a, buf, size, 0);
	vsvm_uptr_create(fd, &b, buf, size, 0);
	igt_assert_neq(a.handle, b.handle);

	igt_assert_eq(gpu_fill(&a, 0, size, 0x11111111), 0);
	igt_assert(vsvm_all_words(buf, size, 0x11111111));
	assert_gpu_sees(&b, 0, size);

	/* remapping invalidates both */
	vsvm_remap_fixed(buf, size);
	vsvm_pattern(buf, size, 41);
	assert_gpu_sees(&a, 0, size);
	assert_gpu_sees(&b, 0, size);

	/* destroying one leaves the other working */
	vsvm_uptr_destroy(fd, &a);
	vsvm_pattern(buf, size, 42);
	assert_gpu_sees(&b, 0, size);

	vsvm_uptr_destroy(fd, &b);
	munmap(buf, size);
}

static void test_overlap_subset(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *sub = buf + 4 * PAGE_SZ;
	uint64_t sub_size = 4 * PAGE_SZ;
	struct vsvm_uptr a, b;

	vsvm_pattern(buf, size, 50);
	vsvm_uptr_create(fd, &a, buf, size, 0);
	vsvm_uptr_create(fd, &b, sub, sub_size, 0);

	igt_assert_eq(gpu_fill(&b, 0, sub_size, 0x22222222), 0);
	igt_assert(vsvm_all_words(sub, sub_size, 0x22222222));
	assert_gpu_sees(&a, 0, size);
	assert_gpu_sees(&b, 0, sub_size);

	/* unmapping the subset invalidates both objects */
	stats(&s0);
	munmap(sub, sub_size);
	stats(&s1);
	igt_assert_f(s1.invalidations >= s0.invalidations + 2,
		     "expected both overlapping objects invalidated (%llu -> %llu)\n",
		     (unsigned long long)s0.invalidations,
		     (unsigned long long)s1.invalidations);
	assert_gpu_fails(&a, size, -EFAULT);
	assert_gpu_fails(&b, sub_size, -EFAULT);

	vsvm_remap_fixed(sub, sub_size);
	vsvm_pattern(sub, sub_size, 51);
	assert_gpu_sees(&a, 0, size);
	assert_gpu_sees(&b, 0, sub_size);

	vsvm_uptr_destroy(fd, &a);
	vsvm_uptr_destroy(fd, &b);
	munmap(buf, size);
}

static void test_overlap_straddle(void)
{
	uint64_t size = 12 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct vsvm_uptr a, b;	/* a: pages 0-7, b: pages 4-11 */
	struct drm_vsvm_cmd cmd;

	vsvm_pattern(buf, size, 60);
	vsvm_uptr_create(fd, &a, buf, 8 * PAGE_SZ, 0);
	vsvm_uptr_create(fd, &b, buf + 4 * PAGE_SZ, 8 * PAGE_SZ, 0);

	/* copy a's pages 0-3 to b's last pages (8-11) */
	cmd = vsvm_cmd_copy(b.va + 4 * PAGE_SZ, a.va, 4 * PAGE_SZ);
	igt_assert_eq(vsvm_exec_sync(fd, &cmd, 1), 0);
	igt_assert(memcmp(buf + 8 * PAGE_SZ, buf, 4 * PAGE_SZ) == 0);

	/* write the shared pages 4-7 through a, read them through b */
	igt_assert_eq(gpu_fill(&a, 4 * PAGE_SZ, 4 * PAGE_SZ, 0x33333333), 0);
	igt_assert(vsvm_all_words(buf + 4 * PAGE_SZ, 4 * PAGE_SZ, 0x33333333));
	assert_gpu_sees(&b, 0, 8 * PAGE_SZ);

	/* remap the shared pages: both objects follow */
	vsvm_remap_fixed(buf + 4 * PAGE_SZ, 4 * PAGE_SZ);
	vsvm_pattern(buf + 4 * PAGE_SZ, 4 * PAGE_SZ, 61);
	assert_gpu_sees(&a, 0, 8 * PAGE_SZ);
	assert_gpu_sees(&b, 0, 8 * PAGE_SZ);

	vsvm_uptr_destroy(fd, &a);
	vsvm_uptr_destroy(fd, &b);
	munmap(buf, size);
}

/* ---- huge pages ---------------------------------------------------------- */

static void test_thp(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 2 * SZ_2M;
	char mode[128] = "";
	char *buf;
	struct vsvm_uptr u;

	igt_require_f(vsvm_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
				mode, sizeof(mode)),
		      "kernel without transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)\n");
	igt_require_f(!strstr(mode, "[never]"),
		      "transparent huge pages disabled ([never])\n");

	buf = mmap_aligned(size, SZ_2M);
	igt_assert_eq(madvise(buf, size, MADV_HUGEPAGE), 0);
	vsvm_pattern(buf, size, 70);
	igt_require_f(vsvm_anon_huge_kb(buf) > 0,
		      "no THP was allocated for a 2M-aligned MADV_HUGEPAGE range\n");
	igt_info("AnonHugePages: %ld kB\n", vsvm_anon_huge_kb(buf));

	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);
	igt_assert_eq(gpu_fill(&u, 0, size, 0x7f7f7f7f), 0);
	igt_assert(vsvm_all_words(buf, size, 0x7f7f7f7f));

	/* split a huge page by unmapping one 4K page in its middle */
	stats(&s0);
	munmap(buf + SZ_2M / 2, PAGE_SZ);
	stats(&s1);
	igt_assert(s1.invalidations > s0.invalidations);
	assert_gpu_fails(&u, size, -EFAULT);
	vsvm_remap_fixed(buf + SZ_2M / 2, PAGE_SZ);
	vsvm_pattern(buf + SZ_2M / 2, PAGE_SZ, 71);
	assert_gpu_sees(&u, 0, size);

	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

static void test_hugetlb(void)
{
	char nr[64] = "";
	uint64_t size = SZ_2M;
	struct vsvm_uptr u;
	char *buf;

	igt_require_f(vsvm_read_file("/proc/sys/vm/nr_hugepages", nr, sizeof(nr)),
		      "kernel without hugetlbfs (CONFIG_HUGETLBFS)\n");
	igt_require_f(atol(nr) > 0,
		      "no hugetlb pages reserved (/proc/sys/vm/nr_hugepages is 0)\n");
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	igt_require_f(buf != MAP_FAILED, "MAP_HUGETLB of 2M failed: %s\n",
		      strerror(errno));

	vsvm_pattern(buf, size, 80);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	assert_gpu_sees(&u, 0, size);
	igt_assert_eq(gpu_fill(&u, PAGE_SZ, size - 2 * PAGE_SZ, 0x8e8e8e8e), 0);
	igt_assert(vsvm_all_words(buf + PAGE_SZ, size - 2 * PAGE_SZ, 0x8e8e8e8e));
	assert_gpu_sees(&u, 0, size);

	munmap(buf, size);
	assert_gpu_fails(&u, size, -EFAULT);
	vsvm_uptr_destroy(fd, &u);
}

/* ---- lifetime: exit and close while busy ---------------------------------- */

static void test_exit_busy(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 16 * PAGE_SZ;
	uint64_t va = vsvm_va_alloc(size);
	uint32_t syncobj = syncobj_create(fd, 0);
	volatile uint64_t *res = out.map;
	int ret;

	*res = SENTINEL;
	stats(&s0);
	igt_fork(child, 1) {
		char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
		struct drm_vsvm_cmd cmds[3];
		uint32_t h;

		vsvm_pattern(buf, size, 90);
		/* an object on the shared fd, mirroring the child's mm */
		h = drm_userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE);
		vsvm_vm_bind(fd, h, 0, va, size, 0);
		/* 2 s: far longer than this process needs to exit */
		cmds[0] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
		cmds[1] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
		cmds[2] = vsvm_cmd_checksum(out.va, va, size);
		igt_assert_eq(__vsvm_exec(fd, cmds, 3, 0, syncobj, NULL), 0);
		/* and exit while the job is still in its delay */
	}
	igt_waitchildren();

	/*
	 * The child's exit (exit_mmap) invalidated the range and so waited
	 * for the job, which read the pages mapped when it was submitted.
	 */
	ret = vsvm_job_wait(fd, syncobj, 0);
	igt_assert_eq(ret, 0);
	{
		char *ref = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);

		vsvm_pattern(ref, size, 90);
		igt_assert_eq_u64(*res, vsvm_checksum(ref, size));
		munmap(ref, size);
	}
	stats(&s1);
	igt_assert_eq_u64(s1.jobs_failed, s0.jobs_failed);
	syncobj_destroy(fd, syncobj);

	/* the device is fine afterwards */
	{
		char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
		struct vsvm_uptr u;

		vsvm_pattern(buf, size, 91);
		vsvm_uptr_create(fd, &u, buf, size, 0);
		assert_gpu_sees(&u, 0, size);
		vsvm_uptr_destroy(fd, &u);
		munmap(buf, size);
	}
}

static void test_close_object_busy(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmds[2];
	struct vsvm_uptr u;
	uint32_t syncobj;

	vsvm_uptr_create(fd, &u, buf, size, 0);
	cmds[0] = vsvm_cmd_delay(300 * 1000);
	cmds[1] = vsvm_cmd_fill(u.va, size, 0xc105ed00);
	syncobj = vsvm_exec(fd, cmds, 2);

	/* unbind and close while the job is queued/running */
	vsvm_vm_unbind(fd, u.va, u.size);
	gem_close(fd, u.handle);
	igt_assert_eq(__gem_close_handle(fd, u.handle), -EINVAL);

	igt_assert_eq(vsvm_job_wait(fd, syncobj, JOB_TIMEOUT_NS), 0);
	igt_assert(vsvm_all_words(buf, size, 0xc105ed00));
	syncobj_destroy(fd, syncobj);
	munmap(buf, size);
}

static void test_close_fd_busy(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct drm_vsvm_cmd cmds[2];
	int fd2 = drm_open_vsvm();
	uint32_t h, syncobj;
	uint64_t va = vsvm_va_alloc(size);
	int sf;

	h = drm_userptr_create(fd2, buf, size, 0);
	vsvm_vm_bind(fd2, h, 0, va, size, 0);
	cmds[0] = vsvm_cmd_delay(300 * 1000);
	cmds[1] = vsvm_cmd_fill(va, size, 0xc105edfd);
	syncobj = vsvm_exec(fd2, cmds, 2);
	sf = syncobj_handle_to_fd(fd2, syncobj,
				  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE);
	igt_assert_fd(sf);

	close(fd2);	/* the job keeps its objects and completes */

	igt_assert_eq(sync_fence_wait(sf, 60 * 1000), 0);
	igt_assert_eq(sync_fence_status(sf), 1);
	igt_assert(vsvm_all_words(buf, size, 0xc105edfd));
	close(sf);
	munmap(buf, size);
}

static void test_munmap_busy(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	volatile uint64_t *res = out.map;
	struct drm_vsvm_cmd cmds[2];
	struct vsvm_uptr u;
	uint32_t syncobj;
	uint64_t sum;

	vsvm_pattern(buf, size, 100);
	sum = vsvm_checksum(buf, size);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	*res = SENTINEL;
	cmds[0] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
	cmds[1] = vsvm_cmd_checksum(out.va, u.va, size);
	syncobj = vsvm_exec(fd, cmds, 2);
	/* while the job sleeps: munmap waits for it */
	munmap(buf, size);
	igt_assert_eq(vsvm_job_wait(fd, syncobj, 0), 0);
	igt_assert_eq_u64(*res, sum);
	syncobj_destroy(fd, syncobj);
	/* and the next job cannot use the unmapped range */
	assert_gpu_fails(&u, size, -EFAULT);

	vsvm_remap_fixed(buf, size);
	vsvm_pattern(buf, size, 101);
	assert_gpu_sees(&u, 0, size);
	vsvm_uptr_destroy(fd, &u);
	munmap(buf, size);
}

/* ---- stress --------------------------------------------------------------- */

#define STRESS_SLOTS 4
#define STRESS_SLOT_SIZE (16 * PAGE_SZ)
#define STRESS_SECONDS 5

static struct stress {
	char *base;			/* STRESS_SLOTS slots */
	_Atomic uint32_t gen[STRESS_SLOTS];
	_Atomic bool hole[STRESS_SLOTS];	/* slot may be unmapped now */
	_Atomic bool stop;
	_Atomic int error;
	_Atomic unsigned long ops;
	const char *failed_op;
} st;

static uint32_t stress_seed(int slot, uint32_t gen)
{
	return 0x1000000u * (slot + 1) + gen;
}

/*
 * Replace a slot's pages atomically with a fresh, fully written mapping
 * (mremap over it), so the GPU can only ever see whole generations. With
 * @hole, the slot is unmapped for a moment first (jobs may then fail with
 * -EFAULT). The new pages are mapped and written before the slot is
 * unmapped, so that mmap() cannot pick the hole itself.
 */
static int stress_replace(int slot, bool hole, unsigned int *seed,
			  const char **op)
{
	char *dst = st.base + slot * STRESS_SLOT_SIZE;
	uint32_t gen = atomic_load(&st.gen[slot]) + 1;
	char *src = mmap(NULL, STRESS_SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err = 0;

	*op = "mmap";
	if (src == MAP_FAILED)
		return -errno;
	vsvm_pattern(src, STRESS_SLOT_SIZE, stress_seed(slot, gen));

	if (hole) {
		atomic_store(&st.hole[slot], true);
		*op = "munmap";
		if (munmap(dst, STRESS_SLOT_SIZE))
			return -errno;
		usleep(rand_r(seed) % 1000);
	}
	/* gen first: a job may see the new pages as soon as they are there */
	atomic_store(&st.gen[slot], gen);
	*op = "mremap";
	if (mremap(src, STRESS_SLOT_SIZE, STRESS_SLOT_SIZE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst) != dst)
		err = -errno;
	if (hole)
		atomic_store(&st.hole[slot], false);
	return err;
}

static void *stress_thread(void *arg)
{
	unsigned int seed = 1;

	while (!atomic_load(&st.stop)) {
		int slot = rand_r(&seed) % STRESS_SLOTS;
		char *p = st.base + slot * STRESS_SLOT_SIZE;
		const char *op = "";
		int err = 0;

		switch (rand_r(&seed) % 4) {
		case 0:
		case 1:
			err = stress_replace(slot, false, &seed, &op);
			break;
		case 2: /* read-only objects: mprotect does not stop them */
			op = "mprotect";
			if (mprotect(p, STRESS_SLOT_SIZE, PROT_READ) ||
			    mprotect(p, STRESS_SLOT_SIZE, PROT_READ | PROT_WRITE))
				err = -errno;
			break;
		case 3: /* a hole for a moment */
			err = stress_replace(slot, true, &seed, &op);
			break;
		}
		if (err) {
			st.failed_op = op;
			atomic_store(&st.error, err);
			break;
		}
		atomic_fetch_add(&st.ops, 1);
		usleep(rand_r(&seed) % 500);
	}
	return NULL;
}

static void test_stress(void)
{
	struct drm_vsvm_get_stats s0, s1;
	struct vsvm_uptr u[STRESS_SLOTS];
	char *ref = malloc(STRESS_SLOT_SIZE);
	unsigned long jobs = 0, efault = 0, eagain = 0;
	unsigned int seed = 2;
	pthread_t thread;
	int err;

	igt_assert(ref);
	memset(&st, 0, sizeof(st));
	st.base = vsvm_mmap_anon(STRESS_SLOTS * STRESS_SLOT_SIZE,
			    PROT_READ | PROT_WRITE);
	for (int s = 0; s < STRESS_SLOTS; s++) {
		char *p = st.base + s * STRESS_SLOT_SIZE;

		vsvm_pattern(p, STRESS_SLOT_SIZE, stress_seed(s, 0));
		vsvm_uptr_create(fd, &u[s], p, STRESS_SLOT_SIZE,
				 DRM_USERPTR_READ_ONLY);
	}
	stats(&s0);
	igt_assert_eq(pthread_create(&thread, NULL, stress_thread, NULL), 0);

	igt_until_timeout(STRESS_SECONDS) {
		int s = rand_r(&seed) % STRESS_SLOTS;
		uint32_t g0 = atomic_load(&st.gen[s]);
		bool hole0 = atomic_load(&st.hole[s]);
		uint32_t g1;
		uint64_t sum;
		bool hole1, ok = false;
		int ret;

		ret = gpu_sum(u[s].va, STRESS_SLOT_SIZE, &sum);
		g1 = atomic_load(&st.gen[s]);
		hole1 = atomic_load(&st.hole[s]);
		jobs++;
		if (ret == -EFAULT && (hole0 || hole1 || g1 != g0)) {
			efault++;
			continue;
		}
		/* EXEC kept colliding with the mm thread: try again */
		if (ret == -EAGAIN) {
			eagain++;
			continue;
		}
		igt_assert_f(ret == 0, "job failed with %d on slot %d\n", ret, s);
		/* the job saw exactly one whole generation in [g0 - 1, g1] */
		for (uint32_t g = g0 ? g0 - 1 : 0; g <= g1 && !ok; g++) {
			vsvm_pattern(ref, STRESS_SLOT_SIZE, stress_seed(s, g));
			ok = vsvm_checksum(ref, STRESS_SLOT_SIZE) == sum;
		}
		igt_assert_f(ok, "slot %d: checksum %#llx matches no generation in [%u, %u]: stale or torn pages\n",
			     s, (unsigned long long)sum, g0 ? g0 - 1 : 0, g1);
	}
	atomic_store(&st.stop, true);
	pthread_join(thread, NULL);
	err = atomic_load(&st.error);
	igt_assert_f(err == 0, "mm thread: %s failed: %s\n", st.failed_op,
		     strerror(-err));

	stats(&s1);
	igt_info("%lu jobs (%lu hit a hole, %lu EAGAIN), %lu CPU mm operations; "
		 "invalidations %llu, revalidations %llu, retries %llu\n",
		 jobs, efault, eagain, atomic_load(&st.ops),
		 (unsigned long long)(s1.invalidations - s0.invalidations),
		 (unsigned long long)(s1.revalidations - s0.revalidations),
		 (unsigned long long)(s1.retries - s0.retries));
	igt_assert(jobs > 0 && atomic_load(&st.ops) > 0);
	igt_assert(s1.invalidations > s0.invalidations);
	igt_assert(s1.revalidations > s0.revalidations);

	for (int s = 0; s < STRESS_SLOTS; s++) {
		assert_gpu_sees(&u[s], 0, STRESS_SLOT_SIZE);
		vsvm_uptr_destroy(fd, &u[s]);
	}
	munmap(st.base, STRESS_SLOTS * STRESS_SLOT_SIZE);
	free(ref);
}

/* ---- counters -------------------------------------------------------------- */

/*
 * dma_maps of this process's drm_svm context on @fd, from
 * <debugfs>/vsvm/pid<pid>-file<n>/drm_svm_stats; -1 without debugfs.
 * The process has one file with userptr objects: @fd.
 */
static long debugfs_dma_maps(void)
{
	char pattern[96], line[128];
	long maps = -1;
	glob_t g;
	FILE *f;

	snprintf(pattern, sizeof(pattern),
		 "/sys/kernel/debug/vsvm/pid%d-file*/drm_svm_stats", getpid());
	if (glob(pattern, 0, NULL, &g))
		return -1;
	igt_assert_eq(g.gl_pathc, 1);
	f = fopen(g.gl_pathv[0], "r");
	igt_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "dma_maps: %ld", &maps) == 1)
			break;
	fclose(f);
	globfree(&g);
	igt_assert(maps >= 0);
	return maps;
}

static void test_stats(void)
{
	struct drm_vsvm_get_stats s0, s1, s2, s3;
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	struct vsvm_uptr u;

	{
		struct drm_vsvm_get_stats bad = { .flags = 1 };

		igt_assert_eq(igt_ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &bad), -1);
		igt_assert_eq(errno, EINVAL);
	}

	vsvm_pattern(buf, size, 110);
	stats(&s0);
	vsvm_uptr_create(fd, &u, buf, size, DRM_USERPTR_VALIDATE);
	stats(&s1);
	igt_assert_eq_u64(s1.faults, s0.faults + 1);
	/* drm_svm's own counters: the fault DMA-mapped the pages */
	igt_assert(s1.svm_dma_maps > s0.svm_dma_maps);
	igt_assert(s1.svm_dma_maps - s1.svm_dma_unmaps >= 1);
	/* and the same counters in debugfs */
	{
		long maps = debugfs_dma_maps();

		igt_info("debugfs dma_maps %ld, GET_STATS svm_dma_maps %llu\n",
			 maps, (unsigned long long)s1.svm_dma_maps);
		if (maps >= 0)
			igt_assert_eq(maps, (long)s1.svm_dma_maps);
	}

	/* a job on a valid range: no fault, counted, bytes accessed */
	assert_gpu_sees(&u, 0, size);
	stats(&s2);
	igt_assert_eq_u64(s2.faults, s1.faults);
	igt_assert_eq_u64(s2.jobs_submitted, s1.jobs_submitted + 1);
	igt_assert_eq_u64(s2.jobs_completed, s1.jobs_completed + 1);
	igt_assert_eq_u64(s2.jobs_failed, s1.jobs_failed);
	igt_assert(s2.bytes_accessed >= s1.bytes_accessed + size);

	/* invalidate a part: counted; the next job revalidates */
	vsvm_remap_fixed(buf + PAGE_SZ, PAGE_SZ);
	stats(&s3);
	igt_assert(s3.invalidations > s2.invalidations);
	assert_gpu_sees(&u, 0, size);
	stats(&s1);
	igt_assert(s1.revalidations > s3.revalidations);
	igt_assert(s1.faults > s3.faults);

	/* a range EXEC cannot validate: no job at all */
	munmap(buf, size);
	assert_gpu_fails(&u, size, -EFAULT);
	stats(&s2);
	igt_assert_eq_u64(s2.jobs_submitted, s1.jobs_submitted);
	igt_assert_eq_u64(s2.jobs_completed, s1.jobs_completed);
	igt_assert_eq_u64(s2.jobs_failed, s1.jobs_failed);
	igt_assert_eq_u64(s2.jobs_submitted, s2.jobs_completed);

	vsvm_uptr_destroy(fd, &u);
}

igt_main
{
	igt_fixture {
		fd = drm_open_vsvm();
		igt_require_f(drm_userptr_cap(fd) & DRM_USERPTR_VALIDATE,
			      "vsvm does not implement DRM_IOCTL_USERPTR_CREATE (DRM_CAP_USERPTR is 0)\n");
		vsvm_bo_create(fd, &out, PAGE_SZ);
	}

	igt_describe("Check that DRM_CAP_USERPTR advertises every userptr flag vsvm implements.");
	igt_subtest("getcap")
		test_getcap();

	igt_describe("Create and close userptr objects; nothing is faulted in without VALIDATE.");
	igt_subtest("create-close")
		test_create_close();

	igt_describe("Create a userptr object with VALIDATE: its pages are faulted in at once.");
	igt_subtest("create-validate")
		test_create_validate();

	igt_describe("The GPU reads the process's memory through a userptr (checksum), for sizes from a page to several huge pages.");
	igt_subtest_with_dynamic("gpu-read") {
		for (int i = 0; i < ARRAY_SIZE(sizes); i++)
			igt_dynamic(sizes[i].name)
				test_gpu_read(sizes[i].size);
	}

	igt_describe("GPU writes (fill, copy from a GEM object) through a userptr are seen by the CPU.");
	igt_subtest_with_dynamic("gpu-write") {
		for (int i = 0; i < ARRAY_SIZE(sizes); i++)
			igt_dynamic(sizes[i].name)
				test_gpu_write(sizes[i].size);
	}

	igt_describe("The GPU copies between two userptr objects.");
	igt_subtest_with_dynamic("gpu-copy") {
		for (int i = 0; i < ARRAY_SIZE(sizes); i++)
			igt_dynamic(sizes[i].name)
				test_gpu_copy(sizes[i].size);
	}

	igt_describe("A NULL pointer is refused with EFAULT.");
	igt_subtest("invalid-null-pointer")
		test_invalid_null();

	igt_describe("An address that is not page aligned is refused with EINVAL.");
	igt_subtest("invalid-unaligned-pointer")
		test_invalid_unaligned_pointer();

	igt_describe("A size that is not page aligned is refused with EINVAL.");
	igt_subtest("invalid-unaligned-size")
		test_invalid_unaligned_size();

	igt_describe("A zero size is refused with EINVAL.");
	igt_subtest("invalid-zero-size")
		test_invalid_zero_size();

	igt_describe("A range whose end overflows 64 bits is refused with EINVAL.");
	igt_subtest("invalid-size-overflow")
		test_invalid_size_overflow();

	igt_describe("Objects larger than the machine's memory are refused with"
		     " ENOMEM, even when nothing backs them yet.");
	igt_subtest("invalid-size-huge")
		test_invalid_size_huge();

	igt_describe("A kernel address is refused with EFAULT.");
	igt_subtest("invalid-kernel-address")
		test_invalid_kernel_address();

	igt_describe("An unmapped range fails with EFAULT: at creation with VALIDATE, at first GPU use without.");
	igt_subtest("invalid-unmapped")
		test_invalid_unmapped();

	igt_describe("Unknown flags and a non-zero pad are refused with EINVAL.");
	igt_subtest("invalid-flags")
		test_invalid_flags();

	igt_describe("A writable userptr over a PROT_READ mapping is refused with EPERM; a read-only one works.");
	igt_subtest("readonly-mapping")
		test_readonly_mapping();

	igt_describe("ANON_ONLY refuses file-backed and shared mappings with EPERM and accepts private anonymous memory.");
	igt_subtest("anon-only-file-backed")
		test_anon_only();

	igt_describe("After munmap the next job fails with EFAULT instead of reading stale pages; new memory at the address is picked up.");
	igt_subtest("munmap-invalidate")
		test_munmap();

	igt_describe("MAP_FIXED over a live userptr: the GPU reads and writes the new pages.");
	igt_subtest("map-fixed-remap")
		test_map_fixed();

	igt_describe("A read-only userptr keeps working after the memory is made read-only with mprotect.");
	igt_subtest("mprotect-readonly")
		test_mprotect_readonly();

	igt_describe("mprotect() of a page outside a userptr, in the same 2M block of 4K pages, does not invalidate it.");
	igt_subtest("mprotect-elsewhere")
		test_mprotect_elsewhere();

	igt_describe("An mprotect() round trip of one page of a 2M userptr maps that page again, not the 2M.");
	igt_subtest("mprotect-one-page")
		test_mprotect_one_page();

	igt_describe("A writable userptr over memory made read-only fails with EPERM and does not write.");
	igt_subtest("mprotect-readonly-writable")
		test_mprotect_writable();

	igt_describe("GPU writes through a read-only userptr are refused with EACCES at submission.");
	igt_subtest("readonly-write-rejected")
		test_readonly_write_rejected();

	igt_describe("Copy-on-write after fork: the GPU follows the parent's new pages; the child's copy is untouched; the child may not use the object.");
	igt_subtest("fork-cow")
		test_fork_cow();

	igt_describe("MADV_DONTFORK memory is not in the child, and fork does not invalidate it in the parent.");
	igt_subtest("fork-dontfork")
		test_fork_dontfork();

	igt_describe("MAP_SHARED memory: writes by the child and by the GPU are seen on both sides; the child may not use the object.");
	igt_subtest("fork-shared")
		test_fork_shared();

	igt_describe("Two userptr objects on the same range see each other's writes and both follow a remap.");
	igt_subtest("overlap-same")
		test_overlap_same();

	igt_describe("A userptr inside another: unmapping the inner range invalidates both.");
	igt_subtest("overlap-subset")
		test_overlap_subset();

	igt_describe("Two userptr objects straddling each other share their overlapping pages.");
	igt_subtest("overlap-straddle")
		test_overlap_straddle();

	igt_describe("A userptr on transparent huge pages, including splitting one by munmap.");
	igt_subtest("thp")
		test_thp();

	igt_describe("A userptr on hugetlbfs memory.");
	igt_subtest("hugetlb")
		test_hugetlb();

	igt_describe("A process exits while a job on its memory is queued: the exit waits for the job, which reads the pages of submission time.");
	igt_subtest("exit-while-busy")
		test_exit_busy();

	igt_describe("Closing and unbinding a userptr while a job uses it is safe and the job completes.");
	igt_subtest("close-object-while-busy")
		test_close_object_busy();

	igt_describe("Closing the DRM file while a job runs is safe and the job completes.");
	igt_subtest("close-fd-while-busy")
		test_close_fd_busy();

	igt_describe("munmap while a job is queued waits for it; the next EXEC on the range fails with EFAULT.");
	igt_subtest("munmap-while-busy")
		test_munmap_busy();

	igt_describe("A thread remaps, unmaps and mprotects memory while jobs read it: every job sees whole, current data.");
	igt_subtest("stress-remap-mprotect")
		test_stress();

	igt_describe("vsvm's per-file counters follow faults, invalidations, revalidations and job outcomes.");
	igt_subtest("stats-counters")
		test_stats();

	igt_fixture {
		vsvm_bo_destroy(fd, &out);
		close(fd);
	}
}
