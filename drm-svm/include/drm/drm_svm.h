/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Shared helper for mirroring process memory into a GPU: userptr objects
 * and shared virtual memory (SVM).
 */

#ifndef __DRM_SVM_H__
#define __DRM_SVM_H__

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/dma-direction.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct dentry;
struct device;
struct mm_struct;
struct page;
struct sg_table;
struct drm_svm;
struct drm_svm_range;
struct drm_svm_range_block;

/**
 * DRM_SVM_TIMEOUT_DEFAULT_MS - suggested collision budget for get_pages
 *
 * A sensible @timeout_ms for drm_svm_range_get_pages() when the caller can
 * sleep and would rather retry in the kernel than return to userspace. It
 * matches the budget amdgpu used with HMM_RANGE_DEFAULT_TIMEOUT.
 */
#define DRM_SVM_TIMEOUT_DEFAULT_MS	1000

/**
 * DRM_SVM_MAX_CHUNKS - most chunk sizes a mirror can be set up with
 *
 * See drm_svm_mirror_init(). Also the size of
 * &drm_svm_stats.chunk_faults.
 */
#define DRM_SVM_MAX_CHUNKS		4

/**
 * DRM_SVM_FAULT_WRITE - drm_svm_mirror_fault() flag: the device writes
 *
 * The fault fails with -EPERM when the VMA at the address is not writable.
 * Without it a read-only VMA is mirrored read-only (%DRM_SVM_RANGE_READ_ONLY)
 * and a writable one read-write.
 */
#define DRM_SVM_FAULT_WRITE		BIT(0)

/**
 * DRM_SVM_FAULT_ATOMIC - &drm_svm_fault flag: the device needs atomic access
 *
 * The page at the address is made device-exclusive
 * (make_device_exclusive_range(): the CPU loses access until it touches
 * the page again) and handed to &drm_svm_ops.commit_atomic. Needs a
 * writable, anonymous VMA, a &drm_svm.dev_private_owner and
 * %DRM_SVM_FILTER_OWN_EXCLUSIVE (drm_svm_set_event_filter()).
 */
#define DRM_SVM_FAULT_ATOMIC		BIT(1)

/**
 * DRM_SVM_FAULT_PREFETCH - &drm_svm_fault flag: mirror only what is present
 *
 * A speculative access: nothing is faulted in (hmm_range_fault() without
 * %HMM_PFN_REQ_FAULT). The range is published and committed when every
 * page of it is present in the CPU page tables; otherwise the fault fails
 * with -ENOENT and nothing is mapped (a real access faults again).
 * Cannot be combined with the other flags.
 */
#define DRM_SVM_FAULT_PREFETCH		BIT(2)

/** DRM_SVM_FAULT_FLAGS - every flag drm_svm_mirror_fault_batch() knows */
#define DRM_SVM_FAULT_FLAGS		(DRM_SVM_FAULT_WRITE | \
					 DRM_SVM_FAULT_ATOMIC | \
					 DRM_SVM_FAULT_PREFETCH)

/**
 * DRM_SVM_FILTER_OWN_EXCLUSIVE - event filter: ignore own exclusive events
 *
 * %MMU_NOTIFY_EXCLUSIVE events whose owner is the (non-NULL)
 * &drm_svm.dev_private_owner are ignored: make_device_exclusive_range()
 * called for the device keeps the same page in place, so the device's
 * mapping of it stays right, and the sequence must not move or the atomic
 * fault would collide with itself forever. The CPU taking the page back
 * is an event without owner and invalidates as usual.
 */
#define DRM_SVM_FILTER_OWN_EXCLUSIVE	BIT(0)

/**
 * DRM_SVM_FILTER_OWN_MIGRATE - event filter: the driver migrates itself
 *
 * For %MMU_NOTIFY_MIGRATE events whose owner is the (non-NULL)
 * &drm_svm.dev_private_owner, &drm_svm_ops.invalidate is not called: the
 * driver's own migration code rewrites the device page tables (nouveau's
 * dmem). The helper still moves the sequence and takes the published pages
 * away (they are about to be replaced), so the next fault mirrors the new
 * ones; it also unmaps their DMA mappings, so use it only when the device
 * does not access system pages through the helper's DMA mappings while
 * the migration runs (an svm without a DMA device, as nouveau's).
 */
#define DRM_SVM_FILTER_OWN_MIGRATE	BIT(1)

/*
 * Range flags. The low bits are set by the driver at drm_svm_range_init()
 * time and never change; the others are state owned by the helper.
 */
#define DRM_SVM_RANGE_READ_ONLY_BIT	0
#define DRM_SVM_RANGE_ANON_ONLY_BIT	1
#define DRM_SVM_RANGE_RESTORE_BIT	4
#define DRM_SVM_RANGE_UNMAPPED_BIT	8
#define DRM_SVM_RANGE_PARTIAL_UNMAP_BIT	9
#define DRM_SVM_RANGE_MAPPED_BIT	10
#define DRM_SVM_RANGE_MIRROR_BIT	11
#define DRM_SVM_RANGE_WRITABLE_BIT	12

