// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 *
 * svm_bench: the P1-P7 and RT figures of `make bench`, each against a reference
 * measured side by side in the same run. Every figure is the median of
 * REPS repetitions (-r, default 5) with min and max; the repetitions of
 * the rows of a figure are interleaved (rep 1 of every row, then rep 2 ...)
 * so that a slow phase of the (TCG) host hits all rows alike. Times come
 * from the TSC (see bench_util.h), the program pins itself to CPU 0.
 *
 *   svm_bench [-f TSC_MHZ] [-r REPS] FIGURE [ARGS]
 *
 *   p1 [MB ...]   first-use and mirrored device read of MB of memory (4K
 *                 pages, then THP): SVM (vsvm CHECKSUM, first job faults,
 *                 second reads mirrored pages), test_hmm (HMM_DMIRROR_READ,
 *                 first and second pass) and memcpy of the same memory.
 *   p26 [N ...]   P2 and P6 in the same processes: for each N (and each
 *                 rep), a fresh process mirrors N 4K pages of a read-only
 *                 zero-page mapping with vsvm SVM (4K chunks, PREFETCH) or
 *                 test_hmm (HMM_DMIRROR_READ); P6 is that setup time, P2 the
 *                 cost of munmap() of a page no range covers (-i ITERS).
 *   p3 [MB]       userptr create + bind + first use (a CHECKSUM job) of
 *                 MB (default 512) against the copy path: memcpy of the
 *                 same memory into a bound GEM object + the same job on
 *                 it (ratio); the line also splits each into its parts
 *                 (create+validate, the helper's; memcpy; the jobs) and
 *                 gives validate/memcpy and first-use/memcpy.
 *   p4            job latency (2 MB userptr, CHECKSUM job of all of it,
 *                 then of its first page; dma-fence) with
 *                 and without a thread on CPU 1 toggling the protection of
 *                 one page of it (-s toggles per second, default 240);
 *                 -j jobs per phase.
 *   p5 [MB]       SVM first touch (PREFETCH, all chunk sizes) against
 *                 userptr validation (USERPTR_CREATE with VALIDATE) of the
 *                 same populated memory, 4K and THP (default 256 MB); the
 *                 line also gives the first touch against validating the
 *                 memory as one userptr object per 2 MB (svm/2M-objects:
 *                 a 2M range each, what a fault makes; the PREFETCH
 *                 makes ranges of up to 64 MB), the time of a job that
 *                 touches no memory (empty-job: a DELAY 0 job on the same
 *                 file) and first-use: the first touch against the
 *                 validation plus that job, one job on each side (the
 *                 SVM side is a job, the validation an IOCTL), and the
 *                 helper's part of each as vsvm times it in the kernel
 *                 (svm-fault-time: the first touch's GPU page faults,
 *                 validate-time: the validation; fault/validate);
 *                 RT: the same prefetch again after an mprotect()
 *                 round trip invalidated every range (svm-retouch: what
 *                 is left without creating ranges), against the first
 *                 touch.
 *   p7 [MB]       the upstream anchor: P5's first touch, the mprotect()
 *                 round trip that invalidates (DMA-unmaps) every range,
 *                 the retouch, userptr validation, and an mprotect()
 *                 round trip of one page of the userptr followed by a 4K
 *                 job on it (userptr-page-revalidate), MADV_FREE of
 *                 a page of the SVM ranges and a PREFETCH of it
 *                 (svm-page-revalidate), with our
 *                 drm_gpusvm optimisations on and off (module parameters
 *                 drm_gpusvm_helper.merge_contiguous, slot_per_entry and
 *                 fill_holes, vsvm.helper_pfns; switched between
 *                 interleaved reps).
 *   -k KINDS      P5/P7 rows: 1 = 4K only, 2 = THP only, 3 = both (default).
 *   -m MASK       P7: which optimisations the stock column turns off, bit
 *                 0 merge_contiguous, 1 slot_per_entry, 2 helper_pfns,
 *                 3 fill_holes (default 15, all: stock drm_gpusvm); one
 *                 bit measures one optimisation on top of the others.
 *
 * Nothing here passes or fails on time: the exit status is non-zero only
 * if something could not be set up.
 */
#include "bench_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include "test_hmm_uapi.h"

#define HMM_BATCH	1024ul	/* pages per HMM_DMIRROR_READ */
#define MAX_REPS	64
#define UP_VA		0x100000000ull	/* where userptr objects are bound */
#define RES_VA		0x10000000ull	/* a shmem object for job results */

static int reps = 5;
static int iters = 2000;
static int storm_hz = 240;
static int p4_jobs = 200;
static int kinds = 3;		/* P5/P7 rows: 1 = 4K, 2 = THP (-k) */
static int failed;

static void fail(const char *what)
{
	fprintf(stderr, "svm_bench: %s: %s\n", what, strerror(errno));
	failed = 1;
}

/* --- test_hmm ------------------------------------------------------- */

static int hmm_read(int fd, void *addr, unsigned long npages, void *buf)
{
	unsigned long done = 0;

	while (done < npages) {
		unsigned long k = npages - done < HMM_BATCH ?
				  npages - done : HMM_BATCH;
		struct hmm_dmirror_cmd cmd = {
			.addr = (uintptr_t)addr + done * PAGE_SZ,
			.ptr = (uintptr_t)buf,
			.npages = k,
		};

		if (ioctl(fd, HMM_DMIRROR_READ, &cmd) || cmd.cpages != k)
			return -1;
		done += k;
	}
	return 0;
}

/* --- P1 ------------------------------------------------------------- */

enum { P1_MEMCPY, P1_SVM_FIRST, P1_SVM_MIRR, P1_HMM_FIRST, P1_HMM_MIRR,
       P1_NR };
static const char *const p1_name[P1_NR] = {
	"memcpy", "svm-first-use", "svm-mirrored", "test_hmm-first-use",
	"test_hmm-mirrored",
};

static void p1(int nsz, unsigned long *mb)
{
	static double t[8][2][P1_NR][MAX_REPS];
	void *hbuf = malloc(HMM_BATCH * PAGE_SZ);
	int thp_pct[8][2] = { { 0 } };

	for (int r = 0; r < reps; r++) {
		for (int s = 0; s < nsz; s++) {
			for (int thp = 0; thp < 2; thp++) {
				size_t size = mb[s] << 20;
				char *buf = bench_alloc(size, thp, 0);
				char *dst = bench_alloc(size, thp, 0);
				uint64_t *res = bench_alloc(PAGE_SZ, 0, 0);
				struct drm_vsvm_cmd cmd = {
					.op = DRM_VSVM_OP_CHECKSUM,
					.src = (uintptr_t)buf,
					.dst = (uintptr_t)res,
					.size = size,
				};
				uint64_t a, b;
				int fd, hfd;

				if (!buf || !dst || !res || !hbuf) {
					fail("p1: out of memory");
					return;
				}
				thp_pct[s][thp] = thp_percent(0);
				a = bench_tsc();
				memcpy(dst, buf, size);
				b = bench_tsc();
				t[s][thp][P1_MEMCPY][r] = tsc_s(a, b);
				munmap(dst, size);

				fd = open_vsvm();
				if (fd < 0 || vsvm_svm_enable(fd, 0)) {
					fail("p1: vsvm");
					return;
				}
				a = bench_tsc();
				if (vsvm_run_svm(fd, &cmd, 1))
					fail("p1: svm first use");
				b = bench_tsc();
				t[s][thp][P1_SVM_FIRST][r] = tsc_s(a, b);
				if (vsvm_run_svm(fd, &cmd, 1))
					fail("p1: svm mirrored");
				t[s][thp][P1_SVM_MIRR][r] = tsc_s(b, bench_tsc());
				close(fd);

				hfd = open("/dev/hmm_dmirror0", O_RDWR);
				if (hfd < 0) {
					fail("p1: /dev/hmm_dmirror0");
					return;
				}
				a = bench_tsc();
				if (hmm_read(hfd, buf, size / PAGE_SZ, hbuf))
					fail("p1: test_hmm first use");
				b = bench_tsc();
				t[s][thp][P1_HMM_FIRST][r] = tsc_s(a, b);
				if (hmm_read(hfd, buf, size / PAGE_SZ, hbuf))
					fail("p1: test_hmm mirrored");
				t[s][thp][P1_HMM_MIRR][r] = tsc_s(b, bench_tsc());
				close(hfd);
				munmap(buf, size);
				munmap(res, PAGE_SZ);
			}
		}
	}
	for (int s = 0; s < nsz; s++)
		for (int thp = 0; thp < 2; thp++) {
			struct stat3 ref = stat3(t[s][thp][P1_MEMCPY], reps);

			for (int k = 0; k < P1_NR; k++) {
				struct stat3 st = stat3(t[s][thp][k], reps);

				printf("P1 %luMB %s %s", mb[s],
				       thp ? "THP" : "4K", p1_name[k]);
				pr_stat("median", st, 1e3, "ms");
				printf(" %.0f MB/s (thp %d%%) vs memcpy ratio %.2f\n",
				       mb[s] / st.med, thp_pct[s][thp],
				       st.med / ref.med);
			}
		}
	free(hbuf);
}

/* --- P2 + P6 -------------------------------------------------------- */

struct p26_res {
	int ok;
	double setup_s, munmap_ns;
	unsigned long live;
};

static int p26_setup_svm(unsigned long n, unsigned long *live)
{
	struct drm_vsvm_get_stats s = { 0 };
	struct drm_vsvm_cmd cmd = { .op = DRM_VSVM_OP_PREFETCH };
	int fd = open_vsvm();
	void *area;

	if (fd < 0 || vsvm_svm_enable(fd, DRM_VSVM_SVM_CHUNK_4K))
		return -1;
	if (n) {
		/* read-only: the mirror maps the zero page, no memory */
		area = mmap(NULL, n * PAGE_SZ, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area == MAP_FAILED)
			return -1;
		cmd.dst = (uintptr_t)area;
		cmd.size = n * PAGE_SZ;
		if (vsvm_run_svm(fd, &cmd, 1))
			return -1;
	}
	if (ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s))
		return -1;
	*live = s.svm_ranges_live;
	return 0;	/* the fd stays open until the child exits */
}

