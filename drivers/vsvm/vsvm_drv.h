/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#ifndef __VSVM_DRV_H__
#define __VSVM_DRV_H__

#include <linux/atomic.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/drm_svm.h>
#include <drm/gpu_scheduler.h>

struct dentry;
struct drm_gem_shmem_object;
struct drm_userptr_create;
struct drm_vsvm_get_stats;
struct mm_struct;
struct page;
struct platform_device;

/**
 * struct vsvm_device - the virtual GPU
 * @drm: DRM device
 * @platform: the platform device it hangs off (DMA goes through dma-direct)
 * @engine_wq: submit workqueue of every file's GPU scheduler (unbound: the
 *	       files' queues run in parallel, each one job at a time)
 * @ufence_wq: woken whenever a long-running job wrote its user fence, and
 *	       whenever a job is freed
 * @debugfs: <debugfs>/vsvm/: one directory per &struct vsvm_mirror
 * @next_file_id: numbers the open files for debugfs
 * @dead_scheds_lock: protects @dead_scheds
 * @dead_scheds: schedulers of closed files, freed with the device: the
 *		 fences of their jobs may outlive the files
 */
struct vsvm_device {
	struct drm_device drm;
	struct platform_device *platform;
	struct workqueue_struct *engine_wq;
	wait_queue_head_t ufence_wq;
	struct dentry *debugfs;
	atomic_t next_file_id;
	spinlock_t dead_scheds_lock; /* protects dead_scheds */
	struct list_head dead_scheds;
};

/**
 * struct vsvm_stats - per-file counters, see &struct drm_vsvm_get_stats
 * @faults: userptr ranges faulted in
 * @revalidations: faults of ranges that had been valid before
 * @invalidations: invalidate callbacks on the file's userptr ranges
 * @retries: ranges found invalid again right after a fault
 * @jobs_submitted: jobs queued
 * @jobs_completed: jobs signalled
 * @jobs_failed: jobs signalled with an error
 * @bytes_accessed: userptr and SVM bytes the engine touched
 * @svm_faults: SVM accesses that went through drm_svm_mirror_fault()
 * @svm_invalidations: CPU-side invalidate callbacks on SVM mirror ranges
 * @jobs_cancelled: queued jobs dropped because their process was killed
 */
struct vsvm_stats {
	atomic64_t faults;
	atomic64_t revalidations;
	atomic64_t invalidations;
	atomic64_t retries;
	atomic64_t jobs_submitted;
	atomic64_t jobs_completed;
	atomic64_t jobs_failed;
	atomic64_t bytes_accessed;
	atomic64_t svm_faults;
	atomic64_t svm_invalidations;
	atomic64_t jobs_cancelled;
};

/**
 * struct vsvm_file - per open file state
 * @ref: reference count; the DRM file, mirrors and queued jobs hold one
 * @vdev: the device
 * @id: number of the file on the device (debugfs names)
 * @vm_lock: protects @vm
 * @vm: GPU VA -> &struct vsvm_mapping interval tree
 * @mirrors_lock: protects @mirrors
 * @mirrors: &struct vsvm_mirror list, one per mm userptrs were created in
 * @svm: the mirror SVM mode is enabled on, or NULL (referenced; set once
 *	 under @vm_lock, cleared at close)
 * @sched: the file's GPU scheduler: the file's queue, one job at a time;
 *	   it outlives the file (vsvm_engine_file_fini_work())
 * @entity: the file's only scheduler entity
 * @bounce: engine staging buffer of DRM_VSVM_CHUNK_PAGES pages, used by the
 *	    file's running job only
 * @in_flight: jobs submitted and not yet freed (capped at
 *	       DRM_VSVM_MAX_JOBS_IN_FLIGHT)
 * @seqno: last job sequence number; under @vm_lock
 * @error_lock: protects @last_error and @last_error_seqno
 * @last_error: error of the last failed job
 * @last_error_seqno: its sequence number
 * @fini_work: tears the queue down after close without blocking close()
 * @queue_killed: the entity was finalised at close (the process was killed)
 * @stats: counters
 */
struct vsvm_file {
	struct kref ref;
	struct vsvm_device *vdev;
	unsigned int id;
	struct mutex vm_lock; /* protects vm, svm, seqno */
	struct rb_root_cached vm;
	struct mutex mirrors_lock; /* protects mirrors */
	struct list_head mirrors;
	struct vsvm_mirror *svm;
	struct drm_gpu_scheduler *sched;
	struct drm_sched_entity entity;
	void *bounce;
	atomic_t in_flight;
	u64 seqno;
	spinlock_t error_lock; /* protects last_error, last_error_seqno */
	int last_error;
	u64 last_error_seqno;
	struct work_struct fini_work;
	bool queue_killed;
	struct vsvm_stats stats;
};

/**
 * struct vsvm_mirror - drm_svm context of one (file, mm) pair
 * @ref: reference count; each userptr object of the mirror holds one
 * @svm: the drm_svm context
 * @vfile: file whose counters the mirror updates (referenced)
 * @link: entry in &vsvm_file.mirrors
 * @debugfs: the mirror's debugfs directory (drm_svm_stats), or an error
 */