/**
 * DRM_SVM_RANGE_READ_ONLY - the device only reads the range
 *
 * Pages are faulted without write permission and DMA-mapped
 * %DMA_TO_DEVICE. Without this flag drm_svm_range_get_pages() write-faults
 * every page (a read-only VMA makes it fail with -EPERM), and the helper
 * marks the pages dirty when it takes them away from the device.
 */
#define DRM_SVM_RANGE_READ_ONLY		BIT(DRM_SVM_RANGE_READ_ONLY_BIT)
/**
 * DRM_SVM_RANGE_ANON_ONLY - refuse file-backed memory
 *
 * drm_svm_range_get_pages() fails with -EPERM when any VMA of the range
 * has a backing file (amdgpu's AMDGPU_GEM_USERPTR_ANONONLY semantics).
 */
#define DRM_SVM_RANGE_ANON_ONLY		BIT(DRM_SVM_RANGE_ANON_ONLY_BIT)
/**
 * DRM_SVM_RANGE_RESTORE - track invalidations for a restore worker
 *
 * Every mm invalidation of the range advances the svm's restore
 * generation and, unless it is already there, puts the range on the svm's
 * invalidated list, before &drm_svm_ops.invalidate is called: the scheme
 * of KFD's userptr eviction (evicted_bos, userptr_inval_list). See
 * drm_svm_restore_gen() and drm_svm_restore_pop().
 */
#define DRM_SVM_RANGE_RESTORE		BIT(DRM_SVM_RANGE_RESTORE_BIT)
/**
 * DRM_SVM_RANGE_UNMAPPED - state: the whole range was unmapped
 *
 * Set by the notifier on a %MMU_NOTIFY_UNMAP event covering the whole range
 * or on %MMU_NOTIFY_RELEASE (the mm is being torn down); cleared by the
 * next successful drm_svm_range_get_pages(). A mirror range with this flag
 * (or %DRM_SVM_RANGE_PARTIAL_UNMAP) is queued for garbage collection and
 * rebuilt by the next fault in it.
 */
#define DRM_SVM_RANGE_UNMAPPED		BIT(DRM_SVM_RANGE_UNMAPPED_BIT)
/**
 * DRM_SVM_RANGE_PARTIAL_UNMAP - state: part of the range was unmapped
 *
 * Set by the notifier on a %MMU_NOTIFY_UNMAP event covering only part of
 * the range; cleared by the next successful drm_svm_range_get_pages().
 * Events are not accumulated: two munmap() calls that each cover half of
 * the range leave this flag set, not %DRM_SVM_RANGE_UNMAPPED.
 */
#define DRM_SVM_RANGE_PARTIAL_UNMAP	BIT(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT)
/**
 * DRM_SVM_RANGE_MAPPED - internal state: pages are DMA-mapped and published
 *
 * Owned by the helper. Use drm_svm_range_pages_valid() instead of testing it.
 */
#define DRM_SVM_RANGE_MAPPED		BIT(DRM_SVM_RANGE_MAPPED_BIT)

/**
 * DRM_SVM_RANGE_MIRROR - state: the range belongs to the mirror
 *
 * Set by the helper on ranges that drm_svm_mirror_fault() created; such
 * ranges are owned by the helper (never drm_svm_range_fini() them) and are
 * queued for garbage collection when they get unmapped.
 */
#define DRM_SVM_RANGE_MIRROR		BIT(DRM_SVM_RANGE_MIRROR_BIT)

/**
 * DRM_SVM_RANGE_WRITABLE - state: every published page is writable
 *
 * Set by the helper when it publishes pages that all carry write
 * permission (%HMM_PFN_WRITE) in a range that is not read-only. A mirror
 * range read-faulted over a writable VMA may have read-only pages (the zero
 * page, pages shared copy-on-write); a device write fault upgrades it. Use
 * drm_svm_range_writable().
 */
#define DRM_SVM_RANGE_WRITABLE		BIT(DRM_SVM_RANGE_WRITABLE_BIT)

/**
 * DRM_SVM_MAX_PAGES_PER_RAM - default cap of tracked pages per &struct drm_svm
 *
 * A &struct drm_svm tracks at most this many times totalram_pages() pages
 * at a time (pages being faulted or published, summed over its ranges;
 * the tracking memory is about 16 bytes per page, so the cap is 1/64 of
 * RAM); beyond it drm_svm_range_get_pages() fails with -ENOMEM. Change it
 * with drm_svm_set_max_pages().
 */
#define DRM_SVM_MAX_PAGES_PER_RAM	4

/** DRM_SVM_RANGE_USER_FLAGS - flags a driver may pass to drm_svm_range_init() */
#define DRM_SVM_RANGE_USER_FLAGS	(DRM_SVM_RANGE_READ_ONLY | \
					 DRM_SVM_RANGE_ANON_ONLY | \
					 DRM_SVM_RANGE_RESTORE)

