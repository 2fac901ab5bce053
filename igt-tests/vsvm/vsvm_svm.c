// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm svm
 * Category: Core
 * Description: SVM mode of vsvm, the virtual SVM GPU: the GPU uses the
 *   process's pointers directly, faulting chunked mirror ranges in through
 *   drm_svm's mirror mode.
 *
 * After DRM_IOCTL_VSVM_SVM_ENABLE every GPU VA that no VM_BIND mapping
 * covers is the same CPU address of the process. The GPU (vsvm's software
 * engine) reads and writes malloc()ed, mmap()ed, shared and file-backed
 * memory by pointer while the process munmaps, remaps, mprotects, madvises
 * and forks under it. Data is always checked (GPU checksums against CPU
 * checksums, GPU writes read back by the CPU), and vsvm's SVM counters
 * (GPU page faults per chunk size, live and collected ranges,
 * invalidations) show the mirror at work. Expected errors come from "vsvm
 * SVM mode" in vsvm_drm.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt.h"
#include "igt_syncobj.h"
#include "igt_vsvm.h"
#include "sw_sync.h"

IGT_TEST_DESCRIPTION("Exercise SVM mode of vsvm, the virtual SVM GPU: the "
		     "GPU uses process pointers directly through drm_svm's "
		     "mirror, with GPU page faults, chunked ranges and "
		     "invalidation on munmap/mprotect/madvise/fork.");

#define PAGE_SZ 4096ull
#define SZ_64K (64ull << 10)
#define SZ_1M (1ull << 20)
#define SZ_2M (2ull << 20)
#define SENTINEL 0x5e1f5e1f5e1f5e1full
#define JOB_TIMEOUT_NS (60ll * NSEC_PER_SEC)

static int fd = -1;		/* SVM enabled, all chunk sizes */
static struct vsvm_bo out;	/* checksum results of @fd land here */

static const struct size_case {
	const char *name;
	uint64_t size;
} sizes[] = {
	{ "4k", PAGE_SZ },
	{ "64k", SZ_64K },
	{ "2m", SZ_2M },
	{ "6m-plus-4k", 3 * SZ_2M + PAGE_SZ },
};

/* ---- memory helpers ------------------------------------------------------ */

static uint64_t va(const void *p)
{
	return (uintptr_t)p;
}

/*
 * A read-write anonymous mapping of exactly @size bytes at an @align-ed
 * address, between two PROT_NONE guard mappings so that it never merges
 * with a neighbour: its VMA is exactly [p, p + @size), which makes the
 * chunk sizes the mirror picks predictable.
 */
struct region {
	char *base;
	uint64_t len;
	char *p;
	uint64_t size;
};

static char *region_map(struct region *r, uint64_t size, uint64_t align)
{
	r->len = size + 2 * align + 2 * PAGE_SZ;
	r->base = mmap(NULL, r->len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert(r->base != MAP_FAILED);
	r->p = (char *)(((uintptr_t)r->base + PAGE_SZ + align - 1) &
			~(uintptr_t)(align - 1));
	r->size = size;
	igt_assert_eq(mprotect(r->p, size, PROT_READ | PROT_WRITE), 0);
	return r->p;
}

static void region_unmap(struct region *r)
{
	munmap(r->base, r->len);
	memset(r, 0, sizeof(*r));
}

static uint64_t words_sum(uint64_t size, uint32_t v)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < size / 4; i++) {
		h ^= v;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- GPU helpers ----------------------------------------------------------- */

/*
 * GPU checksum of [@src, @src + @size) on @f; the result is written to
 * GPU VA @res_va, which the CPU sees at @res. Returns the job's status.
 */
static int gpu_sum_on(int f, uint64_t res_va, volatile uint64_t *res,
		      uint64_t src, uint64_t size, uint64_t *sum)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_checksum(res_va, src, size);
	int ret;

	*res = SENTINEL;
	ret = vsvm_exec_sync(f, &cmd, 1);
	*sum = *res;
	if (ret)
		igt_assert_f(*sum == SENTINEL,
			     "a failed job wrote its checksum anyway\n");
	return ret;
}

/* Checksum of SVM memory on @fd into the bound staging object. */
static int gpu_sum(const void *p, uint64_t size, uint64_t *sum)
{
	return gpu_sum_on(fd, out.va, out.map, va(p), size, sum);
}

static void assert_gpu_sees(const void *p, uint64_t size)
{
	uint64_t sum, want = vsvm_checksum(p, size);

	igt_assert_eq(gpu_sum(p, size, &sum), 0);
	igt_assert_f(sum == want,
		     "GPU checksum %#llx != CPU checksum %#llx at %p+%#llx (stale pages?)\n",
		     (unsigned long long)sum, (unsigned long long)want, p,
		     (unsigned long long)size);
}

static void assert_gpu_fails(const void *p, uint64_t size, int err)
{
	uint64_t sum;

	igt_assert_eq(gpu_sum(p, size, &sum), err);
}

static int gpu_fill(void *p, uint64_t size, uint32_t v)
{
	return vsvm_gpu_fill(fd, va(p), size, v);
}

static int gpu_copy(void *dst, const void *src, uint64_t size)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_copy(va(dst), va(src), size);

	return vsvm_exec_sync(fd, &cmd, 1);
}

static int gpu_prefetch(int f, const void *p, uint64_t size, uint32_t flags)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_prefetch(va(p), size, flags);

	return vsvm_exec_sync(f, &cmd, 1);
}

static void stats(struct drm_vsvm_get_stats *s)
{
	vsvm_get_stats(fd, s);
}

static void log_svm_stats(const char *what, const struct drm_vsvm_get_stats *s)
{
	igt_info("%s: svm_faults %llu (2M %llu, 64K %llu, 4K %llu, %llu ns), ranges live %llu collected %llu, invalidations %llu\n",
		 what, (unsigned long long)s->svm_faults,
		 (unsigned long long)s->svm_faults_2m,
		 (unsigned long long)s->svm_faults_64k,
		 (unsigned long long)s->svm_faults_4k,
		 (unsigned long long)s->svm_fault_ns,
		 (unsigned long long)s->svm_ranges_live,
		 (unsigned long long)s->svm_ranges_collected,
		 (unsigned long long)s->svm_invalidations);
}

/* A fresh vsvm fd with SVM enabled with @chunks. */
static int open_svm(uint32_t chunks)
{
	int f = drm_open_vsvm();

	vsvm_svm_enable(f, chunks);
	return f;
}

/* ---- enabling ------------------------------------------------------------ */

static void test_enable(void)
{
	struct drm_vsvm_get_stats s;
	uint64_t size = 4 * PAGE_SZ;
	static uint64_t res[PAGE_SZ / 8] __attribute__((aligned(4096)));
	char *buf = malloc(size);
	uint64_t sum;
	int f = drm_open_vsvm();

	igt_assert(buf);
	vsvm_pattern(buf, size, 1);

	/* Without SVM, unbound VAs are refused at submission. */
	{
		struct drm_vsvm_cmd cmd = vsvm_cmd_checksum(va(res), va(buf),
							    size);

		igt_assert_eq(__vsvm_exec(f, &cmd, 1, 0, 0, NULL), -EFAULT);
	}
	vsvm_get_stats(f, &s);
	igt_assert_eq_u64(s.svm_faults, 0);
	igt_assert_eq_u64(s.svm_fault_ns, 0);
	igt_assert_eq_u64(s.svm_ranges_live, 0);

	vsvm_svm_enable(f, 0);
	vsvm_get_stats(f, &s);
	igt_assert_eq_u64(s.svm_ranges_live, 0);	/* nothing faulted yet */

	/* Both the source and the result are plain process memory. */
	igt_assert_eq(gpu_sum_on(f, va(res), res, va(buf), size, &sum), 0);
	igt_assert_eq_u64(sum, vsvm_checksum(buf, size));
	vsvm_get_stats(f, &s);
	igt_assert(s.svm_faults >= 1);
	igt_assert(s.svm_ranges_live >= 1);
	/* The faults took time; no userptr object was validated. */
	igt_assert(s.svm_fault_ns > 0);
	igt_assert_eq_u64(s.validate_ns, 0);
	log_svm_stats("after one job", &s);

	close(f);
	free(buf);
}

