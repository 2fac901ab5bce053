// SPDX-License-Identifier: GPL-2.0
/*
 * radeon userptr tests on QEMU's ati-vga (rv100, an R100 without CP):
 * RADEON_GEM_USERPTR's ABI, the generic DRM_IOCTL_USERPTR_CREATE, munmap
 * (notifier, invalidate) and GEM_CLOSE; with radeon.test_keep_gart=1 also
 * validation, GART bind and invalidation of a bound BO.
 *
 * Prints "RESULT pass|fail|skip radeon.<name> [reason]" lines.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/radeon_drm.h>

#include "drm_render_node.h"

#define PAGE 4096UL
#define NPAGES 16

static int fd = -1;
static int nfail;

static void result(const char *st, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s radeon.%s", st, name);
	if (fmt) {
		putchar(' ');
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
	if (!strcmp(st, "fail"))
		nfail++;
}

/* Expect ioctl() to return @want (0 or a positive errno). */
static int check(const char *name, int ret, int want)
{
	int got = ret ? errno : 0;

	if (got == want) {
		result("pass", name, NULL);
		return 0;
	}
	result("fail", name, "expected %s, got %s", want ? strerror(want) : "success",
	       got ? strerror(got) : "success");
	return -1;
}

static int userptr(void *addr, uint64_t size, uint32_t flags, uint32_t *handle)
{
	struct drm_radeon_gem_userptr a = {
		.addr = (uintptr_t)addr, .size = size, .flags = flags,
	};
	int r = ioctl(fd, DRM_IOCTL_RADEON_GEM_USERPTR, &a);

	if (!r && handle)
		*handle = a.handle;
	return r;
}

static int gem_close(uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static int bo_domain(uint32_t handle, uint32_t *domain)
{
	struct drm_radeon_gem_busy b = { .handle = handle };
	int r = ioctl(fd, DRM_IOCTL_RADEON_GEM_BUSY, &b);

	*domain = b.domain;
	return r;
}

static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 0x5a, size);
	return p;
}

#define RW (RADEON_GEM_USERPTR_ANONONLY | RADEON_GEM_USERPTR_REGISTER)

static void test_abi(void)
{
	uint32_t h;
	char *p = anon(NPAGES * PAGE);

	/* Mesa probes userptr support with flags = 0 and relies on -EACCES. */
	check("abi-probe-flags0-eacces", userptr(p, PAGE, 0, NULL), EACCES);
	check("abi-anononly-only-eacces",
	      userptr(p, PAGE, RADEON_GEM_USERPTR_ANONONLY, NULL), EACCES);
	/* Read-only userptr is refused below R600 (this is an R100). */
	check("abi-readonly-r100-einval",
	      userptr(p, PAGE, RADEON_GEM_USERPTR_READONLY |
		      RADEON_GEM_USERPTR_REGISTER, NULL), EINVAL);
	check("abi-unknown-flag-einval", userptr(p, PAGE, RW | (1u << 30), NULL),
	      EINVAL);
	check("abi-unaligned-einval", userptr(p + 1, PAGE, RW, NULL), EINVAL);

	if (!check("anononly-register-create", userptr(p, NPAGES * PAGE, RW, &h), 0)) {
		check("gem-close", gem_close(h), 0);
		check("gem-close-twice-einval", gem_close(h), EINVAL);
	}
	munmap(p, NPAGES * PAGE);
}

/* munmap of a registered range: notifier, invalidate; then GEM_CLOSE. */
static void test_munmap(void)
{
	char *p = anon(NPAGES * PAGE);
	uint32_t h;

	if (check("munmap-create", userptr(p, NPAGES * PAGE, RW, &h), 0))
		return;
	/* Partial, then whole. */
	munmap(p, PAGE);
	munmap(p, NPAGES * PAGE);
	check("munmap-then-gem-close", gem_close(h), 0);

	/* Close with the range still mapped; notifier removal. */
	p = anon(NPAGES * PAGE);
	if (!check("close-mapped-create", userptr(p, NPAGES * PAGE, RW, &h), 0))
		check("close-mapped-gem-close", gem_close(h), 0);
	munmap(p, NPAGES * PAGE);
}

