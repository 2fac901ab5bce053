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
 *   through the kernel's drm_gpusvm helper.
 *
 * Jobs are submitted with &DRM_IOCTL_VSVM_EXEC: a list of
 * &struct drm_vsvm_cmd (copy, fill, checksum, delay, prefetch) executed in
 * order. Each open file has its own queue (a DRM GPU scheduler entity with
 * its own scheduler): the jobs of one file run one at a time in submission
 * order, jobs of different files run independently, so a file with a long
 * queue does not delay another file's jobs. At most
 * &DRM_VSVM_MAX_JOBS_IN_FLIGHT jobs of a file are queued or running at a
 * time; EXEC beyond that fails with -EAGAIN (it does not block; libdrm's
 * drmIoctl() retries -EAGAIN, so through it EXEC polls until a job of the
 * file completes). Job memory is charged to the submitter's memory cgroup.
 *
 * There are two kinds of jobs, chosen by the file's mode:
 *
 * - **dma-fence jobs** (SVM mode off, the default). The job's completion is
 *   a dma_fence, installed into an optional syncobj, so userspace waits with
 *   &DRM_IOCTL_SYNCOBJ_WAIT and may export it as a sync_file to any other
 *   driver. Because other drivers and memory reclaim may wait for that
 *   fence, such a job never faults: EXEC faults in ("validates") every
 *   userptr object the job uses before the fence exists, and reports the
 *   errors of doing so itself (-EFAULT, -EPERM, -ESRCH, -ENOMEM). Then,
 *   under the mirror's notifier lock, it checks that none of those ranges
 *   was invalidated in the meantime and publishes the job and its fence;
 *   if one was, it validates again, a bounded number of times, then fails
 *   with -EAGAIN (call EXEC again). An invalidation of a userptr range
 *   (munmap, mprotect, remap, COW break, migration, exit ...) waits for the
 *   fences of the submitted jobs that use the object, so such a job always
 *   sees the pages that were mapped when it was submitted, and the CPU-side
 *   change completes after the job. The job may still fail at execution
 *   (with its fence error) only because of its in-fence's error.
 * - **long-running jobs** (after &DRM_IOCTL_VSVM_SVM_ENABLE, see "vsvm SVM
 *   mode"). These jobs take GPU page faults, which may allocate memory and
 *   wait for the CPU's mm, so their completion is never a dma_fence: EXEC
 *   refuses an out-syncobj with -EOPNOTSUPP. Completion is reported through
 *   a user fence instead: the engine writes &drm_vsvm_exec.ufence_value to
 *   the 64-bit word at &drm_vsvm_exec.ufence_addr when the job completes,
 *   and &DRM_IOCTL_VSVM_WAIT_UFENCE waits for it with a timeout. Userptr
 *   objects used by such jobs are faulted in by the engine when it touches
 *   them, under the mirror's notifier lock, in chunks of at most
 *   &DRM_VSVM_CHUNK_PAGES pages; an invalidation waits for the chunk in
 *   flight, and the next chunk faults the range in again. A job that
 *   cannot fault an address in stops at that command: the commands before
 *   it have taken effect, &drm_vsvm_get_stats.jobs_failed is incremented
 *   and the error is reported in &drm_vsvm_get_stats.last_error.
 *
 * In both kinds, a failed job does not stop later jobs, and an in-fence
 * (&drm_vsvm_exec.in_syncobj) is waited for without a time limit: a job
 * whose in-fence never signals never runs, and neither do the jobs queued
 * behind it on the same file (an invalidation of a userptr it uses waits
 * for it as well). A killed process's queued jobs are dropped: when the
 * file is closed by a process that was killed with SIGKILL, the jobs not
 * yet started are cancelled (their fences signal with -ESRCH). Otherwise
 * closing the file does not wait: queued jobs still run.
 *
 * Userptr objects are usable only by the process that created them: an
 * object mirrors its creator's mm, and any other process (a forked child
 * that inherited the file, one that received it over a UNIX socket, or
 * one that opened the object by name) gets -EPERM when it submits a job
 * using it, and when it opens, flinks or exports it.
 *
 * Lifetime: a job holds references to the objects it uses, so closing a GEM
 * handle, unbinding, or closing the file while a job runs is safe; the job
 * still completes (closing the file does not wait for it).
 */

