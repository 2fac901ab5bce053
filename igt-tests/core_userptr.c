// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: core userptr
 * Category: Core
 * Description: conformance of the driver-agnostic DRM userptr uAPI
 *   (DRM_CAP_USERPTR and DRM_IOCTL_USERPTR_CREATE), checked on every DRM
 *   render node present.
 *
 * Every subtest has one dynamic subtest per render node, named by its
 * driver ("vsvm", "radeon", "amdgpu-1"), and checks one section of the
 * uAPI documentation ("generic userptr objects" in include/uapi/drm/drm.h,
 * copied in uapi/README.md) on that node:
 *
 * - getcap: DRM_CAP_USERPTR is 0 and the IOCTL fails with EOPNOTSUPP, or
 *   it is the mask of flags the device accepts: it includes VALIDATE, each
 *   flag in it works, each known flag outside it fails with EOPNOTSUPP;
 * - bad-flags, alignment, overflow, bad-address: every argument error of
 *   the table, with and without VALIDATE;
 * - validate-*: what VALIDATE reports (holes, VM_PFNMAP, PROT_READ,
 *   ANON_ONLY) and what it accepts (every kind of CPU memory); without
 *   VALIDATE nothing is looked at;
 * - close, munmap, foreign-mm, creator-exit: object lifetime, CPU mapping
 *   changes, other processes, and the creator going away.
 *
 * Whether the GPU then really sees the right pages needs a GPU job, which
 * is driver specific: where this test knows how to run one (vsvm: a fill
 * job), the lifetime subtests also check GPU use; elsewhere (radeon on
 * QEMU's rv100 has no command processor) they check everything else and
 * say so.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igt.h"
#include "igt_vsvm.h"

IGT_TEST_DESCRIPTION("Conformance of the generic DRM userptr capability and IOCTL on every render node.");

#define PAGE_SZ 4096ull
#define SZ_2M (2ull << 20)
#define NPAGES 16
#define BUF_SZ (NPAGES * PAGE_SZ)
#define KNOWN_FLAGS (DRM_USERPTR_READ_ONLY | DRM_USERPTR_ANON_ONLY | \
		     DRM_USERPTR_VALIDATE)
#define V DRM_USERPTR_VALIDATE

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct node {
	char path[64];
	char driver[32];
	int minor;
};

static struct node nodes[16];
static int count;