/**
 * struct drm_svm_ops - driver callbacks
 *
 * Drivers should initialise this structure with designated initialisers.
 * Userptr-only drivers set @invalidate only; mirror mode
 * (drm_svm_mirror_init()) also needs @commit.
 */
struct drm_svm_ops {
	/**
	 * @invalidate: stop device access to @range.
	 *
	 * Called by the helper's interval-notifier callback for a blockable
	 * invalidation that intersects @range, with &drm_svm.notifier_lock held
	 * for write and after the notifier sequence has been advanced, so any
	 * drm_svm_range_pages_valid() now returns false. The driver must make
	 * sure the device no longer accesses the pages when it returns (zap
	 * GPU page tables, wait for fences). It may sleep but must not allocate
	 * memory with reclaim (GFP_KERNEL) and must not take locks that are
	 * held around such allocations. The helper unmaps the DMA addresses
	 * (and marks the pages the device may have written dirty) right after
	 * this returns. @mmu_range tells what happened (event, start, end).
	 * Mandatory.
	 *
	 * It must never wait, directly or through a fence, work item or lock,
	 * for anything that faults user memory through the helper
	 * (drm_svm_range_get_pages(), drm_svm_mirror_fault(),
	 * drm_svm_range_fini()): those wait for the running invalidation
	 * (mmu_interval_read_begin(), notifier removal), so the two would
	 * deadlock. Lockdep reports such a dependency, see "The deadlock
	 * rule" in drm_svm.c. It must not take the mirror lock nor the driver
	 * lock of drm_svm_driver_set_lock().
	 *
	 * The helper also calls it, with the same locking, when it drops
	 * device mappings on its own: when drm_svm_range_get_pages() replaces
	 * pages that a non-blockable invalidation (the OOM reaper) could not
	 * take away from the driver, and for mirror ranges in
	 * drm_svm_mirror_range_evict() and when a range whose pages are still
	 * published is removed (garbage collection, rebuild,
	 * drm_svm_mirror_fini()). @mmu_range then has event
	 * %MMU_NOTIFY_CLEAR, covers the whole range and its owner is @svm
	 * itself, so the driver can tell it apart from an mm event.
	 */
	void (*invalidate)(struct drm_svm *svm, struct drm_svm_range *range,
			   const struct mmu_notifier_range *mmu_range);

	/**
	 * @commit: make a mirror range visible to the device.
	 *
	 * Called by drm_svm_mirror_fault() with &drm_svm.notifier_lock held for
	 * read, right after drm_svm_range_pages_valid() returned true for
	 * @range: the pages and DMA addresses of @range may be used (written to
	 * the GPU page tables, or accessed) until the lock is dropped, and
	 * @invalidate will be called before they go away. @data is the
	 * pointer passed to drm_svm_mirror_fault(). Must not sleep on memory
	 * reclaim (no GFP_KERNEL) and must not take the mirror lock. Its return
	 * value is returned by drm_svm_mirror_fault(). Mandatory for mirror
	 * mode.
	 */
	int (*commit)(struct drm_svm *svm, struct drm_svm_range *range,
		      void *data);

	/**
	 * @range_alloc: allocate a mirror range.
	 *
	 * Optional, with @range_free: lets a driver embed &struct
	 * drm_svm_range in its own per-range structure. Return a zeroed
	 * allocation or NULL. Called with the mirror lock held; may sleep and
	 * allocate with GFP_KERNEL. Without it the helper uses kzalloc().
	 */
	struct drm_svm_range *(*range_alloc)(struct drm_svm *svm);

	/**
	 * @range_free: free a range returned by @range_alloc.
	 *
	 * Called with the mirror lock held, after the range left the lookup
	 * tree and its notifier and DMA mappings are gone.
	 */
	void (*range_free)(struct drm_svm_range *range);

	/**
	 * @range_size: size of the driver's per-range structure.
	 *
	 * Optional, instead of @range_alloc and @range_free: the driver's
	 * structure embeds &struct drm_svm_range as its FIRST member and the
	 * helper allocates it, zeroed. A multi-range fault then allocates
	 * its ranges, and the entries of those of more than one page, a few
	 * dozen at a time (see "Range blocks" in drm_svm.c). 0 (and no
	 * @range_alloc): plain &struct drm_svm_range, allocated the same way.
	 */
	size_t range_size;

	/**
	 * @commit_atomic: map one device-exclusive page for atomic access.
	 *
	 * Called by drm_svm_mirror_fault_batch() for a %DRM_SVM_FAULT_ATOMIC
	 * fault, with &drm_svm.notifier_lock held for read, once no
	 * invalidation of @range ran since @page was made device-exclusive at
	 * the page-aligned user address @addr. @page is locked and referenced
	 * by the helper until this returns: the CPU cannot take it back
	 * before the device mapping is written. Map the page's physical
	 * address (the device reaches it directly, it is not DMA-mapped by
	 * the helper) with atomic and write access. @invalidate is called for
	 * @range when the CPU takes the page back. Same rules as @commit.
	 * Mandatory for atomic faults.
	 */
	int (*commit_atomic)(struct drm_svm *svm, struct drm_svm_range *range,
			     unsigned long addr, struct page *page, void *data);
};

