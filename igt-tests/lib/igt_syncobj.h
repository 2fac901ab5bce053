/* SPDX-License-Identifier: MIT */
/*
 * Declarations of the IGT 1.27.1 syncobj helpers (lib/igt_syncobj.c in
 * igt-gpu-tools, exported by libigt.so.0) that our tests use. Like the
 * upstream header, tests include it next to "igt.h". See igt.h for the
 * rules of these declaration headers.
 */
#ifndef DRM_SVM_IGT_SYNCOBJ_H
#define DRM_SVM_IGT_SYNCOBJ_H

#include <stdbool.h>
#include <stdint.h>

#include <drm.h>

uint32_t syncobj_create(int fd, uint32_t flags);
void syncobj_destroy(int fd, uint32_t handle);
int syncobj_handle_to_fd(int fd, uint32_t handle, uint32_t flags);
void syncobj_import_sync_file(int fd, uint32_t handle, int sync_file);
int syncobj_wait_err(int fd, uint32_t *handles, uint32_t count,
		     uint64_t abs_timeout_nsec, uint32_t flags);
bool syncobj_wait(int fd, uint32_t *handles, uint32_t count,
		  uint64_t abs_timeout_nsec, uint32_t flags,
		  uint32_t *first_signaled);

#endif /* DRM_SVM_IGT_SYNCOBJ_H */