/**
 * DOC: vsvm SVM mode
 *
 * &DRM_IOCTL_VSVM_SVM_ENABLE turns on shared virtual memory for a file:
 * from then on, every GPU virtual address of the file's VM that is not
 * covered by a &DRM_IOCTL_VSVM_VM_BIND mapping is the same address in the
 * CPU address space (the mm) of the process that enabled SVM. The GPU then
 * uses malloc()ed, mmap()ed (anonymous, shared, file-backed) memory
 * directly, by pointer; bound objects keep working beside it and win where
 * they overlap.
 *
 * The memory is mirrored through the kernel's drm_gpusvm helper: the first
 * GPU access to an address without a valid mirror range is a "GPU page
 * fault". The engine resolves it by creating a range of the largest
 * enabled chunk size (2M, 64K, 4K) that, aligned on its size, fits inside
 * the CPU mapping (VMA) of the address and overlaps no other range,
 * faulting its pages in, and "writing its GPU page tables" (recording that
 * the range is usable). Later accesses to the range do not fault until the
 * CPU side invalidates it (munmap, mprotect, MAP_FIXED remap, madvise
 * DONTNEED, fork's copy-on-write, migration, exit). Unmapped ranges are
 * garbage-collected; a fault in a partially unmapped range rebuilds it for
 * what is mapped now. &DRM_VSVM_OP_PREFETCH faults a range in without
 * touching data; since it says how much the GPU is about to use, its
 * faults may create ranges larger than 2M, up to 64M, inside its span
 * rounded out to 2M (a partial munmap or mprotect of such a range has the
 * whole range collected). The engine accesses mirrored pages as for
 * userptr objects: with the mirror's notifier lock held for read, at most
 * &DRM_VSVM_CHUNK_PAGES pages and one range per hold, so an invalidation
 * waits for the access in flight and the next access sees the new pages.
 *
 * Jobs of a file in SVM mode are long-running jobs (see "vsvm uapi"): they
 * have no dma_fence; completion is the user fence of &struct drm_vsvm_exec.
 * A job fails, at the command that touches the address, with one of these
 * errors, reported in &drm_vsvm_get_stats.last_error
 * (&drm_vsvm_get_stats.jobs_failed is incremented, the commands before it
 * have taken effect, later jobs run):
 *
 * - -EFAULT: nothing is mapped at the address, the mapping has no read
 *   permission (PROT_NONE), is VM_IO/VM_PFNMAP, or a page cannot be faulted
 *   in (e.g. beyond the end of a file); addresses at or above the user
 *   address space limit.
 * - -EPERM: the command writes to a mapping without write permission.
 * - -ESRCH: the process that enabled SVM has exited.
 * - -ENOMEM: out of memory.
 * - -ETIMEDOUT: the range kept being invalidated for
 *   &DRM_VSVM_VALIDATE_TIMEOUT_MS.
 *
 * Commands are not all-or-nothing on SVM memory: a FILL or COPY whose
 * destination reaches a read-only (or unmapped) page fails there, after it
 * has written the pages before it (in address order); a CHECKSUM writes
 * its result only if it read everything. (For userptr objects, writes to
 * read-only objects are refused at EXEC, and a dma-fence job cannot fail
 * half-way.)
 *
 * SVM is bound to one mm: a job submitted on the file by another process
 * (a forked child sharing the file, or one that received it) cannot use
 * SVM addresses: &DRM_IOCTL_VSVM_EXEC fails with -EFAULT as if SVM were
 * not enabled (its own user fences work). A child that wants SVM opens the
 * device and enables it itself. SVM stays enabled until the file is
 * closed.
 */