/**
 * struct drm_svm_fault - one device fault of a drm_svm_mirror_fault_batch()
 *
 * Set @addr and @flags; the helper sets @ret.
 */
struct drm_svm_fault {
	/** @addr: faulting user address (need not be page aligned) */
	unsigned long addr;
	/** @flags: %DRM_SVM_FAULT_WRITE, %DRM_SVM_FAULT_ATOMIC or %DRM_SVM_FAULT_PREFETCH */
	unsigned long flags;
	/**
	 * @ret: result: the commit callback's return value or a negative
	 * errno as for drm_svm_mirror_fault(), -ENOENT for a prefetch over
	 * pages that are not all present
	 */
	int ret;
	/**
	 * @size: bytes from @addr the device is about to access, or 0 for
	 * just the page at @addr. The helper may then set up all the chunks
	 * of that span that lie in @addr's VMA in one multi-range fault
	 * (see "Multi-range faults" in drm_svm.c). Ignored for
	 * %DRM_SVM_FAULT_ATOMIC.
	 */
	unsigned long size;
};

/**
 * struct drm_svm_stats - event counters of a &struct drm_svm
 *
 * All counters only grow. Read them with drm_svm_stats_read().
 */
struct drm_svm_stats {
	/** @faults: drm_svm_range_get_pages() calls that ran hmm_range_fault() */
	atomic64_t faults;
	/** @retries: collisions with an invalidation (-EBUSY or seq retry) */
	atomic64_t retries;
	/** @timeouts: get_pages calls that ran out of their collision budget */
	atomic64_t timeouts;
	/** @invalidations: notifier callbacks that invalidated a range */
	atomic64_t invalidations;
	/** @nonblock_ok: non-blockable callbacks served without sleeping */
	atomic64_t nonblock_ok;
	/** @nonblock_bailouts: non-blockable callbacks that returned false */
	atomic64_t nonblock_bailouts;
	/** @dma_maps: DMA mappings created (one per physically contiguous run) */
	atomic64_t dma_maps;
	/** @dma_unmaps: DMA mappings torn down */
	atomic64_t dma_unmaps;
	/**
	 * @chunk_faults: mirror faults that faulted pages in (ran
	 * hmm_range_fault()), per chunk size index of drm_svm_mirror_init();
	 * a multi-range fault counts each range it faulted, and each
	 * fault-around neighbour it mirrored
	 */
	atomic64_t chunk_faults[DRM_SVM_MAX_CHUNKS];
	/** @ranges_inserted: mirror ranges created by drm_svm_mirror_fault() */
	atomic64_t ranges_inserted;
	/**
	 * @ranges_collected: unmapped (or no longer fitting) mirror ranges
	 * removed by garbage collection or by a rebuilding fault
	 */
	atomic64_t ranges_collected;
	/** @evictions: drm_svm_mirror_range_evict() calls that unmapped pages */
	atomic64_t evictions;
	/**
	 * @partial_faults: the subset of @faults that faulted in only the
	 * part of a range a permission change had invalidated
	 */
	atomic64_t partial_faults;
};

/**
 * struct drm_svm_stats_snapshot - plain copy of &struct drm_svm_stats
 * @faults: see &drm_svm_stats.faults
 * @retries: see &drm_svm_stats.retries
 * @timeouts: see &drm_svm_stats.timeouts
 * @invalidations: see &drm_svm_stats.invalidations
 * @nonblock_ok: see &drm_svm_stats.nonblock_ok
 * @nonblock_bailouts: see &drm_svm_stats.nonblock_bailouts
 * @dma_maps: see &drm_svm_stats.dma_maps
 * @dma_unmaps: see &drm_svm_stats.dma_unmaps
 * @chunk_faults: see &drm_svm_stats.chunk_faults
 * @ranges_inserted: see &drm_svm_stats.ranges_inserted
 * @ranges_collected: see &drm_svm_stats.ranges_collected
 * @evictions: see &drm_svm_stats.evictions
 * @ranges_live: mirror ranges currently in the lookup tree
 * @partial_faults: see &drm_svm_stats.partial_faults
 * @range_blocks: range blocks currently allocated (see "Range blocks" in
 *                drm_svm.c)
 */
struct drm_svm_stats_snapshot {
	u64 faults;
	u64 retries;
	u64 timeouts;
	u64 invalidations;
	u64 nonblock_ok;
	u64 nonblock_bailouts;
	u64 dma_maps;
	u64 dma_unmaps;
	u64 chunk_faults[DRM_SVM_MAX_CHUNKS];
	u64 ranges_inserted;
	u64 ranges_collected;
	u64 evictions;
	u64 ranges_live;
	u64 partial_faults;
	u64 range_blocks;
};

