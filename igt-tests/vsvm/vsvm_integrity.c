// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: vsvm integrity
 * Category: Core
 * Description: data integrity of memory mirrored by drm_svm on vsvm, the
 *   virtual SVM GPU: what the GPU writes survives reclaim (MADV_FREE +
 *   MADV_PAGEOUT, swap, shared mappings), and what the GPU only reads is
 *   not write-faulted (COW stays shared after fork, untouched memory stays
 *   on the zero page).
 *
 * The GPU writes through drm_svm's mirror of the CPU page tables, not
 * through CPU page-table entries: unless the helper marks the pages it let
 * the device write dirty, the kernel may consider them clean and drop
 * them (lazily freed anonymous memory) or reload a stale copy (swap cache).
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt.h"
#include "igt_vsvm.h"

IGT_TEST_DESCRIPTION("Data integrity of GPU access through drm_svm on vsvm: "
		     "GPU writes survive reclaim and swap, GPU reads do not "
		     "write-fault.");

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE_SZ 4096ull
#define SZ_64K (64ull << 10)
#define SZ_2M (2ull << 20)
#define NPAGES 16ull
#define BUF_SZ (NPAGES * PAGE_SZ)
#define CPU_SEED 0x11110000u
#define GPU_VALUE 0xdecaf00du

static int ufd = -1;		/* userptr objects */
static int sfd = -1;		/* SVM mode */
static struct vsvm_bo sout;	/* checksum results of @sfd */

static uint64_t va(const void *p)
{
	return (uintptr_t)p;
}

static void cpu_fill(void *p, uint64_t size, uint32_t seed)
{
	uint32_t *w = p;

	for (uint64_t i = 0; i < size / 4; i++)
		w[i] = seed + (uint32_t)i;
}

/* Read every page (a CPU read fault, no write). */
static uint64_t cpu_touch_read(const void *p, uint64_t size)
{
	const volatile uint32_t *w = p;
	uint64_t sum = 0;

	for (uint64_t i = 0; i < size / 4; i += PAGE_SZ / 4)
		sum += w[i];
	return sum;
}

static void madvise_ok(void *p, uint64_t size, int advice)
{
	igt_assert_f(madvise(p, size, advice) == 0, "madvise(%d): %s\n",
		     advice, strerror(errno));
}

/* Is swap configured (and so can MADV_PAGEOUT write anonymous pages out)? */
static bool have_swap(void)
{
	char buf[4096];
	char *nl;

	if (!vsvm_read_file("/proc/swaps", buf, sizeof(buf)))
		return false;
	nl = strchr(buf, '\n');		/* skip the header line */
	return nl && nl[1];
}

/* Number of pages of [p, p + size) present in memory (mincore). */
static uint64_t resident_pages(void *p, uint64_t size)
{
	unsigned char vec[size / PAGE_SZ];
	uint64_t n = 0;

	igt_assert_eq(mincore(p, size, vec), 0);
	for (uint64_t i = 0; i < size / PAGE_SZ; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * MADV_PAGEOUT of [p, p + size) until some page is out, from each CPU in
 * turn: a folio sitting in a CPU's LRU batch (the writeback that msync()
 * or swap-out ends queues it there) is off the LRU and cannot be isolated,
 * and MADV_PAGEOUT drains only the batches of the CPU it runs on. True
 * once fewer than all pages are resident.
 */
static bool pageout(void *p, uint64_t size)
{
	cpu_set_t old, one;
	bool out = false;

	igt_assert_eq(sched_getaffinity(0, sizeof(old), &old), 0);
	for (int round = 0; round < 2 && !out; round++) {
		for (int cpu = 0; cpu < CPU_SETSIZE && !out; cpu++) {
			if (!CPU_ISSET(cpu, &old))
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one))
				continue;
			madvise_ok(p, size, MADV_PAGEOUT);
			out = resident_pages(p, size) < size / PAGE_SZ;
		}
		if (!out)
			usleep(50 * 1000);
	}
	igt_assert_eq(sched_setaffinity(0, sizeof(old), &old), 0);
	return out;
}