/* vsvm IOCTL numbers, relative to DRM_COMMAND_BASE. */
#define DRM_VSVM_GEM_CREATE		0x00
#define DRM_VSVM_GEM_MMAP_OFFSET	0x01
#define DRM_VSVM_VM_BIND		0x02
#define DRM_VSVM_VM_UNBIND		0x03
#define DRM_VSVM_EXEC			0x04
#define DRM_VSVM_GET_STATS		0x05
#define DRM_VSVM_SVM_ENABLE		0x06
#define DRM_VSVM_WAIT_UFENCE		0x07

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
 * DRM_VSVM_MAX_JOBS_IN_FLIGHT - jobs of one file that may be queued or
 * running at once; &DRM_IOCTL_VSVM_EXEC fails with -EAGAIN beyond.
 */
#define DRM_VSVM_MAX_JOBS_IN_FLIGHT	256

/**
 * struct drm_vsvm_gem_create - argument of &DRM_IOCTL_VSVM_GEM_CREATE
 *
 * Creates a zero-filled shmem GEM object (a "staging buffer").
 *
 * Errors: -EINVAL if @flags is non-zero, or @size is zero or larger than
 * the GPU address space; -ENOMEM if out of memory, or if @size is larger
 * than the machine's RAM (binding pins the whole object). @size is
 * rounded up to the page size.
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
 * - -ENOMEM: out of memory; for a shmem object, also when the object is
 *   larger than the memory available now. Binding pins a shmem object's
 *   pages: they are charged to the caller's memory cgroup, and a failing
 *   allocation or charge returns -ENOMEM rather than invoking the OOM
 *   killer.
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
 * @DRM_VSVM_OP_PREFETCH: fault the SVM memory of [@dst, @dst + @size) in,
 *	range by range, without touching data (see "vsvm SVM mode"); parts
 *	covered by bound mappings are skipped, but like any command that
 *	writes, &DRM_VSVM_PREFETCH_WRITE over a read-only bound mapping is
 *	refused by EXEC with -EACCES. @value is 0, or
 *	&DRM_VSVM_PREFETCH_WRITE to fault for writing (which fails on
 *	read-only memory, as a write would). @src must be zero.
 * @DRM_VSVM_OP_ATOMIC_ADD: atomically add the low 32 bits of @value to the
 *	little-endian 32-bit word at SVM address @dst (a multiple of 4), as a
 *	GPU atomic does: the page is made exclusive to the device for the
 *	access (the CPU's next touch takes it back), as nouveau's atomic
 *	fault does. Only on SVM memory of anonymous private mappings: EXEC
 *	refuses it with -EINVAL when a bound mapping covers @dst (or SVM is
 *	off, as for any SVM access: -EFAULT); the job fails with -EPERM on a
 *	read-only mapping and -EFAULT where the page cannot be made
 *	exclusive (file-backed or shared memory, or a page of a transparent
 *	huge page). @src and @size must be zero.
 */
enum drm_vsvm_op {
	DRM_VSVM_OP_COPY = 1,
	DRM_VSVM_OP_FILL = 2,
	DRM_VSVM_OP_CHECKSUM = 3,
	DRM_VSVM_OP_DELAY = 4,
	DRM_VSVM_OP_PREFETCH = 5,
	DRM_VSVM_OP_ATOMIC_ADD = 6,
};

/** DRM_VSVM_PREFETCH_WRITE - &DRM_VSVM_OP_PREFETCH faults for writing. */
#define DRM_VSVM_PREFETCH_WRITE		(1 << 0)

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
	/** @dst: destination GPU VA (COPY, FILL, CHECKSUM result, PREFETCH). */
	__u64 dst;
	/** @size: bytes to process; non-zero except for DELAY. */
	__u64 size;
	/**
	 * @value: FILL pattern (low 32 bits), DELAY microseconds, PREFETCH
	 * flags.
	 */
	__u64 value;
};