static int find_render_nodes(struct node *nodes, int max)
{
	int n = 0;

	for (int i = 128; i < 128 + 64 && n < max; i++) {
		struct drm_version v = {};
		int fd;

		snprintf(nodes[n].path, sizeof(nodes[n].path),
			 "/dev/dri/renderD%d", i);
		fd = open(nodes[n].path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(nodes[n].driver, 0, sizeof(nodes[n].driver));
		v.name = nodes[n].driver;
		v.name_len = sizeof(nodes[n].driver) - 1;
		nodes[n].minor = i;
		if (ioctl(fd, DRM_IOCTL_VERSION, &v) == 0)
			n++;
		close(fd);
	}
	errno = 0;
	return n;
}

/* Returns the cap, or -errno if GET_CAP itself fails. */
static int64_t get_cap(int fd)
{
	struct drm_get_cap cap = { .capability = DRM_CAP_USERPTR };

	if (ioctl(fd, DRM_IOCTL_GET_CAP, &cap))
		return -errno;
	return cap.value;
}

static int open_node(const struct node *node)
{
	int fd = open(node->path, O_RDWR | O_CLOEXEC);

	igt_assert_fd(fd);
	return fd;
}

/* Opens the node and skips unless its driver implements the IOCTL. */
static int open_userptr_node(const struct node *node, int64_t *cap)
{
	int fd = open_node(node);

	*cap = get_cap(fd);
	if (*cap <= 0) {
		close(fd);
		igt_skip("%s does not implement DRM_IOCTL_USERPTR_CREATE (cap %lld)\n",
			 node->driver, (long long)*cap);
	}
	return fd;
}

static int create(int fd, const void *ptr, uint64_t size, uint32_t flags,
		  uint32_t *handle)
{
	return __drm_userptr_create(fd, ptr, size, flags, handle);
}

/* Creates and closes; returns the errno of the creation. */
static int try_create(int fd, const void *ptr, uint64_t size, uint32_t flags)
{
	uint32_t handle = 0;
	int ret = create(fd, ptr, size, flags, &handle);

	if (!ret) {
		igt_assert_neq(handle, 0);
		igt_assert_eq(__gem_close_handle(fd, handle), 0);
	}
	return ret;
}

static void *map_anon(uint64_t size, int prot, int flags)
{
	void *p = mmap(NULL, size, prot, flags | MAP_ANONYMOUS, -1, 0);

	igt_assert(p != MAP_FAILED);
	return p;
}

/* ---- GPU use, where this test knows how to drive the driver's GPU -------- */

/*
 * Has the GPU write @value to every word of the object; returns 0 or the
 * errno the driver reports for the use (0 when the write landed).
 */
typedef int (*gpu_write_fn)(int fd, uint32_t handle, uint64_t size,
			    uint32_t value);

static int vsvm_write(int fd, uint32_t handle, uint64_t size, uint32_t value)
{
	uint64_t va = vsvm_va_alloc(size);
	int ret;

	ret = __vsvm_vm_bind(fd, handle, 0, va, size, 0);
	if (ret)
		return ret;
	ret = vsvm_gpu_fill(fd, va, size, value);
	igt_assert_eq(__vsvm_vm_unbind(fd, va, size), 0);
	return ret;
}

static gpu_write_fn gpu_writer(const struct node *node)
{
	if (!strcmp(node->driver, "vsvm"))
		return vsvm_write;
	return NULL;
}

static void no_gpu_use(const struct node *node)
{
	igt_info("%s: no GPU job this test can drive; GPU use not checked\n",
		 node->driver);
}

/* ---- getcap -------------------------------------------------------------- */

static void test_getcap(const struct node *node)
{
	int fd = open_node(node);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	int64_t cap;

	memset(buf, 0x55, BUF_SZ);
	cap = get_cap(fd);
	igt_require_f(cap >= 0,
		      "kernel without DRM_CAP_USERPTR (GET_CAP: %s)\n",
		      strerror((int)-cap));
	igt_info("%s (%s): DRM_CAP_USERPTR = %#llx\n", node->path, node->driver,
		 (long long)cap);

	if (cap == 0) {
		/* not implemented: the IOCTL says so, for any arguments */
		igt_assert_eq(create(fd, buf, PAGE_SZ, V, NULL), -EOPNOTSUPP);
		igt_assert_eq(create(fd, buf, PAGE_SZ, 0, NULL), -EOPNOTSUPP);
		igt_assert_eq(create(fd, NULL, 0, 1u << 31, NULL), -EOPNOTSUPP);
		goto out;
	}

	igt_assert_f(cap & V, "cap %#llx without VALIDATE\n", (long long)cap);
	igt_assert_f(!(cap & ~(int64_t)KNOWN_FLAGS),
		     "cap %#llx has unknown flags\n", (long long)cap);

	/* every advertised flag works, every known one not advertised fails */
	for (uint32_t f = 1; f & KNOWN_FLAGS; f <<= 1) {
		int ret = try_create(fd, buf, BUF_SZ, f | V);

		if (cap & f)
			igt_assert_f(ret == 0, "flag %#x advertised but refused: %d\n",
				     f, ret);
		else
			igt_assert_f(ret == -EOPNOTSUPP,
				     "flag %#x not advertised, got %d\n", f, ret);
	}
	/* and all advertised flags at once */
	igt_assert_eq(try_create(fd, buf, BUF_SZ, (uint32_t)cap), 0);
out:
	munmap(buf, BUF_SZ);
	close(fd);
}

/* ---- argument errors ----------------------------------------------------- */

static void test_bad_flags(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	/* every unknown bit alone, and beside a valid flag: EINVAL */
	for (int bit = 0; bit < 32; bit++) {
		uint32_t f = 1u << bit;

		if (f & KNOWN_FLAGS)
			continue;
		igt_assert_f(create(fd, buf, BUF_SZ, f, NULL) == -EINVAL,
			     "unknown flag %#x not refused with EINVAL\n", f);
		igt_assert_f(create(fd, buf, BUF_SZ, f | V, NULL) == -EINVAL,
			     "unknown flag %#x | VALIDATE not refused with EINVAL\n", f);
	}
	/* non-zero padding */
	igt_assert_eq(__drm_userptr_create_pad(fd, (uintptr_t)buf, BUF_SZ, 0, 1,
					       NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create_pad(fd, (uintptr_t)buf, BUF_SZ, V,
					       1ull << 63, NULL), -EINVAL);
	/* the same arguments are fine with the padding zero */
	igt_assert_eq(try_create(fd, buf, BUF_SZ, V), 0);

	munmap(buf, BUF_SZ);
	close(fd);
}

static void test_alignment(const struct node *node)
{
	static const uint64_t bad_off[] = { 1, 8, PAGE_SZ / 2, PAGE_SZ - 1 };
	static const uint64_t bad_size[] = { 1, 8, PAGE_SZ / 2, PAGE_SZ + 1,
					     BUF_SZ - 1 };
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ + PAGE_SZ, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad_off); i++) {
		igt_assert_eq(create(fd, buf + bad_off[i], BUF_SZ, 0, NULL),
			      -EINVAL);
		igt_assert_eq(create(fd, buf + bad_off[i], BUF_SZ, V, NULL),
			      -EINVAL);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_size); i++) {
		igt_assert_eq(create(fd, buf, bad_size[i], 0, NULL), -EINVAL);
		igt_assert_eq(create(fd, buf, bad_size[i], V, NULL), -EINVAL);
	}
	/* zero size */
	igt_assert_eq(create(fd, buf, 0, 0, NULL), -EINVAL);
	igt_assert_eq(create(fd, buf, 0, V, NULL), -EINVAL);
	/* one page, the whole buffer, and a page in the middle are fine */
	igt_assert_eq(try_create(fd, buf, PAGE_SZ, V), 0);
	igt_assert_eq(try_create(fd, buf, BUF_SZ + PAGE_SZ, V), 0);
	igt_assert_eq(try_create(fd, buf + 5 * PAGE_SZ, PAGE_SZ, V), 0);

	munmap(buf, BUF_SZ + PAGE_SZ);
	close(fd);
}

