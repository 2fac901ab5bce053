// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 *
 * svm_munmap_bench: what does munmap() of a page that no mirror range
 * covers cost, as a function of the number of live mirror ranges?
 *
 * drm_svm mirror mode uses one mmu_interval_notifier per range, so the
 * mm's interval tree holds one node per range, and every munmap() looks
 * the tree up: the cost should grow with log(N), i.e. stay flat. Each row
 * runs in its own child process (a fresh mm):
 *
 *   none       no mirror at all (the mm has no notifier)
 *   svm N      vsvm SVM mode, 4K chunks, N ranges faulted in with
 *              DRM_VSVM_OP_PREFETCH over a read-only anonymous mapping
 *              (zero page: no memory is used for the data)
 *   test_hmm N the kernel's reference mirror (lib/test_hmm.ko): one
 *              whole-mm interval notifier and an xarray "page table",
 *              N pages mirrored with HMM_DMIRROR_READ
 *
 * then times ITERS cycles of mmap() + touch + munmap() of one page that is
 * not mirrored (only munmap() is timed) and prints mean and median ns per
 * munmap() and their ratio to the N=1 row of the same mirror. This is a
 * measurement, never a pass/fail criterion: the program fails only if a
 * row could not be set up.
 *
 *   svm_munmap_bench [-i ITERS] [N ...]      default: -i 2000 0 1 1000 100000
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/vsvm_drm.h>

#include "test_hmm_uapi.h"

#define PAGE_SZ		4096ul
#define HMM_BATCH	1024ul		/* pages per HMM_DMIRROR_READ */

enum mode { MODE_NONE, MODE_SVM, MODE_HMM };
static const char *const mode_name[] = { "none", "svm", "test_hmm" };

struct row {
	enum mode mode;
	unsigned long n;
	int ok;
	double mean_ns, median_ns;
	unsigned long live;	/* ranges / pages the mirror reports */
	double setup_s;
};

static int iters = 2000;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int open_vsvm(void)
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
 * Run one command on vsvm (a file in SVM mode: long-running jobs, no
 * dma-fence) and wait for its user fence; returns 0 if it succeeded.
 */