static int p26_setup_hmm(unsigned long n, unsigned long *live)
{
	int fd = open("/dev/hmm_dmirror0", O_RDWR | O_CLOEXEC);
	void *area, *buf;

	if (fd < 0)
		return -1;
	area = mmap(NULL, (n ?: 1) * PAGE_SZ, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	buf = malloc(HMM_BATCH * PAGE_SZ);
	if (area == MAP_FAILED || !buf || hmm_read(fd, area, n, buf))
		return -1;
	free(buf);
	*live = n;
	return 0;
}

static void p26_child(int mode, unsigned long n, struct p26_res *res)
{
	double *t = calloc(iters, sizeof(*t));
	uint64_t a = bench_tsc();
	int ret;

	ret = mode ? p26_setup_hmm(n, &res->live) :
		     p26_setup_svm(n, &res->live);
	res->setup_s = tsc_s(a, bench_tsc());
	if (ret || !t)
		return;
	for (int i = 0; i < iters; i++) {
		volatile char *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t b;

		if (p == MAP_FAILED)
			return;
		p[0] = 1;	/* a real page to unmap */
		a = bench_tsc();
		munmap((void *)p, PAGE_SZ);
		b = bench_tsc();
		t[i] = tsc_s(a, b) * 1e9;
	}
	res->munmap_ns = pct(t, iters, 0.5);
	res->ok = 1;
}

static void p26_run(int mode, unsigned long n, struct p26_res *res)
{
	int p[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(p))
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		p26_child(mode, n, res);
		if (write(p[1], res, sizeof(*res)) != sizeof(*res))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], res, sizeof(*res)) != sizeof(*res))
		res->ok = 0;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void p26(int nn, unsigned long *ns)
{
	static double su[16][2][MAX_REPS], mu[16][2][MAX_REPS];
	static unsigned long live[16][2];
	static const char *const mname[2] = { "svm", "test_hmm" };
	struct stat3 base[2] = { { 0 } };

	for (int r = 0; r < reps; r++)
		for (int i = 0; i < nn; i++)
			for (int m = 0; m < 2; m++) {
				struct p26_res res;

				p26_run(m, ns[i], &res);
				if (!res.ok) {
					fprintf(stderr, "p26: %s N=%lu failed\n",
						mname[m], ns[i]);
					failed = 1;
				}
				su[i][m][r] = res.setup_s;
				mu[i][m][r] = res.munmap_ns;
				live[i][m] = res.live;
			}
	for (int m = 0; m < 2; m++)
		for (int i = 0; i < nn; i++)
			if (ns[i] == 1)
				base[m] = stat3(mu[i][m], reps);
	for (int i = 0; i < nn; i++)
		for (int m = 0; m < 2; m++) {
			struct stat3 st = stat3(mu[i][m], reps);

			printf("P2 %s N=%lu live %lu munmap", mname[m], ns[i],
			       live[i][m]);
			pr_stat("median", st, 1, "ns");
			printf(" vs N=1 ratio %.2f\n", base[m].med > 0 ?
			       st.med / base[m].med : 0);
		}
	for (int i = 0; i < nn; i++) {
		struct stat3 sv = stat3(su[i][0], reps);
		struct stat3 hm = stat3(su[i][1], reps);

		printf("P6 N=%lu setup svm", ns[i]);
		pr_stat("median", sv, 1e3, "ms");
		printf(" test_hmm");
		pr_stat("median", hm, 1e3, "ms");
		printf(" ratio %.2f\n", hm.med > 0 ? sv.med / hm.med : 0);
	}
}