/**
 * struct drm_svm_mirror - mirror-mode state of a &struct drm_svm
 *
 * The lock, tree and collector are set up, empty, by drm_svm_init(); the
 * chunk sizes and @active by drm_svm_mirror_init(). All fields are owned by
 * the helper.
 */
struct drm_svm_mirror {
	/**
	 * @lock: serialises faults, garbage collection, eviction and fini;
	 * taken outside the mmap lock and the notifier lock, never inside
	 * them (see "Mirror mode" in drm_svm.c).
	 */
	struct mutex lock;
	/**
	 * @ranges: interval tree of the live mirror ranges, for lookup by
	 * address; changed with both @lock and &drm_svm.notifier_lock (write)
	 * held, so holding either is enough to read it.
	 */
	struct rb_root_cached ranges;
	/** @nr_ranges: number of ranges in @ranges */
	unsigned long nr_ranges;
	/** @nr_blocks: range blocks allocated and not freed yet, under @lock */
	unsigned long nr_blocks;
	/** @chunk_sizes: range sizes to try, largest first, last PAGE_SIZE */
	unsigned long chunk_sizes[DRM_SVM_MAX_CHUNKS];
	/** @num_chunks: number of valid entries in @chunk_sizes */
	unsigned int num_chunks;
	/** @gc_lock: protects @gc_list; taken inside the notifier lock */
	spinlock_t gc_lock;
	/** @gc_list: unmapped ranges waiting for garbage collection */
	struct list_head gc_list;
	/** @gc_work: runs drm_svm_mirror_garbage_collect() on system_wq */
	struct work_struct gc_work;
	/** @active: drm_svm_mirror_init() succeeded and fini did not run */
	bool active;
	/**
	 * @fault_around: bytes after the faulting chunk that a fault also
	 * mirrors when their pages are present (0: off); set with
	 * drm_svm_mirror_set_fault_around()
	 */
	unsigned long fault_around;
};

/**
 * struct drm_svm - per-driver-context mirror of one process address space
 *
 * Embed it in the driver's VM / file / process structure and set it up with
 * drm_svm_init(). All fields are read-only for the driver.
 */
struct drm_svm {
	/** @dev: device used for DMA mapping, may be NULL (pages only) */
	struct device *dev;
	/** @mm: the mirrored address space, mmgrab()ed by drm_svm_init() */
	struct mm_struct *mm;
	/** @ops: driver callbacks */
	const struct drm_svm_ops *ops;
	/**
	 * @dev_private_owner: pgmap owner of the driver's device-private
	 * pages; hmm_range_fault() reports such pages as-is. Invalidations
	 * carrying this owner are honoured like any other (the helper does
	 * not migrate yet).
	 */
	void *dev_private_owner;
	/**
	 * @notifier_lock: taken for write by the notifier callback and by
	 * drm_svm_range_get_pages() to publish pages; taken for read by the
	 * driver (drm_svm_notifier_lock()) around its commit check and for as
	 * long as the device may access pages it validated.
	 */
	struct rw_semaphore notifier_lock;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	/**
	 * @lock_dep_map: lockdep map of the driver's own lock that must be
	 * held around range init/fini and get_pages, if any; see
	 * drm_svm_driver_set_lock().
	 */
	struct lockdep_map *lock_dep_map;
#endif
	/**
	 * @tracked_pages: pages for which ranges of this svm currently hold
	 * tracking memory (being faulted or published)
	 */
	atomic_long_t tracked_pages;
	/** @max_pages: cap of @tracked_pages, see drm_svm_set_max_pages() */
	unsigned long max_pages;
	/**
	 * @event_filter: %DRM_SVM_FILTER_* flags, see
	 * drm_svm_set_event_filter()
	 */
	unsigned long event_filter;
	/** @stats: event counters */
	struct drm_svm_stats stats;
	/** @debugfs: the stats file created by drm_svm_debugfs_init() */
	struct dentry *debugfs;
	/** @mirror: mirror-mode state, see drm_svm_mirror_init() */
	struct drm_svm_mirror mirror;
	/**
	 * @registry: the registry this svm belongs to, or NULL when the driver
	 * embeds it itself; see drm_svm_registry_get()
	 */
	struct drm_svm_registry *registry;
	/** @registry_ref: references held through drm_svm_registry_get() */
	struct kref registry_ref;
	/** @registry_link: entry in &drm_svm_registry.list */
	struct list_head registry_link;
	/**
	 * @restore_lock: protects @restore_list and &drm_svm_range.restore_link;
	 * a spinlock taken inside the notifier lock, so the list can be
	 * changed from the notifier and from a commit section alike
	 */
	spinlock_t restore_lock;
	/**
	 * @restore_list: %DRM_SVM_RANGE_RESTORE ranges invalidated since a
	 * restore worker last took them, see drm_svm_restore_pop()
	 */
	struct list_head restore_list;
	/**
	 * @restore_gen: advanced on every invalidation of a
	 * %DRM_SVM_RANGE_RESTORE range, see drm_svm_restore_gen()
	 */
	atomic_long_t restore_gen;
#if IS_ENABLED(CONFIG_DRM_SVM_KUNIT_TEST)
	/**
	 * @test_untranslatable: KUnit only. Behave as if DMA addresses could
	 * not be translated back to pages (as behind an IOMMU).
	 */
	bool test_untranslatable;
	/**
	 * @test_after_fault: KUnit only. Called by drm_svm_range_get_pages()
	 * after each hmm_range_fault() (mmap lock dropped) and before the
	 * collision check, so the test can force collisions.
	 */
	void (*test_after_fault)(struct drm_svm_range *range);
#endif
};