/**
 * struct drm_vsvm_exec - argument of &DRM_IOCTL_VSVM_EXEC
 *
 * Submits a job: @num_cmds commands executed in order by the file's
 * queue, after the jobs submitted before it on the same file and, if
 * @in_syncobj is set, after the fence in that syncobj signals. Every GPU
 * VA range a command touches must be covered by mappings at submission
 * time, unless SVM is enabled (see "vsvm SVM mode"): then the parts that
 * are not are SVM memory, checked when the job runs. The job takes
 * references to those mappings (and their objects) and to the SVM mirror.
 * See "vsvm uapi" for the two kinds of jobs.
 *
 * Without SVM mode (dma-fence jobs), the userptr objects the job uses are
 * validated here, and the job's fence replaces @out_syncobj's fence if
 * @out_syncobj is set. A job whose in-fence signalled with an error fails
 * with that error in its fence: &DRM_IOCTL_SYNCOBJ_WAIT still succeeds,
 * the error is visible through the sync_file status of an exported fence
 * and in &drm_vsvm_get_stats. @ufence_addr must be zero.
 *
 * In SVM mode (long-running jobs), @out_syncobj must be zero; when the job
 * completes, successfully or not, the engine stores @ufence_value into the
 * 64-bit word at CPU address @ufence_addr of the process that submitted
 * the job (if @ufence_addr is not zero), as a store by that process would
 * (with its permissions; any writable memory, SVM or not), then wakes
 * &DRM_IOCTL_VSVM_WAIT_UFENCE waiters. If that store fails (-EFAULT, or
 * -ESRCH once the process has exited), the job counts as failed with that
 * error. The store is not counted in &drm_vsvm_get_stats.bytes_accessed.
 *
 * Errors (nothing is queued):
 *
 * - -EINVAL: non-zero @flags, @num_cmds zero or above
 *   &DRM_VSVM_MAX_CMDS, unknown op or non-zero command flags, a size or
 *   alignment rule of &enum drm_vsvm_op broken, a range that wraps around;
 *   @ufence_addr not 8-byte aligned, or set without SVM mode.
 * - -EOPNOTSUPP: @out_syncobj set on a file in SVM mode.
 * - -EACCES: a command writes to a read-only mapping.
 * - -EFAULT: @cmds cannot be read, or a command touches a GPU VA that is
 *   not mapped, and SVM is not enabled on the file or was enabled by a
 *   process with another mm than the caller's; without SVM mode: a userptr
 *   object is (partly) unmapped, or ``VM_IO``/``VM_PFNMAP``.
 * - -EPERM: a userptr object the job uses was created by another process
 *   (another mm); without SVM mode: a writable userptr object over
 *   read-only memory, or an anonymous-only one over a file mapping.
 * - -ESRCH: without SVM mode: the creator of a userptr object has exited.
 * - -EAGAIN: &DRM_VSVM_MAX_JOBS_IN_FLIGHT jobs of the file are queued or
 *   running; or, without SVM mode, a userptr range kept being invalidated
 *   while EXEC validated it. Try again.
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
	/**
	 * @ufence_addr: SVM mode: CPU address (in the caller) of a 64-bit
	 * word that receives @ufence_value when the job completes, or 0;
	 * 8-byte aligned.
	 */
	__u64 ufence_addr;
	/** @ufence_value: value written to @ufence_addr. */
	__u64 ufence_value;
};

/**
 * DRM_VSVM_UFENCE_WAIT_ABSTIME - &drm_vsvm_wait_ufence.timeout_ns is an
 * absolute CLOCK_MONOTONIC time (Linux 7.3 vsvm and later)
 */
#define DRM_VSVM_UFENCE_WAIT_ABSTIME	(1 << 0)