/* --- P3 ------------------------------------------------------------- */

/*
 * The result object of P3's and P4's CHECKSUM jobs, bound at RES_VA and
 * mapped (P3 reads the hash); NULL on failure.
 */
static volatile uint64_t *res_bo(int fd)
{
	uint32_t h = 0;

	if (gem_create(fd, PAGE_SZ, &h) || vm_bind(fd, h, RES_VA, PAGE_SZ, 0))
		return NULL;
	return gem_mmap(fd, h, PAGE_SZ);
}

/* vsvm's CHECKSUM: FNV-1a, 64-bit, over the little-endian 32-bit words. */
static uint64_t fnv1a_words(const char *p, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t w;

	for (size_t o = 0; o + 4 <= size; o += 4) {
		memcpy(&w, p + o, 4);
		h ^= le32toh(w);
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * P3: the two ways to let the GPU read MB of user memory, each timed up
 * to its first job's end: a userptr object (create with VALIDATE, bind,
 * CHECKSUM job reading the user pages), and the copy path it replaces
 * (memcpy() into a GEM object the GPU already has, the same CHECKSUM job
 * reading that object). The jobs are the same engine work over the same
 * bytes; the difference between the paths is the helper's faulting and
 * DMA-mapping against the memcpy. Both hashes must equal the CPU's.
 */
static void p3(unsigned long mb)
{
	static double tu[MAX_REPS], tv[MAX_REPS], tj[MAX_REPS];
	static double tc[MAX_REPS], tm[MAX_REPS], tk[MAX_REPS];
	size_t size = mb << 20;
	char *buf = bench_alloc(size, 0, 0);
	struct drm_vsvm_cmd cmd = {
		.op = DRM_VSVM_OP_CHECKSUM,
		.src = UP_VA, .dst = RES_VA, .size = size,
	};
	struct stat3 su, sv, sj, sc, sm, sk;
	volatile uint64_t *cres;
	uint32_t cso, bo = 0;
	uint64_t want;
	char *map;
	int cfd;

	if (!buf) {
		fail("p3: out of memory");
		return;
	}
	/* Not the page-index bytes bench_alloc() wrote: every word counts. */
	for (size_t o = 0; o < size; o += 8)
		*(uint64_t *)(buf + o) = o * 0x9e3779b97f4a7c15ull;
	want = fnv1a_words(buf, size);

	/* The copy path's GEM object: created, bound and populated once. */
	cfd = open_vsvm();
	if (cfd < 0 || !(cres = res_bo(cfd)) ||
	    !(cso = syncobj_create(cfd)) || gem_create(cfd, size, &bo) ||
	    vm_bind(cfd, bo, UP_VA, size, 0) ||
	    !(map = gem_mmap(cfd, bo, size))) {
		fail("p3: copy path setup");
		return;
	}
	memset(map, 0, size);

	for (int r = 0; r < reps; r++) {
		volatile uint64_t *res;
		int fd = open_vsvm();
		uint32_t so, h = 0;
		uint64_t a, b, c;

		if (fd < 0 || !(res = res_bo(fd)) ||
		    !(so = syncobj_create(fd))) {
			fail("p3: vsvm");
			return;
		}
		/*
		 * Created validated: the helper's part (faulting and DMA-mapping
		 * the pages) apart from the job's (the engine's checksum).
		 */
		a = bench_tsc();
		if (userptr_create(fd, buf, size, DRM_USERPTR_READ_ONLY |
				   DRM_USERPTR_VALIDATE, &h))
			fail("p3: userptr create");
		b = bench_tsc();
		if (vm_bind(fd, h, UP_VA, size, DRM_VSVM_BIND_READ_ONLY) ||
		    vsvm_run_fence(fd, so, &cmd, 1))
			fail("p3: userptr first use");
		c = bench_tsc();
		tu[r] = tsc_s(a, c);
		tv[r] = tsc_s(a, b);
		tj[r] = tsc_s(b, c);
		if (*res != want) {
			errno = EIO;
			fail("p3: userptr checksum differs from the CPU's");
		}
		close(fd);

		cres[0] = 0;
		a = bench_tsc();
		memcpy(map, buf, size);
		b = bench_tsc();
		if (vsvm_run_fence(cfd, cso, &cmd, 1))
			fail("p3: copy path job");
		c = bench_tsc();
		tc[r] = tsc_s(a, c);
		tm[r] = tsc_s(a, b);
		tk[r] = tsc_s(b, c);
		if (cres[0] != want) {
			errno = EIO;
			fail("p3: copy path checksum differs from the CPU's");
		}
	}
	su = stat3(tu, reps);
	sv = stat3(tv, reps);
	sj = stat3(tj, reps);
	sc = stat3(tc, reps);
	sm = stat3(tm, reps);
	sk = stat3(tk, reps);
	printf("P3 %luMB userptr-create+first-use", mb);
	pr_stat("median", su, 1e3, "ms");
	printf(" (create+validate");
	pr_stat("median", sv, 1e3, "ms");
	printf(", bind+checksum job");
	pr_stat("median", sj, 1e3, "ms");
	printf(") memcpy+first-use");
	pr_stat("median", sc, 1e3, "ms");
	printf(" (memcpy");
	pr_stat("median", sm, 1e3, "ms");
	printf(", checksum job");
	pr_stat("median", sk, 1e3, "ms");
	printf(") validate/memcpy %.2f first-use/memcpy %.2f ratio %.2f\n",
	       sv.med / sm.med, su.med / sm.med, su.med / sc.med);
	munmap(map, size);
	close(cfd);
	munmap(buf, size);
}

/* --- P4 ------------------------------------------------------------- */

static atomic_int storm_on, storm_quit;
static atomic_long storm_toggles;
static char *storm_page;

static void *storm_thread(void *arg)
{
	uint64_t period = (uint64_t)(tsc_hz / storm_hz), next = bench_tsc();
	int ro = 0;

	(void)arg;
	pin_cpu(1);
	while (!atomic_load(&storm_quit)) {
		uint64_t now = bench_tsc();

		if (!atomic_load(&storm_on)) {
			usleep(1000);
			next = bench_tsc();
			continue;
		}
		if (now < next) {
			if (tsc_s(now, next) > 0.003)
				usleep(1000);
			else
				sched_yield();
			continue;
		}
		ro = !ro;
		mprotect(storm_page, PAGE_SZ,
			 ro ? PROT_READ : PROT_READ | PROT_WRITE);
		atomic_fetch_add(&storm_toggles, 1);
		next += period;
	}
	return NULL;
}

static void p4(size_t job)
{
	static double p50[2][MAX_REPS], p99[2][MAX_REPS], hz[MAX_REPS];
	size_t size = SZ_2M;
	char *buf = bench_alloc(size, 0, 0);
	double *lat = calloc(p4_jobs, sizeof(*lat));
	struct drm_vsvm_cmd cmd = {
		.op = DRM_VSVM_OP_CHECKSUM,
		.src = UP_VA, .dst = RES_VA, .size = job,
	};
	struct drm_vsvm_get_stats s0 = { 0 }, s1 = { 0 };
	struct stat3 a50, a99, b50, b99, shz;
	pthread_t th;
	uint32_t so, h = 0;
	int fd = open_vsvm();

	if (!buf || !lat || fd < 0 || !res_bo(fd) ||
	    !(so = syncobj_create(fd)) ||
	    userptr_create(fd, buf, size, DRM_USERPTR_READ_ONLY, &h) ||
	    vm_bind(fd, h, UP_VA, size, DRM_VSVM_BIND_READ_ONLY)) {
		fail("p4: setup");
		return;
	}
	storm_page = buf + size / 2;
	atomic_store(&storm_quit, 0);
	atomic_store(&storm_on, 0);
	if (pthread_create(&th, NULL, storm_thread, NULL)) {
		fail("p4: thread");
		return;
	}
	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s0);
	for (int r = 0; r < reps; r++) {
		for (int storm = 0; storm < 2; storm++) {
			long t0 = atomic_load(&storm_toggles);
			uint64_t start;

			atomic_store(&storm_on, storm);
			usleep(20000);
			start = bench_tsc();
			for (int j = 0; j < p4_jobs; j++) {
				uint64_t a = bench_tsc();

				if (vsvm_run_fence(fd, so, &cmd, 1))
					fail("p4: job");
				lat[j] = tsc_s(a, bench_tsc());
			}
			if (storm)
				hz[r] = (atomic_load(&storm_toggles) - t0) /
					tsc_s(start, bench_tsc());
			p50[storm][r] = pct(lat, p4_jobs, 0.5);
			p99[storm][r] = pct(lat, p4_jobs, 0.99);
		}
	}
	atomic_store(&storm_quit, 1);
	pthread_join(th, NULL);
	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s1);
	a50 = stat3(p50[0], reps);
	a99 = stat3(p99[0], reps);
	b50 = stat3(p50[1], reps);
	b99 = stat3(p99[1], reps);
	shz = stat3(hz, reps);
	printf("P4 2MB userptr, job reads %zuK, latency of %d jobs per phase: no-storm",
	       job >> 10, p4_jobs);
	pr_stat("p50", a50, 1e3, "ms");
	pr_stat("p99", a99, 1e3, "ms");
	printf(" storm %.0f/s", shz.med);
	pr_stat("p50", b50, 1e3, "ms");
	pr_stat("p99", b99, 1e3, "ms");
	printf(" faults %llu dma_maps %llu failed %llu p50x %.2f ratio %.2f\n",
	       (unsigned long long)(s1.faults - s0.faults),
	       (unsigned long long)(s1.svm_dma_maps - s0.svm_dma_maps),
	       (unsigned long long)(s1.jobs_failed - s0.jobs_failed),
	       b50.med / a50.med, b99.med / a99.med);
	close(fd);
	munmap(buf, size);
	free(lat);
}