static void test_invalid_enable(void)
{
	int f = drm_open_vsvm();

	igt_assert_eq(__vsvm_svm_enable(f, 0, 1, 0), -EINVAL);
	igt_assert_eq(__vsvm_svm_enable(f, 0, 0x80000000u, 0), -EINVAL);
	igt_assert_eq(__vsvm_svm_enable(f, 0, 0, 1), -EINVAL);
	igt_assert_eq(__vsvm_svm_enable(f, 1u << 3, 0, 0), -EINVAL);
	igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNKS_ALL | (1u << 31),
					0, 0), -EINVAL);
	/* 4K is the fallback every mirror needs */
	igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNK_2M |
					DRM_VSVM_SVM_CHUNK_64K, 0, 0), -EINVAL);
	igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNK_2M, 0, 0),
		      -EINVAL);

	/* a failed enable left nothing behind */
	igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNK_4K, 0, 0), 0);
	igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNK_4K, 0, 0), -EBUSY);
	igt_assert_eq(__vsvm_svm_enable(f, 0, 0, 0), -EBUSY);
	close(f);

	/* PREFETCH argument checks */
	{
		char *buf = vsvm_mmap_anon(PAGE_SZ, PROT_READ | PROT_WRITE);
		struct drm_vsvm_cmd cmd = vsvm_cmd_prefetch(va(buf), 0, 0);

		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EINVAL);
		cmd = vsvm_cmd_prefetch(va(buf), PAGE_SZ, 2);
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EINVAL);
		cmd = vsvm_cmd_prefetch(va(buf), PAGE_SZ, 0);
		cmd.src = 1;
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EINVAL);
		cmd = vsvm_cmd_prefetch(~0ull - PAGE_SZ, 2 * PAGE_SZ, 0);
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EINVAL);
		munmap(buf, PAGE_SZ);
	}
}

static void test_invalid_address(void)
{
	struct drm_vsvm_get_stats s0, s1;
	char *buf = vsvm_mmap_anon(2 * PAGE_SZ, PROT_READ | PROT_WRITE);
	char path[] = "/tmp/vsvm_svm_XXXXXX";
	char *file_map;
	int f;

	stats(&s0);
	/* NULL, a kernel address, above the 47-bit user space, a hole */
	assert_gpu_fails(NULL, PAGE_SZ, -EFAULT);
	assert_gpu_fails((void *)0xffff888000000000ull, PAGE_SZ, -EFAULT);
	assert_gpu_fails((void *)(1ull << 47), PAGE_SZ, -EFAULT);
	munmap(buf + PAGE_SZ, PAGE_SZ);
	assert_gpu_fails(buf, 2 * PAGE_SZ, -EFAULT);
	igt_assert_eq(gpu_fill(buf + PAGE_SZ, PAGE_SZ, 1), -EFAULT);
	/* the part before the hole was filled: commands are not atomic */
	igt_assert_eq(gpu_fill(buf, 2 * PAGE_SZ, 0xabababab), -EFAULT);
	igt_assert(vsvm_all_words(buf, PAGE_SZ, 0xabababab));

	/* a file mapping beyond the end of the file (SIGBUS on the CPU) */
	f = mkstemp(path);
	igt_require_f(f >= 0, "no writable /tmp\n");
	unlink(path);
	igt_assert_eq(ftruncate(f, PAGE_SZ), 0);
	file_map = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
			f, 0);
	igt_assert(file_map != MAP_FAILED);
	assert_gpu_sees(file_map, PAGE_SZ);
	assert_gpu_fails(file_map + PAGE_SZ, PAGE_SZ, -EFAULT);
	munmap(file_map, 2 * PAGE_SZ);
	close(f);

	stats(&s1);
	igt_assert(s1.jobs_failed >= s0.jobs_failed + 7);
	igt_assert_eq_u64(s1.jobs_submitted, s1.jobs_completed);
	munmap(buf, PAGE_SZ);
}

/* ---- memory kinds -------------------------------------------------------- */

/* GPU reads, writes and copies @size bytes at @a and @b (both writable). */
static void both_directions(char *a, char *b, uint64_t size, uint32_t seed)
{
	vsvm_pattern(a, size, seed);
	assert_gpu_sees(a, size);

	igt_assert_eq(gpu_fill(a, size, 0x600df00d ^ seed), 0);
	igt_assert(vsvm_all_words(a, size, 0x600df00d ^ seed));

	vsvm_pattern(a, size, seed + 1);
	memset(b, 0, size);
	igt_assert_eq(gpu_copy(b, a, size), 0);
	igt_assert(memcmp(a, b, size) == 0);
	assert_gpu_sees(b, size);
}

static void test_malloc(uint64_t size)
{
	char *a = malloc(size + 64), *b = malloc(size);

	igt_assert(a && b);
	both_directions(a, b, size, 10);
	/* unaligned start and size inside a malloc()ed block */
	both_directions(a + 12, b, size - 8, 11);
	free(a);
	free(b);
}

static void test_mmap_anon(uint64_t size)
{
	char *a = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *b = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);

	both_directions(a, b, size, 20);

	/* fresh, never touched memory reads as zeroes */
	munmap(b, size);
	b = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	{
		uint64_t sum;

		igt_assert_eq(gpu_sum(b, size, &sum), 0);
		igt_assert_eq_u64(sum, words_sum(size, 0));
	}
	munmap(a, size);
	munmap(b, size);
}