static int vsvm_run(int fd, struct drm_vsvm_cmd *cmd)
{
	static volatile uint64_t ufence __attribute__((aligned(64)));
	struct drm_vsvm_get_stats s0 = { 0 }, s1 = { 0 };
	struct drm_vsvm_exec exec = {
		.cmds = (uintptr_t)cmd,
		.num_cmds = 1,
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

static int setup_svm(unsigned long n, unsigned long *live)
{
	struct drm_vsvm_svm_enable en = {
		.chunk_sizes = DRM_VSVM_SVM_CHUNK_4K,
	};
	struct drm_vsvm_get_stats s = { 0 };
	struct drm_vsvm_cmd cmd = { .op = DRM_VSVM_OP_PREFETCH };
	int fd = open_vsvm();
	void *area;

	if (fd < 0) {
		fprintf(stderr, "svm: no vsvm render node\n");
		return -1;
	}
	if (ioctl(fd, DRM_IOCTL_VSVM_SVM_ENABLE, &en)) {
		perror("svm: DRM_IOCTL_VSVM_SVM_ENABLE");
		return -1;
	}
	if (n) {
		/* read-only: the mirror maps the zero page, no memory */
		area = mmap(NULL, n * PAGE_SZ, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area == MAP_FAILED)
			return -1;
		cmd.dst = (uintptr_t)area;
		cmd.size = n * PAGE_SZ;
		if (vsvm_run(fd, &cmd)) {
			fprintf(stderr, "svm: prefetch of %lu pages failed\n", n);
			return -1;
		}
	}
	if (ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s))
		return -1;
	*live = s.svm_ranges_live;
	return 0;	/* the fd stays open until the child exits */
}

static int setup_hmm(unsigned long n, unsigned long *live)
{
	int fd = open("/dev/hmm_dmirror0", O_RDWR | O_CLOEXEC);
	unsigned long done = 0;
	void *area, *buf;

	if (fd < 0) {
		perror("test_hmm: /dev/hmm_dmirror0");
		return -1;
	}
	area = mmap(NULL, (n ?: 1) * PAGE_SZ, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	buf = malloc(HMM_BATCH * PAGE_SZ);
	if (area == MAP_FAILED || !buf)
		return -1;
	while (done < n) {
		unsigned long k = n - done < HMM_BATCH ? n - done : HMM_BATCH;
		struct hmm_dmirror_cmd cmd = {
			.addr = (uintptr_t)area + done * PAGE_SZ,
			.ptr = (uintptr_t)buf,
			.npages = k,
		};

		if (ioctl(fd, HMM_DMIRROR_READ, &cmd) || cmd.cpages != k) {
			perror("test_hmm: HMM_DMIRROR_READ");
			return -1;
		}
		done += k;
	}
	free(buf);
	*live = done;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* In the child: set the row up, time the loop, write the result to @out. */
static void run_row(struct row *r, int out)
{
	double *t = calloc(iters, sizeof(*t)), sum = 0, t0;
	int ret = 0;

	t0 = now_s();
	if (r->mode == MODE_SVM)
		ret = setup_svm(r->n, &r->live);
	else if (r->mode == MODE_HMM)
		ret = setup_hmm(r->n, &r->live);
	r->setup_s = now_s() - t0;
	if (ret || !t)
		goto out;

	for (int i = 0; i < iters; i++) {
		struct timespec a, b;
		volatile char *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			goto out;
		p[0] = 1;	/* a real page to unmap */
		clock_gettime(CLOCK_MONOTONIC, &a);
		munmap((void *)p, PAGE_SZ);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
		sum += t[i];
	}
	qsort(t, iters, sizeof(*t), cmp_double);
	r->mean_ns = sum / iters;
	r->median_ns = t[iters / 2];
	r->ok = 1;
out:
	if (write(out, r, sizeof(*r)) != sizeof(*r))
		_exit(1);
	_exit(0);
}

static void run(struct row *r)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		run_row(r, p[1]);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], r, sizeof(*r)) != sizeof(*r))
		r->ok = 0;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	unsigned long def[] = { 0, 1, 1000, 100000 }, ns[16];
	struct row rows[2 * 16 + 1];
	int nn = 0, nrows = 0, opt, failed = 0;
	double base[3] = { 0, 0, 0 };

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt == 'i')
			iters = atoi(optarg);
		else
			return 2;
	}
	for (; optind < argc && nn < 16; optind++)
		ns[nn++] = strtoul(argv[optind], NULL, 0);
	if (!nn) {
		memcpy(ns, def, sizeof(def));
		nn = 4;
	}
	if (iters < 1)
		iters = 1;

	rows[nrows++] = (struct row){ .mode = MODE_NONE };
	for (int m = MODE_SVM; m <= MODE_HMM; m++)
		for (int i = 0; i < nn; i++)
			if (ns[i] || m == MODE_SVM)
				rows[nrows++] = (struct row){ .mode = m,
							      .n = ns[i] };
	for (int i = 0; i < nrows; i++) {
		run(&rows[i]);
		if (rows[i].ok && rows[i].n == 1)
			base[rows[i].mode] = rows[i].median_ns;
		fprintf(stderr, "  %s N=%lu: %s (setup %.1f s)\n",
			mode_name[rows[i].mode], rows[i].n,
			rows[i].ok ? "done" : "FAILED", rows[i].setup_s);
	}
	base[MODE_NONE] = rows[0].ok ? rows[0].median_ns : 0;

	printf("munmap() of one unmirrored, touched page: %d iterations per row, each row a fresh process\n",
	       iters);
	printf("%-9s %9s %9s %12s %12s %12s %12s\n", "mirror", "N", "live",
	       "mean ns", "median ns", "x(N=1)", "x(none)");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char x1[16] = "-", x0[16] = "-";

		if (!r->ok) {
			printf("%-9s %9lu %9s %12s\n", mode_name[r->mode], r->n,
			       "-", "FAILED");
			failed = 1;
			continue;
		}
		if (base[r->mode] > 0 && r->mode != MODE_NONE)
			snprintf(x1, sizeof(x1), "%.2f",
				 r->median_ns / base[r->mode]);
		if (base[MODE_NONE] > 0)
			snprintf(x0, sizeof(x0), "%.2f",
				 r->median_ns / base[MODE_NONE]);
		printf("%-9s %9lu %9lu %12.0f %12.0f %12s %12s\n",
		       mode_name[r->mode], r->n, r->live, r->mean_ns,
		       r->median_ns, x1, x0);
	}
	return failed;
}