/* --- P5, RT, P7 ----------------------------------------------------- */

/* One P5 measurement of populated memory, in seconds. */
struct p5_once {
	double first;		/* SVM first touch: PREFETCH creates the ranges */
	double invalidate;	/* the mprotect() round trip: every range unmapped */
	double retouch;		/* the prefetch again after it */
	double validate;	/* USERPTR_CREATE with VALIDATE */
	double validate_2m;	/* the same memory as 2 MB objects, one each */
	double revalidate_page;	/* P7: a page's mprotect() round trip + a job */
	double empty_job;	/* a job that touches no memory, same file */
	double svm_revalidate_page; /* P7: MADV_FREE of a page + PREFETCH */
	double fault_k;		/* the first touch's faults, kernel-side */
	double validate_k;	/* the validation, kernel-side */
	uint64_t faults, maps_svm, maps_userptr;
};

/* A vsvm file for one step of a P5 measurement; -1 fails the figure. */
static int p5_open(void)
{
	int fd = open_vsvm();

	if (fd < 0)
		fail("p5: vsvm");
	return fd;
}

static int p5_measure(char *buf, size_t size, int page_job,
		      struct p5_once *o)
{
	struct drm_vsvm_cmd cmd = {
		.op = DRM_VSVM_OP_PREFETCH,
		.dst = (uintptr_t)buf, .size = size,
	};
	struct drm_vsvm_get_stats s = { 0 };
	uint32_t h = 0;
	uint64_t a;
	int fd = open_vsvm();