static void test_overflow(const struct node *node)
{
	const uint64_t top = ~0ull & ~(PAGE_SZ - 1);
	int64_t cap;
	int fd = open_userptr_node(node, &cap);

	/* addr + size wraps past 2^64: EINVAL, not EFAULT */
	igt_assert_eq(__drm_userptr_create_pad(fd, top, 2 * PAGE_SZ, 0, 0, NULL),
		      -EINVAL);
	igt_assert_eq(__drm_userptr_create_pad(fd, PAGE_SZ, top, 0, 0, NULL),
		      -EINVAL);
	igt_assert_eq(__drm_userptr_create_pad(fd, top, top, V, 0, NULL),
		      -EINVAL);
	/* exactly 2^64 wraps to 0 */
	igt_assert_eq(__drm_userptr_create_pad(fd, 1ull << 63, 1ull << 63, 0, 0,
					       NULL), -EINVAL);
	/* no wrap, but far beyond the user address space: EFAULT */
	igt_assert_eq(__drm_userptr_create_pad(fd, PAGE_SZ, 1ull << 63, 0, 0,
					       NULL), -EFAULT);
	igt_assert_eq(__drm_userptr_create_pad(fd, PAGE_SZ, top - PAGE_SZ, 0, 0,
					       NULL), -EFAULT);
	close(fd);
}

/* Whether the user address space ends at 2^47 (x86-64 4-level paging). */
static bool user_space_ends_at_47bit(void)
{
	void *p = mmap((void *)(1ull << 47), PAGE_SZ, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED) {
		munmap(p, PAGE_SZ);
		return false;
	}
	return true;
}

static void test_bad_address(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);

	/* address 0, with and without VALIDATE (R4 on radeon) */
	igt_assert_eq(__drm_userptr_create_pad(fd, 0, PAGE_SZ, 0, 0, NULL),
		      -EFAULT);
	igt_assert_eq(__drm_userptr_create_pad(fd, 0, BUF_SZ, V, 0, NULL),
		      -EFAULT);
	/* kernel addresses (the direct map, the top page) */
	igt_assert_eq(__drm_userptr_create_pad(fd, 0xffff888000000000ull,
					       PAGE_SZ, 0, 0, NULL), -EFAULT);
	igt_assert_eq(__drm_userptr_create_pad(fd, ~0ull & ~(2 * PAGE_SZ - 1),
					       PAGE_SZ, V, 0, NULL), -EFAULT);

	if (user_space_ends_at_47bit()) {
		uint64_t last = (1ull << 47) - 2 * PAGE_SZ;
		uint32_t handle;

		/* straddling the end of the user address space */
		igt_assert_eq(__drm_userptr_create_pad(fd, last, 2 * PAGE_SZ, 0,
						       0, NULL), -EFAULT);
		/*
		 * The last page below it is user space: accepted without
		 * VALIDATE (nothing mapped there is looked at), refused
		 * with it.
		 */
		igt_assert_eq(__drm_userptr_create_pad(fd, last, PAGE_SZ, 0, 0,
						       &handle), 0);
		igt_assert_eq(__gem_close_handle(fd, handle), 0);
		igt_assert_eq(__drm_userptr_create_pad(fd, last, PAGE_SZ, V, 0,
						       NULL), -EFAULT);
	} else {
		igt_info("user space does not end at 2^47: straddle case not run\n");
	}
	close(fd);
}

/* ---- VALIDATE ------------------------------------------------------------ */