static void test_mmap_shared(void)
{
	uint64_t size = 8 * SZ_64K;
	char *a = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *b = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	int go[2], done[2];

	igt_assert(a != MAP_FAILED);
	igt_assert_eq(pipe(go), 0);
	igt_assert_eq(pipe(done), 0);
	both_directions(a, b, size, 30);

	/* the child writes the shared pages, the parent's GPU sees it */
	igt_fork(child, 1) {
		vsvm_wait_pipe(go[0]);
		vsvm_pattern(a, size, 31);
		vsvm_kick_pipe(done[1]);
		vsvm_wait_pipe(go[0]);
		/* ... and sees what the parent's GPU wrote */
		igt_assert(vsvm_all_words(a, size, 0x5ade5ade));
	}
	assert_gpu_sees(a, size);	/* the GPU has the pages mapped now */
	vsvm_kick_pipe(go[1]);
	vsvm_wait_pipe(done[0]);
	vsvm_pattern(b, size, 31);
	assert_gpu_sees(a, size);
	{
		uint64_t sum;

		igt_assert_eq(gpu_sum(a, size, &sum), 0);
		igt_assert_eq_u64(sum, vsvm_checksum(b, size));
	}
	igt_assert_eq(gpu_fill(a, size, 0x5ade5ade), 0);
	vsvm_kick_pipe(go[1]);
	igt_waitchildren();

	munmap(a, size);
	munmap(b, size);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

static void test_file_backed(void)
{
	uint64_t size = 4 * SZ_64K;
	char *data = malloc(size), *check = malloc(size);
	char path[] = "/tmp/vsvm_svm_XXXXXX";
	int files[2], nfiles = 0;
	char *shared, *priv;

	igt_assert(data && check);
	files[nfiles++] = vsvm_tmp_file(size);		/* memfd (shmem) */
	files[nfiles] = mkstemp(path);			/* a /tmp file */
	if (files[nfiles] >= 0) {
		unlink(path);
		igt_assert_eq(ftruncate(files[nfiles], size), 0);
		nfiles++;
	}

	for (int i = 0; i < nfiles; i++) {
		int f = files[i];

		vsvm_pattern(data, size, 40 + i);
		igt_assert_eq(pwrite(f, data, size, 0), size);

		/* MAP_SHARED: GPU reads the file, GPU writes reach it */
		shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      f, 0);
		igt_assert(shared != MAP_FAILED);
		assert_gpu_sees(shared, size);
		{
			uint64_t sum;

			igt_assert_eq(gpu_sum(shared, size, &sum), 0);
			igt_assert_eq_u64(sum, vsvm_checksum(data, size));
		}
		igt_assert_eq(gpu_fill(shared + SZ_64K, SZ_64K, 0xf11ef11e), 0);
		igt_assert_eq(pread(f, check, size, 0), size);
		igt_assert(vsvm_all_words(check + SZ_64K, SZ_64K, 0xf11ef11e));
		igt_assert(memcmp(check, data, SZ_64K) == 0);

		/* a write() to the file is seen through the mapping */
		vsvm_pattern(data, size, 50 + i);
		igt_assert_eq(pwrite(f, data, size, 0), size);
		assert_gpu_sees(shared, size);

		/* MAP_PRIVATE: reads the file, GPU writes stay private */
		priv = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			    f, 0);
		igt_assert(priv != MAP_FAILED);
		assert_gpu_sees(priv, size);
		igt_assert_eq(gpu_fill(priv, size, 0x9e1f9e1f), 0);
		igt_assert(vsvm_all_words(priv, size, 0x9e1f9e1f));
		igt_assert_eq(pread(f, check, size, 0), size);
		igt_assert(memcmp(check, data, size) == 0);
		igt_assert(memcmp(shared, data, size) == 0);

		munmap(priv, size);
		munmap(shared, size);
		close(f);
	}
	free(data);
	free(check);
}

/* A VM_BIND mapping wins over SVM at the same VA; both mix in one job. */
static void test_bind_and_svm(void)
{
	uint64_t size = 4 * PAGE_SZ;
	char *cpu = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *other = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	uint32_t handle = vsvm_gem_create(fd, size);
	char *bo = vsvm_gem_mmap(fd, handle, size);
	uint64_t sum;

	vsvm_pattern(cpu, size, 60);
	vsvm_pattern(bo, size, 61);
	assert_gpu_sees(cpu, size);

	/* bind the object right over the CPU pointer */
	vsvm_vm_bind(fd, handle, 0, va(cpu), size, 0);
	igt_assert_eq(gpu_sum(cpu, size, &sum), 0);
	igt_assert_eq_u64(sum, vsvm_checksum(bo, size));

	/* one job: bound object -> SVM memory, SVM memory -> object */
	igt_assert_eq(gpu_copy(other, cpu, size), 0);
	igt_assert(memcmp(other, bo, size) == 0);
	vsvm_pattern(other, size, 62);
	igt_assert_eq(gpu_copy(cpu, other, size), 0);
	igt_assert(memcmp(other, bo, size) == 0);
	/* the CPU memory under the binding was not touched */
	{
		char *ref = malloc(size);

		vsvm_pattern(ref, size, 60);
		igt_assert(memcmp(cpu, ref, size) == 0);
		free(ref);
	}

	/* unbound again: SVM memory */
	vsvm_vm_unbind(fd, va(cpu), size);
	assert_gpu_sees(cpu, size);

	munmap(bo, size);
	gem_close(fd, handle);
	munmap(cpu, size);
	munmap(other, size);
}

/* ---- chunks and counters ------------------------------------------------- */

static void require_thp(void)
{
	char mode[128] = "";

	igt_require_f(vsvm_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
				mode, sizeof(mode)),
		      "kernel without transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)\n");
	igt_require_f(!strstr(mode, "[never]"),
		      "transparent huge pages disabled ([never])\n");
}

/*
 * drm_svm, the helper of the Linux 6.12 build, faulted neighbouring present
 * chunks in with the faulting one (fault-around) and mapped a read fault of
 * writable memory for writing. drm_gpusvm, the helper from Linux 7.3 on,
 * maps the faulting chunk only, and a read for reading only: the first
 * write then takes a fault of its own.
 */
static bool helper_is_drm_svm(void)
{
	return vsvm_kernel_major() < 7;
}

static void test_thp_chunks(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = 2 * SZ_2M;
	struct region r;
	char *buf;
	long kb;

	require_thp();
	buf = region_map(&r, size, SZ_2M);
	igt_assert_eq(madvise(buf, size, MADV_HUGEPAGE), 0);
	vsvm_pattern(buf, size, 70);
	kb = vsvm_anon_huge_kb(buf);
	igt_info("AnonHugePages of the 4M area: %ld kB\n", kb);
	igt_require_f(kb >= 4096,
		      "the 2M-aligned MADV_HUGEPAGE area is not backed by THPs (%ld kB)\n",
		      kb);

	stats(&s0);
	assert_gpu_sees(buf, size);
	stats(&s1);
	log_svm_stats("before", &s0);
	log_svm_stats("after reading 4M of THP", &s1);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 2);
	igt_assert_eq_u64(s1.svm_faults_64k - s0.svm_faults_64k, 0);
	igt_assert_eq_u64(s1.svm_faults_4k - s0.svm_faults_4k, 0);
	/*
	 * One GPU fault per 2M range, or one for both where the helper
	 * mirrors the second, present chunk on the first fault.
	 */
	igt_assert_eq_u64(s1.svm_faults - s0.svm_faults,
			  helper_is_drm_svm() ? 1 : 2);
	igt_assert_eq_u64(s1.svm_ranges_live - s0.svm_ranges_live, 2);

	/* mapped now: reading again takes no GPU fault */
	assert_gpu_sees(buf, size);
	stats(&s2);
	igt_assert_eq_u64(s2.svm_faults, s1.svm_faults);
	/* the first write: one write fault per range mapped for reading */
	igt_assert_eq(gpu_fill(buf, size, 0x7f7f7f7f), 0);
	igt_assert(vsvm_all_words(buf, size, 0x7f7f7f7f));
	stats(&s2);
	igt_assert_eq_u64(s2.svm_faults - s1.svm_faults,
			  helper_is_drm_svm() ? 0 : 2);
	/* then none: reading and writing again */
	s1 = s2;
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0x7e7e7e7e), 0);
	igt_assert(vsvm_all_words(buf, size, 0x7e7e7e7e));
	stats(&s2);
	igt_assert_eq_u64(s2.svm_faults, s1.svm_faults);
	igt_assert_eq_u64(s2.svm_faults_2m, s1.svm_faults_2m);

	region_unmap(&r);
	/* both ranges go away with the memory */
	igt_assert_eq(gpu_prefetch(fd, buf, PAGE_SZ, 0), -EFAULT);
	stats(&s2);
	igt_assert(s2.svm_ranges_collected >= s1.svm_ranges_collected + 2);
	igt_assert(s2.svm_invalidations > s1.svm_invalidations);
}