struct vsvm_mirror {
	struct kref ref;
	struct drm_svm svm;
	struct vsvm_file *vfile;
	struct list_head link;
	struct dentry *debugfs;
};

/**
 * struct vsvm_userptr - a userptr GEM object
 * @base: GEM object
 * @mirror: drm_svm context (referenced)
 * @range: the mirrored range
 * @ever_valid: the range was valid once (next faults are revalidations);
 *		only the engine and creation touch it, serially
 * @gpu_pages: the object's "GPU page table" for dma-fence jobs: the pages
 *	       EXEC found valid, written at commit (notifier lock held for
 *	       read, the object's reservation held); allocated at the first
 *	       EXEC that uses the object, freed with it
 * @gpu_seq: drm_svm_range_seq() that @gpu_pages were written under
 * @gpu_pages_set: @gpu_pages and @gpu_seq are set
 */
struct vsvm_userptr {
	struct drm_gem_object base;
	struct vsvm_mirror *mirror;
	struct drm_svm_range range;
	bool ever_valid;
	struct page **gpu_pages;
	unsigned long gpu_seq;
	bool gpu_pages_set;
};

/**
 * struct vsvm_svm_range - an SVM mirror range and its "GPU page table"
 * @base: the drm_svm mirror range
 * @gpu_mapped: the engine may access the range's pages; set by the commit
 *		callback (notifier lock held for read, mirror lock held),
 *		cleared by the invalidate callback (notifier lock held for
 *		write)
 * @gpu_writable: likewise, the engine may write them
 */
struct vsvm_svm_range {
	struct drm_svm_range base;
	bool gpu_mapped;
	bool gpu_writable;
};

/**
 * struct vsvm_mapping - an object bound at a GPU VA
 * @ref: reference count; the VM and each job using it hold one
 * @node: interval [va, va + size - 1] in &vsvm_file.vm
 * @obj: bound object (referenced)
 * @bo_offset: offset into @obj of the first byte
 * @read_only: the engine may not write through this mapping
 */
struct vsvm_mapping {
	struct kref ref;
	struct interval_tree_node node;
	struct drm_gem_object *obj;
	u64 bo_offset;
	bool read_only;
};

static inline struct vsvm_device *to_vsvm_device(struct drm_device *dev)
{
	return container_of(dev, struct vsvm_device, drm);
}

static inline struct vsvm_userptr *to_vsvm_userptr(struct drm_gem_object *obj)
{
	return container_of(obj, struct vsvm_userptr, base);
}

/* vsvm_drv.c */
void vsvm_file_put(struct vsvm_file *vfile);
void vsvm_mapping_put(struct vsvm_mapping *map);
int vsvm_wait_ufence_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file);

/* vsvm_userptr.c */
struct vsvm_mirror *vsvm_mirror_get(struct vsvm_file *vfile,
				    struct mm_struct *mm);
void vsvm_mirror_put(struct vsvm_mirror *mirror);
bool vsvm_gem_is_userptr(const struct drm_gem_object *obj);
int vsvm_userptr_create(struct drm_device *dev, struct drm_file *file,
			struct drm_userptr_create *args);
int vsvm_userptr_access(struct vsvm_file *vfile, struct vsvm_userptr *uobj,
			u64 offset, void *buf, size_t len, bool write);
int vsvm_userptr_validate(struct vsvm_file *vfile, struct vsvm_userptr *uobj);
struct page *vsvm_range_page(struct drm_svm_range *range, pgoff_t idx);
int vsvm_userptr_gpu_pages_alloc(struct vsvm_userptr *uobj);
void vsvm_userptr_gpu_pages_write(struct vsvm_userptr *uobj);
void vsvm_range_copy(struct drm_svm_range *range, u64 offset, void *buf,
		     size_t len, bool write);
void vsvm_userptr_invalidate(struct vsvm_userptr *uobj);

/* vsvm_svm.c */
extern const struct drm_svm_ops vsvm_svm_ops;
int vsvm_svm_enable_ioctl(struct drm_device *dev, void *data,
			  struct drm_file *file);
void vsvm_svm_stats(struct vsvm_mirror *mirror,
		    struct drm_vsvm_get_stats *args);
int vsvm_svm_access(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
		    u64 va, void *buf, size_t len, bool write);
int vsvm_svm_atomic_add(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
			u64 va, u32 add);

/* vsvm_engine.c */
void vsvm_copy_page(struct page *page, size_t off, void *buf, size_t n,
		    bool write);
int vsvm_exec_ioctl(struct drm_device *dev, void *data,
		    struct drm_file *file);
int vsvm_engine_file_init(struct vsvm_file *vfile);
void vsvm_engine_device_fini(struct vsvm_device *vdev);
void vsvm_engine_file_close(struct vsvm_file *vfile);

#endif /* __VSVM_DRV_H__ */
