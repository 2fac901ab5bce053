/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests of vsvm, the virtual SVM GPU, and of the generic DRM
 * userptr IOCTL (DRM_IOCTL_USERPTR_CREATE / DRM_CAP_USERPTR).
 *
 * Written as it would land in igt-gpu-tools' lib/ (igt_vsvm.c/h), using
 * only IGT 1.27.1 API.
 */
#ifndef IGT_VSVM_H
#define IGT_VSVM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "drm.h"
#include "vsvm_drm.h"

/*
 * The generic userptr uapi is added to drm.h by our kernel series; until the
 * installed drm.h has it, use this copy (uapi/README.md, same numbers).
 */
#ifndef DRM_IOCTL_USERPTR_CREATE
#define DRM_CAP_USERPTR			0x16
#define DRM_USERPTR_READ_ONLY		(1 << 0)
#define DRM_USERPTR_ANON_ONLY		(1 << 1)
#define DRM_USERPTR_VALIDATE		(1 << 2)
struct drm_userptr_create {
	__u64 addr;
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 pad;
};
#define DRM_IOCTL_USERPTR_CREATE	DRM_IOWR(0xD3, struct drm_userptr_create)
#endif

/* Device */
bool is_vsvm_device(int fd);
int __drm_open_vsvm(void);
int drm_open_vsvm(void);

/* Generic userptr (any driver) */
uint64_t drm_userptr_cap(int fd);
int __drm_userptr_create(int fd, const void *ptr, uint64_t size,
			 uint32_t flags, uint32_t *handle);
int __drm_userptr_create_pad(int fd, uint64_t addr, uint64_t size,
			     uint32_t flags, uint64_t pad, uint32_t *handle);
uint32_t drm_userptr_create(int fd, const void *ptr, uint64_t size,
			    uint32_t flags);
int __gem_close_handle(int fd, uint32_t handle);

/* vsvm objects and VM */
uint32_t vsvm_gem_create(int fd, uint64_t size);
void *vsvm_gem_mmap(int fd, uint32_t handle, uint64_t size);
int __vsvm_vm_bind(int fd, uint32_t handle, uint64_t bo_offset, uint64_t va,
		   uint64_t range, uint32_t flags);
void vsvm_vm_bind(int fd, uint32_t handle, uint64_t bo_offset, uint64_t va,
		  uint64_t range, uint32_t flags);
int __vsvm_vm_unbind(int fd, uint64_t va, uint64_t range);
void vsvm_vm_unbind(int fd, uint64_t va, uint64_t range);

/* A trivial GPU VA allocator (per test, never frees). */
uint64_t vsvm_va_alloc(uint64_t size);

/* Jobs */
struct drm_vsvm_cmd vsvm_cmd_copy(uint64_t dst, uint64_t src, uint64_t size);
struct drm_vsvm_cmd vsvm_cmd_fill(uint64_t dst, uint64_t size, uint32_t value);
struct drm_vsvm_cmd vsvm_cmd_checksum(uint64_t dst, uint64_t src,
				      uint64_t size);
struct drm_vsvm_cmd vsvm_cmd_delay(uint64_t usecs);

int __vsvm_exec(int fd, const struct drm_vsvm_cmd *cmds, unsigned int count,
		uint32_t in_syncobj, uint32_t out_syncobj, uint64_t *seqno);
uint32_t vsvm_exec(int fd, const struct drm_vsvm_cmd *cmds,
		   unsigned int count);
int vsvm_job_wait(int fd, uint32_t syncobj, int64_t timeout_ns);
/* Submit and wait: EXEC's error, else the job's (fence or user fence). */
int vsvm_exec_sync(int fd, const struct drm_vsvm_cmd *cmds,
		   unsigned int count);

/*
 * Long-running jobs (files in SVM mode): no out-fence, a user fence
 * written by the engine at completion, and DRM_IOCTL_VSVM_WAIT_UFENCE.
 */
int __vsvm_exec_ufence(int fd, const struct drm_vsvm_cmd *cmds,
		       unsigned int count, uint32_t in_syncobj,
		       volatile uint64_t *ufence, uint64_t value,
		       uint64_t *seqno);
int __vsvm_wait_ufence(int fd, volatile uint64_t *addr, uint64_t value,
		       int64_t timeout_ns);
int vsvm_job_error(int fd, uint64_t seqno);
bool vsvm_fd_is_svm(int fd);

void vsvm_get_stats(int fd, struct drm_vsvm_get_stats *stats);

/* SVM mode: GPU VAs not bound in the VM are CPU addresses of the caller. */
int __vsvm_svm_enable(int fd, uint32_t chunk_sizes, uint32_t flags,
		      uint64_t pad);
void vsvm_svm_enable(int fd, uint32_t chunk_sizes);
struct drm_vsvm_cmd vsvm_cmd_prefetch(uint64_t addr, uint64_t size,
				      uint32_t flags);

/* CPU reference for DRM_VSVM_OP_CHECKSUM (FNV-1a over LE 32-bit words). */
uint64_t vsvm_checksum(const void *ptr, uint64_t size);
void vsvm_pattern(void *ptr, uint64_t size, uint32_t seed);

/* Staging buffer (shmem object bound in the VM, CPU mapped). */
struct vsvm_bo {
	uint32_t handle;
	uint64_t size;
	uint64_t va;
	void *map;
};
void vsvm_bo_create(int fd, struct vsvm_bo *bo, uint64_t size);
void vsvm_bo_destroy(int fd, struct vsvm_bo *bo);

/* Userptr object bound in the VM. */
struct vsvm_uptr {
	uint32_t handle;
	void *ptr;
	uint64_t size;
	uint64_t va;
	uint32_t flags;
};
void vsvm_uptr_create(int fd, struct vsvm_uptr *u, void *ptr, uint64_t size,
		      uint32_t flags);
void vsvm_uptr_destroy(int fd, struct vsvm_uptr *u);

/* GPU reads: checksum of [va, va + size) into the staging bo at @off. */
int vsvm_gpu_checksum(int fd, uint64_t va, uint64_t size,
		      struct vsvm_bo *out, uint64_t off, uint64_t *result);
int vsvm_gpu_fill(int fd, uint64_t va, uint64_t size, uint32_t value);

/* CPU-side memory helpers shared by the userptr and SVM tests. */
void *vsvm_mmap_anon(uint64_t size, int prot);
void vsvm_remap_fixed(void *addr, uint64_t size);
bool vsvm_all_words(const void *ptr, uint64_t size, uint32_t v);
bool vsvm_read_file(const char *path, char *buf, size_t len);
bool vsvm_write_file(const char *path, const char *val);
void vsvm_mprotect_round_trip(void *p);
int vsvm_kernel_major(void);
long vsvm_anon_huge_kb(void *addr);
int vsvm_tmp_file(uint64_t size);
void vsvm_wait_pipe(int p);
void vsvm_kick_pipe(int p);

#endif /* IGT_VSVM_H */
