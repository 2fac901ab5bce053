/* SPDX-License-Identifier: MIT */
/*
 * Declarations of the IGT 1.27.1 sync_file helpers (lib/sw_sync.c in
 * igt-gpu-tools, exported by libigt.so.0) that our tests use. Like the
 * upstream header, tests include it next to "igt.h".
 */
#ifndef DRM_SVM_SW_SYNC_H
#define DRM_SVM_SW_SYNC_H

#include <stdint.h>

void igt_require_sw_sync(void);
int sw_sync_timeline_create(void);
int sw_sync_timeline_create_fence(int timeline, uint32_t seqno);
void sw_sync_timeline_inc(int timeline, uint32_t count);

/* 0 once signalled, -errno (-ETIME on timeout) otherwise */
int sync_fence_wait(int fence, int timeout);
/* 1 signalled, 0 pending, -errno: signalled with that error */
int sync_fence_status(int fence);

#endif /* DRM_SVM_SW_SYNC_H */