/**
 * struct drm_svm_range - one mirrored interval of user virtual addresses
 *
 * Embed it in the driver's userptr object (or SVM range) and set it up with
 * drm_svm_range_init(). All fields are owned by the helper; use the
 * accessors below.
 */
struct drm_svm_range {
	/** @notifier: interval notifier over [@start, @end) */
	struct mmu_interval_notifier notifier;
	/** @svm: owning context */
	struct drm_svm *svm;
	/** @start: first user address (page aligned) */
	unsigned long start;
	/** @end: end user address (exclusive, page aligned) */
	unsigned long end;
	/** @npages: number of pages in the range */
	unsigned long npages;
	/** @flags: DRM_SVM_RANGE_* flags; state bits change atomically */
	unsigned long flags;
	/** @notifier_seq: notifier sequence the published pages belong to */
	unsigned long notifier_seq;
	/**
	 * @dma_addr: one 8-byte entry per page of the published pages: its
	 * page-aligned DMA address (or, for a page that is not DMA-mapped,
	 * its physical address) with flags in the low bits (first page of a
	 * DMA mapping, writable, not DMA-mapped). Allocated per fault, kept
	 * while the pages are published, freed when they are taken away (NULL
	 * then). Use drm_svm_range_dma_addr() and the other accessors.
	 */
	u64 *dma_addr;
	/**
	 * @hmm_pfns: NULL unless the device's DMA addresses cannot be
	 * translated back to pages (IOMMU, swiotlb bouncing): then the
	 * hmm_range_fault() output of the published pages, same lifetime as
	 * @dma_addr
	 */
	unsigned long *hmm_pfns;
	/** @dma_nsegs: number of DMA mappings (contiguous runs) currently held */
	unsigned long dma_nsegs;
	/**
	 * @ent_one: storage of @dma_addr for a one-page mirror range set up
	 * by a multi-range fault: no allocation for it
	 */
	u64 ent_one;
	/** @itree: mirror ranges only: node in &drm_svm_mirror.ranges */
	struct interval_tree_node itree;
	/** @gc_link: mirror ranges only: entry in &drm_svm_mirror.gc_list */
	struct list_head gc_link;
	/** @chunk: mirror ranges only: index of the chunk size of the range */
	unsigned int chunk;
	/**
	 * @stale_start: first entry of @dma_addr a permission change took
	 * away while the others stayed mapped (valid while @dma_addr is set
	 * and %DRM_SVM_RANGE_MAPPED is clear)
	 */
	unsigned long stale_start;
	/** @stale_end: end (exclusive) of the stale entries */
	unsigned long stale_end;
	/**
	 * @restore_link: %DRM_SVM_RANGE_RESTORE ranges only: entry in
	 * &drm_svm.restore_list while the range waits to be restored
	 */
	struct list_head restore_link;
	/**
	 * @block: mirror ranges only: the range block the range lives in,
	 * NULL when it was allocated on its own
	 */
	struct drm_svm_range_block *block;
	/**
	 * @ent_block: storage of @dma_addr in @block for a multi-page range
	 * of a range block, NULL otherwise
	 */
	u64 *ent_block;
};

/*
 * Layout of the entries of &drm_svm_range.dma_addr (one u64 per published
 * page, 8 bytes of tracking memory per page): a page-aligned address with
 * flags below PAGE_SHIFT. The address is the page's DMA address, or its
 * physical address when the page is not DMA-mapped (%DRM_SVM_ENT_PHYS:
 * no DMA device, or a device-private page). Internal to the helper and
 * its tests: drivers use the accessors.
 */
#define DRM_SVM_ENT_HEAD	BIT_ULL(0)	/* first page of a DMA mapping */
#define DRM_SVM_ENT_WRITE	BIT_ULL(1)	/* the device may write it */
#define DRM_SVM_ENT_PHYS	BIT_ULL(2)	/* physical address, no DMA */
#define DRM_SVM_ENT_STALE	BIT_ULL(3)	/* invalidated, not mapped */
#define DRM_SVM_ENT_ADDR(ent)	((ent) & ~(u64)(PAGE_SIZE - 1))

