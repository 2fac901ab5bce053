/* SPDX-License-Identifier: MIT */
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#ifndef _UAPI_VSVM_DRM_H_
#define _UAPI_VSVM_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: vsvm uapi
 *
 * vsvm is a virtual GPU with a software engine. Each open file of its render
 * node has its own GPU virtual address space (the "VM") and its own engine
 * queue, which executes jobs in submission order.
 *
 * Memory the engine can reach is bound into the VM with
 * &DRM_IOCTL_VSVM_VM_BIND:
 *
 * - shmem objects from &DRM_IOCTL_VSVM_GEM_CREATE, which the CPU maps through
 *   &DRM_IOCTL_VSVM_GEM_MMAP_OFFSET and mmap() of the render node;
 * - userptr objects from the generic &DRM_IOCTL_USERPTR_CREATE (see
 *   &DRM_CAP_USERPTR in drm.h), which mirror the creating process's memory
 *   through the kernel's drm_svm helper.
 *
 * Jobs are submitted with &DRM_IOCTL_VSVM_EXEC: a list of
 * &struct drm_vsvm_cmd (copy, fill, checksum, delay) executed in order. A job
 * runs asynchronously; its completion is a dma_fence that is installed into
 * an optional syncobj, so userspace waits with &DRM_IOCTL_SYNCOBJ_WAIT.
 *
 * Userptr invalidation policy: the engine validates a userptr object's pages
 * right before it touches them, and holds the mirror's notifier lock (for
 * read) while it touches them, in chunks of at most
 * &DRM_VSVM_CHUNK_PAGES pages; an invalidation (munmap, mprotect, remap,
 * COW break, migration, ...) waits for the chunk in flight to finish. A job
 * whose userptr was invalidated after submission (or while it runs) is
 * revalidated when it touches the pages again: it faults the range in
 * again and proceeds with whatever is mapped there now, so it never reads
 * or writes stale pages. If the range cannot be faulted in any more (it was
 * unmapped, made read-only for a writable object, replaced by a file mapping
 * for an anonymous-only object, or the creating process exited), the job
 * stops at that command and fails: its fence is signalled with the error
 * (-EFAULT, -EPERM, -ESRCH, -ENOMEM or -ETIMEDOUT when the range kept being
 * invalidated for &DRM_VSVM_VALIDATE_TIMEOUT_MS), the commands before it
 * have taken effect, and &drm_vsvm_get_stats.jobs_failed is incremented.
 * A failed job does not stop later jobs.
 *
 * Lifetime: a job holds references to the objects it uses, so closing a GEM
 * handle, unbinding, or closing the file while a job runs is safe; the job
 * still completes (closing the file does not wait for it).
 */

/*
 * vsvm IOCTL numbers, relative to DRM_COMMAND_BASE.
 * 0x06 is reserved for the SVM mode (mirroring the whole process address
 * space at GPU VA == CPU VA, with GPU page faults), not implemented yet.
 */
#define DRM_VSVM_GEM_CREATE		0x00
#define DRM_VSVM_GEM_MMAP_OFFSET	0x01
#define DRM_VSVM_VM_BIND		0x02
#define DRM_VSVM_VM_UNBIND		0x03
#define DRM_VSVM_EXEC			0x04
#define DRM_VSVM_GET_STATS		0x05
#define DRM_VSVM_RESERVED_SVM		0x06

/** DRM_VSVM_VA_START - lowest GPU virtual address that can be bound. */
#define DRM_VSVM_VA_START		0x100000ull
/** DRM_VSVM_VA_END - GPU virtual addresses are below this (48 bits). */
#define DRM_VSVM_VA_END			(1ull << 48)
/** DRM_VSVM_MAX_CMDS - maximum number of commands in one job. */
#define DRM_VSVM_MAX_CMDS		256
/** DRM_VSVM_CHUNK_PAGES - pages the engine touches per notifier lock hold. */
#define DRM_VSVM_CHUNK_PAGES		64
/**
 * DRM_VSVM_VALIDATE_TIMEOUT_MS - how long the engine keeps retrying to
 * validate a userptr range that keeps being invalidated.
 */
#define DRM_VSVM_VALIDATE_TIMEOUT_MS	5000
/** DRM_VSVM_MAX_DELAY_US - longest &DRM_VSVM_OP_DELAY. */
#define DRM_VSVM_MAX_DELAY_US		1000000

/**
 * struct drm_vsvm_gem_create - argument of &DRM_IOCTL_VSVM_GEM_CREATE
 *
 * Creates a zero-filled shmem GEM object (a "staging buffer").
 *
 * Errors: -EINVAL if @flags or @pad is non-zero or @size is zero;
 * -ENOMEM if out of memory. @size is rounded up to the page size.
 */
struct drm_vsvm_gem_create {
	/** @size: in: size in bytes; out: size rounded up to a page. */
	__u64 size;
	/** @flags: must be zero. */
	__u32 flags;
	/** @handle: out: GEM handle. */
	__u32 handle;
};