static void test_chunk_sizes(void)
{
	struct drm_vsvm_get_stats s0, s1;
	struct region r64, r3, r1m;
	char *a, *b, *c;
	int f4k;

	/* a 128K mapping, 64K aligned: two 64K ranges */
	a = region_map(&r64, 2 * SZ_64K, SZ_64K);
	vsvm_pattern(a, 2 * SZ_64K, 80);
	stats(&s0);
	assert_gpu_sees(a, 2 * SZ_64K);
	stats(&s1);
	igt_assert_eq_u64(s1.svm_faults_64k - s0.svm_faults_64k, 2);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 0);
	igt_assert_eq_u64(s1.svm_faults_4k - s0.svm_faults_4k, 0);

	/* three pages: nothing larger fits, three 4K ranges */
	b = region_map(&r3, 3 * PAGE_SZ, SZ_64K);
	vsvm_pattern(b, 3 * PAGE_SZ, 81);
	stats(&s0);
	assert_gpu_sees(b, 3 * PAGE_SZ);
	stats(&s1);
	igt_assert_eq_u64(s1.svm_faults_4k - s0.svm_faults_4k, 3);
	igt_assert_eq_u64(s1.svm_faults_64k - s0.svm_faults_64k, 0);

	/* a mirror with 4K chunks only: 1M of 2M-aligned memory, 256 ranges */
	f4k = open_svm(DRM_VSVM_SVM_CHUNK_4K);
	c = region_map(&r1m, SZ_1M, SZ_2M);
	vsvm_pattern(c, SZ_1M, 82);
	igt_assert_eq(gpu_prefetch(f4k, c, SZ_1M, 0), 0);
	vsvm_get_stats(f4k, &s1);
	log_svm_stats("4K-only mirror, 1M prefetched", &s1);
	igt_assert_eq_u64(s1.svm_faults_4k, 256);
	igt_assert_eq_u64(s1.svm_faults_2m + s1.svm_faults_64k, 0);
	igt_assert_eq_u64(s1.svm_ranges_live, 256);
	close(f4k);

	region_unmap(&r64);
	region_unmap(&r3);
	region_unmap(&r1m);
}

/*
 * mprotect() of one page splits its VMA; core mm checks whether a huge PMD
 * has to be split at the new VMA edges. Where none is mapped (4K pages),
 * nothing changes outside the page, so mirror ranges of the same 2M block
 * that do not hold the page must stay mapped.
 */
static void test_mprotect_neighbours(void)
{
	struct drm_vsvm_get_stats s0, s1;
	struct region r;
	char *c;
	int f4k;

	f4k = open_svm(DRM_VSVM_SVM_CHUNK_4K);
	c = region_map(&r, SZ_2M, SZ_2M);
	igt_assert_eq(madvise(c, SZ_2M, MADV_NOHUGEPAGE), 0);
	vsvm_pattern(c, SZ_2M, 83);
	igt_assert_eq(gpu_prefetch(f4k, c, SZ_64K, 0), 0);
	vsvm_get_stats(f4k, &s0);
	igt_assert_eq_u64(s0.svm_faults_4k, 16);

	/* a page 1M away, in the same 2M block: split, then merge back */
	igt_assert_eq(mprotect(c + SZ_1M, PAGE_SZ, PROT_READ), 0);
	igt_assert_eq(mprotect(c + SZ_1M, PAGE_SZ, PROT_READ | PROT_WRITE), 0);

	igt_assert_eq(gpu_prefetch(f4k, c, SZ_64K, 0), 0);
	vsvm_get_stats(f4k, &s1);
	log_svm_stats("16 4K ranges, before the mprotect() 1M away", &s0);
	log_svm_stats("after it and a second prefetch", &s1);
	igt_assert_f(s1.svm_faults == s0.svm_faults,
		     "mprotect() of a page 1M away invalidated %llu of the 16 ranges\n",
		     (unsigned long long)(s1.svm_faults - s0.svm_faults));
	close(f4k);
	region_unmap(&r);
}

static void test_prefetch(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = 2 * SZ_2M;
	struct region r;
	char *buf = region_map(&r, size, 2 * SZ_2M);

	vsvm_pattern(buf, size, 90);
	stats(&s0);
	igt_assert_eq(gpu_prefetch(fd, buf, size, DRM_VSVM_PREFETCH_WRITE), 0);
	stats(&s1);
	/* a 4M-aligned 4M span: one 4M range, from one fault */
	igt_assert_eq_u64(s1.svm_faults - s0.svm_faults, 1);
	igt_assert_eq_u64(s1.svm_ranges_live - s0.svm_ranges_live, 1);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 0);
	igt_assert_eq_u64(s1.bytes_accessed, s0.bytes_accessed);
	/* prefetched: the job takes no fault */
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0x1234abcd), 0);
	stats(&s2);
	igt_assert_eq_u64(s2.svm_faults, s1.svm_faults);
	igt_assert(vsvm_all_words(buf, size, 0x1234abcd));

	/* prefetching what the process cannot access fails like an access */
	igt_assert_eq(mprotect(buf, SZ_64K, PROT_READ), 0);
	igt_assert_eq(gpu_prefetch(fd, buf, SZ_64K, 0), 0);
	igt_assert_eq(gpu_prefetch(fd, buf, SZ_64K, DRM_VSVM_PREFETCH_WRITE),
		      -EPERM);
	igt_assert_eq(mprotect(buf, SZ_64K, PROT_NONE), 0);
	igt_assert_eq(gpu_prefetch(fd, buf, SZ_64K, 0), -EFAULT);

	region_unmap(&r);
}

/*
 * A PREFETCH of [2M, 64M) past a 64M boundary: ranges of 2M, 4M, 8M, 16M
 * and 32M, one fault each, where accesses would take 31 faults of 2M.
 * Then an invalidation of one page of the 32M range, and a munmap of the
 * first 2M of the 16M one: each has only its own large range collected,
 * and the accesses after it fault that range's memory in 2M chunks.
 */
