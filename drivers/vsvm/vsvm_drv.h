/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#ifndef __VSVM_DRV_H__
#define __VSVM_DRV_H__

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/drm_gpusvm.h>
#include <drm/gpu_scheduler.h>

struct drm_gem_shmem_object;
struct drm_userptr_create;
struct drm_vsvm_get_stats;
struct mm_struct;
struct page;

/*
 * Every allocation made for a process (file, objects, jobs, tracking
 * arrays) is charged to its memory cgroup and fails with -ENOMEM at the
 * cgroup's limit instead of invoking the OOM killer; userspace gets the
 * error, so no allocation warning either.
 */
#define VSVM_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* Schedulers of the device: files' queues that run in parallel. */
#define VSVM_NUM_SCHEDS		4

/*
 * Chunk sizes an SVM mirror may use: 2M, 64K, 4K, and for a PREFETCH the
 * powers of two from 4M up to VSVM_SVM_PREFETCH_MAX (vsvm_svm.c).
 */
#define VSVM_SVM_PREFETCH_MAX	SZ_64M
#define VSVM_SVM_MAX_CHUNKS	8

/**
 * struct vsvm_device - the virtual GPU
 * @drm: DRM device
 * @engine_wq: submit workqueue of the GPU schedulers (unbound: the
 *	       files' queues run in parallel, each one job at a time)
 * @fini_wq: tears closed files' queues down (vsvm_engine_file_close());
 *	     not WQ_MEM_RECLAIM, and flushed before the module goes
 * @scheds: the GPU schedulers ("rings"), created at probe
 * @sched_list: pointers to @scheds, for the files' entities
 * @ufence_wq: woken whenever a long-running job of any file wrote its
 *	       user fence: DRM_IOCTL_VSVM_WAIT_UFENCE of every file of the
 *	       device waits here, since any of them may wait for any fence
 */
struct vsvm_device {
	struct drm_device drm;
	struct workqueue_struct *engine_wq;
	struct workqueue_struct *fini_wq;
	struct drm_gpu_scheduler scheds[VSVM_NUM_SCHEDS];
	struct drm_gpu_scheduler *sched_list[VSVM_NUM_SCHEDS];
	wait_queue_head_t ufence_wq;
};

/**
 * struct vsvm_stats - per-file counters, see &struct drm_vsvm_get_stats
 * @faults: userptr ranges faulted in
 * @revalidations: faults of ranges that had been valid before
 * @invalidations: invalidate callbacks on the file's userptr objects
 * @retries: ranges found invalid again right after a fault
 * @jobs_submitted: jobs queued
 * @jobs_completed: jobs signalled
 * @jobs_failed: jobs signalled with an error
 * @bytes_accessed: userptr and SVM bytes the engine touched
 * @svm_faults: SVM accesses that took a GPU page fault
 * @svm_invalidations: CPU-side invalidations of SVM ranges
 * @jobs_cancelled: queued jobs dropped because their process was killed
 * @svm_fault_ns: time spent in the SVM fault path (vsvm_svm_fault())
 * @validate_ns: time spent validating userptr objects
 * @gone: &drm_gpusvm_stats of the file's mirrors already released (the
 *	  live ones are summed at GET_STATS)
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
	atomic64_t svm_fault_ns;
	atomic64_t validate_ns;
	struct drm_gpusvm_stats gone;
};

/**
 * struct vsvm_file - per open file state
 * @ref: reference count; the DRM file, mirrors and queued jobs hold one
 * @vdev: the device
 * @client_id: the DRM client id of the file
 * @vm_lock: protects @vm
 * @vm: GPU VA -> &struct vsvm_mapping interval tree
 * @mirrors_lock: protects @mirrors
 * @mirrors: &struct vsvm_mirror list, one per mm userptrs were created in
 * @svm: the mirror SVM mode is enabled on, or NULL (referenced; set once
 *	 under @vm_lock, cleared at close)
 * @entity: the file's only scheduler entity, over the device's schedulers
 * @bounce: engine staging buffer of DRM_VSVM_CHUNK_PAGES pages, used by the
 *	    file's running job only
 * @in_flight: jobs submitted and not yet freed (capped at
 *	       DRM_VSVM_MAX_JOBS_IN_FLIGHT)
 * @seqno: last job sequence number; under @vm_lock
 * @error_lock: protects @last_error and @last_error_seqno
 * @last_error: error of the last failed job
 * @last_error_seqno: its sequence number
 * @ufence_wq: woken whenever one of the file's jobs is freed (close
 *	       waits here for @in_flight to drop to zero)
 * @fini_work: tears the queue down after close without blocking close()
 * @queue_killed: the entity was finalised at close (the process was killed)
 * @stats: counters
 */