/**
 * struct drm_vsvm_gem_mmap_offset - argument of
 * &DRM_IOCTL_VSVM_GEM_MMAP_OFFSET
 *
 * Returns the fake offset to pass to mmap() on the DRM file to map a
 * shmem object into the CPU's address space.
 *
 * Errors: -ENOENT unknown handle; -EINVAL non-zero @pad, or @handle is a
 * userptr object (the CPU already maps it).
 */
struct drm_vsvm_gem_mmap_offset {
	/** @handle: GEM handle of a shmem object. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @offset: out: mmap offset. */
	__u64 offset;
};

/**
 * DRM_VSVM_BIND_READ_ONLY - the engine may not write through this mapping.
 */
#define DRM_VSVM_BIND_READ_ONLY		(1 << 0)

/**
 * struct drm_vsvm_vm_bind - argument of &DRM_IOCTL_VSVM_VM_BIND
 *
 * Maps @range bytes of a GEM object, starting at @bo_offset, at GPU
 * virtual address @va of the file's VM. The mapping holds a reference to
 * the object until it is unbound or the file is closed. A userptr object
 * created with &DRM_USERPTR_READ_ONLY is always mapped read-only. Binding
 * does not fault in a userptr object's pages: the engine does that when a
 * job touches them.
 *
 * Errors:
 *
 * - -EINVAL: unknown @flags; @va, @range or @bo_offset not page aligned;
 *   @range zero; ``@bo_offset + @range`` beyond the object; ``[@va,
 *   @va + @range)`` not inside [&DRM_VSVM_VA_START, &DRM_VSVM_VA_END).
 * - -ENOENT: unknown @handle.
 * - -EEXIST: the range overlaps an existing mapping.
 * - -ENOMEM: out of memory.
 */
struct drm_vsvm_vm_bind {
	/** @handle: GEM handle (shmem or userptr object). */
	__u32 handle;
	/** @flags: ``DRM_VSVM_BIND_*``. */
	__u32 flags;
	/** @bo_offset: offset into the object, page aligned. */
	__u64 bo_offset;
	/** @va: GPU virtual address, page aligned. */
	__u64 va;
	/** @range: size in bytes, page aligned, non-zero. */
	__u64 range;
};

/**
 * struct drm_vsvm_vm_unbind - argument of &DRM_IOCTL_VSVM_VM_UNBIND
 *
 * Removes the mapping that starts at @va. Jobs already submitted keep
 * using it until they complete.
 *
 * Errors: -EINVAL non-zero @pad, or @range does not match the mapping's
 * size; -ENOENT no mapping starts at @va.
 */
struct drm_vsvm_vm_unbind {
	/** @va: GPU virtual address where the mapping starts. */
	__u64 va;
	/** @range: size of the mapping, as passed to VM_BIND. */
	__u64 range;
	/** @pad: must be zero. */
	__u64 pad;
};

/**
 * enum drm_vsvm_op - engine commands, &drm_vsvm_cmd.op
 *
 * @DRM_VSVM_OP_COPY: copy @size bytes from GPU VA @src to GPU VA @dst
 *	(byte granularity; the ranges should not overlap: overlapping copies
 *	are done front to back in chunks).
 * @DRM_VSVM_OP_FILL: fill @size bytes at @dst with the 32-bit pattern in
 *	the low 32 bits of @value (little endian). @dst and @size must be
 *	multiples of 4.
 * @DRM_VSVM_OP_CHECKSUM: compute the 64-bit FNV-1a hash over the @size
 *	bytes at @src taken as little-endian 32-bit words (h = 0xcbf29ce484222325;
 *	for each word w: h ^= w; h *= 0x100000001b3), and write it as a
 *	little-endian __u64 at GPU VA @dst. @src and @size must be multiples
 *	of 4, @dst a multiple of 8.
 * @DRM_VSVM_OP_DELAY: sleep @value microseconds (at most
 *	&DRM_VSVM_MAX_DELAY_US) without touching memory; makes a job "busy"
 *	for tests. @src, @dst and @size must be zero.
 */
enum drm_vsvm_op {
	DRM_VSVM_OP_COPY = 1,
	DRM_VSVM_OP_FILL = 2,
	DRM_VSVM_OP_CHECKSUM = 3,
	DRM_VSVM_OP_DELAY = 4,
};

/**
 * struct drm_vsvm_cmd - one engine command
 *
 * See &enum drm_vsvm_op for what each field means for each command.
 */
struct drm_vsvm_cmd {
	/** @op: &enum drm_vsvm_op. */
	__u32 op;
	/** @flags: must be zero. */
	__u32 flags;
	/** @src: source GPU VA (COPY, CHECKSUM), else zero. */
	__u64 src;
	/** @dst: destination GPU VA (COPY, FILL, CHECKSUM result). */
	__u64 dst;
	/** @size: bytes to process; non-zero except for DELAY. */
	__u64 size;
	/** @value: FILL pattern (low 32 bits), DELAY microseconds. */
	__u64 value;
};