static void test_prefetch_large(void)
{
	struct drm_vsvm_get_stats s0, s1;
	struct region r;
	char *base, *buf;
	uint64_t size;

	base = region_map(&r, 32 * SZ_2M, 32 * SZ_2M);
	buf = base + SZ_2M;
	size = 31 * SZ_2M;
	vsvm_pattern(base, 32 * SZ_2M, 95);

	stats(&s0);
	igt_assert_eq(gpu_prefetch(fd, buf, size, DRM_VSVM_PREFETCH_WRITE), 0);
	stats(&s1);
	log_svm_stats("after the PREFETCH of 62M", &s1);
	igt_assert_eq_u64(s1.svm_faults - s0.svm_faults, 5);
	igt_assert_eq_u64(s1.svm_ranges_live - s0.svm_ranges_live, 5);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 1);
	igt_assert_eq_u64(s1.svm_faults_64k - s0.svm_faults_64k, 0);
	igt_assert_eq_u64(s1.svm_faults_4k - s0.svm_faults_4k, 0);

	/* the large ranges map the right pages, for reading and writing */
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0x5a5a0001), 0);
	igt_assert(vsvm_all_words(buf, size, 0x5a5a0001));
	stats(&s0);
	igt_assert_eq_u64(s0.svm_faults, s1.svm_faults);

	/* one page of the 32M range [32M, 64M) is invalidated */
	vsvm_mprotect_round_trip(base + 40 * SZ_1M);
	vsvm_pattern(buf, size, 96);
	assert_gpu_sees(buf, size);
	stats(&s1);
	log_svm_stats("after an mprotect() of a page at 40M", &s1);
	igt_assert_eq_u64(s1.svm_ranges_collected - s0.svm_ranges_collected, 1);
	igt_assert_eq_u64(s1.svm_faults - s0.svm_faults, 16);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 16);

	/* munmap of [16M, 18M): the 16M range goes, the rest is rebuilt */
	igt_assert_eq(munmap(base + 16 * SZ_1M, SZ_2M), 0);
	assert_gpu_fails(base + 16 * SZ_1M, SZ_2M, -EFAULT);
	assert_gpu_sees(buf, 14 * SZ_1M);
	assert_gpu_sees(base + 18 * SZ_1M, 46 * SZ_1M);
	stats(&s0);
	log_svm_stats("after a munmap of [16M, 18M)", &s0);
	igt_assert_eq_u64(s0.svm_ranges_collected - s1.svm_ranges_collected, 1);
	igt_assert_eq_u64(s0.svm_faults_2m - s1.svm_faults_2m, 7);

	region_unmap(&r);
}

#define MERGE_CONTIGUOUS "/sys/module/drm_gpusvm_helper/parameters/merge_contiguous"

static void merge_contiguous_exit_handler(int sig)
{
	vsvm_write_file(MERGE_CONTIGUOUS, "Y");
}

/*
 * An invalidation of one page of a large range unmaps and maps again that
 * page's DMA entry only. The helper maps a page an entry here
 * (merge_contiguous off, no THP), so the count is exact: 1 page, where
 * unmapping the whole range maps its 2048 pages again. MADV_FREE keeps
 * the page; a page replaced (MADV_DONTNEED, migration) in an entry that
 * maps a physically contiguous run has the range mapped whole unless an
 * IOMMU maps it (drm-svm/README.md, 0012).
 */
static void test_large_range_page(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = 4 * SZ_2M;
	struct region r;
	char *buf, *page;

	igt_require_f(vsvm_write_file(MERGE_CONTIGUOUS, "N"),
		      "no drm_gpusvm_helper.merge_contiguous parameter (stock drm_gpusvm)\n");
	igt_install_exit_handler(merge_contiguous_exit_handler);

	buf = region_map(&r, size, size);
	page = buf + size / 2;
	igt_assert_eq(madvise(buf, size, MADV_NOHUGEPAGE), 0);
	vsvm_pattern(buf, size, 97);
	stats(&s0);
	igt_assert_eq(gpu_prefetch(fd, buf, size, DRM_VSVM_PREFETCH_WRITE), 0);
	stats(&s1);
	igt_assert_eq_u64(s1.svm_ranges_live - s0.svm_ranges_live, 1);
	igt_assert_eq_u64(s1.svm_dma_maps - s0.svm_dma_maps, size / PAGE_SZ);

	igt_assert_eq(madvise(page, PAGE_SZ, MADV_FREE), 0);
	igt_assert_eq(gpu_fill(page, PAGE_SZ, 0x5a5a0003), 0);
	stats(&s2);
	igt_assert(vsvm_write_file(MERGE_CONTIGUOUS, "Y"));
	log_svm_stats("after MADV_FREE of a page of the 8M range", &s2);
	igt_info("DMA-mapped again: %llu pages\n",
		 (unsigned long long)(s2.svm_dma_maps - s1.svm_dma_maps));
	igt_assert_eq_u64(s2.svm_faults - s1.svm_faults, 1);
	igt_assert_eq_u64(s2.svm_ranges_collected, s1.svm_ranges_collected);
	igt_assert_eq_u64(s2.svm_dma_maps - s1.svm_dma_maps, 1);
	igt_assert(vsvm_all_words(page, PAGE_SZ, 0x5a5a0003));
	assert_gpu_sees(buf, size);
	stats(&s1);
	igt_assert_eq_u64(s1.svm_faults, s2.svm_faults);

	region_unmap(&r);
}

/* ---- invalidation -------------------------------------------------------- */

static void test_munmap_remap(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = SZ_2M;
	struct region r;
	char *buf = region_map(&r, size, SZ_2M);

	vsvm_pattern(buf, size, 100);
	assert_gpu_sees(buf, size);
	stats(&s0);

	igt_assert_eq(munmap(buf, size), 0);
	stats(&s1);
	igt_assert(s1.svm_invalidations > s0.svm_invalidations);
	assert_gpu_fails(buf, size, -EFAULT);
	igt_assert_eq(gpu_fill(buf, size, 1), -EFAULT);

	/* new memory at the same address: the GPU sees it, not the old */
	vsvm_remap_fixed(buf, size);
	vsvm_pattern(buf, size, 101);
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0xa5a5a5a5), 0);
	igt_assert(vsvm_all_words(buf, size, 0xa5a5a5a5));
	stats(&s2);
	igt_assert(s2.svm_ranges_collected > s0.svm_ranges_collected);

	/* MAP_FIXED over live memory, without munmap in between */
	stats(&s0);
	vsvm_remap_fixed(buf, size);
	stats(&s1);
	igt_assert(s1.svm_invalidations > s0.svm_invalidations);
	vsvm_pattern(buf, size, 102);
	assert_gpu_sees(buf, size);

	region_unmap(&r);
}

static void test_partial_munmap(void)
{
	struct drm_vsvm_get_stats s0, s1, s2;
	uint64_t size = SZ_2M, hole = SZ_1M, hole_len = SZ_64K;
	struct region r;
	char *buf = region_map(&r, size, SZ_2M);
	char *after = buf + hole + hole_len;
	uint64_t after_len = size - hole - hole_len;

	vsvm_pattern(buf, size, 110);
	stats(&s0);
	assert_gpu_sees(buf, size);
	stats(&s1);
	igt_assert_eq_u64(s1.svm_faults_2m - s0.svm_faults_2m, 1);

	/* a 64K hole in the middle of the 2M range */
	igt_assert_eq(munmap(buf + hole, hole_len), 0);
	stats(&s0);
	igt_assert(s0.svm_invalidations > s1.svm_invalidations);
	assert_gpu_fails(buf + hole, hole_len, -EFAULT);
	assert_gpu_fails(buf, size, -EFAULT);

	/* the rest works, with smaller ranges rebuilt around the hole */
	assert_gpu_sees(buf, hole);
	assert_gpu_sees(after, after_len);
	stats(&s1);
	log_svm_stats("after rebuilding around the hole", &s1);
	igt_assert_eq_u64(s1.svm_faults_2m, s0.svm_faults_2m);
	igt_assert_eq_u64(s1.svm_faults_64k - s0.svm_faults_64k,
			  (hole + after_len) / SZ_64K);
	igt_assert(s1.svm_ranges_collected >= s0.svm_ranges_collected);
	igt_assert(s1.svm_ranges_collected >= 1);

	igt_assert_eq(gpu_fill(buf, hole, 0x0b0b0b0b), 0);
	igt_assert_eq(gpu_fill(after, after_len, 0x0c0c0c0c), 0);
	igt_assert(vsvm_all_words(buf, hole, 0x0b0b0b0b));
	igt_assert(vsvm_all_words(after, after_len, 0x0c0c0c0c));

	/* filling the hole again: the whole 2M is usable again */
	vsvm_remap_fixed(buf + hole, hole_len);
	vsvm_pattern(buf + hole, hole_len, 111);
	assert_gpu_sees(buf, size);
	stats(&s2);
	igt_assert_eq_u64(s2.svm_faults_2m, s1.svm_faults_2m);

	region_unmap(&r);
}

