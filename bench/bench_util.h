/* SPDX-License-Identifier: MIT */
/*
 * Copyright (c) 2026 The drm_svm project authors
 *
 * Shared helpers of the benchmarks: a clock that does not drift in the
 * guest, order statistics, vsvm and test_hmm helpers.
 *
 * The clock: the TCG guest has no HPET/ACPI PM timer and marks the TSC
 * unstable (its two vCPUs' TSCs do not pass the sync check), so its
 * clocksource is refined-jiffies: CLOCK_MONOTONIC and CLOCK_MONOTONIC_RAW
 * both advance only with timer ticks, which TCG delivers late (or loses)
 * under load, and have tick resolution. Under TCG, RDTSC returns the host's
 * TSC, which is constant-rate: the benchmarks time with RDTSCP on a thread
 * pinned to one CPU (the CPU number RDTSCP returns is checked) and convert
 * with the TSC frequency the guest kernel calibrated against the PIT at
 * boot ("tsc: Detected ... MHz", passed with -f). bench_clock_report()
 * prints TSC and CLOCK_MONOTONIC elapsed times side by side, and the host
 * prints its own elapsed time around the VM run to check them against.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <drm/vsvm_drm.h>

#define PAGE_SZ		4096ul
#define SZ_2M		(2ul << 20)

static double tsc_hz = 1e9;

static inline uint64_t bench_tsc(void)
{
	unsigned int aux;

	return __rdtscp(&aux);
}

static inline double tsc_s(uint64_t a, uint64_t b)
{
	return (double)(b - a) / tsc_hz;
}

static inline double mono_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Order statistics of @n samples (sorted in place). */
struct stat3 {
	double med, min, max;
};

static inline double pct(double *v, int n, double p)
{
	int i;

	qsort(v, n, sizeof(*v), cmp_double);
	i = (int)(p * (n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline struct stat3 stat3(double *v, int n)
{
	struct stat3 s = { 0, 0, 0 };

	if (n <= 0)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* "median X unit (min A max B)" */
static inline void pr_stat(const char *what, struct stat3 s, double scale,
			   const char *unit)
{
	printf(" %s %.3f %s (min %.3f max %.3f)", what, s.med * scale, unit,
	       s.min * scale, s.max * scale);
}

static inline int open_vsvm(void)
{
	for (int i = 128; i < 192; i++) {
		char path[64], name[32] = "";
		struct drm_version v = {
			.name_len = sizeof(name) - 1,
			.name = name,
		};
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vsvm"))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * SVM mode: run @n commands as one job and wait for its user fence;
 * 0 if the job succeeded.
 */
static inline int vsvm_run_svm(int fd, struct drm_vsvm_cmd *cmd, int n)
{
	static volatile uint64_t ufence __attribute__((aligned(64)));
	struct drm_vsvm_get_stats s0 = { 0 }, s1 = { 0 };
	struct drm_vsvm_exec exec = {
		.cmds = (uintptr_t)cmd,
		.num_cmds = n,
		.ufence_addr = (uintptr_t)&ufence,
	};
	struct drm_vsvm_wait_ufence wait = {
		.addr = (uintptr_t)&ufence,
		.timeout_ns = INT64_MAX,
	};

	if (ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s0))
		return -errno;
	exec.ufence_value = ufence + 1;
	wait.value = exec.ufence_value;
	if (ioctl(fd, DRM_IOCTL_VSVM_EXEC, &exec))
		return -errno;
	if (ioctl(fd, DRM_IOCTL_VSVM_WAIT_UFENCE, &wait) ||
	    ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s1))
		return -errno;
	return s1.jobs_failed == s0.jobs_failed ? 0 : -EIO;
}

static inline int vsvm_svm_enable(int fd, uint32_t chunks)
{
	struct drm_vsvm_svm_enable en = { .chunk_sizes = chunks };

	return ioctl(fd, DRM_IOCTL_VSVM_SVM_ENABLE, &en) ? -errno : 0;
}

/* Dma-fence mode: a syncobj to wait for jobs with. */
static inline uint32_t syncobj_create(int fd)
{
	struct drm_syncobj_create c = { 0 };

	return ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c) ? 0 : c.handle;
}

/* Dma-fence mode: run @n commands as one job and wait for its fence. */
static inline int vsvm_run_fence(int fd, uint32_t syncobj,
				 struct drm_vsvm_cmd *cmd, int n)
{
	struct drm_vsvm_exec exec = {
		.cmds = (uintptr_t)cmd,
		.num_cmds = n,
		.out_syncobj = syncobj,
	};
	struct drm_syncobj_wait wait = {
		.handles = (uintptr_t)&syncobj,
		.count_handles = 1,
		.timeout_nsec = INT64_MAX,
	};

	for (;;) {
		if (!ioctl(fd, DRM_IOCTL_VSVM_EXEC, &exec))
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &wait) ? -errno : 0;
}

static inline int userptr_create(int fd, void *addr, size_t size,
				 uint32_t flags, uint32_t *handle)
{
	struct drm_userptr_create c = {
		.addr = (uintptr_t)addr,
		.size = size,
		.flags = flags,
	};

	if (ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static inline int vm_bind(int fd, uint32_t handle, uint64_t va,
			  uint64_t size, uint32_t flags)
{
	struct drm_vsvm_vm_bind b = {
		.handle = handle, .flags = flags, .va = va, .range = size,
	};

	return ioctl(fd, DRM_IOCTL_VSVM_VM_BIND, &b) ? -errno : 0;
}

static inline int gem_create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_vsvm_gem_create c = { .size = size };

	if (ioctl(fd, DRM_IOCTL_VSVM_GEM_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

/* Map @size bytes of GEM object @handle (MAP_SHARED); NULL on failure. */
static inline void *gem_mmap(int fd, uint32_t handle, uint64_t size)
{
	struct drm_vsvm_gem_mmap_offset o = { .handle = handle };
	void *p;

	if (ioctl(fd, DRM_IOCTL_VSVM_GEM_MMAP_OFFSET, &o))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, o.offset);
	return p == MAP_FAILED ? NULL : p;
}

static inline void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/*
 * @size bytes of anonymous memory, 2M aligned, with THP on or off, every
 * page written (populated) unless @ro.
 */
static inline void *bench_alloc(size_t size, int thp, int ro)
{
	size_t len = size + SZ_2M;
	char *p = mmap(NULL, len, ro ? PROT_READ : PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (a > p)
		munmap(p, a - p);
	if (p + len > a + size)
		munmap(a + size, p + len - (a + size));
	madvise(a, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (!ro)
		for (size_t o = 0; o < size; o += PAGE_SZ)
			a[o] = (char)(o >> 12) | 1;
	return a;
}

/*
 * Percentage of @size bytes that the process's THPs would cover
 * (AnonHugePages of smaps_rollup; @size 0: of its anonymous memory).
 */
static inline int thp_percent(size_t size)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	unsigned long anon = 0, thp = 0, v;
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Anonymous: %lu", &v) == 1)
			anon = v;
		else if (sscanf(line, "AnonHugePages: %lu", &v) == 1)
			thp = v;
	}
	fclose(f);
	if (size)
		return (int)((thp << 10) * 100 / size);
	return anon ? (int)(thp * 100 / anon) : 0;
}

#endif /* BENCH_UTIL_H */