/**
 * struct drm_vsvm_exec - argument of &DRM_IOCTL_VSVM_EXEC
 *
 * Submits a job: @num_cmds commands executed in order by the file's
 * engine, after the jobs submitted before it on the same file and, if
 * @in_syncobj is set, after the fence in that syncobj signals. Every GPU
 * VA range a command touches must be covered by mappings at submission
 * time; the job takes references to those mappings (and their objects).
 *
 * When the job completes, its fence signals; if @out_syncobj is set the
 * fence replaces the syncobj's fence at submission. A job that fails at
 * execution (see "Userptr invalidation policy" above) signals its fence
 * with an error: &DRM_IOCTL_SYNCOBJ_WAIT still succeeds, the error is
 * visible in &drm_vsvm_get_stats.jobs_failed and through sync_file status
 * of an exported fence.
 *
 * Errors (nothing is queued):
 *
 * - -EINVAL: non-zero @flags, @num_cmds zero or above &DRM_VSVM_MAX_CMDS,
 *   unknown op or non-zero command flags, a size or alignment rule of
 *   &enum drm_vsvm_op broken, a range that wraps around.
 * - -EACCES: a command writes to a read-only mapping.
 * - -EFAULT: @cmds cannot be read, or a command touches a GPU VA that is
 *   not mapped.
 * - -ENOENT: @in_syncobj or @out_syncobj is not a syncobj handle.
 * - -ENOMEM: out of memory.
 */
struct drm_vsvm_exec {
	/** @cmds: user pointer to an array of &struct drm_vsvm_cmd. */
	__u64 cmds;
	/** @num_cmds: number of commands. */
	__u32 num_cmds;
	/** @flags: must be zero. */
	__u32 flags;
	/** @in_syncobj: syncobj to wait for before running, or 0. */
	__u32 in_syncobj;
	/** @out_syncobj: syncobj that receives the job's fence, or 0. */
	__u32 out_syncobj;
	/** @seqno: out: the job's sequence number on this file (from 1). */
	__u64 seqno;
};

/**
 * struct drm_vsvm_get_stats - argument of &DRM_IOCTL_VSVM_GET_STATS
 *
 * Per-file counters, all monotonic since the file was opened. They count
 * work done on behalf of this file's jobs and userptr objects.
 *
 * Errors: -EINVAL if @flags is non-zero.
 */
struct drm_vsvm_get_stats {
	/** @flags: must be zero. */
	__u32 flags;
	/** @pad: out: zero. */
	__u32 pad;
	/**
	 * @faults: times a userptr range was faulted in (validated) with
	 * drm_svm get_pages: at USERPTR_CREATE with VALIDATE, or by the
	 * engine because the range was not valid when a job touched it.
	 */
	__u64 faults;
	/**
	 * @revalidations: the subset of @faults on a range that had been
	 * valid before and was invalidated since.
	 */
	__u64 revalidations;
	/**
	 * @invalidations: invalidation callbacks received for this file's
	 * userptr ranges (munmap, mprotect, remap, COW, exit ...).
	 */
	__u64 invalidations;
	/**
	 * @retries: times the engine found a range invalid again right
	 * after faulting it in (it raced with an invalidation) and retried.
	 */
	__u64 retries;
	/** @jobs_submitted: jobs accepted by &DRM_IOCTL_VSVM_EXEC. */
	__u64 jobs_submitted;
	/** @jobs_completed: jobs whose fence signalled, failed or not. */
	__u64 jobs_completed;
	/** @jobs_failed: jobs whose fence signalled with an error. */
	__u64 jobs_failed;
	/** @bytes_accessed: bytes of userptr memory the engine touched. */
	__u64 bytes_accessed;
	/** @reserved: out: zero, for future counters. */
	__u64 reserved[8];
};

#define DRM_IOCTL_VSVM_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VSVM_GEM_CREATE, \
		 struct drm_vsvm_gem_create)
#define DRM_IOCTL_VSVM_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VSVM_GEM_MMAP_OFFSET, \
		 struct drm_vsvm_gem_mmap_offset)
#define DRM_IOCTL_VSVM_VM_BIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VSVM_VM_BIND, struct drm_vsvm_vm_bind)
#define DRM_IOCTL_VSVM_VM_UNBIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VSVM_VM_UNBIND, \
		struct drm_vsvm_vm_unbind)
#define DRM_IOCTL_VSVM_EXEC \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VSVM_EXEC, struct drm_vsvm_exec)
#define DRM_IOCTL_VSVM_GET_STATS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VSVM_GET_STATS, \
		 struct drm_vsvm_get_stats)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VSVM_DRM_H_ */