static void test_mprotect_none(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);

	vsvm_pattern(buf, size, 120);
	assert_gpu_sees(buf, size);

	igt_assert_eq(mprotect(buf, size, PROT_NONE), 0);
	assert_gpu_fails(buf, size, -EFAULT);
	igt_assert_eq(gpu_fill(buf, size, 1), -EFAULT);
	/* one PROT_NONE page in the middle fails the whole command */
	igt_assert_eq(mprotect(buf, size, PROT_READ | PROT_WRITE), 0);
	igt_assert_eq(mprotect(buf + 8 * PAGE_SZ, PAGE_SZ, PROT_NONE), 0);
	assert_gpu_fails(buf, size, -EFAULT);
	assert_gpu_sees(buf, 8 * PAGE_SZ);

	igt_assert_eq(mprotect(buf, size, PROT_READ | PROT_WRITE), 0);
	assert_gpu_sees(buf, size);
	{
		char *ref = malloc(size);

		vsvm_pattern(ref, size, 120);
		igt_assert(memcmp(buf, ref, size) == 0);
		free(ref);
	}
	munmap(buf, size);
}

static void test_mprotect_readonly(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *ref = malloc(size);
	char *dst = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);

	vsvm_pattern(buf, size, 130);
	memcpy(ref, buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0x13131313), 0);	/* mapped RW */
	memcpy(buf, ref, size);

	igt_assert_eq(mprotect(buf, size, PROT_READ), 0);
	/* GPU reads work ... */
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_copy(dst, buf, size), 0);
	igt_assert(memcmp(dst, ref, size) == 0);
	/* ... GPU writes fail with EPERM and write nothing */
	igt_assert_eq(gpu_fill(buf, size, 0xdeadbeef), -EPERM);
	igt_assert_eq(gpu_copy(buf, dst, size), -EPERM);
	igt_assert(memcmp(buf, ref, size) == 0);

	/* memory that was read-only from the start */
	{
		char *ro = mmap(NULL, size, PROT_READ,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t sum;

		igt_assert(ro != MAP_FAILED);
		igt_assert_eq(gpu_sum(ro, size, &sum), 0);
		igt_assert_eq_u64(sum, words_sum(size, 0));
		igt_assert_eq(gpu_fill(ro, size, 1), -EPERM);
		munmap(ro, size);
	}

	igt_assert_eq(mprotect(buf, size, PROT_READ | PROT_WRITE), 0);
	igt_assert_eq(gpu_fill(buf, size, 0x31313131), 0);
	igt_assert(vsvm_all_words(buf, size, 0x31313131));

	munmap(buf, size);
	munmap(dst, size);
	free(ref);
}

static void test_madv_dontneed(void)
{
	struct drm_vsvm_get_stats s0, s1;
	uint64_t size = 4 * SZ_64K;
	struct region r;
	char *buf = region_map(&r, size, SZ_64K);
	uint64_t sum;

	vsvm_pattern(buf, size, 140);
	assert_gpu_sees(buf, size);
	stats(&s0);

	igt_assert_eq(madvise(buf, size, MADV_DONTNEED), 0);
	stats(&s1);
	igt_assert(s1.svm_invalidations > s0.svm_invalidations);
	/* the mapping stays, its pages are gone: the GPU reads zeroes */
	igt_assert_eq(gpu_sum(buf, size, &sum), 0);
	igt_assert_eq_u64(sum, words_sum(size, 0));
	igt_assert(vsvm_all_words(buf, size, 0));

	/* and GPU writes land in the new pages */
	igt_assert_eq(gpu_fill(buf + SZ_64K, SZ_64K, 0xd0d0d0d0), 0);
	igt_assert(vsvm_all_words(buf + SZ_64K, SZ_64K, 0xd0d0d0d0));
	igt_assert(vsvm_all_words(buf, SZ_64K, 0));

	/* a part of a range only */
	igt_assert_eq(madvise(buf + SZ_64K + PAGE_SZ, PAGE_SZ, MADV_DONTNEED), 0);
	igt_assert(vsvm_all_words(buf + SZ_64K + PAGE_SZ, PAGE_SZ, 0));
	assert_gpu_sees(buf, size);

	region_unmap(&r);
}

/* ---- fork ---------------------------------------------------------------- */

static void test_fork_cow(void)
{
	uint64_t size = 16 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
	char *orig = malloc(size);
	int go[2], done[2];

	igt_assert_eq(pipe(go), 0);
	igt_assert_eq(pipe(done), 0);
	vsvm_pattern(buf, size, 150);
	memcpy(orig, buf, size);
	assert_gpu_sees(buf, size);	/* the parent's GPU maps the pages */

	igt_fork(child, 1) {
		static uint64_t res __attribute__((aligned(64)));
		uint64_t sum;
		int f;

		vsvm_wait_pipe(go[0]);
		/* neither the parent's CPU nor its GPU wrote our copy */
		igt_assert_f(memcmp(buf, orig, size) == 0,
			     "child's copy-on-write copy was modified\n");

		/* the child's own mirror sees the child's pages */
		f = open_svm(0);
		igt_assert_eq(gpu_sum_on(f, va(&res), &res, va(buf), size,
					 &sum), 0);
		igt_assert_eq_u64(sum, vsvm_checksum(orig, size));
		igt_assert_eq(vsvm_gpu_fill(f, va(buf), size, 0xc41dc41d), 0);
		igt_assert(vsvm_all_words(buf, size, 0xc41dc41d));
		close(f);
		vsvm_kick_pipe(done[1]);
	}

	/*
	 * The parent writes while the child still shares the pages: the
	 * GPU must follow the parent to its new copies, and its writes
	 * must not reach the child's.
	 */
	vsvm_pattern(buf, size, 151);
	assert_gpu_sees(buf, size);
	igt_assert_eq(gpu_fill(buf, size, 0xd00dd00d), 0);
	igt_assert(vsvm_all_words(buf, size, 0xd00dd00d));
	vsvm_kick_pipe(go[1]);
	vsvm_wait_pipe(done[0]);
	igt_waitchildren();
	/* and the child's GPU writes did not reach the parent */
	igt_assert(vsvm_all_words(buf, size, 0xd00dd00d));
	assert_gpu_sees(buf, size);

	munmap(buf, size);
	free(orig);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

static void test_fork_no_inherit(void)
{
	uint64_t size = 4 * PAGE_SZ;
	char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);

	vsvm_pattern(buf, size, 160);
	assert_gpu_sees(buf, size);

	igt_fork(child, 1) {
		struct drm_vsvm_cmd cmd = vsvm_cmd_checksum(out.va, va(buf),
							    size);
		struct drm_vsvm_cmd bound = vsvm_cmd_fill(out.va, 8, 0);

		/* the inherited file mirrors the parent, not us */
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EFAULT);
		cmd = vsvm_cmd_prefetch(va(buf), size, 0);
		igt_assert_eq(__vsvm_exec(fd, &cmd, 1, 0, 0, NULL), -EFAULT);
		igt_assert_eq(__vsvm_svm_enable(fd, 0, 0, 0), -EBUSY);
		/* bound objects still work from here (own user fence) */
		igt_assert_eq(vsvm_exec_sync(fd, &bound, 1), 0);
		/* a new file of our own can have SVM */
		{
			int f = open_svm(0);

			igt_assert_eq(gpu_prefetch(f, buf, size, 0), 0);
			close(f);
		}
	}
	igt_waitchildren();
	assert_gpu_sees(buf, size);
	munmap(buf, size);
}