struct vsvm_file {
	struct kref ref;
	struct vsvm_device *vdev;
	u64 client_id;
	struct mutex vm_lock; /* protects vm, svm, seqno */
	struct rb_root_cached vm;
	struct mutex mirrors_lock; /* protects mirrors */
	struct list_head mirrors;
	struct vsvm_mirror *svm;
	struct drm_sched_entity entity;
	void *bounce;
	atomic_t in_flight;
	u64 seqno;
	spinlock_t error_lock; /* protects last_error, last_error_seqno */
	int last_error;
	u64 last_error_seqno;
	wait_queue_head_t ufence_wq;
	struct work_struct fini_work;
	bool queue_killed;
	struct vsvm_stats stats;
};

/**
 * struct vsvm_mirror - the drm_gpusvm of one (file, mm) pair
 * @ref: reference count; each userptr object of the mirror, the file's
 *	 SVM mode and each job using SVM memory hold one
 * @gpusvm: the drm_gpusvm; its notifier lock is the lock of every userptr
 *	    object and SVM range of the mirror
 * @vfile: file whose counters the mirror updates (referenced)
 * @link: entry in &vsvm_file.mirrors
 * @chunks: chunk sizes of SVM ranges, largest first (@gpusvm points here)
 * @svm_lock: the driver lock of @gpusvm: range insertion and removal, and
 *	      serialises GPU page faults on SVM ranges
 * @gc_lock: protects @gc_list
 * @gc_list: SVM ranges unmapped by the CPU, to be removed
 * @gc_work: removes them (the notifier cannot: it may not take @svm_lock)
 * @ranges_live: SVM ranges allocated and not yet freed
 * @ranges_collected: SVM ranges removed by the garbage collector
 * @chunk_faults: GPU page faults per entry of @chunks
 */
struct vsvm_mirror {
	struct kref ref;
	struct drm_gpusvm gpusvm;
	struct vsvm_file *vfile;
	struct list_head link;
	unsigned long chunks[VSVM_SVM_MAX_CHUNKS];
	struct mutex svm_lock; /* drm_gpusvm driver lock */
	spinlock_t gc_lock; /* protects gc_list */
	struct list_head gc_list;
	struct work_struct gc_work;
	atomic64_t ranges_live;
	atomic64_t ranges_collected;
	atomic64_t chunk_faults[VSVM_SVM_MAX_CHUNKS];
};

/**
 * struct vsvm_userptr - a userptr GEM object
 * @base: GEM object
 * @mirror: the mirror of its creator's mm (referenced)
 * @notifier: the object's own interval notifier over its range
 * @pages: drm_gpusvm's DMA mapping of the range
 * @start: first CPU address of the range
 * @npages: pages in the range
 * @read_only: DRM_USERPTR_READ_ONLY
 * @anon_only: DRM_USERPTR_ANON_ONLY
 * @lock: serialises validations (drm_gpusvm_get_pages() and the engine's
 *	  page snapshot) of the object
 * @pfns: the engine's view of the pages: the hmm pfns
 *	  drm_gpusvm_get_pages() mapped them from (or, with helper_pfns=0, an
 *	  hmm snapshot taken with @notifier after it); written under @lock
 *	  while the object is invalid, read under the notifier lock while valid
 * @snap_seq: @notifier sequence of @pfns (written under the notifier lock
 *	      held for write)
 * @snap_valid: @pfns and @snap_seq were set once
 * @ever_valid: the range was valid once (next faults are revalidations)
 * @gpu_pages: the object's "GPU page table" for dma-fence jobs: the pages
 *	       EXEC found valid, written at commit (notifier lock held for
 *	       read, the object's reservation held); allocated at the first
 *	       EXEC that uses the object, freed with it
 * @gpu_seq: @snap_seq that @gpu_pages were written under
 * @gpu_pages_set: @gpu_pages and @gpu_seq are set
 */
