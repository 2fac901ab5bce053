/* SPDX-License-Identifier: MIT */
/*
 * Open a DRM render node by driver name. The guest may have several DRM
 * devices (vsvm, radeon on QEMU's ati-vga), in any order, so the programs
 * the rig builds never assume renderD128.
 */
#ifndef DRM_RENDER_NODE_H
#define DRM_RENDER_NODE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm/drm.h>

/* Returns an fd of the first render node of @driver, or -1 with ENODEV. */
static inline int drm_open_render_node(const char *driver)
{
	char path[32], name[32];
	struct drm_version v;
	int i, fd;

	for (i = 128; i < 192; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, driver)) {
			printf("%s: %s\n", driver, path);
			return fd;
		}
		close(fd);
	}
	errno = ENODEV;
	return -1;
}

#endif