int drm_svm_init(struct drm_svm *svm, struct device *dev, struct mm_struct *mm,
		 const struct drm_svm_ops *ops, void *dev_private_owner);
void drm_svm_fini(struct drm_svm *svm);

/**
 * struct drm_svm_registry - one &struct drm_svm per address space, per device
 *
 * For drivers whose userptr objects may be used together from several
 * contexts of one process (GPU VMs, files): every object of one mm then
 * shares one notifier lock, so one command submission commits them all
 * under one lock. Set up with drm_svm_registry_init(); all fields are
 * private to the helper.
 */
struct drm_svm_registry {
	/** @lock: protects @list */
	struct mutex lock;
	/** @list: the live &struct drm_svm, by &drm_svm.registry_link */
	struct list_head list;
	/** @dev: passed to drm_svm_init() for each new svm */
	struct device *dev;
	/** @ops: passed to drm_svm_init() for each new svm */
	const struct drm_svm_ops *ops;
	/** @dev_private_owner: passed to drm_svm_init() for each new svm */
	void *dev_private_owner;
};

void drm_svm_registry_init(struct drm_svm_registry *reg, struct device *dev,
			   const struct drm_svm_ops *ops,
			   void *dev_private_owner);
void drm_svm_registry_fini(struct drm_svm_registry *reg);
struct drm_svm *drm_svm_registry_get(struct drm_svm_registry *reg,
				     struct mm_struct *mm);
void drm_svm_registry_put(struct drm_svm *svm);

int drm_svm_range_init(struct drm_svm *svm, struct drm_svm_range *range,
		       unsigned long start, unsigned long size,
		       unsigned long flags);
void drm_svm_range_fini(struct drm_svm_range *range);

int drm_svm_range_get_pages(struct drm_svm_range *range,
			    unsigned long timeout_ms);

void drm_svm_notifier_lock(struct drm_svm *svm);
void drm_svm_notifier_unlock(struct drm_svm *svm);
bool drm_svm_range_pages_valid(struct drm_svm_range *range);
unsigned long drm_svm_range_seq(struct drm_svm_range *range);

dma_addr_t drm_svm_range_dma_addr(struct drm_svm_range *range,
				  unsigned long idx);
struct page *drm_svm_range_page(struct drm_svm_range *range,
				unsigned long idx);
bool drm_svm_range_page_writable(struct drm_svm_range *range,
				 unsigned long idx);
void drm_svm_set_max_pages(struct drm_svm *svm, unsigned long max_pages);
int drm_svm_range_get_sgt(struct drm_svm_range *range, struct sg_table *sgt,
			  unsigned long *seq);

int drm_svm_mirror_init(struct drm_svm *svm, const unsigned long *chunk_sizes,
			unsigned int num_chunks);
void drm_svm_mirror_fini(struct drm_svm *svm);
int drm_svm_mirror_fault(struct drm_svm *svm, unsigned long addr,
			 unsigned long fault_flags, unsigned long timeout_ms,
			 void *data);
int drm_svm_mirror_fault_batch(struct drm_svm *svm,
			       struct drm_svm_fault *faults, unsigned int nr,
			       unsigned long timeout_ms, void *data);
int drm_svm_set_event_filter(struct drm_svm *svm, unsigned long filter);
unsigned long drm_svm_mirror_garbage_collect(struct drm_svm *svm);
struct drm_svm_range *drm_svm_mirror_find(struct drm_svm *svm,
					  unsigned long addr);
struct drm_svm_range *drm_svm_mirror_range_first(struct drm_svm *svm,
						 unsigned long start,
						 unsigned long end);
struct drm_svm_range *drm_svm_mirror_range_next(struct drm_svm_range *range,
						unsigned long start,
						unsigned long end);
void drm_svm_mirror_range_evict(struct drm_svm_range *range);
int drm_svm_mirror_set_fault_around(struct drm_svm *svm, unsigned long bytes);
void drm_svm_mirror_lock(struct drm_svm *svm);
void drm_svm_mirror_unlock(struct drm_svm *svm);

/**
 * struct drm_svm_mirror_iter - cursor of drm_svm_mirror_for_each_range()
 * @svm: the mirror
 * @start: first address of the interval
 * @end: end of the interval (exclusive)
 * @range: the current range, NULL before the first step
 */
struct drm_svm_mirror_iter {
	struct drm_svm *svm;
	unsigned long start;
	unsigned long end;
	struct drm_svm_range *range;
};

/**
 * drm_svm_mirror_iter_next() - step a &struct drm_svm_mirror_iter
 * @it: the cursor
 *
 * Return: the next range intersecting the interval of @it, or NULL.
 */
static inline struct drm_svm_range *
drm_svm_mirror_iter_next(struct drm_svm_mirror_iter *it)
{
	if (!it->range)
		it->range = drm_svm_mirror_range_first(it->svm, it->start,
						       it->end);
	else
		it->range = drm_svm_mirror_range_next(it->range, it->start,
						      it->end);
	return it->range;
}

