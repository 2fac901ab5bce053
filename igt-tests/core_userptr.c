// SPDX-License-Identifier: MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

/*
 * TEST: core userptr
 * Category: Core
 * Description: the driver-agnostic DRM userptr uAPI (DRM_CAP_USERPTR and
 *   DRM_IOCTL_USERPTR_CREATE), checked on every DRM render node present.
 *
 * Whatever the driver, DRM_CAP_USERPTR must be consistent with what
 * DRM_IOCTL_USERPTR_CREATE does: 0 means the IOCTL fails with EOPNOTSUPP;
 * otherwise the value is the mask of flags the driver accepts, it includes
 * VALIDATE, known flags outside the mask fail with EOPNOTSUPP and unknown
 * flags with EINVAL. Argument checks are done by DRM core, so the errno for
 * bad input is the same on every driver.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt.h"
#include "igt_vsvm.h"

IGT_TEST_DESCRIPTION("Check the generic DRM userptr capability and IOCTL on every render node.");

#define PAGE_SZ 4096ull
#define KNOWN_FLAGS (DRM_USERPTR_READ_ONLY | DRM_USERPTR_ANON_ONLY | \
		     DRM_USERPTR_VALIDATE)

struct node {
	char path[64];
	char driver[32];
};

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

static void check_node(const struct node *node)
{
	int fd = open(node->path, O_RDWR | O_CLOEXEC);
	char *buf = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int64_t cap;
	uint32_t handle = 0;

	igt_assert_fd(fd);
	igt_assert(buf != MAP_FAILED);
	memset(buf, 0x55, 4 * PAGE_SZ);

	cap = get_cap(fd);
	igt_require_f(cap >= 0,
		      "kernel without DRM_CAP_USERPTR (GET_CAP: %s)\n",
		      strerror((int)-cap));
	igt_info("%s (%s): DRM_CAP_USERPTR = %#llx\n", node->path, node->driver,
		 (long long)cap);

	if (cap == 0) {
		/* not implemented: the IOCTL says so, for any arguments */
		igt_assert_eq(__drm_userptr_create(fd, buf, PAGE_SZ,
						   DRM_USERPTR_VALIDATE, NULL),
			      -EOPNOTSUPP);
		igt_assert_eq(__drm_userptr_create(fd, buf, PAGE_SZ, 0, NULL),
			      -EOPNOTSUPP);
		goto out;
	}

	igt_assert_f(cap & DRM_USERPTR_VALIDATE,
		     "cap %#llx without VALIDATE\n", (long long)cap);
	igt_assert_f(!(cap & ~(int64_t)KNOWN_FLAGS),
		     "cap %#llx has unknown flags\n", (long long)cap);

	/* every advertised flag works, every known one not advertised fails */
	for (uint32_t f = 1; f & KNOWN_FLAGS; f <<= 1) {
		int ret = __drm_userptr_create(fd, buf, 4 * PAGE_SZ,
					       f | DRM_USERPTR_VALIDATE, &handle);

		if (cap & f) {
			igt_assert_f(ret == 0, "flag %#x advertised but refused: %d\n",
				     f, ret);
			gem_close(fd, handle);
		} else {
			igt_assert_f(ret == -EOPNOTSUPP,
				     "flag %#x not advertised, got %d\n", f, ret);
		}
	}

	/* unknown flags and core argument checks: the same on every driver */
	igt_assert_eq(__drm_userptr_create(fd, buf, PAGE_SZ, 1u << 31, NULL),
		      -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf, 0, 0, NULL), -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, buf + 8, PAGE_SZ, 0, NULL),
		      -EINVAL);
	igt_assert_eq(__drm_userptr_create(fd, NULL, PAGE_SZ, 0, NULL), -EFAULT);

out:
	munmap(buf, 4 * PAGE_SZ);
	close(fd);
}

static struct node nodes[16];
static int count;

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

igt_main
{
	igt_fixture
		count = find_render_nodes(nodes, ARRAY_SIZE(nodes));

	igt_describe("DRM_CAP_USERPTR is consistent with DRM_IOCTL_USERPTR_CREATE on every render node.");
	igt_subtest_with_dynamic("getcap") {
		igt_require_f(count > 0, "no DRM render nodes\n");
		for (int i = 0; i < count; i++) {
			char name[48];

			dynamic_name(name, sizeof(name), i);
			igt_dynamic(name)
				check_node(&nodes[i]);
		}
	}

	igt_describe("A driver advertising DRM_CAP_USERPTR is reachable: vsvm implements it.");
	igt_subtest("getcap-vsvm") {
		int fd = drm_open_vsvm();

		igt_assert_f(get_cap(fd) > 0,
			     "vsvm does not advertise DRM_CAP_USERPTR\n");
		close(fd);
	}
}
