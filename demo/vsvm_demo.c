// SPDX-License-Identifier: MIT
/*
 * vsvm_demo: a virtual GPU reads and writes a process's memory in place.
 *
 * 1. map some memory, fill it from the CPU;
 * 2. turn it into a GPU object with the generic DRM_IOCTL_USERPTR_CREATE
 *    and bind it at a GPU virtual address;
 * 3. the GPU checksums it (reads), fills and copies in it (writes), and the
 *    CPU checks the results;
 * 4. munmap it under the GPU's feet: the next GPU job fails cleanly;
 * 5. map new memory at the same address: the GPU sees the new pages.
 *
 * The per-file counters show what the kernel did behind the scenes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/vsvm_drm.h>

#include "drm_render_node.h"

#define SIZE		(2u << 20)		/* 2 MiB of user memory */
#define VA_USER		0x10000000ull		/* GPU VA of the userptr */
#define VA_RESULT	0x20000000ull		/* GPU VA of a result buffer */

static int fd;
static int bad;
static uint32_t syncobj;

static void die(const char *what)
{
	fprintf(stderr, "vsvm_demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_vsvm(void)
{
	int f = drm_open_render_node("vsvm");

	if (f < 0)
		die("no vsvm render node");
	return f;
}

/* What the GPU's CHECKSUM command computes: FNV-1a over 32-bit words. */
static uint64_t fnv1a(const void *p, size_t len)
{
	const uint32_t *w = p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len / 4; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Run one GPU command and wait for it. Returns 0, or -1 if the job failed,
 * or -errno if EXEC refused it (userptr objects are validated by EXEC).
 */
static int gpu(uint32_t op, uint64_t src, uint64_t dst, uint64_t size,
	       uint64_t value)
{
	struct drm_vsvm_cmd cmd = {
		.op = op, .src = src, .dst = dst, .size = size, .value = value,
	};
	struct drm_vsvm_exec exec = {
		.cmds = (uintptr_t)&cmd, .num_cmds = 1, .out_syncobj = syncobj,
	};
	struct drm_vsvm_get_stats before = { 0 }, after = { 0 };
	struct drm_syncobj_wait wait = {
		.handles = (uintptr_t)&syncobj, .count_handles = 1,
	};
	struct timespec now;

	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &before);
	if (ioctl(fd, DRM_IOCTL_VSVM_EXEC, &exec))
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &now);
	wait.timeout_nsec = (now.tv_sec + 10) * 1000000000ll + now.tv_nsec;
	if (ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &wait))
		die("SYNCOBJ_WAIT");
	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &after);
	return after.jobs_failed > before.jobs_failed ? -1 : 0;
}

static const char *check(int ok, const char *good, const char *wrong)
{
	bad |= !ok;
	return ok ? good : wrong;
}

static void stats(const char *when)
{
	struct drm_vsvm_get_stats s = { 0 };

	if (ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s))
		die("GET_STATS");
	printf("   counters %-16s faults %llu  revalidations %llu  invalidations %llu  jobs %llu (failed %llu)\n",
	       when, (unsigned long long)s.faults,
	       (unsigned long long)s.revalidations,
	       (unsigned long long)s.invalidations,
	       (unsigned long long)s.jobs_completed,
	       (unsigned long long)s.jobs_failed);
}