/* ---- concurrency and lifetime -------------------------------------------- */

#define NTHREADS 4

struct thread_arg {
	int idx;
	int iters;
	atomic_int *errors;
};

static void *thread_fn(void *data)
{
	struct thread_arg *a = data;
	uint64_t size = SZ_64K + a->idx * PAGE_SZ;
	char *buf = malloc(size);
	volatile uint64_t *res = (uint64_t *)((char *)out.map + 64 * a->idx);

	for (int i = 0; i < a->iters; i++) {
		struct drm_vsvm_cmd cmds[2];
		uint32_t v = a->idx << 24 | i;
		uint64_t want;

		/* checksum the pattern, then overwrite it, in one job */
		vsvm_pattern(buf, size, v);
		want = vsvm_checksum(buf, size);
		*res = SENTINEL;
		cmds[0] = vsvm_cmd_checksum(out.va + 64 * a->idx, va(buf),
					    size);
		cmds[1] = vsvm_cmd_fill(va(buf), size, v);
		if (vsvm_exec_sync(fd, cmds, 2) || *res != want ||
		    !vsvm_all_words(buf, size, v))
			atomic_fetch_add(a->errors, 1);
		/* and fresh memory every other round */
		if (i & 1) {
			free(buf);
			buf = malloc(size);
		}
	}
	free(buf);
	return NULL;
}