static void test_validate_holes(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	uint32_t handle;

	memset(buf, 1, BUF_SZ);
	/* a hole in the middle, at the start, at the end */
	igt_assert_eq(munmap(buf + 7 * PAGE_SZ, PAGE_SZ), 0);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, NULL), -EFAULT);
	igt_assert_eq(create(fd, buf + 7 * PAGE_SZ, 2 * PAGE_SZ, V, NULL),
		      -EFAULT);
	igt_assert_eq(create(fd, buf + 6 * PAGE_SZ, 2 * PAGE_SZ, V, NULL),
		      -EFAULT);
	/* the mapped parts on either side are fine */
	igt_assert_eq(try_create(fd, buf, 7 * PAGE_SZ, V), 0);
	igt_assert_eq(try_create(fd, buf + 8 * PAGE_SZ, 8 * PAGE_SZ, V), 0);

	/* without VALIDATE the kernel does not look: accepted */
	igt_assert_eq(create(fd, buf, BUF_SZ, 0, &handle), 0);
	igt_assert_eq(__gem_close_handle(fd, handle), 0);

	/* nothing mapped at all */
	igt_assert_eq(munmap(buf, BUF_SZ), 0);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, NULL), -EFAULT);
	igt_assert_eq(try_create(fd, buf, BUF_SZ, 0), 0);
	close(fd);
}

/*
 * A VM_IO | VM_PFNMAP mapping: a PCI memory BAR through its sysfs resource
 * file. Returns the mapping, or NULL when no BAR can be mapped here.
 */
static void *map_pfnmap(uint64_t *size)
{
	glob_t g;
	void *p = NULL;

	if (glob("/sys/bus/pci/devices/*/resource[0-5]", 0, NULL, &g))
		return NULL;
	for (size_t i = 0; i < g.gl_pathc && !p; i++) {
		struct stat st;
		int f = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);

		if (f < 0)
			continue;
		if (!fstat(f, &st) && st.st_size >= (off_t)(4 * PAGE_SZ)) {
			p = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
				 MAP_SHARED, f, 0);
			if (p == MAP_FAILED)
				p = NULL;
			else
				igt_info("VM_PFNMAP mapping: %s\n", g.gl_pathv[i]);
		}
		close(f);
	}
	globfree(&g);
	errno = 0;
	*size = 4 * PAGE_SZ;
	return p;
}

static void test_validate_pfnmap(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	uint64_t size;
	void *io = map_pfnmap(&size);

	if (!io) {
		close(fd);
		igt_skip("no PCI memory BAR can be mapped (no VM_PFNMAP mapping to try)\n");
	}
	/* device memory: EFAULT with VALIDATE, not looked at without */
	igt_assert_eq(create(fd, io, size, V, NULL), -EFAULT);
	igt_assert_eq(try_create(fd, io, size, 0), 0);
	if (cap & DRM_USERPTR_READ_ONLY)
		igt_assert_eq(create(fd, io, size,
				     V | DRM_USERPTR_READ_ONLY, NULL), -EFAULT);
	munmap(io, size);
	close(fd);
}

static void test_validate_readonly(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	memset(buf, 7, BUF_SZ);
	igt_assert_eq(mprotect(buf, BUF_SZ, PROT_READ), 0);
	/* a writable object over PROT_READ memory */
	igt_assert_eq(create(fd, buf, BUF_SZ, V, NULL), -EPERM);
	/* also when only one page is read-only */
	igt_assert_eq(mprotect(buf, BUF_SZ, PROT_READ | PROT_WRITE), 0);
	igt_assert_eq(mprotect(buf + 3 * PAGE_SZ, PAGE_SZ, PROT_READ), 0);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, NULL), -EPERM);
	igt_assert_eq(try_create(fd, buf + 4 * PAGE_SZ, 4 * PAGE_SZ, V), 0);

	if (cap & DRM_USERPTR_READ_ONLY) {
		/* a read-only object over it is fine */
		igt_assert_eq(try_create(fd, buf, BUF_SZ,
					 V | DRM_USERPTR_READ_ONLY), 0);
		igt_assert_eq(mprotect(buf, BUF_SZ, PROT_READ), 0);
		igt_assert_eq(try_create(fd, buf, BUF_SZ,
					 V | DRM_USERPTR_READ_ONLY), 0);
	} else {
		igt_assert_eq(create(fd, buf, BUF_SZ, V | DRM_USERPTR_READ_ONLY,
				     NULL), -EOPNOTSUPP);
		igt_info("%s: no DRM_USERPTR_READ_ONLY on this device\n",
			 node->driver);
	}
	munmap(buf, BUF_SZ);
	close(fd);
}