int main(void)
{
	struct drm_get_cap cap = { .capability = DRM_CAP_USERPTR };
	struct drm_vsvm_gem_create staging = { .size = 4096 };
	struct drm_vsvm_gem_mmap_offset off = { 0 };
	struct drm_syncobj_create sc = { 0 };
	struct drm_userptr_create up = { 0 };
	struct drm_vsvm_vm_bind bind = { 0 };
	volatile uint64_t *result;
	uint32_t *mem;
	size_t i;

	fd = open_vsvm();
	if (ioctl(fd, DRM_IOCTL_GET_CAP, &cap) || !cap.value)
		die("DRM_CAP_USERPTR");
	printf("DRM_CAP_USERPTR = %#llx (read-only, anon-only, validate)\n",
	       (unsigned long long)cap.value);
	if (ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc))
		die("SYNCOBJ_CREATE");
	syncobj = sc.handle;

	/* A small shmem buffer the GPU writes checksums into. */
	if (ioctl(fd, DRM_IOCTL_VSVM_GEM_CREATE, &staging))
		die("GEM_CREATE");
	off.handle = staging.handle;
	if (ioctl(fd, DRM_IOCTL_VSVM_GEM_MMAP_OFFSET, &off))
		die("GEM_MMAP_OFFSET");
	result = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, off.offset);
	if (result == MAP_FAILED)
		die("mmap staging");
	bind = (struct drm_vsvm_vm_bind){ .handle = staging.handle,
					  .va = VA_RESULT, .range = 4096 };
	if (ioctl(fd, DRM_IOCTL_VSVM_VM_BIND, &bind))
		die("VM_BIND staging");

	/* 1. user memory, written by the CPU */
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	for (i = 0; i < SIZE / 4; i++)
		mem[i] = i;
	printf("\n1. CPU wrote %u KiB at %p\n", SIZE >> 10, (void *)mem);

	/* 2. make it a GPU object and bind it */
	up.addr = (uintptr_t)mem;
	up.size = SIZE;
	up.flags = DRM_USERPTR_VALIDATE;
	if (ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &up))
		die("USERPTR_CREATE");
	bind = (struct drm_vsvm_vm_bind){ .handle = up.handle, .va = VA_USER,
					  .range = SIZE };
	if (ioctl(fd, DRM_IOCTL_VSVM_VM_BIND, &bind))
		die("VM_BIND userptr");
	printf("2. userptr object %u, bound at GPU VA %#llx\n", up.handle,
	       VA_USER);
	stats("after create:");

	/* 3. the GPU reads, then writes */
	gpu(DRM_VSVM_OP_CHECKSUM, VA_USER, VA_RESULT, SIZE, 0);
	printf("\n3. GPU checksum %#018llx, CPU checksum %#018llx: %s\n",
	       (unsigned long long)*result,
	       (unsigned long long)fnv1a(mem, SIZE),
	       check(*result == fnv1a(mem, SIZE), "match", "MISMATCH"));

	gpu(DRM_VSVM_OP_FILL, 0, VA_USER, SIZE / 2, 0xc0ffee);
	gpu(DRM_VSVM_OP_COPY, VA_USER, VA_USER + SIZE / 2, SIZE / 2, 0);
	for (i = 0; i < SIZE / 4 && mem[i] == 0xc0ffee; i++)
		;
	printf("   GPU filled the first half with 0xc0ffee and copied it to the second half;\n"
	       "   CPU sees %zu of %u words = 0xc0ffee: %s\n", i, SIZE / 4,
	       check(i == SIZE / 4, "ok", "WRONG"));
	stats("after GPU jobs:");

	/* 4. pull the memory away under the GPU */
	munmap(mem, SIZE);
	printf("\n4. CPU munmap()ed the memory; the GPU object still exists\n");
	printf("   GPU checksum job now %s (EXEC cannot fault the mirror in)\n",
	       check(gpu(DRM_VSVM_OP_CHECKSUM, VA_USER, VA_RESULT, SIZE, 0) ==
		     -EFAULT, "refused with -EFAULT", "NOT REFUSED?!"));
	stats("after munmap:");

	/* 5. new memory at the same address */
	if (mmap(mem, SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap MAP_FIXED");
	for (i = 0; i < SIZE / 4; i++)
		mem[i] = ~i;
	gpu(DRM_VSVM_OP_CHECKSUM, VA_USER, VA_RESULT, SIZE, 0);
	printf("\n5. CPU mapped new memory at the same address and wrote new data\n"
	       "   GPU checksum %#018llx, CPU checksum %#018llx: %s\n",
	       (unsigned long long)*result,
	       (unsigned long long)fnv1a(mem, SIZE),
	       check(*result == fnv1a(mem, SIZE),
		     "match, the GPU sees the new pages", "MISMATCH: stale pages"));
	stats("after remap:");

	close(fd);
	printf("\n%s\n", bad ? "vsvm_demo: something went WRONG" : "vsvm_demo: all good");
	return bad;
}