	if (fd < 0 || vsvm_svm_enable(fd, 0)) {
		fail("p5: vsvm");
		return -1;
	}
	a = bench_tsc();
	if (vsvm_run_svm(fd, &cmd, 1))
		fail("p5: svm prefetch");
	o->first = tsc_s(a, bench_tsc());
	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s);
	o->maps_svm = s.svm_dma_maps;
	o->faults = s.svm_faults;
	o->fault_k = s.svm_fault_ns * 1e-9;
	/*
	 * Retouch: the ranges exist, an mprotect() round trip invalidated
	 * all of them; the prefetch revalidates them without creating any
	 * (no allocation of a range, no notifier or tree insert, no VMA fit).
	 */
	a = bench_tsc();
	if (mprotect(buf, size, PROT_READ) ||
	    mprotect(buf, size, PROT_READ | PROT_WRITE))
		fail("p5: mprotect");
	o->invalidate = tsc_s(a, bench_tsc());
	a = bench_tsc();
	if (vsvm_run_svm(fd, &cmd, 1))
		fail("p5: svm re-touch");
	o->retouch = tsc_s(a, bench_tsc());
	/*
	 * P7: MADV_FREE of a page in the middle of the ranges just
	 * revalidated (an invalidation that keeps the page, as an mprotect()
	 * round trip would if it did not split the range's VMA), then a
	 * PREFETCH of it: the page's entry of its range (0012; up to 64 MB
	 * large since the PREFETCH makes such ranges) or all of them.
	 */
	if (page_job) {
		cmd.dst = (uintptr_t)(buf + size / 2);
		cmd.size = PAGE_SZ;
		a = bench_tsc();
		if (madvise(buf + size / 2, PAGE_SZ, MADV_FREE) ||
		    vsvm_run_svm(fd, &cmd, 1))
			fail("p7: svm page revalidation");
		o->svm_revalidate_page = tsc_s(a, bench_tsc());
	}
	/* What a job costs that touches no memory: DELAY 0 */
	cmd = (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_DELAY };
	a = bench_tsc();
	if (vsvm_run_svm(fd, &cmd, 1))
		fail("p5: empty job");
	o->empty_job = tsc_s(a, bench_tsc());
	close(fd);

	fd = p5_open();
	if (fd < 0)
		return -1;
	a = bench_tsc();
	if (userptr_create(fd, buf, size, DRM_USERPTR_VALIDATE, &h))
		fail("p5: userptr validate");
	o->validate = tsc_s(a, bench_tsc());
	ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, &s);
	o->maps_userptr = s.svm_dma_maps;
	o->validate_k = s.validate_ns * 1e-9;
	/*
	 * P7: an mprotect() round trip of one page of the validated object,
	 * then a 4K job on it, which validates it again: the page's entry
	 * (drm-svm/patches/0012), or all of them.
	 */
	if (page_job) {
		struct drm_vsvm_cmd job = {
			.op = DRM_VSVM_OP_CHECKSUM,
			.src = UP_VA, .dst = RES_VA, .size = PAGE_SZ,
		};
		char *page = buf + size / 2;
		volatile uint64_t *res = NULL;
		uint32_t so = 0;

		if (vm_bind(fd, h, UP_VA, size, DRM_VSVM_BIND_READ_ONLY) ||
		    !(res = res_bo(fd)) || !(so = syncobj_create(fd)) ||
		    vsvm_run_fence(fd, so, &job, 1)) {
			fail("p7: userptr job");
		} else {
			a = bench_tsc();
			if (mprotect(page, PAGE_SZ, PROT_READ) ||
			    mprotect(page, PAGE_SZ, PROT_READ | PROT_WRITE) ||
			    vsvm_run_fence(fd, so, &job, 1))
				fail("p7: userptr page revalidation");
			o->revalidate_page = tsc_s(a, bench_tsc());
		}
		if (res)
			munmap((void *)res, PAGE_SZ);
	}
	close(fd);

	/*
	 * The granule of a fault: one userptr object per 2 MB, as many as
	 * accesses would make ranges of a 2M-aligned THP buffer (the
	 * PREFETCH makes fewer, larger ones).
	 */
	fd = p5_open();
	if (fd < 0)
		return -1;
	a = bench_tsc();
	for (size_t off = 0; off < size; off += SZ_2M)
		if (userptr_create(fd, buf + off, SZ_2M, DRM_USERPTR_VALIDATE,
				   &h))
			fail("p5: userptr validate (2 MB)");
	o->validate_2m = tsc_s(a, bench_tsc());
	close(fd);
	return 0;
}