static void test_generic(void)
{
	struct drm_get_cap cap = { .capability = DRM_CAP_USERPTR };
	struct drm_userptr_create a;
	/* rv100 is an R100: no read-only userptrs before R600 */
	uint64_t want = DRM_USERPTR_ANON_ONLY | DRM_USERPTR_VALIDATE;
	char *p = anon(NPAGES * PAGE);

	if (ioctl(fd, DRM_IOCTL_GET_CAP, &cap))
		result("fail", "generic-cap", "GET_CAP: %s", strerror(errno));
	else if (cap.value != want)
		result("fail", "generic-cap", "DRM_CAP_USERPTR 0x%llx, want 0x%llx",
		       (unsigned long long)cap.value, (unsigned long long)want);
	else
		result("pass", "generic-cap", NULL);

	memset(&a, 0, sizeof(a));
	a.addr = (uintptr_t)p;
	a.size = NPAGES * PAGE;
	if (!check("generic-create", ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &a), 0))
		check("generic-gem-close", gem_close(a.handle), 0);

	a.flags = DRM_USERPTR_VALIDATE | DRM_USERPTR_ANON_ONLY;
	if (!check("generic-validate", ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &a), 0))
		gem_close(a.handle);

	a.flags = DRM_USERPTR_READ_ONLY;
	check("generic-readonly-r100-eopnotsupp",
	      ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &a), EOPNOTSUPP);

	munmap(p + PAGE, PAGE);
	a.flags = DRM_USERPTR_VALIDATE;
	check("generic-validate-hole-efault",
	      ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &a), EFAULT);
	munmap(p, NPAGES * PAGE);
}

static int keep_gart(void)
{
	char c = 0;
	int f = open("/sys/module/radeon/parameters/test_keep_gart", O_RDONLY);

	if (f < 0)
		return 0;
	if (read(f, &c, 1) != 1)
		c = 0;
	close(f);
	return c == 'Y' || c == '1';
}

/* Validation, GART bind and invalidation of a bound BO. */
static void test_bound(void)
{
	static const char *names[] = {
		"validate-bind", "validate-bind-in-gtt",
		"invalidate-bound-then-close", "validate-hole-efault",
		"validate-file-eperm", "validate-bind-dontneed",
		"invalidate-bound-close-busy", "invalidate-dontneed-gem-close",
	};
	uint32_t h, dom;
	char *p, *f;
	unsigned int i;
	int memfd;

	if (!keep_gart()) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			result("skip", names[i],
			       "no radeon.test_keep_gart: the GART is gone with the CP");
		return;
	}

	p = anon(NPAGES * PAGE);
	if (!check("validate-bind", userptr(p, NPAGES * PAGE,
					    RW | RADEON_GEM_USERPTR_VALIDATE, &h), 0)) {
		if (bo_domain(h, &dom) || dom != RADEON_GEM_DOMAIN_GTT)
			result("fail", "validate-bind-in-gtt", "domain %u", dom);
		else
			result("pass", "validate-bind-in-gtt", NULL);
		/* munmap while bound: invalidate must zap it without a splat. */
		munmap(p, NPAGES * PAGE);
		check("invalidate-bound-then-close", gem_close(h), 0);
	} else {
		munmap(p, NPAGES * PAGE);
	}

	/* A hole in the range: validation must fail, not bind garbage. */
	p = anon(NPAGES * PAGE);
	munmap(p + 3 * PAGE, PAGE);
	if (!userptr(p, NPAGES * PAGE, RW | RADEON_GEM_USERPTR_VALIDATE, &h)) {
		result("fail", "validate-hole-efault",
		       "expected %s, got success", strerror(EFAULT));
		gem_close(h);
	} else {
		check("validate-hole-efault", -1, EFAULT);
	}
	munmap(p, NPAGES * PAGE);

	/* ANONONLY over shmem. */
	memfd = memfd_create("radeon-userptr", 0);
	if (memfd < 0 || ftruncate(memfd, NPAGES * PAGE)) {
		result("fail", "validate-file-eperm", "memfd: %s", strerror(errno));
	} else {
		f = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 memfd, 0);
		if (f == MAP_FAILED) {
			result("fail", "validate-file-eperm", "mmap: %s", strerror(errno));
		} else {
			memset(f, 1, NPAGES * PAGE);
			check("validate-file-eperm",
			      userptr(f, NPAGES * PAGE, RW | RADEON_GEM_USERPTR_VALIDATE,
				      &h), EPERM);
			munmap(f, NPAGES * PAGE);
		}
	}
	if (memfd >= 0)
		close(memfd);

	/*
	 * Invalidate a bound BO while the memory is reused: MADV_DONTNEED
	 * (not munmap) keeps the VMA; the BO stays usable and closes cleanly.
	 */
	p = anon(NPAGES * PAGE);
	if (!check("validate-bind-dontneed", userptr(p, NPAGES * PAGE,
					     RW | RADEON_GEM_USERPTR_VALIDATE, &h), 0)) {
		madvise(p, NPAGES * PAGE, MADV_DONTNEED);
		memset(p, 0x33, NPAGES * PAGE);
		check("invalidate-bound-close-busy", bo_domain(h, &dom), 0);
		check("invalidate-dontneed-gem-close", gem_close(h), 0);
	}
	munmap(p, NPAGES * PAGE);
}