/* Every kind of CPU memory the documentation names, or NULL. */
enum mem_kind {
	MEM_PRIVATE_ANON, MEM_SHARED_ANON, MEM_MEMFD, MEM_FILE_SHARED,
	MEM_FILE_PRIVATE, MEM_THP, MEM_HUGETLB, MEM_KINDS
};

static const char *const mem_names[MEM_KINDS] = {
	"private anonymous", "MAP_SHARED|MAP_ANONYMOUS", "memfd (shmem)",
	"shared file", "private file", "THP", "hugetlbfs",
};

/* A regular file (tmpfs or ramfs here), not shmem through memfd. */
static int tmp_file(uint64_t size)
{
	char path[] = "/tmp/core_userptr.XXXXXX";
	int f = mkstemp(path);

	igt_require_f(f >= 0, "no writable /tmp\n");
	unlink(path);
	igt_assert_eq(ftruncate(f, size), 0);
	return f;
}

static void *map_kind(enum mem_kind kind, uint64_t size)
{
	void *p = MAP_FAILED;
	int f = -1;

	switch (kind) {
	case MEM_PRIVATE_ANON:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case MEM_SHARED_ANON:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		break;
	case MEM_MEMFD:
		f = memfd_create("core_userptr", MFD_CLOEXEC);
		igt_assert_fd(f);
		igt_assert_eq(ftruncate(f, size), 0);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
		break;
	case MEM_FILE_SHARED:
	case MEM_FILE_PRIVATE:
		f = tmp_file(size);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 kind == MEM_FILE_SHARED ? MAP_SHARED : MAP_PRIVATE,
			 f, 0);
		break;
	case MEM_THP: {
		/* 2M aligned, so the first touch can use a huge page */
		char *r = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uintptr_t a;

		igt_assert(r != MAP_FAILED);
		a = ((uintptr_t)r + SZ_2M - 1) & ~(SZ_2M - 1);
		if (a > (uintptr_t)r)
			munmap(r, a - (uintptr_t)r);
		munmap((char *)a + size, (uintptr_t)r + SZ_2M - a);
		p = (void *)a;
		madvise(p, size, MADV_HUGEPAGE);
		break;
	}
	case MEM_HUGETLB:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		break;
	default:
		break;
	}
	if (f >= 0)
		close(f);
	if (p == MAP_FAILED) {
		igt_assert_f(kind == MEM_HUGETLB, "mmap of %s memory failed\n",
			     mem_names[kind]);
		errno = 0;
		return NULL;
	}
	memset(p, 0x5a, size);
	return p;
}

static void test_validate_memory(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);

	for (int kind = 0; kind < MEM_KINDS; kind++) {
		uint64_t size = kind >= MEM_THP ? SZ_2M : BUF_SZ;
		void *p = map_kind(kind, size);
		int ret;

		if (!p) {
			igt_info("%s: no %s memory here (no huge pages reserved)\n",
				 node->driver, mem_names[kind]);
			continue;
		}
		ret = try_create(fd, p, size, V);
		igt_assert_f(ret == 0, "VALIDATE over %s memory: %d\n",
			     mem_names[kind], ret);
		if (cap & DRM_USERPTR_READ_ONLY) {
			ret = try_create(fd, p, size, V | DRM_USERPTR_READ_ONLY);
			igt_assert_f(ret == 0,
				     "read-only VALIDATE over %s memory: %d\n",
				     mem_names[kind], ret);
		}
		munmap(p, size);
	}
	close(fd);
}

static void test_validate_anon_only(const struct node *node)
{
	const uint32_t ao = DRM_USERPTR_ANON_ONLY | V;
	int64_t cap;
	int fd = open_userptr_node(node, &cap);

	igt_require_f(cap & DRM_USERPTR_ANON_ONLY,
		      "%s does not accept DRM_USERPTR_ANON_ONLY\n", node->driver);

	for (int kind = 0; kind < MEM_KINDS; kind++) {
		uint64_t size = kind >= MEM_THP ? SZ_2M : BUF_SZ;
		void *p = map_kind(kind, size);
		bool anon = kind == MEM_PRIVATE_ANON || kind == MEM_THP;
		int ret;

		if (!p)
			continue;
		ret = try_create(fd, p, size, ao);
		/* hugetlbfs is file-backed too */
		igt_assert_f(ret == (anon ? 0 : -EPERM),
			     "ANON_ONLY over %s memory: %d, want %d\n",
			     mem_names[kind], ret, anon ? 0 : -EPERM);
		/* without VALIDATE nothing is looked at */
		igt_assert_eq(try_create(fd, p, size, DRM_USERPTR_ANON_ONLY), 0);
		munmap(p, size);
	}

	/* one file-backed page in an anonymous range is enough */
	{
		char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		int f = memfd_create("core_userptr", MFD_CLOEXEC);

		igt_assert_fd(f);
		igt_assert_eq(ftruncate(f, PAGE_SZ), 0);
		igt_assert(mmap(buf + 9 * PAGE_SZ, PAGE_SZ, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, f, 0) != MAP_FAILED);
		close(f);
		memset(buf, 3, BUF_SZ);
		igt_assert_eq(create(fd, buf, BUF_SZ, ao, NULL), -EPERM);
		igt_assert_eq(try_create(fd, buf, 9 * PAGE_SZ, ao), 0);
		munmap(buf, BUF_SZ);
	}
	close(fd);
}