/* The 4K buffer (thp 0) and the THP one (thp 1), populated. */
static int p5_buffers(size_t size, char *buf[2], int thp_pct[2])
{
	for (int thp = 0; thp < 2; thp++) {
		buf[thp] = bench_alloc(size, thp, 0);
		if (!buf[thp]) {
			fail("p5: out of memory");
			return -1;
		}
		/* THP of the THP buffer: the 4K one has none. */
		thp_pct[thp] = thp ? thp_percent(size) : thp_percent(0);
	}
	return 0;
}

static void p5(unsigned long mb)
{
	static double ts[2][MAX_REPS], tu[2][MAX_REPS], tr[2][MAX_REPS];
	static double t2[2][MAX_REPS], tj[2][MAX_REPS];
	static double kf[2][MAX_REPS], kv[2][MAX_REPS];
	static struct p5_once last[2];
	size_t size = mb << 20;
	char *buf[2];
	int thp_pct[2];

	if (p5_buffers(size, buf, thp_pct))
		return;
	for (int r = 0; r < reps; r++)
		for (int thp = 0; thp < 2; thp++) {
			if (!(kinds & (1 << thp)))
				continue;
			if (p5_measure(buf[thp], size, 0, &last[thp]))
				return;
			ts[thp][r] = last[thp].first;
			tr[thp][r] = last[thp].retouch;
			tu[thp][r] = last[thp].validate;
			t2[thp][r] = last[thp].validate_2m;
			tj[thp][r] = last[thp].empty_job;
			kf[thp][r] = last[thp].fault_k;
			kv[thp][r] = last[thp].validate_k;
		}
	for (int thp = 0; thp < 2; thp++) {
		struct stat3 sv = stat3(ts[thp], reps);
		struct stat3 up = stat3(tu[thp], reps);
		struct stat3 rt = stat3(tr[thp], reps);
		struct stat3 u2 = stat3(t2[thp], reps);
		struct stat3 ej = stat3(tj[thp], reps);
		struct stat3 sf = stat3(kf[thp], reps);
		struct stat3 sk = stat3(kv[thp], reps);

		if (!(kinds & (1 << thp)))
			continue;

		printf("P5 %luMB %s (thp %d%%) svm-first-touch", mb,
		       thp ? "THP" : "4K", thp_pct[thp]);
		pr_stat("median", sv, 1e3, "ms");
		printf(" userptr-validate");
		pr_stat("median", up, 1e3, "ms");
		printf(" svm_faults %llu dma_maps svm %llu userptr %llu",
		       (unsigned long long)last[thp].faults,
		       (unsigned long long)last[thp].maps_svm,
		       (unsigned long long)last[thp].maps_userptr);
		/* the same ratio against one userptr object per 2 MB */
		printf(" userptr-2M-objects");
		pr_stat("median", u2, 1e3, "ms");
		printf(" empty-job");
		pr_stat("median", ej, 1e3, "ms");
		/* the helper's side of each, as vsvm times it in the kernel */
		printf(" svm-fault-time");
		pr_stat("median", sf, 1e3, "ms");
		printf(" validate-time");
		pr_stat("median", sk, 1e3, "ms");
		printf(" svm/2M-objects %.2f first-use %.2f fault/validate %.2f ratio %.2f\n",
		       sv.med / u2.med, sv.med / (up.med + ej.med),
		       sf.med / sk.med, sv.med / up.med);
		/* retouch against the first touch of the same runs */
		printf("RT %luMB %s svm-retouch", mb, thp ? "THP" : "4K");
		pr_stat("median", rt, 1e3, "ms");
		printf(" svm-first-touch");
		pr_stat("median", sv, 1e3, "ms");
		printf(" ratio %.2f\n", rt.med / sv.med);
	}
	munmap(buf[0], size);
	munmap(buf[1], size);
}