/**
 * struct drm_vsvm_wait_ufence - argument of &DRM_IOCTL_VSVM_WAIT_UFENCE
 *
 * Waits until the 64-bit word at CPU address @addr of the caller is equal
 * to or greater than @value (unsigned), i.e. until a job submitted with
 * that &drm_vsvm_exec.ufence_addr and a &drm_vsvm_exec.ufence_value of
 * at least @value completed; see "vsvm uapi". The word is read with the
 * caller's permissions each time a job of the file completes. Works on any
 * file of the device, in SVM mode or not.
 *
 * Errors:
 *
 * - -EINVAL: unknown @flags, non-zero @pad; @addr zero or not 8-byte
 *   aligned; negative @timeout_ns.
 * - -EFAULT: @addr cannot be read.
 * - -ETIME: @timeout_ns passed first.
 * - -EINTR / -ERESTARTSYS: a signal arrived.
 */
struct drm_vsvm_wait_ufence {
	/** @addr: CPU address of the user fence word, 8-byte aligned. */
	__u64 addr;
	/** @value: wait until the word is at least this. */
	__u64 value;
	/**
	 * @timeout_ns: relative timeout in nanoseconds (0 only checks), or
	 * with &DRM_VSVM_UFENCE_WAIT_ABSTIME an absolute CLOCK_MONOTONIC
	 * time. A signal restarts the IOCTL with the same arguments, so only
	 * an absolute time bounds a wait that signals keep interrupting.
	 */
	__s64 timeout_ns;
	/** @flags: 0 or &DRM_VSVM_UFENCE_WAIT_ABSTIME. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_vsvm_get_stats - argument of &DRM_IOCTL_VSVM_GET_STATS
 *
 * Per-file counters, all monotonic since the file was opened (except
 * @svm_ranges_live, a current count). They count work done on behalf of
 * this file's jobs, userptr objects and SVM mirror; the ``svm_*`` counters
 * stay zero until &DRM_IOCTL_VSVM_SVM_ENABLE.
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
	 * drm_gpusvm_get_pages(): at USERPTR_CREATE with VALIDATE, or by the
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
	/** @jobs_completed: jobs that completed, failed or not. */
	__u64 jobs_completed;
	/** @jobs_failed: jobs that completed with an error. */
	__u64 jobs_failed;
	/**
	 * @bytes_accessed: bytes of userptr and SVM memory the engine
	 * touched.
	 */
	__u64 bytes_accessed;
	/**
	 * @svm_faults: GPU page faults: SVM accesses that found no valid
	 * mirror range and went through the drm_gpusvm fault path (including
	 * those that failed, and prefetches).
	 */
	__u64 svm_faults;
	/**
	 * @svm_faults_2m: mirror faults that faulted pages in for a range of
	 * 2 MiB; a 2M-aligned 2M piece of a mapping costs exactly one.
	 */
	__u64 svm_faults_2m;
	/** @svm_faults_64k: likewise for 64 KiB ranges. */
	__u64 svm_faults_64k;
	/**
	 * @svm_faults_4k: likewise for 4 KiB ranges. The larger ranges of a
	 * PREFETCH count in none of these three.
	 */
	__u64 svm_faults_4k;
	/** @svm_ranges_live: mirror ranges that exist now. */
	__u64 svm_ranges_live;
	/**
	 * @svm_ranges_collected: mirror ranges removed because they were
	 * unmapped (or no longer matched their mapping), by garbage
	 * collection or by the fault that rebuilt them.
	 */
	__u64 svm_ranges_collected;
	/**
	 * @svm_invalidations: invalidation callbacks received for mirror
	 * ranges from the CPU side (munmap, mprotect, remap, COW, exit ...).
	 */
	__u64 svm_invalidations;
	/** @reserved: out: zero, for a future counter. */
	__u64 reserved;
	/** @last_error_seqno: &drm_vsvm_exec.seqno of the last failed job. */
	__u64 last_error_seqno;
	/** @last_error: its error (a negative errno), or 0. */
	__s32 last_error;
	/** @pad2: out: zero. */
	__u32 pad2;
	/**
	 * @jobs_cancelled: queued jobs dropped because the process that
	 * closed the file was killed (counted in @jobs_failed too).
	 */
	__u64 jobs_cancelled;
	/*
	 * The SVM helper's counters (drm_gpusvm on Linux 7.3, drm_svm before),
	 * summed over the file's helper contexts (one per mm with userptr
	 * objects, the SVM mirror among them).
	 */
	/** @svm_dma_maps: pages of user memory DMA-mapped by the helper. */
	__u64 svm_dma_maps;
	/** @svm_dma_unmaps: pages whose DMA mapping the helper removed. */
	__u64 svm_dma_unmaps;
	/**
	 * @svm_retries: helper get_pages attempts that collided with an
	 * invalidation and were retried inside the helper.
	 */
	__u64 svm_retries;
	/**
	 * @svm_timeouts: helper get_pages calls that gave up because the
	 * range kept being invalidated.
	 */
	__u64 svm_timeouts;
	/*
	 * Where the time goes, in nanoseconds of CLOCK_MONOTONIC
	 * (ktime_get_ns()), summed over the calls.
	 */
	/**
	 * @svm_fault_ns: time the engine spent handling the GPU page faults
	 * counted in @svm_faults that went through the drm_gpusvm fault path
	 * (waiting for the mirror's lock, finding or inserting the range,
	 * drm_gpusvm_get_pages(), the commit); not the job around them.
	 */
	__u64 svm_fault_ns;
	/**
	 * @validate_ns: time spent validating userptr objects, the work
	 * counted in @faults (drm_gpusvm_get_pages() and the commit), by
	 * &DRM_IOCTL_USERPTR_CREATE, EXEC or the engine.
	 */
	__u64 validate_ns;
};