/* ---- lifetime ------------------------------------------------------------ */

static void test_close(const struct node *node)
{
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	uint32_t handles[64];

	memset(buf, 9, BUF_SZ);
	/* closing twice: the second close finds no object */
	igt_assert_eq(create(fd, buf, BUF_SZ, V, &handles[0]), 0);
	igt_assert_eq(__gem_close_handle(fd, handles[0]), 0);
	igt_assert_eq(__gem_close_handle(fd, handles[0]), -EINVAL);

	/* many objects over one range, and overlapping ones: distinct handles */
	for (int i = 0; i < 64; i++) {
		uint64_t off = (i % NPAGES) * PAGE_SZ;

		igt_assert_eq(create(fd, buf + off, BUF_SZ - off, i & 1 ? V : 0,
				     &handles[i]), 0);
		for (int j = 0; j < i; j++)
			igt_assert_neq(handles[i], handles[j]);
	}
	for (int i = 0; i < 64; i += 2)
		igt_assert_eq(__gem_close_handle(fd, handles[i]), 0);
	/* the odd ones are left to close(fd): that must free them too */
	close(fd);

	/* and a process that exits with objects open on its own file */
	igt_fork(child, 1) {
		int cfd = open_node(node);
		uint32_t h;

		for (int i = 0; i < 32; i++)
			igt_assert_eq(create(cfd, buf, BUF_SZ, i & 1 ? V : 0, &h), 0);
		/* exits with the file and its objects open */
	}
	igt_waitchildren();

	/* the device still works */
	fd = open_node(node);
	igt_assert_eq(try_create(fd, buf, BUF_SZ, V), 0);
	close(fd);
	munmap(buf, BUF_SZ);
}

static void test_munmap(const struct node *node)
{
	gpu_write_fn gpu_write = gpu_writer(node);
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	uint32_t handle;

	memset(buf, 0, BUF_SZ);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, &handle), 0);
	if (gpu_write) {
		igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x11111111), 0);
		igt_assert(vsvm_all_words(buf, BUF_SZ, 0x11111111));
	}

	/* munmap: the handle stays; a use fails with EFAULT */
	igt_assert_eq(munmap(buf, BUF_SZ), 0);
	if (gpu_write)
		igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x22222222), -EFAULT);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, NULL), -EFAULT);

	/* mapped again at the same address: the GPU sees the new pages */
	igt_assert(mmap(buf, BUF_SZ, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == buf);
	memset(buf, 0, BUF_SZ);
	if (gpu_write) {
		igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x33333333), 0);
		igt_assert(vsvm_all_words(buf, BUF_SZ, 0x33333333));
	}
	igt_assert_eq(try_create(fd, buf, BUF_SZ, V), 0);

	/* MAP_FIXED over part of it, then mremap away: never stale pages */
	igt_assert(mmap(buf + 4 * PAGE_SZ, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		   buf + 4 * PAGE_SZ);
	if (gpu_write) {
		igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x44444444), 0);
		igt_assert(vsvm_all_words(buf, BUF_SZ, 0x44444444));
	}
	{
		char *dst = map_anon(BUF_SZ, PROT_NONE, MAP_PRIVATE);

		igt_assert(mremap(buf, BUF_SZ, BUF_SZ,
				  MREMAP_MAYMOVE | MREMAP_FIXED, dst) == dst);
		if (gpu_write)
			igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x55555555),
				      -EFAULT);
		/* the moved pages were not written through the old object */
		if (gpu_write)
			igt_assert(vsvm_all_words(dst, BUF_SZ, 0x44444444));
		munmap(dst, BUF_SZ);
	}

	/* and the handle still closes */
	igt_assert_eq(__gem_close_handle(fd, handle), 0);
	if (!gpu_write)
		no_gpu_use(node);
	close(fd);
}