/*
 * Anonymous memory in a VMA of its own (PROT_NONE guard pages on both
 * sides keep it from merging), so that smaps reports it alone.
 */
static void *mmap_isolated(uint64_t size)
{
	char *p = mmap(NULL, size + 2 * PAGE_SZ, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	igt_assert(p != MAP_FAILED);
	igt_assert_eq(mprotect(p + PAGE_SZ, size, PROT_READ | PROT_WRITE), 0);
	return p + PAGE_SZ;
}

static void munmap_isolated(void *p, uint64_t size)
{
	munmap((char *)p - PAGE_SZ, size + 2 * PAGE_SZ);
}

/* Value in kB of @field ("Anonymous:") of the smaps entry starting at @p. */
static long smaps_kb(const void *p, const char *field)
{
	char line[256], want[32];
	bool in = false;
	long kb = -1;
	FILE *f;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)p);
	f = fopen("/proc/self/smaps", "r");
	igt_assert(f);
	while (fgets(line, sizeof(line), f)) {
		/* Field lines start with an upper-case name, VMA lines with hex. */
		if (!isupper((unsigned char)line[0])) {
			if (in)
				break;
			in = strncmp(line, want, strlen(want)) == 0;
		} else if (in && strncmp(line, field, strlen(field)) == 0) {
			kb = strtol(line + strlen(field), NULL, 10);
			break;
		}
	}
	fclose(f);
	igt_assert_f(kb >= 0, "no %s for %p in smaps\n", field, p);
	return kb;
}

/* /proc/self/pagemap bit 56: the page is mapped by this process only. */
static uint64_t exclusive_pages(void *p, uint64_t size)
{
	int f = open("/proc/self/pagemap", O_RDONLY);
	uint64_t n = 0;

	igt_assert(f >= 0);
	for (uint64_t i = 0; i < size / PAGE_SZ; i++) {
		uint64_t e;
		off_t off = (va(p) / PAGE_SZ + i) * sizeof(e);

		igt_assert_eq(pread(f, &e, sizeof(e), off), (ssize_t)sizeof(e));
		igt_assert_f(e >> 63, "page %llu not present\n",
			     (unsigned long long)i);
		n += (e >> 56) & 1;
	}
	close(f);
	return n;
}

/* ---- the two ways the GPU reaches the memory ------------------------------ */

enum mode { USERPTR, SVM };

static const char *mode_name[] = { "userptr", "svm" };

static void gpu_write(enum mode m, void *p, uint64_t size, uint32_t v)
{
	if (m == USERPTR) {
		struct vsvm_uptr u;

		vsvm_uptr_create(ufd, &u, p, size, 0);
		igt_assert_eq(vsvm_gpu_fill(ufd, u.va, size, v), 0);
		vsvm_uptr_destroy(ufd, &u);
	} else {
		igt_assert_eq(vsvm_gpu_fill(sfd, va(p), size, v), 0);
	}
}

static void gpu_read(enum mode m, void *p, uint64_t size)
{
	uint64_t sum;

	igt_assert(m == SVM);
	igt_assert_eq(vsvm_gpu_checksum(sfd, va(p), size, &sout, 0, &sum), 0);
	igt_assert_f(sum == vsvm_checksum(p, size),
		     "GPU checksum %#llx != CPU checksum %#llx\n",
		     (unsigned long long)sum,
		     (unsigned long long)vsvm_checksum(p, size));
}

/*
 * Keep a userptr object alive (its pages published) across the test,
 * as a long-lived GPU buffer would be.
 */
struct keeper {
	struct vsvm_uptr u;
	bool live;
};

static void keeper_open(enum mode m, struct keeper *k, void *p, uint64_t size)
{
	k->live = m == USERPTR;
	if (k->live)
		vsvm_uptr_create(ufd, &k->u, p, size, 0);
}