/**
 * drm_svm_mirror_for_each_range() - iterate over mirror ranges in an interval
 * @range__: &struct drm_svm_range pointer used as cursor
 * @svm__: the &struct drm_svm
 * @start__: first address of the interval
 * @end__: end of the interval (exclusive)
 *
 * Visits every mirror range that intersects [@start__, @end__), in address
 * order. Hold the mirror lock (drm_svm_mirror_lock()) or the notifier lock
 * for the whole walk; ranges must not be removed during it. Eviction
 * (drm_svm_mirror_range_evict()) is fine under the mirror lock only: it
 * takes the notifier lock for write.
 */
#define drm_svm_mirror_for_each_range(range__, svm__, start__, end__)	\
	for (struct drm_svm_mirror_iter __drm_svm_it =			\
		{ .svm = (svm__), .start = (start__), .end = (end__) };	\
	     ((range__) = drm_svm_mirror_iter_next(&__drm_svm_it));)

unsigned long drm_svm_restore_gen(struct drm_svm *svm);
struct drm_svm_range *drm_svm_restore_pop(struct drm_svm *svm);
void drm_svm_restore_requeue(struct drm_svm_range *range);
bool drm_svm_restore_pending(struct drm_svm *svm);

void drm_svm_stats_read(struct drm_svm *svm,
			struct drm_svm_stats_snapshot *snap);
void drm_svm_debugfs_init(struct drm_svm *svm, struct dentry *root);

/**
 * drm_svm_range_npages() - number of pages of a range
 * @range: the range
 *
 * Return: (end - start) >> PAGE_SHIFT.
 */
static inline unsigned long drm_svm_range_npages(const struct drm_svm_range *range)
{
	return range->npages;
}

/**
 * drm_svm_range_writable() - may the device write every published page?
 * @range: the range
 *
 * Call under the notifier lock, with drm_svm_range_pages_valid() true.
 * False for read-only ranges and for mirror ranges read-faulted over pages
 * that the CPU maps read-only (zero page, copy-on-write); map those pages
 * read-only in the device (drm_svm_range_page_writable() per page) and let
 * a device write fault (drm_svm_mirror_fault() with %DRM_SVM_FAULT_WRITE)
 * upgrade the range.
 *
 * Return: true if %DRM_SVM_RANGE_WRITABLE is set.
 */
static inline bool drm_svm_range_writable(const struct drm_svm_range *range)
{
	return test_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags);
}

/**
 * drm_svm_range_dma_nsegs() - number of DMA mappings backing a range
 * @range: the range
 *
 * One per physically contiguous run of pages (across folios): a range
 * fully backed by one 2M THP has exactly one. Call under the notifier lock.
 *
 * Return: the number of DMA mappings currently held.
 */
static inline unsigned long drm_svm_range_dma_nsegs(const struct drm_svm_range *range)
{
	return range->dma_nsegs;
}

/**
 * drm_svm_range_unmapped() - was the whole range unmapped?
 * @range: the range
 *
 * Return: true if %DRM_SVM_RANGE_UNMAPPED is set.
 */
static inline bool drm_svm_range_unmapped(const struct drm_svm_range *range)
{
	return test_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
}

/**
 * drm_svm_range_partially_unmapped() - was part of the range unmapped?
 * @range: the range
 *
 * Return: true if %DRM_SVM_RANGE_PARTIAL_UNMAP is set.
 */
static inline bool
drm_svm_range_partially_unmapped(const struct drm_svm_range *range)
{
	return test_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
}

#ifdef CONFIG_DEBUG_LOCK_ALLOC
void __drm_svm_driver_set_lock(struct drm_svm *svm, struct lockdep_map *map);

/**
 * drm_svm_driver_set_lock() - tell lockdep which driver lock guards the svm
 * @svm__: the &struct drm_svm
 * @lock__: the driver's lock (mutex, rw_semaphore ...), with a dep_map
 *
 * Once set, drm_svm_range_init(), drm_svm_range_fini() and
 * drm_svm_range_get_pages() assert that the lock is held, and lockdep
 * learns that the lock is held while the helper may wait for an
 * invalidation, so an &drm_svm_ops.invalidate that takes it is reported.
 * Optional; set it once, right after drm_svm_init(). Compiles to nothing
 * without lockdep.
 */
#define drm_svm_driver_set_lock(svm__, lock__) \
	__drm_svm_driver_set_lock(svm__, &(lock__)->dep_map)
#else
#define drm_svm_driver_set_lock(svm__, lock__) ((void)(svm__), (void)(lock__))
#endif

#if IS_ENABLED(CONFIG_KUNIT)
int drm_svm_check_page(const struct page *page);
int drm_svm_sgt_nents(const u64 *ent, unsigned long npages,
		      unsigned int max_nents, unsigned int *nents);
#endif

#endif /* __DRM_SVM_H__ */