/* The card (primary) node of a render node, or -1. */
static int open_card(const struct node *node)
{
	char pattern[96];
	glob_t g;
	int fd = -1;

	snprintf(pattern, sizeof(pattern),
		 "/sys/class/drm/renderD%d/device/drm/card*", node->minor);
	if (glob(pattern, 0, NULL, &g))
		return -1;
	if (g.gl_pathc) {
		char dev[64];

		snprintf(dev, sizeof(dev), "/dev/dri/%s",
			 strrchr(g.gl_pathv[0], '/') + 1);
		fd = open(dev, O_RDWR | O_CLOEXEC);
	}
	globfree(&g);
	errno = 0;
	return fd;
}

static int prime_export(int fd, uint32_t handle)
{
	struct drm_prime_handle prime = {
		.handle = handle, .flags = DRM_CLOEXEC, .fd = -1,
	};
	int ret = 0;

	if (igt_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		ret = -errno;
	else
		close(prime.fd);
	errno = 0;
	return ret;
}

static int gem_open_name(int fd, uint32_t name, uint32_t *handle)
{
	struct drm_gem_open arg = { .name = name };
	int ret = 0;

	if (igt_ioctl(fd, DRM_IOCTL_GEM_OPEN, &arg))
		ret = -errno;
	else
		*handle = arg.handle;
	errno = 0;
	return ret;
}

static void test_foreign_mm(const struct node *node)
{
	gpu_write_fn gpu_write = gpu_writer(node);
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	char *buf = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	int card = open_card(node);
	struct drm_gem_flink flink = {};
	uint32_t handle, chandle = 0, h2;

	memset(buf, 0, BUF_SZ);
	igt_assert_eq(create(fd, buf, BUF_SZ, V, &handle), 0);
	/* no userptr object becomes a dma-buf, not even in its creator */
	igt_assert_eq(prime_export(fd, handle), -EPERM);

	/* flink needs the primary node; the creator may open its own name */
	if (card >= 0 && !create(card, buf, BUF_SZ, V, &chandle)) {
		flink.handle = chandle;
		if (igt_ioctl(card, DRM_IOCTL_GEM_FLINK, &flink)) {
			igt_info("%s: GEM_FLINK: %s; flink case not run\n",
				 node->driver, strerror(errno));
			flink.name = 0;
			errno = 0;
		} else {
			igt_assert_eq(gem_open_name(card, flink.name, &h2), 0);
			igt_assert_eq(__gem_close_handle(card, h2), 0);
		}
	} else {
		igt_info("%s: no primary node to open; flink case not run\n",
			 node->driver);
	}

	igt_fork(child, 1) {
		char *mine = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		uint32_t own;

		/* the inherited file holds the parent's object: unusable here */
		igt_assert_eq(prime_export(fd, handle), -EPERM);
		if (gpu_write)
			igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x66666666),
				      -EPERM);
		if (flink.name)
			igt_assert_eq(gem_open_name(card, flink.name, &h2), -EPERM);

		/* its own objects on the same file work */
		memset(mine, 0, BUF_SZ);
		igt_assert_eq(create(fd, mine, BUF_SZ, V, &own), 0);
		if (gpu_write) {
			igt_assert_eq(gpu_write(fd, own, BUF_SZ, 0x77777777), 0);
			igt_assert(vsvm_all_words(mine, BUF_SZ, 0x77777777));
		}
		igt_assert_eq(prime_export(fd, own), -EPERM);
		igt_assert_eq(__gem_close_handle(fd, own), 0);
	}
	igt_waitchildren();

	/* the child's attempts changed nothing for the creator */
	if (gpu_write) {
		igt_assert(vsvm_all_words(buf, BUF_SZ, 0));
		igt_assert_eq(gpu_write(fd, handle, BUF_SZ, 0x88888888), 0);
		igt_assert(vsvm_all_words(buf, BUF_SZ, 0x88888888));
	} else {
		no_gpu_use(node);
	}
	igt_assert_eq(__gem_close_handle(fd, handle), 0);
	if (chandle)
		igt_assert_eq(__gem_close_handle(card, chandle), 0);
	if (card >= 0)
		close(card);
	munmap(buf, BUF_SZ);
	close(fd);
}