/* A forked child shares the file but not the mm: its BOs are its own. */
static void test_fork(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char *p = anon(NPAGES * PAGE);
		uint32_t h;
		int r = userptr(p, NPAGES * PAGE, RW, &h);

		if (!r)
			r = gem_close(h);
		_exit(r ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		result("pass", "fork-child-create-close", NULL);
	else
		result("fail", "fork-child-create-close", "status 0x%x", st);
}

/*
 * Tests of bugs the review of the 6.12 conversion found, fixed on 7.3: run
 * there, or anywhere with RADEON_USERPTR_REGRESSION=1 (to see them fail).
 */
static int fixed_here(void)
{
	struct utsname u;

	if (getenv("RADEON_USERPTR_REGRESSION"))
		return 1;
	return !uname(&u) && strncmp(u.release, "6.", 2);
}

/*
 * R4: a userptr BO at address 0 was created with a live notifier that was
 * never removed (the driver took userptr == 0 for "not a userptr"): refused.
 */
static void test_addr0(void)
{
	uint32_t h;
	int r;

	if (!fixed_here()) {
		result("skip", "addr0-efault", "R4 is fixed on 7.3 only");
		return;
	}
	r = userptr(NULL, NPAGES * PAGE, RW, &h);
	if (!check("addr0-efault", r, EFAULT) || r)
		return;
	gem_close(h);
}

static volatile int stop_dontneed;

static void *dontneed_loop(void *p)
{
	while (!stop_dontneed)
		madvise(p, NPAGES * PAGE, MADV_DONTNEED);
	return NULL;
}

/*
 * R5: the notifier went live before the tt knew its BO, and an invalidation
 * in that window dereferenced NULL. Create userptr BOs while another thread
 * keeps invalidating the range.
 */
static void test_create_vs_invalidate(void)
{
	char *p = anon(NPAGES * PAGE);
	pthread_t t;
	int i, bad = 0;
	uint32_t h;

	if (!fixed_here()) {
		result("skip", "create-vs-invalidate", "R5 is fixed on 7.3 only");
		munmap(p, NPAGES * PAGE);
		return;
	}
	if (pthread_create(&t, NULL, dontneed_loop, p)) {
		result("fail", "create-vs-invalidate", "pthread_create");
		munmap(p, NPAGES * PAGE);
		return;
	}
	for (i = 0; i < 500 && !bad; i++) {
		if (userptr(p, NPAGES * PAGE, RW, &h) || gem_close(h))
			bad = errno;
	}
	stop_dontneed = 1;
	pthread_join(t, NULL);
	if (bad)
		result("fail", "create-vs-invalidate", "%s", strerror(bad));
	else
		result("pass", "create-vs-invalidate", NULL);
	munmap(p, NPAGES * PAGE);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = drm_open_render_node("radeon");
	if (fd < 0) {
		result("fail", "open", "no render node with driver name radeon");
		return 1;
	}
	result("pass", "open", NULL);
	test_abi();
	test_munmap();
	test_generic();
	test_bound();
	test_fork();
	test_addr0();
	test_create_vs_invalidate();
	close(fd);
	return nfail ? 1 : 0;
}