/** DRM_VSVM_SVM_CHUNK_4K - mirror ranges of 4 KiB (required). */
#define DRM_VSVM_SVM_CHUNK_4K		(1 << 0)
/** DRM_VSVM_SVM_CHUNK_64K - mirror ranges of 64 KiB. */
#define DRM_VSVM_SVM_CHUNK_64K		(1 << 1)
/** DRM_VSVM_SVM_CHUNK_2M - mirror ranges of 2 MiB. */
#define DRM_VSVM_SVM_CHUNK_2M		(1 << 2)
/** DRM_VSVM_SVM_CHUNKS_ALL - every chunk size vsvm supports. */
#define DRM_VSVM_SVM_CHUNKS_ALL		(DRM_VSVM_SVM_CHUNK_4K | \
					 DRM_VSVM_SVM_CHUNK_64K | \
					 DRM_VSVM_SVM_CHUNK_2M)

/**
 * struct drm_vsvm_svm_enable - argument of &DRM_IOCTL_VSVM_SVM_ENABLE
 *
 * Enables SVM mode on the file for the calling process's address space;
 * see "vsvm SVM mode". Mirror ranges are created with the largest size
 * of @chunk_sizes that fits. Does not fault anything in.
 *
 * Errors:
 *
 * - -EINVAL: non-zero @flags or @pad; @chunk_sizes has unknown bits or
 *   lacks &DRM_VSVM_SVM_CHUNK_4K.
 * - -EBUSY: SVM is already enabled on this file (by any process).
 * - -ESRCH: the caller has no address space (a kernel thread).
 * - -ENOMEM: out of memory.
 */
struct drm_vsvm_svm_enable {
	/**
	 * @chunk_sizes: ``DRM_VSVM_SVM_CHUNK_*`` mask, or 0 for
	 * &DRM_VSVM_SVM_CHUNKS_ALL.
	 */
	__u32 chunk_sizes;
	/** @flags: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u64 pad;
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
#define DRM_IOCTL_VSVM_SVM_ENABLE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VSVM_SVM_ENABLE, \
		struct drm_vsvm_svm_enable)
#define DRM_IOCTL_VSVM_WAIT_UFENCE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VSVM_WAIT_UFENCE, \
		struct drm_vsvm_wait_ufence)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VSVM_DRM_H_ */