static void test_threads(void)
{
	struct thread_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	atomic_int errors = 0;
	struct drm_vsvm_get_stats s0, s1;

	stats(&s0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct thread_arg){ .idx = i, .iters = 16,
					       .errors = &errors };
		igt_assert_eq(pthread_create(&th[i], NULL, thread_fn, &args[i]),
			      0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	stats(&s1);
	igt_assert_eq(atomic_load(&errors), 0);
	igt_assert_eq_u64(s1.jobs_completed - s0.jobs_completed, NTHREADS * 16);
	igt_assert_eq_u64(s1.jobs_failed, s0.jobs_failed);
}

/* Jobs of @f completed since @s0, waiting at most 60 s for @n of them. */
static void wait_completed(int f, const struct drm_vsvm_get_stats *s0,
			   uint64_t n, struct drm_vsvm_get_stats *s1)
{
	igt_until_timeout(60) {
		vsvm_get_stats(f, s1);
		if (s1->jobs_completed >= s0->jobs_completed + n)
			return;
		usleep(10 * 1000);
	}
	igt_assert_f(false, "%llu jobs did not complete in 60 s\n",
		     (unsigned long long)n);
}

static void test_exit_during_faults(void)
{
	struct drm_vsvm_get_stats s0, s1;
	int f = drm_open_vsvm();	/* shared with the child */

	vsvm_get_stats(f, &s0);
	igt_fork(child, 1) {
		/* 16M never touched, 4K chunks: thousands of GPU faults */
		uint64_t size = 16 * SZ_1M;
		char *buf = vsvm_mmap_anon(size, PROT_READ | PROT_WRITE);
		static uint64_t res __attribute__((aligned(64)));
		struct drm_vsvm_cmd cmds[3];

		igt_assert_eq(__vsvm_svm_enable(f, DRM_VSVM_SVM_CHUNK_4K, 0, 0),
			      0);
		cmds[0] = vsvm_cmd_checksum(va(&res), va(buf), size);
		igt_assert_eq(__vsvm_exec(f, cmds, 1, 0, 0, NULL), 0);
		/* 2 s: far longer than this process needs to exit */
		cmds[0] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
		cmds[1] = vsvm_cmd_delay(DRM_VSVM_MAX_DELAY_US);
		cmds[2] = vsvm_cmd_fill(va(buf), size, 1);
		igt_assert_eq(__vsvm_exec(f, cmds, 3, 0, 0, NULL), 0);
		/* and exit while the first job faults */
	}
	igt_waitchildren();

	/* the exited process left no user fence to wait for: poll */
	wait_completed(f, &s0, 2, &s1);
	igt_info("jobs failed: %llu, last error %d (job %llu)\n",
		 (unsigned long long)(s1.jobs_failed - s0.jobs_failed),
		 s1.last_error, (unsigned long long)s1.last_error_seqno);
	igt_assert(s1.jobs_failed >= s0.jobs_failed + 1);
	/* the second job, on the dead mm */
	igt_assert_eq_u64(s1.last_error_seqno, 2);
	igt_assert_eq(s1.last_error, -ESRCH);
	igt_assert_eq_u64(s1.jobs_completed, s0.jobs_completed + 2);
	/* the dead mm's SVM cannot be used, or enabled again, on this file */
	igt_assert_eq(__vsvm_svm_enable(f, 0, 0, 0), -EBUSY);
	close(f);

	/* the device is fine afterwards */
	{
		char *buf = vsvm_mmap_anon(SZ_64K, PROT_READ | PROT_WRITE);

		vsvm_pattern(buf, SZ_64K, 170);
		assert_gpu_sees(buf, SZ_64K);
		munmap(buf, SZ_64K);
	}
}

static void test_close_while_busy(void)
{
	uint64_t size = SZ_2M;
	char *buf = vsvm_mmap_anon(size + PAGE_SZ, PROT_READ | PROT_WRITE);
	volatile uint64_t *ufence = (uint64_t *)(buf + size);
	int f = open_svm(0);
	struct drm_vsvm_cmd cmds[2];

	cmds[0] = vsvm_cmd_delay(300 * 1000);
	cmds[1] = vsvm_cmd_fill(va(buf), size, 0xc105ed00);
	*ufence = 0;
	igt_assert_eq(__vsvm_exec_ufence(f, cmds, 2, 0, ufence, 1, NULL), 0);
	close(f);	/* the job keeps the mirror */
	/* any file of the device can wait for a user fence */
	igt_assert_eq(__vsvm_wait_ufence(fd, ufence, 1, JOB_TIMEOUT_NS), 0);
	igt_assert_eq_u64(*ufence, 1);
	igt_assert(vsvm_all_words(buf, size, 0xc105ed00));
	munmap(buf, size + PAGE_SZ);
}

struct stress_ctl {
	char *area;
	uint64_t size;
	int memfd;
	int npat;
	atomic_bool stop;
	atomic_int remaps;
};

static void *stress_remapper(void *data)
{
	struct stress_ctl *c = data;
	unsigned int seed = 1;

	while (!atomic_load(&c->stop)) {
		int k = rand_r(&seed) % (c->npat + 1);
		void *p;

		if (k == c->npat) {
			/* a hole for a moment */
			munmap(c->area, c->size);
			usleep(100);
		}
		k %= c->npat;
		p = mmap(c->area, c->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, c->memfd, k * c->size);
		igt_assert(p == c->area);
		atomic_fetch_add(&c->remaps, 1);
		usleep(rand_r(&seed) % 500);
	}
	return NULL;
}

static void test_stress_remap(void)
{
	struct stress_ctl c = { .size = SZ_64K, .npat = 4 };
	uint64_t sums[4], sum;
	struct region r;
	pthread_t th;
	char *pat = malloc(SZ_64K);
	int jobs = 0, ok = 0, holes = 0, ret;

	/* the area's VMA is exactly 64K: one range, one lock hold per job */
	c.area = region_map(&r, c.size, SZ_64K);
	c.memfd = vsvm_tmp_file(c.npat * c.size);
	for (int k = 0; k < c.npat; k++) {
		vsvm_pattern(pat, c.size, 180 + k);
		sums[k] = vsvm_checksum(pat, c.size);
		igt_assert_eq(pwrite(c.memfd, pat, c.size, k * c.size), c.size);
	}
	igt_assert(mmap(c.area, c.size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, c.memfd, 0) == c.area);

	igt_assert_eq(pthread_create(&th, NULL, stress_remapper, &c), 0);
	igt_until_timeout(5) {
		ret = gpu_sum(c.area, c.size, &sum);
		jobs++;
		if (ret == -EFAULT) {
			holes++;
			continue;
		}
		igt_assert_eq(ret, 0);
		igt_assert_f(sum == sums[0] || sum == sums[1] ||
			     sum == sums[2] || sum == sums[3],
			     "GPU saw a torn or stale mapping (checksum %#llx)\n",
			     (unsigned long long)sum);
		ok++;
	}
	atomic_store(&c.stop, true);
	pthread_join(th, NULL);
	igt_info("%d jobs (%d whole, %d on a hole) across %d remaps\n",
		 jobs, ok, holes, atomic_load(&c.remaps));
	igt_assert(ok > 0);
	igt_assert(atomic_load(&c.remaps) > 0);

	/* and it is all still coherent */
	assert_gpu_sees(c.area, c.size);
	close(c.memfd);
	region_unmap(&r);
	free(pat);
}

igt_main
{
	igt_fixture {
		fd = drm_open_vsvm();
		igt_require_f(__vsvm_svm_enable(fd, 0, 0, 0) == 0,
			      "vsvm without SVM mode (DRM_IOCTL_VSVM_SVM_ENABLE failed)\n");
		vsvm_bo_create(fd, &out, PAGE_SZ);
	}

	igt_describe("Enable SVM on a file: unbound GPU VAs become process pointers (refused at submission before).");
	igt_subtest("enable")
		test_enable();

	igt_describe("Bad SVM_ENABLE arguments (flags, pad, chunk sizes) fail with EINVAL, enabling twice with EBUSY; bad PREFETCH commands with EINVAL.");
	igt_subtest("invalid-enable")
		test_invalid_enable();

	igt_describe("NULL, kernel, non-canonical and unmapped addresses, and file pages beyond EOF, fail the job with EFAULT.");
	igt_subtest("invalid-address")
		test_invalid_address();

	igt_describe("The GPU reads, writes and copies malloc()ed memory by pointer.");
	igt_subtest_with_dynamic("malloc") {
		for (int i = 0; i < ARRAY_SIZE(sizes); i++)
			igt_dynamic(sizes[i].name)
				test_malloc(sizes[i].size);
	}

	igt_describe("The GPU reads, writes and copies anonymous mmap()ed memory; untouched memory reads as zeroes.");
	igt_subtest_with_dynamic("mmap-anon") {
		for (int i = 0; i < ARRAY_SIZE(sizes); i++)
			igt_dynamic(sizes[i].name)
				test_mmap_anon(sizes[i].size);
	}

	igt_describe("MAP_SHARED anonymous memory: GPU and a forked child see each other's writes.");
	igt_subtest("mmap-shared")
		test_mmap_shared();

	igt_describe("File-backed memory (memfd and a /tmp file), MAP_SHARED and MAP_PRIVATE, in both directions.");
	igt_subtest("file-backed")
		test_file_backed();

	igt_describe("A VM_BIND mapping wins over SVM at the same VA; one job mixes bound and SVM memory.");
	igt_subtest("bind-over-svm")
		test_bind_and_svm();

	igt_describe("THP-backed 4M, 2M aligned: one 2M range per chunk, both from one GPU fault (fault-around), no fault on reuse.");
	igt_subtest("thp-chunk-faults")
		test_thp_chunks();

	igt_describe("Chunk selection: 64K ranges in a 128K mapping, 4K at the edges, 4K only when enabled so.");
	igt_subtest("chunk-sizes")
		test_chunk_sizes();

	igt_describe("mprotect() of a page of 4K-mapped memory leaves the mirror ranges of its 2M block that do not hold it mapped.");
	igt_subtest("mprotect-neighbours")
		test_mprotect_neighbours();

	igt_describe("PREFETCH faults ranges in without touching data, and fails like an access would.");
	igt_subtest("prefetch")
		test_prefetch();

	igt_describe("PREFETCH of a span maps it in ranges larger than 2M; an mprotect or munmap of part of one has only that range collected.");
	igt_subtest("prefetch-large-ranges")
		test_prefetch_large();

	igt_describe("MADV_FREE of a page of an 8M range: the GPU's next write maps that page's DMA entry again, not the range's 2048.");
	igt_subtest("large-range-page-invalidation")
		test_large_range_page();

	igt_describe("munmap, then remap at the same address: the GPU fails in between and sees the new data after.");
	igt_subtest("munmap-remap")
		test_munmap_remap();

	igt_describe("munmap of 64K in the middle of a 2M range: the hole fails with EFAULT, the rest works with rebuilt 64K ranges.");
	igt_subtest("partial-munmap")
		test_partial_munmap();

	igt_describe("mprotect(PROT_NONE) fails GPU access with EFAULT; restoring the protection restores access.");
	igt_subtest("mprotect-none")
		test_mprotect_none();

	igt_describe("mprotect(PROT_READ): GPU reads work, GPU writes fail with EPERM and write nothing.");
	igt_subtest("mprotect-readonly")
		test_mprotect_readonly();

	igt_describe("MADV_DONTNEED: the GPU sees zeroes afterwards, and its writes land in the new pages.");
	igt_subtest("madv-dontneed")
		test_madv_dontneed();

	igt_describe("fork: copy-on-write is right for the parent's GPU and for the child's own mirror.");
	igt_subtest("fork-cow")
		test_fork_cow();

	igt_describe("fork: the child does not inherit the mirror; the shared file refuses its pointers with EFAULT.");
	igt_subtest("fork-no-inherit")
		test_fork_no_inherit();

	igt_describe("Several threads submit SVM jobs on their own memory at once.");
	igt_subtest("threads")
		test_threads();

	igt_describe("A process exits while the GPU faults its memory: jobs fail with ESRCH, nothing hangs.");
	igt_subtest("exit-during-faults")
		test_exit_during_faults();

	igt_describe("Closing the file while an SVM job is queued: the job completes.");
	igt_subtest("close-while-busy")
		test_close_while_busy();

	igt_describe("A thread remaps memory under GPU jobs for 5 s: every job sees one whole mapping or fails with EFAULT.");
	igt_subtest("stress-remap")
		test_stress_remap();

	igt_fixture {
		vsvm_bo_destroy(fd, &out);
		close(fd);
	}
}