struct vsvm_userptr {
	struct drm_gem_object base;
	struct vsvm_mirror *mirror;
	struct mmu_interval_notifier notifier;
	struct drm_gpusvm_pages pages;
	unsigned long start;
	unsigned long npages;
	bool read_only;
	bool anon_only;
	struct mutex lock; /* serialises validations */
	unsigned long *pfns;
	unsigned long snap_seq;
	bool snap_valid;
	bool ever_valid;
	struct page **gpu_pages;
	unsigned long gpu_seq;
	bool gpu_pages_set;
};

/**
 * struct vsvm_svm_range - an SVM range and its "GPU page table"
 * @base: the drm_gpusvm range
 * @pages: drm_gpusvm's DMA mapping of the range
 * @pfns: the engine's view of the pages (the hmm pfns drm_gpusvm_get_pages()
 *	  mapped them from, or with helper_pfns=0 a snapshot after it), written
 *	  under &vsvm_mirror.svm_lock while @gpu_mapped is clear
 * @inval_gen: bumped by every invalidation of the range (notifier lock
 *	       held for write)
 * @gpu_mapped: the engine may access the range's pages; set at commit
 *		(notifier lock held for write), cleared by the invalidate
 *		callback
 * @gpu_writable: likewise, the engine may write them
 * @gc_link: entry in &vsvm_mirror.gc_list
 * @gc_removed: the garbage collector took the range off @gc_link to remove
 *		it; the notifier must not queue it again (both under the
 *		notifier lock held for write)
 */
struct vsvm_svm_range {
	struct drm_gpusvm_range base;
	struct drm_gpusvm_pages pages;
	unsigned long *pfns;
	unsigned long inval_gen;
	bool gpu_mapped;
	bool gpu_writable;
	struct list_head gc_link;
	bool gc_removed;
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

static inline struct mm_struct *vsvm_mirror_mm(struct vsvm_mirror *mirror)
{
	return mirror->gpusvm.mm;
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
void vsvm_mirrors_stats(struct vsvm_file *vfile,
			struct drm_vsvm_get_stats *args);
bool vsvm_gem_is_userptr(const struct drm_gem_object *obj);
int vsvm_userptr_create(struct drm_device *dev, struct drm_file *file,
			struct drm_userptr_create *args);
int vsvm_userptr_access(struct vsvm_file *vfile, struct vsvm_userptr *uobj,
			u64 offset, void *buf, size_t len, bool write);
int vsvm_userptr_validate(struct vsvm_file *vfile, struct vsvm_userptr *uobj);
bool vsvm_userptr_valid(struct vsvm_userptr *uobj);
int vsvm_userptr_gpu_pages_alloc(struct vsvm_userptr *uobj);
void vsvm_userptr_gpu_pages_write(struct vsvm_userptr *uobj);
extern bool vsvm_helper_pfns;
void vsvm_check_dma(struct drm_gpusvm *gpusvm, struct drm_gpusvm_pages *pages,
		    const unsigned long *pfns, unsigned long npages);
int vsvm_hmm_snapshot(struct mmu_interval_notifier *notifier,
		      unsigned long start, unsigned long end, bool write,
		      bool anon_only, unsigned long *pfns, unsigned long *seq);
void vsvm_pfns_copy(const unsigned long *pfns, u64 offset, void *buf,
		    size_t len, bool write);

/* vsvm_svm.c */
extern const struct drm_gpusvm_ops vsvm_gpusvm_ops;
void vsvm_svm_gc_work(struct work_struct *work);
void vsvm_svm_fini(struct vsvm_mirror *mirror);
int vsvm_svm_enable_ioctl(struct drm_device *dev, void *data,
			  struct drm_file *file);
unsigned int vsvm_svm_set_chunks(struct vsvm_mirror *mirror, u32 mask);
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
int vsvm_engine_device_init(struct vsvm_device *vdev);
void vsvm_engine_device_fini(struct vsvm_device *vdev);
int vsvm_engine_file_init(struct vsvm_file *vfile);
void vsvm_engine_file_close(struct vsvm_file *vfile);

#endif /* __VSVM_DRV_H__ */