/*
 * P7, the upstream anchor: the P5 measurements with each optimisation of
 * our drm_gpusvm patches on ("ours") and off ("stock"), switched through
 * module parameters between interleaved repetitions of one process:
 * merge_contiguous (drm-svm/patches/0009), slot_per_entry (0011) and
 * fill_holes (0012) of the helper's module, drm_gpusvm_helper (built in
 * or not), and vsvm's helper_pfns, its use of drm_gpusvm_ctx.hmm_pfns
 * (0010), without which vsvm walks the page table again as it must on
 * stock drm_gpusvm.
 */
static const char *const p7_params[] = {
	"/sys/module/drm_gpusvm_helper/parameters/merge_contiguous",
	"/sys/module/drm_gpusvm_helper/parameters/slot_per_entry",
	"/sys/module/vsvm/parameters/helper_pfns",
	"/sys/module/drm_gpusvm_helper/parameters/fill_holes",
};
#define P7_NPARAMS	(sizeof(p7_params) / sizeof(p7_params[0]))

/* Which of them P7's stock column turns off (-m; bit i: p7_params[i]). */
static unsigned int p7_mask = (1u << P7_NPARAMS) - 1;

/* All on (ours), or those of p7_mask off (stock); -1 if one cannot be set. */
static int p7_set(int on)
{
	int ret = 0;

	for (size_t i = 0; i < P7_NPARAMS; i++) {
		int fd = open(p7_params[i], O_WRONLY);
		int val = on || !(p7_mask & (1u << i));

		if (fd < 0 || write(fd, val ? "Y" : "N", 1) != 1) {
			fprintf(stderr, "svm_bench: p7: cannot write %s\n",
				p7_params[i]);
			ret = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

static void p7_line(unsigned long mb, int thp, const char *what,
		    double *ours, double *stock)
{
	struct stat3 o = stat3(ours, reps), st = stat3(stock, reps);

	printf("P7 %luMB %s %s", mb, thp ? "THP" : "4K", what);
	/* A stock column with only some optimisations off names them. */
	if (p7_mask != (1u << P7_NPARAMS) - 1) {
		const char *sep = " stock-without=";

		for (size_t i = 0; i < P7_NPARAMS; i++)
			if (p7_mask & (1u << i)) {
				printf("%s%s", sep, strrchr(p7_params[i], '/') + 1);
				sep = ",";
			}
	}
	printf(" ours");
	pr_stat("median", o, 1e3, "ms");
	printf(" stock");
	pr_stat("median", st, 1e3, "ms");
	printf(" ratio %.2f\n", o.med / st.med);
}

/* P7's figures, in the order p7() fills them from a P5 measurement. */
static const char *const p7_figs[] = {
	"svm-first-touch", "svm-invalidate", "svm-retouch",
	"userptr-validate", "userptr-page-revalidate", "svm-page-revalidate",
};
#define P7_NFIGS	(sizeof(p7_figs) / sizeof(p7_figs[0]))

static void p7(unsigned long mb)
{
	/* [ours/stock][thp][figure][rep] */
	static double t[2][2][P7_NFIGS][MAX_REPS];
	static uint64_t maps[2][2];
	size_t size = mb << 20;
	char *buf[2];
	int thp_pct[2];

	if (p7_set(1)) {
		fail("p7: module parameters");
		return;
	}
	if (p5_buffers(size, buf, thp_pct))
		return;
	for (int r = 0; r < reps; r++)
		for (int m = 0; m < 2; m++) {
			/* ours first on even reps, stock first on odd ones */
			int ours = (r + m) % 2 == 0;

			if (p7_set(ours)) {
				fail("p7: set the module parameters");
				goto out;
			}
			for (int thp = 0; thp < 2; thp++) {
				struct p5_once o;

				if (!(kinds & (1 << thp)))
					continue;
				if (p5_measure(buf[thp], size, 1, &o))
					goto out;
				t[!ours][thp][0][r] = o.first;
				t[!ours][thp][1][r] = o.invalidate;
				t[!ours][thp][2][r] = o.retouch;
				t[!ours][thp][3][r] = o.validate;
				t[!ours][thp][4][r] = o.revalidate_page;
				t[!ours][thp][5][r] = o.svm_revalidate_page;
				maps[!ours][thp] = o.maps_svm;
			}
		}
	for (int thp = 0; thp < 2; thp++) {
		if (!(kinds & (1 << thp)))
			continue;
		for (size_t f = 0; f < P7_NFIGS; f++)
			p7_line(mb, thp, p7_figs[f], t[0][thp][f], t[1][thp][f]);
		/* both map every page: only the number of entries differs */
		if (maps[0][thp] != maps[1][thp] ||
		    maps[0][thp] != size / PAGE_SZ) {
			errno = EINVAL;
			fprintf(stderr, "svm_bench: p7 %s (thp %d%%): pages mapped ours %llu stock %llu, want %zu\n",
				thp ? "THP" : "4K", thp_pct[thp],
				(unsigned long long)maps[0][thp],
				(unsigned long long)maps[1][thp], size / PAGE_SZ);
			fail("p7: pages mapped");
		}
	}
out:
	if (p7_set(1))
		fail("p7: restore the module parameters");
	munmap(buf[0], size);
	munmap(buf[1], size);
}

/* --- main ----------------------------------------------------------- */

int main(int argc, char **argv)
{
	unsigned long args[16];
	int opt, na = 0;
	double m0 = mono_s(CLOCK_MONOTONIC), r0 = mono_s(CLOCK_MONOTONIC_RAW);
	uint64_t t0;

	while ((opt = getopt(argc, argv, "f:r:i:s:j:k:m:")) != -1) {
		switch (opt) {
		case 'f':
			tsc_hz = atof(optarg) * 1e6;
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'i':
			iters = atoi(optarg);
			break;
		case 's':
			storm_hz = atoi(optarg);
			break;
		case 'j':
			p4_jobs = atoi(optarg);
			break;
		case 'k':
			kinds = atoi(optarg);
			break;
		case 'm':
			p7_mask = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || iters < 1 || storm_hz < 1 ||
	    p4_jobs < 1 || kinds < 1 || kinds > 3 || !p7_mask ||
	    p7_mask >= 1u << P7_NPARAMS || tsc_hz < 1e6 || optind >= argc) {
		fprintf(stderr, "usage: svm_bench [-f TSC_MHZ] [-r REPS] [-i ITERS] [-s HZ] [-j JOBS] [-k 1|2|3] [-m MASK] p1|p26|p3|p4|p5|p7 [ARGS]\n");
		return 2;
	}
	if (pin_cpu(0))
		perror("svm_bench: pin to CPU 0");
	for (int i = optind + 1; i < argc && na < 16; i++)
		args[na++] = strtoul(argv[i], NULL, 0);
	t0 = bench_tsc();

	if (!strcmp(argv[optind], "p1")) {
		if (!na) {
			args[na++] = 64;
			args[na++] = 256;
		}
		p1(na > 8 ? 8 : na, args);
	} else if (!strcmp(argv[optind], "p26")) {
		if (!na) {
			args[na++] = 1;
			args[na++] = 1000;
			args[na++] = 10000;
			args[na++] = 100000;
		}
		p26(na, args);
	} else if (!strcmp(argv[optind], "p3")) {
		p3(na ? args[0] : 512);
	} else if (!strcmp(argv[optind], "p4")) {
		/* the whole object, then one page: revalidation dominates */
		p4(SZ_2M);
		p4(PAGE_SZ);
	} else if (!strcmp(argv[optind], "p5")) {
		p5(na ? args[0] : 256);
	} else if (!strcmp(argv[optind], "p7")) {
		p7(na ? args[0] : 256);
	} else {
		fprintf(stderr, "svm_bench: unknown figure %s\n", argv[optind]);
		return 2;
	}
	fprintf(stderr, "svm_bench %s: %.1f s by the TSC, %.1f s CLOCK_MONOTONIC, %.1f s CLOCK_MONOTONIC_RAW\n",
		argv[optind], tsc_s(t0, bench_tsc()),
		mono_s(CLOCK_MONOTONIC) - m0,
		mono_s(CLOCK_MONOTONIC_RAW) - r0);
	return failed;
}