static void test_creator_exit(const struct node *node)
{
	gpu_write_fn gpu_write = gpu_writer(node);
	int64_t cap;
	int fd = open_userptr_node(node, &cap);
	uint32_t handles[8];
	int p[2];

	igt_assert_eq(pipe(p), 0);
	/* a child creates objects on the shared file, then exits */
	igt_fork(child, 1) {
		char *b = map_anon(BUF_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE);

		memset(b, 1, BUF_SZ);
		for (int i = 0; i < 8; i++)
			igt_assert_eq(create(fd, b, BUF_SZ, i & 1 ? V : 0,
					     &handles[i]), 0);
		igt_assert_eq(write(p[1], handles, sizeof(handles)),
			      sizeof(handles));
	}
	igt_waitchildren();
	igt_assert_eq(read(p[0], handles, sizeof(handles)), sizeof(handles));
	close(p[0]);
	close(p[1]);

	/* its mm is gone: no use works, destroying is always safe */
	if (gpu_write) {
		int ret = gpu_write(fd, handles[1], BUF_SZ, 0x99999999);

		igt_assert_f(ret == -EPERM || ret == -EFAULT || ret == -ESRCH,
			     "use of an exited creator's object: %d\n", ret);
	}
	for (int i = 0; i < 8; i++)
		igt_assert_eq(__gem_close_handle(fd, handles[i]), 0);
	if (!gpu_write)
		no_gpu_use(node);
	close(fd);
}

/*
 * Machine-independent dynamic subtest name: the driver name, lowercase,
 * plus "-<n>" for its n-th further node ("vsvm", "amdgpu", "amdgpu-1"),
 * not the minor number.
 */
static void dynamic_name(char *name, size_t len, int i)
{
	int same = 0;
	char *c;

	for (int j = 0; j < i; j++)
		same += !strcmp(nodes[j].driver, nodes[i].driver);
	if (same)
		snprintf(name, len, "%s-%d", nodes[i].driver, same);
	else
		snprintf(name, len, "%s", nodes[i].driver);
	for (c = name; *c; c++)
		*c = tolower((unsigned char)*c);
}

/* Runs @fn as one dynamic subtest per render node. */
#define for_each_node_dynamic(fn) do { \
	igt_require_f(count > 0, "no DRM render nodes\n"); \
	for (int i__ = 0; i__ < count; i__++) { \
		char name__[48]; \
		dynamic_name(name__, sizeof(name__), i__); \
		igt_dynamic(name__) \
			fn(&nodes[i__]); \
	} \
} while (0)

static const struct {
	const char *name;
	const char *describe;
	void (*fn)(const struct node *node);
} subtests[] = {
	{ "getcap", "DRM_CAP_USERPTR is consistent with DRM_IOCTL_USERPTR_CREATE: each advertised flag works, each other known flag fails with EOPNOTSUPP.", test_getcap },
	{ "bad-flags", "Unknown flags and non-zero padding fail with EINVAL.", test_bad_flags },
	{ "alignment", "Unaligned addresses and sizes, and zero size, fail with EINVAL.", test_alignment },
	{ "overflow", "addr + size wrapping past 2^64 fails with EINVAL, a range beyond user space with EFAULT.", test_overflow },
	{ "bad-address", "Address 0, kernel addresses and ranges crossing the end of user space fail with EFAULT.", test_bad_address },
	{ "validate-holes", "VALIDATE over unmapped pages fails with EFAULT; without VALIDATE nothing is looked at.", test_validate_holes },
	{ "validate-pfnmap", "VALIDATE over a VM_IO/VM_PFNMAP mapping fails with EFAULT.", test_validate_pfnmap },
	{ "validate-readonly", "VALIDATE of a writable object over PROT_READ memory fails with EPERM; READ_ONLY objects work there.", test_validate_readonly },
	{ "validate-memory", "VALIDATE works over every kind of CPU memory: anonymous, shared, shmem, files, THP, hugetlbfs.", test_validate_memory },
	{ "validate-anon-only", "ANON_ONLY with VALIDATE fails with EPERM over any file-backed mapping, shmem and shared anonymous included.", test_validate_anon_only },
	{ "close", "Objects close once, overlap freely, and go with their file and with an exiting process.", test_close },
	{ "munmap", "munmap, MAP_FIXED and mremap never destroy the object; uses fail with EFAULT or see the new pages.", test_munmap },
	{ "foreign-mm", "Another process holding the file can neither use, export nor flink-open the object; PRIME export fails with EPERM everywhere.", test_foreign_mm },
	{ "creator-exit", "When the creator exits its objects cannot be used but close safely.", test_creator_exit },
};

igt_main
{
	igt_fixture
		count = find_render_nodes(nodes, ARRAY_SIZE(nodes));

	for (unsigned int t = 0; t < ARRAY_SIZE(subtests); t++) {
		igt_describe(subtests[t].describe);
		igt_subtest_with_dynamic(subtests[t].name)
			for_each_node_dynamic(subtests[t].fn);
	}

	igt_describe("A driver advertising DRM_CAP_USERPTR is reachable: vsvm implements it.");
	igt_subtest("getcap-vsvm") {
		int fd = drm_open_vsvm();

		igt_assert_f(get_cap(fd) > 0,
			     "vsvm does not advertise DRM_CAP_USERPTR\n");
		close(fd);
	}
}