static void keeper_write(enum mode m, struct keeper *k, void *p,
			 uint64_t size, uint32_t v)
{
	if (m == USERPTR)
		igt_assert_eq(vsvm_gpu_fill(ufd, k->u.va, size, v), 0);
	else
		gpu_write(m, p, size, v);
}

static void keeper_close(struct keeper *k)
{
	if (k->live)
		vsvm_uptr_destroy(ufd, &k->u);
	k->live = false;
}

static void assert_words(const void *p, uint64_t size, uint32_t v,
			 const char *when)
{
	igt_assert_f(vsvm_all_words(p, size, v),
		     "GPU write lost %s: first word %#x, expected %#x\n",
		     when, *(const uint32_t *)p, v);
}

/* ---- item 1: GPU writes survive reclaim ----------------------------------- */

/*
 * MADV_FREE, then the GPU writes, then reclaim: the pages were clean lazily
 * freed memory until the GPU wrote them; reclaim must not discard them.
 */
static void test_madv_free(enum mode m)
{
	struct keeper k;
	void *p = vsvm_mmap_anon(BUF_SZ, PROT_READ | PROT_WRITE);

	cpu_fill(p, BUF_SZ, CPU_SEED);
	keeper_open(m, &k, p, BUF_SZ);
	madvise_ok(p, BUF_SZ, MADV_FREE);

	keeper_write(m, &k, p, BUF_SZ, GPU_VALUE);
	assert_words(p, BUF_SZ, GPU_VALUE, "before reclaim");

	madvise_ok(p, BUF_SZ, MADV_PAGEOUT);
	assert_words(p, BUF_SZ, GPU_VALUE, "after MADV_FREE + MADV_PAGEOUT");

	keeper_close(&k);
	munmap(p, BUF_SZ);
}

/*
 * Swap: a clean page must not be dropped or reloaded from a stale copy
 * after the GPU wrote it. hmm_range_fault() does not fault a PTE that is
 * already writable, not even for a write, so the CPU PTE of a page the
 * GPU writes stays as the CPU left it:
 *
 * - private anonymous memory: swapped out, read ahead into the swap cache
 *   (MADV_WILLNEED; zram would otherwise swap in without the swap cache,
 *   SWP_SYNCHRONOUS_IO, when one PTE maps the entry), then read by the CPU:
 *   mapped writable and clean, and still in the swap cache. Reclaim frees
 *   a clean swap-cache page without writing it, and the next fault reads
 *   the old data back from swap.
 * - shared anonymous memory (shmem) is marked dirty when it comes back from
 *   swap, so its clean pages are the ones read-faulted from a hole: mapped
 *   writable and clean, and reclaim drops a clean shmem page (the hole
 *   reads as zeros again).
 *
 * The GPU then writes, and reclaim runs: only the helper's dirty marking
 * sends what the GPU wrote to swap.
 */
static void test_swap(enum mode m, bool shared)
{
	int flags = shared ? MAP_SHARED | MAP_ANONYMOUS :
			     MAP_PRIVATE | MAP_ANONYMOUS;
	struct keeper k;
	void *p;

	igt_require_f(have_swap(), "no swap configured\n");
	p = mmap(NULL, BUF_SZ, PROT_READ | PROT_WRITE, flags, -1, 0);
	igt_assert(p != MAP_FAILED);

	if (!shared) {
		cpu_fill(p, BUF_SZ, CPU_SEED);
		igt_require_f(pageout(p, BUF_SZ),
			      "MADV_PAGEOUT swapped nothing out\n");
		madvise_ok(p, BUF_SZ, MADV_WILLNEED);	/* into the swap cache */
	}
	cpu_touch_read(p, BUF_SZ);	/* writable, clean PTEs */
	if (m == SVM)
		gpu_read(m, p, BUF_SZ);	/* a read fault first */
	keeper_open(m, &k, p, BUF_SZ);
	keeper_write(m, &k, p, BUF_SZ, GPU_VALUE);
	assert_words(p, BUF_SZ, GPU_VALUE, "before reclaim");

	igt_require_f(pageout(p, BUF_SZ),
		      "MADV_PAGEOUT reclaimed nothing (tried from every CPU)\n");
	assert_words(p, BUF_SZ, GPU_VALUE, "after reclaim and swap-in");

	keeper_close(&k);
	munmap(p, BUF_SZ);
}

/*
 * A shared file mapping (memfd): what the GPU wrote reaches the file (read
 * back with pread() after munmap). The file's pages are read-faulted from
 * holes, so they are clean and mapped writable, and the GPU writes them
 * without a CPU write fault; msync() and MADV_PAGEOUT then drop every
 * clean page from the page cache.
 */
static void test_shared_file(enum mode m)
{
	uint32_t *back = malloc(BUF_SZ);
	int f = vsvm_tmp_file(BUF_SZ);
	struct keeper k;
	void *p;

	igt_assert(back);
	p = mmap(NULL, BUF_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	igt_assert(p != MAP_FAILED);

	cpu_touch_read(p, BUF_SZ);
	if (m == SVM)
		gpu_read(m, p, BUF_SZ);		/* read fault first */
	keeper_open(m, &k, p, BUF_SZ);
	keeper_write(m, &k, p, BUF_SZ, GPU_VALUE);
	igt_assert_eq(msync(p, BUF_SZ, MS_SYNC), 0);
	igt_require_f(pageout(p, BUF_SZ),
		      "MADV_PAGEOUT reclaimed nothing (tried from every CPU)\n");
	keeper_close(&k);
	munmap(p, BUF_SZ);

	memset(back, 0, BUF_SZ);
	igt_assert_eq(pread(f, back, BUF_SZ, 0), (ssize_t)BUF_SZ);
	assert_words(back, BUF_SZ, GPU_VALUE, "in the file");
	close(f);
	free(back);
}

/* ---- item 2: GPU reads do not write-fault --------------------------------- */

/*
 * After fork() the parent's private pages are shared copy-on-write with
 * the child; a GPU read of them must leave them shared.
 */
static void test_read_keeps_cow(void)
{
	void *p = vsvm_mmap_anon(BUF_SZ, PROT_READ | PROT_WRITE);
	int go[2];

	cpu_fill(p, BUF_SZ, CPU_SEED);
	igt_assert_eq(exclusive_pages(p, BUF_SZ), NPAGES);
	igt_assert_eq(pipe(go), 0);
	igt_fork(child, 1) {
		vsvm_wait_pipe(go[0]);
		for (uint64_t i = 0; i < BUF_SZ / 4; i++)
			igt_assert_f(((uint32_t *)p)[i] == CPU_SEED + i,
				     "the child's copy changed at word %llu\n",
				     (unsigned long long)i);
	}
	igt_assert_eq(exclusive_pages(p, BUF_SZ), 0);

	gpu_read(SVM, p, BUF_SZ);
	igt_assert_f(exclusive_pages(p, BUF_SZ) == 0,
		     "a GPU read broke COW of %llu of %llu pages\n",
		     (unsigned long long)exclusive_pages(p, BUF_SZ),
		     (unsigned long long)NPAGES);

	/* A GPU write then breaks COW in the parent only. */
	gpu_write(SVM, p, BUF_SZ, GPU_VALUE);
	assert_words(p, BUF_SZ, GPU_VALUE, "after a read then a write");
	igt_assert_eq(exclusive_pages(p, BUF_SZ), NPAGES);

	vsvm_kick_pipe(go[1]);
	igt_waitchildren();
	close(go[0]);
	close(go[1]);
	munmap(p, BUF_SZ);
}

/*
 * A GPU read of untouched anonymous memory reads zeroes from the zero page:
 * it must not allocate memory (a whole chunk of it per read fault).
 */
static void test_read_zero_page(void)
{
	const uint64_t size = 2 * SZ_2M;
	void *p = mmap_isolated(size);
	long kb;

	gpu_read(SVM, p, size);
	kb = smaps_kb(p, "Anonymous:");
	igt_assert_f(kb == 0,
		     "a GPU read of untouched memory allocated %ld kB\n", kb);

	/* Writing it afterwards allocates and works. */
	gpu_write(SVM, p, SZ_64K, GPU_VALUE);
	assert_words(p, SZ_64K, GPU_VALUE, "after a read then a write");
	igt_assert_lt(0, smaps_kb(p, "Anonymous:"));
	munmap_isolated(p, size);
}

/* ---- item 7: bounded tracking memory --------------------------------------- */

#define OBJ_SZ (1536ull << 20)	/* 1.5 GiB, as in the bug report */

static uint64_t mem_total_bytes(void)
{
	char buf[4096];
	char *p;

	igt_assert(vsvm_read_file("/proc/meminfo", buf, sizeof(buf)));
	p = strstr(buf, "MemTotal:");
	igt_assert(p);
	return strtoull(p + strlen("MemTotal:"), NULL, 10) << 10;
}

/*
 * Create read-only, validated userptr objects over untouched memory (the
 * zero page: no user memory, only the helper's tracking memory grows) on a
 * new file until creation fails, at most @max objects. Returns how many
 * were created; *err gets the errno of the failure (0 if none failed).
 */
static int create_until_failure(void *p, int max, int *err)
{
	int f = drm_open_vsvm();
	int n;

	*err = 0;
	for (n = 0; n < max; n++) {
		uint32_t h;

		*err = -__drm_userptr_create(f, p, OBJ_SZ,
					     DRM_USERPTR_READ_ONLY |
					     DRM_USERPTR_VALIDATE, &h);
		if (*err)
			break;
	}
	close(f);
	return n;
}

/*
 * Without a memory cgroup limit: the per-file cap (DRM_SVM_MAX_PAGES_PER_RAM
 * = 4 times RAM of tracked pages, see drm_svm.h) stops the process with
 * -ENOMEM, long before the kernel runs out of memory; a bystander survives.
 */
static void test_exhaustion_cap(void)
{
	uint64_t cap = 4 * mem_total_bytes();
	int expect = cap / OBJ_SZ, n, err;
	struct igt_helper_process bystander = {};
	void *p = mmap(NULL, OBJ_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	bool alive;

	igt_assert(p != MAP_FAILED);
	igt_fork_helper(&bystander) {
		for (;;)
			pause();
	}

	n = create_until_failure(p, expect + 2, &err);
	/* The bystander is alive (nothing was OOM-killed). */
	alive = kill(bystander.pid, 0) == 0 &&
		waitpid(bystander.pid, NULL, WNOHANG) == 0;
	igt_stop_helper(&bystander);
	igt_info("figure: %d objects of %llu MiB, then errno %d (cap %llu MiB)\n",
		 n, (unsigned long long)(OBJ_SZ >> 20), err,
		 (unsigned long long)(cap >> 20));
	igt_assert_f(err == ENOMEM && n == expect,
		     "created %d objects (expected %d, then ENOMEM), errno %d\n",
		     n, expect, err);
	igt_assert_f(alive, "the bystander process died\n");

	/* The tracking memory went with the file: it works again. */
	n = create_until_failure(p, 1, &err);
	igt_assert_eq(err, 0);
	igt_assert_eq(n, 1);
	munmap(p, OBJ_SZ);
}

/*
 * In a memory cgroup: the limit stops the process with -ENOMEM (tracking
 * memory is charged to it), without the cgroup's OOM killer.
 */
static void test_exhaustion_memcg(void)
{
	const char *cg = "/sys/fs/cgroup/vsvm-integrity";
	char buf[4096], path[256];
	int n, err, status, res[2];
	pid_t child;
	void *p;

	igt_require_f(vsvm_read_file("/sys/fs/cgroup/cgroup.subtree_control",
				     buf, sizeof(buf)) && strstr(buf, "memory"),
		      "no cgroup2 memory controller\n");
	rmdir(cg);
	igt_assert_eq(mkdir(cg, 0755), 0);
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	igt_assert(vsvm_write_file(path, "32M"));
	snprintf(path, sizeof(path), "%s/memory.swap.max", cg);
	vsvm_write_file(path, "0");

	p = mmap(NULL, OBJ_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert(p != MAP_FAILED);
	igt_assert_eq(pipe(res), 0);
	child = fork();
	igt_assert(child >= 0);
	if (!child) {
		char pid[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (!vsvm_write_file(path, pid))
			_exit(2);
		n = create_until_failure(p, 64, &err);
		write(res[1], &n, sizeof(n));
		write(res[1], &err, sizeof(err));
		_exit(0);
	}
	igt_assert_eq(waitpid(child, &status, 0), child);
	igt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		     "the process in the cgroup did not survive (status %#x)\n",
		     status);
	igt_assert_eq(read(res[0], &n, sizeof(n)), (ssize_t)sizeof(n));
	igt_assert_eq(read(res[0], &err, sizeof(err)), (ssize_t)sizeof(err));
	igt_info("in a 32M memcg: %d objects, then errno %d\n", n, err);
	igt_assert_eq(err, ENOMEM);
	igt_assert_lt(n, 64);

	snprintf(path, sizeof(path), "%s/memory.events", cg);
	igt_assert(vsvm_read_file(path, buf, sizeof(buf)));
	igt_assert_f(strstr(buf, "oom_kill 0"), "memcg OOM kill:\n%s", buf);
	close(res[0]);
	close(res[1]);
	rmdir(cg);
	munmap(p, OBJ_SZ);
}

igt_main
{
	igt_fixture {
		ufd = drm_open_vsvm();
		sfd = drm_open_vsvm();
		igt_require_f(__vsvm_svm_enable(sfd, 0, 0, 0) == 0,
			      "vsvm without SVM mode\n");
		vsvm_bo_create(sfd, &sout, PAGE_SZ);
	}

	for (enum mode m = USERPTR; m <= SVM; m++) {
		igt_describe("MADV_FREE, GPU write, MADV_PAGEOUT: the GPU's data survives reclaim.");
		igt_subtest_f("%s-madv-free-write", mode_name[m])
			test_madv_free(m);

		igt_describe("Swap out, read ahead into the swap cache, CPU read, GPU write, swap out again: the GPU's data is what comes back.");
		igt_subtest_f("%s-swap-write", mode_name[m])
			test_swap(m, false);

		igt_describe("MAP_SHARED anonymous (shmem) memory read-faulted from holes, GPU write, swap out: the GPU's data comes back from swap.");
		igt_subtest_f("%s-shmem-swap-write", mode_name[m])
			test_swap(m, true);

		igt_describe("A MAP_SHARED file: the GPU's write reaches the file, also after a GPU read of it.");
		igt_subtest_f("%s-shared-file-write", mode_name[m])
			test_shared_file(m);
	}

	igt_describe("A GPU read of memory shared copy-on-write with a child does not break COW; a GPU write does, in the parent only.");
	igt_subtest("svm-read-keeps-cow")
		test_read_keeps_cow();

	igt_describe("A GPU read of untouched anonymous memory allocates nothing (zero page).");
	igt_subtest("svm-read-zero-page")
		test_read_zero_page();

	igt_describe("Creating validated userptr objects until failure ends with ENOMEM at the per-file cap; nothing is killed.");
	igt_subtest("userptr-exhaustion-cap")
		test_exhaustion_cap();

	igt_describe("In a memory cgroup, creating validated userptr objects until failure ends with ENOMEM at the cgroup's limit, without an OOM kill.");
	igt_subtest("userptr-exhaustion-memcg")
		test_exhaustion_memcg();

	igt_fixture {
		vsvm_bo_destroy(sfd, &sout);
		close(sfd);
		close(ufd);
	}
}
