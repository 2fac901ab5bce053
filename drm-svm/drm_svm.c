// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * drm_svm: mirror process memory into a GPU (userptr objects and SVM)
 */

#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/interval_tree.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include <drm/drm_svm.h>

/* Longest DMA mapping: an sg_table entry's length is an unsigned int. */
#define DRM_SVM_MAX_SEG_PAGES	((unsigned long)(UINT_MAX >> PAGE_SHIFT))

/**
 * DOC: Overview
 *
 * drm_svm lets a GPU driver mirror ranges of a process address space
 * without open-coding the mmu_interval_notifier protocol. A driver embeds
 * one &struct drm_svm per mirrored mm (per VM, per file or per process) and
 * one &struct drm_svm_range per mirrored interval (a userptr object, or a
 * chunk of an SVM address space).
 *
 * The life of a range::
 *
 *   drm_svm_range_init()          insert the interval notifier
 *        |
 *        v
 *   drm_svm_range_get_pages()     fault, check for collision, DMA-map,
 *        |                        publish pages + notifier seq
 *        v
 *   drm_svm_notifier_lock()       (read)
 *   drm_svm_range_pages_valid()   false -> unlock, go back to get_pages
 *   ... program the GPU, or let it run, with the pages ...
 *   drm_svm_notifier_unlock()
 *        |
 *        v
 *   drm_svm_range_fini()          remove the notifier, unmap, free
 *
 * Meanwhile the helper's own interval-notifier callback may run at any
 * time: it advances the notifier sequence, calls &drm_svm_ops.invalidate so
 * that the driver stops the device, and tears down the DMA mappings.
 *
 * A range never holds page references: like every hmm_range_fault() user,
 * it relies on the notifier to learn when the pages go away.
 *
 * Tracking memory: a range costs nothing per page until pages are
 * published, and 8 bytes per page while they are. Each get_pages that
 * faults allocates the hmm pfns for the call (8 bytes per page, freed
 * before it returns) and one entry per page (8 bytes): the page's DMA
 * address, or its physical address when it is not DMA-mapped, with flags
 * in the low bits (first page of a DMA mapping, writable). The entries are
 * kept while the pages are published and freed when the range is
 * invalidated (or torn down), so an invalidated range that is not used
 * again costs nothing. There is no page array: drm_svm_range_page() and
 * the dirty marking find the page from its DMA address the way the bus
 * does (dma_to_phys(), dma-direct). Where that does not lead back to the
 * page (an IOMMU, a swiotlb bounce buffer; checked for every DMA mapping
 * when it is made), the hmm pfns are kept too (16 bytes per page). The
 * memory is charged to the memory cgroup of the caller
 * (GFP_KERNEL_ACCOUNT) and allocated with __GFP_RETRY_MAYFAIL, and a
 * &struct drm_svm tracks at most &drm_svm.max_pages pages at a time
 * (drm_svm_set_max_pages(), default %DRM_SVM_MAX_PAGES_PER_RAM times RAM):
 * a process that mirrors too much gets -ENOMEM, and nobody is OOM-killed
 * for it.
 */

/**
 * DOC: Dirty pages and write permission
 *
 * The device writes through its own mapping of the pages, never through
 * the CPU page tables, so the CPU page-table entries of pages the device
 * wrote may well be clean: after MADV_FREE (the page is then dropped by
 * reclaim unless it is dirty), after a swap-in by a CPU read (a clean copy
 * stays in the swap cache and reclaim reuses it), and for shared mappings
 * of files that need no write notification (shmem). The helper therefore
 * marks every page the device may have written dirty (folio_mark_dirty())
 * when it takes the page away from the device: in the notifier (before
 * the mm changes the CPU page tables, so the folio is still mapped and
 * alive), when it evicts or replaces published pages, and in
 * drm_svm_range_fini() before the notifier goes. folio_lock() is not
 * taken: reclaim calls the notifier with the folio locked (try_to_unmap()),
 * and the notifier lock nests inside it.
 *
 * A page "may have been written" when the range is not read-only and the
 * page was published with write permission (%HMM_PFN_WRITE; see
 * drm_svm_range_page_writable()). Read-only pages are DMA-mapped
 * %DMA_TO_DEVICE, writable ones %DMA_BIDIRECTIONAL (one DMA mapping never
 * mixes the two).
 *
 * Which faults request write permission:
 *
 * - Mirror mode, like nouveau and lib/test_hmm.c: a device read fault
 *   requests %HMM_PFN_REQ_FAULT only, so it does not break copy-on-write
 *   after fork(), maps untouched anonymous memory to the zero page,
 *   leaves shared file pages clean and keeps uffd-wp, soft-dirty and KSM
 *   working. Each page keeps the write permission the CPU gives it; the
 *   driver maps the others read-only (drm_svm_range_writable() tells
 *   whether any is), and a device write fault (%DRM_SVM_FAULT_WRITE)
 *   faults the range again with %HMM_PFN_REQ_WRITE, which upgrades it.
 * - Userptr objects (drm_svm_range_get_pages()): a writable object is
 *   write-faulted whole at validation, as amdgpu, radeon and i915 do
 *   today. Userptr objects serve GPUs that bind a buffer object into the
 *   GPU page tables in one go and cannot take a recoverable write fault
 *   on it later, so the pages must be writable before the first command
 *   that may write them is submitted; a buffer the GPU only reads is
 *   created with %DRM_SVM_RANGE_READ_ONLY, which read-faults and never
 *   dirties.
 */

/**
 * DOC: Locking
 *
 * &drm_svm.notifier_lock is a rw_semaphore shared by all ranges of a
 * &struct drm_svm:
 *
 * - the notifier callback holds it for write while it advances the
 *   sequence (mmu_interval_set_seq()), calls &drm_svm_ops.invalidate and
 *   unmaps DMA;
 * - drm_svm_range_get_pages() holds it for write only to check for a
 *   collision (mmu_interval_read_retry()), DMA-map and publish the pages;
 * - the driver holds it for read (drm_svm_notifier_lock()) around its
 *   commit check, drm_svm_range_pages_valid(), and for as long as the
 *   device may use pages it validated, or until its GPU page tables hold
 *   them: the next invalidation waits for it in down_write().
 *
 * ::
 *
 *   get_pages (driver ctx)                    mm (munmap, reclaim, OOM ...)
 *   ---------------------                     ---------------------------
 *   seq = mmu_interval_read_begin()
 *   mmap_read_lock(); hmm_range_fault()
 *   mmap_read_unlock()                        invalidate_range_start
 *                                               -> drm_svm notifier:
 *   down_write(notifier_lock)  <-- excludes -->    down_write(notifier_lock)
 *   read_retry(seq)? -> retry                      set_seq(cur_seq)
 *   dma_map; publish pages, seq                    ops->invalidate()
 *   up_write(notifier_lock)                        dma_unmap
 *                                                  up_write(notifier_lock)
 *   driver commit:
 *   down_read(notifier_lock)
 *   pages_valid()? -> GPU may use pages
 *   up_read(notifier_lock)
 *
 * Because the notifier may be called from direct reclaim, nothing may
 * allocate memory with reclaim (GFP_KERNEL) while holding the notifier
 * lock, in the helper or in the driver's invalidate callback. drm_svm_init()
 * teaches lockdep that the notifier lock nests inside fs_reclaim (and, when
 * the helper is built in, inside the mmu notifier invalidation map), so any
 * violation is reported the first time its code path runs, not when reclaim
 * happens to hit it.
 *
 * The optional driver lock (drm_svm_driver_set_lock()) is the lock the
 * driver holds around range init/fini and get_pages (its VM lock, say). It
 * must never be taken from &drm_svm_ops.invalidate: get_pages may recurse
 * into reclaim, and range fini waits for running invalidations.
 *
 * Non-blockable invalidations (the OOM reaper) never sleep. The sequence
 * may only move under the notifier lock (mmu_interval_set_seq() pairs
 * with mmu_interval_read_retry() under it), so the helper tries the lock
 * (down_write_trylock()): when it is contended the callback returns false
 * at once (the OOM reaper skips the mm for now and comes back); when it is
 * taken, the sequence is advanced and the callback succeeds if the range
 * has nothing published, and returns false if pages are published,
 * because stopping the device would have to sleep. Pages left published by
 * such a bail-out are no longer valid; the next drm_svm_range_get_pages()
 * stops the device through &drm_svm_ops.invalidate (an %MMU_NOTIFY_CLEAR
 * event) before it unmaps them.
 *
 * Every invalidation is honoured, whatever its owner: the helper does not
 * migrate pages to device memory yet, so a %MMU_NOTIFY_MIGRATE or
 * %MMU_NOTIFY_EXCLUSIVE event, even one the driver caused with
 * &drm_svm.dev_private_owner, takes the system pages away like any other.
 * (drm_gpusvm skips its own migrations only because it then owns the
 * device pages that replace them.) A driver that handles its own events
 * opts out with drm_svm_set_event_filter().
 */

/**
 * DOC: The deadlock rule
 *
 * &drm_svm_ops.invalidate must never wait, directly or through a fence,
 * a work item or a lock, for work that can itself fault user memory
 * through the helper (a drm_svm_range_get_pages(), a
 * drm_svm_mirror_fault(), a drm_svm_range_fini()): while invalidate runs,
 * the mm's invalidation is in progress, and
 *
 * - mmu_interval_read_begin(), at the start of every fault, waits for the
 *   running invalidation of the mm to end;
 * - mmu_interval_notifier_remove(), in drm_svm_range_fini() and mirror
 *   garbage collection (under the mirror lock), waits for it too;
 * - hmm_range_fault() may itself enter reclaim and the notifier.
 *
 * So a job whose fence the invalidate callback waits for must have
 * resolved all its faults before it can block that fence; a GPU page-fault
 * handler must not be the thing the invalidate callback waits for.
 * Lockdep sees it: the core wraps invalidations in the
 * "mmu_notifier_invalidate_range_start" lockdep map, and the helper takes
 * that map (acquire + release) on entry to every call that may wait for an
 * invalidation, also when it ends up not waiting (valid pages), and
 * primes the notifier lock and the mirror lock inside it and inside
 * fs_reclaim at init. An invalidate callback that takes the mirror lock or
 * the driver lock (drm_svm_driver_set_lock()), or that flushes a work item
 * which faults, is then reported the first time both paths have run. The
 * KUnit suite drm_svm_deadlock_rule shows it (boot with
 * drm_svm_test.lockdep_splat=1: it breaks the rule on purpose).
 */

/**
 * DOC: Collisions, timeout and -EAGAIN
 *
 * A collision is an invalidation racing with drm_svm_range_get_pages():
 * hmm_range_fault() returning -EBUSY, or mmu_interval_read_retry() failing
 * when the pages are about to be published. Both are counted in
 * &drm_svm_stats.retries and handled the same way:
 *
 * - @timeout_ms == 0: give up at the first collision and return -EAGAIN.
 *   For callers that can restart from userspace, like amdgpu command
 *   submission (the ioctl returns -EAGAIN and libdrm calls it again).
 * - @timeout_ms > 0: fault again until @timeout_ms milliseconds have passed
 *   since the call, then return -EAGAIN and count a timeout
 *   (&drm_svm_stats.timeouts). DRM_SVM_TIMEOUT_DEFAULT_MS is a reasonable
 *   budget for GPU page-fault handlers and in-kernel validation.
 *
 * -EBUSY is never returned: -EAGAIN always means "transient, call again".
 * A successful return does not mean the pages are still valid when the
 * caller uses them; the commit check under the notifier lock decides.
 */

/**
 * DOC: Errors
 *
 * drm_svm_range_init():
 *
 * - -EINVAL: zero size, unaligned start or size, start + size overflows,
 *   unknown flags.
 * - -EFAULT: the interval reaches beyond the user address space of the mm
 *   (kernel addresses).
 * - -ESRCH: the mm has no users any more (the process exited).
 * - -ENOMEM: out of memory (inserting the notifier), or a range larger
 *   than the cap of drm_svm_set_max_pages() (by default 4 times RAM),
 *   whose pages could never be published. Nothing is allocated per page.
 *
 * drm_svm_range_get_pages():
 *
 * - -ESRCH: the mm has no users any more (process exit).
 * - -EFAULT: a hole in the range, a VMA without read permission, a VM_IO or
 *   VM_PFNMAP VMA, a page hmm_range_fault() could not fault, or a DMA
 *   mapping failure.
 * - -EPERM: a writable range over a VMA without write permission, or an
 *   anonymous-only range over a file-backed VMA.
 * - -EOPNOTSUPP: a page is ZONE_DEVICE memory the helper cannot DMA-map
 *   as RAM: P2PDMA, device-coherent or device-dax memory.
 * - -EAGAIN: collisions, see the previous section.
 * - -ENOMEM: out of memory for the tracking memory (the memory cgroup's
 *   limit, or the mirror's cap, see drm_svm_set_max_pages()).
 */

static void drm_svm_assert_driver_lock(struct drm_svm *svm)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	if (svm->lock_dep_map)
		lockdep_assert(lock_is_held(svm->lock_dep_map));
#endif
}

static void drm_svm_prime_lockdep(struct drm_svm *svm)
{
	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return;

	/*
	 * The notifier callback runs under these "locks" whenever the mm
	 * invalidates from reclaim; record the nesting now.
	 */
	fs_reclaim_acquire(GFP_KERNEL);
#if IS_BUILTIN(CONFIG_DRM_SVM) && defined(CONFIG_LOCKDEP)
	lock_map_acquire(&__mmu_notifier_invalidate_range_start_map);
#endif
	down_write(&svm->notifier_lock);
	up_write(&svm->notifier_lock);
#if IS_BUILTIN(CONFIG_DRM_SVM) && defined(CONFIG_LOCKDEP)
	lock_map_release(&__mmu_notifier_invalidate_range_start_map);
#endif
	fs_reclaim_release(GFP_KERNEL);
}

/*
 * The caller may wait for a running invalidation of the mm (in
 * mmu_interval_read_begin() or mmu_interval_notifier_remove()): tell
 * lockdep every time, not only when the wait happens, so that an
 * &drm_svm_ops.invalidate that waits for such a caller is reported the
 * first time both paths run (see "The deadlock rule").
 */
static void drm_svm_might_wait_invalidation(void)
{
#if IS_BUILTIN(CONFIG_DRM_SVM) && defined(CONFIG_LOCKDEP)
	lock_map_acquire(&__mmu_notifier_invalidate_range_start_map);
	lock_map_release(&__mmu_notifier_invalidate_range_start_map);
#endif
}

#ifdef CONFIG_DEBUG_LOCK_ALLOC
/**
 * __drm_svm_driver_set_lock() - backend of drm_svm_driver_set_lock()
 * @svm: the mirror
 * @map: lockdep map of the driver's lock
 *
 * Records @map and teaches lockdep that the driver lock is held around
 * calls that wait for invalidations (see "The deadlock rule"), so that an
 * &drm_svm_ops.invalidate taking it is reported at once.
 */
void __drm_svm_driver_set_lock(struct drm_svm *svm, struct lockdep_map *map)
{
	if (WARN(svm->lock_dep_map, "drm_svm driver lock already set"))
		return;
	svm->lock_dep_map = map;
	if (lock_is_held(map))
		return;
	lock_map_acquire(map);
	drm_svm_might_wait_invalidation();
	lock_map_release(map);
}
EXPORT_SYMBOL_GPL(__drm_svm_driver_set_lock);
#endif

static void drm_svm_mirror_gc_work(struct work_struct *work);
static void drm_svm_restore_setup(struct drm_svm *svm);
static void drm_svm_restore_note(struct drm_svm_range *range);
static void drm_svm_restore_forget(struct drm_svm_range *range);

/* Mirror-mode bookkeeping exists, empty, even when mirror mode is off. */
static void drm_svm_mirror_setup(struct drm_svm *svm)
{
	struct drm_svm_mirror *mirror = &svm->mirror;

	mutex_init(&mirror->lock);
	mirror->ranges = RB_ROOT_CACHED;
	spin_lock_init(&mirror->gc_lock);
	INIT_LIST_HEAD(&mirror->gc_list);
	INIT_WORK(&mirror->gc_work, drm_svm_mirror_gc_work);
}

/**
 * drm_svm_init() - initialise a mirror of an address space
 * @svm: the structure to initialise, usually embedded in a driver object
 * @dev: device used for DMA mapping; NULL for a device that reaches pages
 *       through the CPU only (pages are then published without DMA
 *       addresses)
 * @mm: the address space to mirror; a reference (mmgrab()) is kept until
 *      drm_svm_fini()
 * @ops: driver callbacks; &drm_svm_ops.invalidate is mandatory
 * @dev_private_owner: pgmap owner of the driver's device-private memory, or
 *                     NULL
 *
 * Does not sleep apart from lockdep bookkeeping; may be called with the
 * mm's users already gone (every range operation then fails with -ESRCH).
 *
 * Return: 0, or -EINVAL if @mm, @ops or @ops->invalidate is missing.
 */
int drm_svm_init(struct drm_svm *svm, struct device *dev, struct mm_struct *mm,
		 const struct drm_svm_ops *ops, void *dev_private_owner)
{
	if (!mm || !ops || !ops->invalidate)
		return -EINVAL;

	memset(svm, 0, sizeof(*svm));
	svm->dev = dev;
	svm->mm = mm;
	svm->ops = ops;
	svm->dev_private_owner = dev_private_owner;
	svm->max_pages = DRM_SVM_MAX_PAGES_PER_RAM * totalram_pages();
	init_rwsem(&svm->notifier_lock);
	drm_svm_mirror_setup(svm);
	drm_svm_restore_setup(svm);
	mmgrab(mm);
	drm_svm_prime_lockdep(svm);

	return 0;
}
EXPORT_SYMBOL_GPL(drm_svm_init);

/**
 * drm_svm_fini() - tear down a mirror initialised by drm_svm_init()
 * @svm: the mirror
 *
 * All ranges must have been finalised with drm_svm_range_fini() first,
 * and mirror mode with drm_svm_mirror_fini(). Removes the debugfs file and drops the mm reference.
 */
void drm_svm_fini(struct drm_svm *svm)
{
	/* drm_svm_mirror_fini() must come first. */
	WARN_ON(svm->mirror.active);
	/* So must drm_svm_range_fini() of every range. */
	WARN_ON(atomic_long_read(&svm->tracked_pages));
	mutex_destroy(&svm->mirror.lock);
	debugfs_remove(svm->debugfs);
	svm->debugfs = NULL;
	if (svm->mm)
		mmdrop(svm->mm);
	svm->mm = NULL;
}
EXPORT_SYMBOL_GPL(drm_svm_fini);

/**
 * drm_svm_registry_init() - set up a registry of mirrors, one per mm
 * @reg: the registry, embedded in the driver's device structure
 * @dev: device for DMA mapping, passed to drm_svm_init()
 * @ops: driver callbacks, passed to drm_svm_init()
 * @dev_private_owner: passed to drm_svm_init()
 *
 * A driver whose userptr objects of one process may meet in one command
 * submission, whatever GPU VM or file created them, gets the &struct
 * drm_svm of an mm from the registry with drm_svm_registry_get() instead
 * of embedding its own: all those objects then share one notifier lock.
 */
void drm_svm_registry_init(struct drm_svm_registry *reg, struct device *dev,
			   const struct drm_svm_ops *ops,
			   void *dev_private_owner)
{
	mutex_init(&reg->lock);
	INIT_LIST_HEAD(&reg->list);
	reg->dev = dev;
	reg->ops = ops;
	reg->dev_private_owner = dev_private_owner;
}
EXPORT_SYMBOL_GPL(drm_svm_registry_init);

/**
 * drm_svm_registry_fini() - tear down a registry
 * @reg: the registry
 *
 * Every reference taken with drm_svm_registry_get() must have been dropped.
 */
void drm_svm_registry_fini(struct drm_svm_registry *reg)
{
	WARN_ON(!list_empty(&reg->list));
	mutex_destroy(&reg->lock);
}
EXPORT_SYMBOL_GPL(drm_svm_registry_fini);

/**
 * drm_svm_registry_get() - the mirror of an address space, shared
 * @reg: the registry
 * @mm: the address space
 *
 * Returns the registry's &struct drm_svm for @mm with a new reference,
 * creating it (drm_svm_init(), charged to the caller's memory cgroup) for
 * the first user. Drop the reference with drm_svm_registry_put(), after
 * drm_svm_range_fini() of the caller's ranges. Takes the registry lock:
 * must not be called from the svm's invalidate callback.
 *
 * Return: the svm, or ERR_PTR(-ENOMEM) or ERR_PTR(-EINVAL) (no @mm, or
 * the registry has no ops).
 */
struct drm_svm *drm_svm_registry_get(struct drm_svm_registry *reg,
				     struct mm_struct *mm)
{
	struct drm_svm *svm;
	int ret;

	might_sleep();
	mutex_lock(&reg->lock);
	/* kref_put_mutex() unlinks under the lock: every listed svm is live. */
	list_for_each_entry(svm, &reg->list, registry_link) {
		if (svm->mm == mm) {
			kref_get(&svm->registry_ref);
			goto out;
		}
	}

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm) {
		svm = ERR_PTR(-ENOMEM);
		goto out;
	}
	ret = drm_svm_init(svm, reg->dev, mm, reg->ops,
			   reg->dev_private_owner);
	if (ret) {
		kfree(svm);
		svm = ERR_PTR(ret);
		goto out;
	}
	svm->registry = reg;
	kref_init(&svm->registry_ref);
	list_add(&svm->registry_link, &reg->list);
out:
	mutex_unlock(&reg->lock);
	return svm;
}
EXPORT_SYMBOL_GPL(drm_svm_registry_get);

/* kref_put_mutex() release: called with the registry lock held, drops it. */
static void drm_svm_registry_release(struct kref *ref)
{
	struct drm_svm *svm = container_of(ref, struct drm_svm, registry_ref);

	list_del(&svm->registry_link);
	mutex_unlock(&svm->registry->lock);
	drm_svm_fini(svm);
	kfree(svm);
}

/**
 * drm_svm_registry_put() - drop a reference from drm_svm_registry_get()
 * @svm: the svm
 *
 * The last reference tears the svm down with drm_svm_fini(), so every
 * range of the caller must have been finalised.
 */
void drm_svm_registry_put(struct drm_svm *svm)
{
	if (WARN_ON(!svm->registry))
		return;
	might_lock(&svm->registry->lock);
	kref_put_mutex(&svm->registry_ref, drm_svm_registry_release,
		       &svm->registry->lock);
}
EXPORT_SYMBOL_GPL(drm_svm_registry_put);

/**
 * drm_svm_set_max_pages() - cap the tracking memory of a mirror
 * @svm: the mirror
 * @max_pages: most pages the ranges of @svm may track at a time
 *
 * Every page that a range is faulting or has published costs tracking
 * memory (about 16 bytes, charged to the memory cgroup of the caller of
 * drm_svm_range_get_pages()); once the ranges of @svm would track more
 * than @max_pages pages, drm_svm_range_get_pages() and
 * drm_svm_mirror_fault() fail with -ENOMEM instead of allocating. The
 * default set by drm_svm_init() is %DRM_SVM_MAX_PAGES_PER_RAM times the
 * RAM of the machine, in pages. Call it before the first get_pages.
 */
void drm_svm_set_max_pages(struct drm_svm *svm, unsigned long max_pages)
{
	WRITE_ONCE(svm->max_pages, max_pages);
}
EXPORT_SYMBOL_GPL(drm_svm_set_max_pages);

/* May the device write the page of @hmm_pfn? */
static bool drm_svm_pfn_writable(struct drm_svm_range *range,
				 unsigned long hmm_pfn)
{
	return (hmm_pfn & HMM_PFN_WRITE) &&
	       !test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);
}

/* The entry flags (DRM_SVM_ENT_*) are in the low bits, below the page. */
static_assert(PAGE_SHIFT > 3);

static enum dma_data_direction drm_svm_ent_dir(u64 ent)
{
	return ent & DRM_SVM_ENT_WRITE ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

/*
 * Can the page behind a DMA address be found again from the address
 * alone? True for dma-direct without bouncing (no IOMMU, no swiotlb),
 * where the DMA address is the physical address seen through the bus.
 */
static bool drm_svm_dma_translates(struct drm_svm *svm, dma_addr_t addr,
				   struct page *page)
{
#if IS_ENABLED(CONFIG_DRM_SVM_KUNIT_TEST)
	if (svm->test_untranslatable)
		return false;
#endif
	/* A swiotlb bounce buffer or an IOMMU address leads elsewhere. */
	return dma_to_phys(svm->dev, addr) == page_to_phys(page);
}

/* The page of entry @idx of the published pages (notifier lock held). */
static struct page *drm_svm_range_ent_page(struct drm_svm_range *range,
					   unsigned long idx)
{
	u64 ent = range->dma_addr[idx];

	if (range->hmm_pfns)
		return hmm_pfn_to_page(range->hmm_pfns[idx]);
	if (ent & DRM_SVM_ENT_PHYS)
		return pfn_to_page(PHYS_PFN(DRM_SVM_ENT_ADDR(ent)));
	return pfn_to_page(PHYS_PFN(dma_to_phys(range->svm->dev,
						DRM_SVM_ENT_ADDR(ent))));
}

/*
 * Per-fault tracking memory: the hmm pfns (for this call only, unless DMA
 * addresses cannot be translated back to pages) and the entries.
 */
struct drm_svm_track {
	unsigned long *hmm_pfns;
	u64 *dma_addr;
};

/* Frees what @tr holds; @tr->dma_addr set means its pages are counted. */
static void drm_svm_track_free(struct drm_svm *svm, struct drm_svm_track *tr,
			       unsigned long npages)
{
	if (tr->dma_addr)
		atomic_long_sub(npages, &svm->tracked_pages);
	kvfree(tr->hmm_pfns);
	kvfree(tr->dma_addr);
	memset(tr, 0, sizeof(*tr));
}

/*
 * Tracking memory is charged to the caller's memory cgroup and may fail:
 * a process that mirrors too much gets -ENOMEM, it does not wake the OOM
 * killer (neither the global one nor its cgroup's).
 */
#define DRM_SVM_TRACK_GFP (GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			   __GFP_NOWARN)

/* Charge @npages of tracking to @svm; false when that is over its cap. */
static bool drm_svm_track_charge(struct drm_svm *svm, unsigned long npages)
{
	if (atomic_long_add_return(npages, &svm->tracked_pages) >
	    READ_ONCE(svm->max_pages)) {
		atomic_long_sub(npages, &svm->tracked_pages);
		return false;
	}
	return true;
}

/*
 * Charge and allocate the tracking memory of @npages pages; @ent: storage
 * for the entries that the range already has (in its range block), or
 * NULL.
 */
static int drm_svm_track_alloc(struct drm_svm *svm, struct drm_svm_track *tr,
			       unsigned long npages, u64 *ent)
{
	memset(tr, 0, sizeof(*tr));
	if (!drm_svm_track_charge(svm, npages))
		return -ENOMEM;
	tr->hmm_pfns = kvmalloc_array(npages, sizeof(*tr->hmm_pfns),
				      DRM_SVM_TRACK_GFP);
	tr->dma_addr = ent ?: kvmalloc_array(npages, sizeof(*tr->dma_addr),
					     DRM_SVM_TRACK_GFP);
	if (!tr->hmm_pfns || !tr->dma_addr) {
		kvfree(tr->hmm_pfns);
		if (tr->dma_addr != ent)
			kvfree(tr->dma_addr);
		memset(tr, 0, sizeof(*tr));
		atomic_long_sub(npages, &svm->tracked_pages);
		return -ENOMEM;
	}
	return 0;
}

/* Number of pages of the DMA mapping starting at @head (before @end). */
static unsigned long drm_svm_seg_npages(const u64 *ent, unsigned long head,
					unsigned long end)
{
	unsigned long i = head + 1;

	while (i < end && !(ent[i] & (DRM_SVM_ENT_HEAD | DRM_SVM_ENT_PHYS |
				     DRM_SVM_ENT_STALE)))
		i++;

	return i - head;
}

/*
 * Iterate over the DMA mappings: move *@head to the first page of the next
 * mapping at or after it and set *@n to its number of pages. False when no
 * mapping starts before @end.
 */
static bool drm_svm_next_mapping(const u64 *ent, unsigned long *head,
				 unsigned long *n, unsigned long end)
{
	while (*head < end && !(ent[*head] & DRM_SVM_ENT_HEAD))
		(*head)++;
	if (*head >= end)
		return false;
	*n = drm_svm_seg_npages(ent, *head, end);
	return true;
}

/* DMA-unmap every mapping that starts before @end. */
static void drm_svm_dma_unmap(struct drm_svm_range *range, const u64 *ent,
			      unsigned long end)
{
	struct drm_svm *svm = range->svm;
	unsigned long i, n;

	for (i = 0; drm_svm_next_mapping(ent, &i, &n, end); i += n) {
		dma_unmap_page(svm->dev, DRM_SVM_ENT_ADDR(ent[i]),
			       n << PAGE_SHIFT, drm_svm_ent_dir(ent[i]));
		atomic64_inc(&svm->stats.dma_unmaps);
	}
}

/*
 * The device wrote through its own mapping, never through the CPU page
 * tables: tell the mm, or reclaim would treat what it wrote as clean
 * (drop a lazily freed page, keep a stale copy in the swap cache, skip
 * writeback of a file page).
 */
static void drm_svm_range_dirty_span_locked(struct drm_svm_range *range,
					    unsigned long start,
					    unsigned long end)
{
	struct folio *folio, *last = NULL;
	struct page *page;
	unsigned long i;

	if (test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags))
		return;

	for (i = start; i < end; i++) {
		if (!(range->dma_addr[i] & DRM_SVM_ENT_WRITE))
			continue;
		page = drm_svm_range_ent_page(range, i);
		if (is_zone_device_page(page))
			continue;
		folio = page_folio(page);
		if (folio == last)
			continue;
		/*
		 * Not folio_lock(): reclaim calls the notifier with the folio
		 * locked (try_to_unmap()). The folio is still mapped by the
		 * CPU page tables (the notifier runs before they change), so
		 * neither it nor its mapping can go away under us.
		 */
		folio_mark_dirty(folio);
		last = folio;
	}
}

static void drm_svm_range_dirty_locked(struct drm_svm_range *range)
{
	drm_svm_range_dirty_span_locked(range, 0, range->npages);
}

/*
 * Free @tr, which belongs to @range: entries stored in the range itself
 * (a one-page range of a multi-range fault) or in its range block are
 * only uncharged, they go with the range.
 */
static void drm_svm_range_track_free(struct drm_svm_range *range,
				     struct drm_svm_track *tr)
{
	struct drm_svm *svm = range->svm;

	if (tr->dma_addr && (tr->dma_addr == &range->ent_one ||
			     tr->dma_addr == range->ent_block)) {
		atomic_long_sub(range->npages, &svm->tracked_pages);
		tr->dma_addr = NULL;
	}
	drm_svm_track_free(svm, tr, range->npages);
}

/* Stop publishing: mark dirty, DMA-unmap, free the tracking memory. */
static void drm_svm_range_unmap_locked(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;
	struct drm_svm_track tr;

	lockdep_assert_held_write(&svm->notifier_lock);

	if (!range->dma_addr)
		return;

	drm_svm_range_dirty_locked(range);
	if (svm->dev)
		drm_svm_dma_unmap(range, range->dma_addr, range->npages);
	clear_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags);
	clear_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags);
	range->dma_nsegs = 0;
	tr.hmm_pfns = range->hmm_pfns;
	tr.dma_addr = range->dma_addr;
	range->hmm_pfns = NULL;
	range->dma_addr = NULL;
	drm_svm_range_track_free(range, &tr);
}

/*
 * Which invalidations may keep the DMA mappings of the pages outside their
 * span: those that only change the CPU's permissions (mprotect(), NUMA
 * hinting, soft-dirty tracking), never the pages. Anything that takes
 * pages away (unmap, zap, migration, exclusive access, exit) drops every
 * published page of the range and its tracking memory, as before.
 */
static bool drm_svm_event_keeps_pages(const struct mmu_notifier_range *r)
{
	return r->event == MMU_NOTIFY_PROTECTION_VMA ||
	       r->event == MMU_NOTIFY_PROTECTION_PAGE ||
	       r->event == MMU_NOTIFY_SOFT_DIRTY;
}

/*
 * Partial invalidation: unpublish the range, but DMA-unmap only the
 * mappings that overlap [@start, @end) and mark their entries stale; the
 * next drm_svm_range_get_pages() faults and maps the stale part only (see
 * drm_svm_range_revalidate()). False when that does not apply (nothing
 * published, pfns kept for untranslatable DMA addresses, or the span
 * covers every mapping): the caller then unmaps everything.
 */
static bool drm_svm_range_unmap_span_locked(struct drm_svm_range *range,
					    unsigned long start,
					    unsigned long end)
{
	struct drm_svm *svm = range->svm;
	u64 *ent = range->dma_addr;
	unsigned long s, e, i, n;

	lockdep_assert_held_write(&svm->notifier_lock);

	if (!ent || range->hmm_pfns || !svm->dev)
		return false;
	s = (max(start, range->start) - range->start) >> PAGE_SHIFT;
	e = DIV_ROUND_UP(min(end, range->end) - range->start, PAGE_SIZE);
	if (s >= e)
		return false;
	/* Whole DMA mappings only. */
	while (s && !(ent[s] & (DRM_SVM_ENT_HEAD | DRM_SVM_ENT_PHYS |
				DRM_SVM_ENT_STALE)))
		s--;
	while (e < range->npages &&
	       !(ent[e] & (DRM_SVM_ENT_HEAD | DRM_SVM_ENT_PHYS |
			   DRM_SVM_ENT_STALE)))
		e++;
	if (!s && e == range->npages)
		return false;

	drm_svm_range_dirty_span_locked(range, s, e);
	for (i = s; drm_svm_next_mapping(ent, &i, &n, e); i += n) {
		dma_unmap_page(svm->dev, DRM_SVM_ENT_ADDR(ent[i]),
			       n << PAGE_SHIFT, drm_svm_ent_dir(ent[i]));
		atomic64_inc(&svm->stats.dma_unmaps);
		range->dma_nsegs--;
	}
	for (i = s; i < e; i++)
		ent[i] = DRM_SVM_ENT_STALE;

	if (test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags)) {
		range->stale_start = s;
		range->stale_end = e;
	} else {
		range->stale_start = min(range->stale_start, s);
		range->stale_end = max(range->stale_end, e);
	}
	clear_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags);
	clear_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags);
	return true;
}

/*
 * Pages from index @i on that are physically contiguous and have the same
 * write permission, so one DMA mapping covers them: a whole THP when it is
 * mapped by a PMD (or by PTEs, in order), and also a run of order-0 (or
 * any) folios that the page allocator happened to hand out back to back,
 * as it often does when a buffer is first touched. A mapping never
 * includes a device-private page (those are not DMA-mapped), and is never
 * longer than an sg_table entry can describe (unsigned int) nor than the
 * DMA layer can map.
 */
static unsigned long drm_svm_chunk_npages(struct drm_svm_range *range,
					  const unsigned long *pfns,
					  unsigned long i, unsigned long end)
{
	unsigned long pfn = page_to_pfn(hmm_pfn_to_page(pfns[i]));
	unsigned long max, n;

	max = end - i;
	/* e.g. swiotlb (forced on confidential guests) maps 256K at most */
	max = min_t(unsigned long, max,
		    max_t(unsigned long,
			  dma_max_mapping_size(range->svm->dev) >> PAGE_SHIFT,
			  1));
	max = min_t(unsigned long, max, DRM_SVM_MAX_SEG_PAGES);
	for (n = 1; n < max; n++)
		if ((pfns[i + n] & ~HMM_PFN_FLAGS) != pfn + n ||
		    (pfns[i + n] & HMM_PFN_WRITE) != (pfns[i] & HMM_PFN_WRITE) ||
		    is_device_private_page(hmm_pfn_to_page(pfns[i + n])))
			break;

	return n;
}

/*
 * Map @tr's pages for the device and make them the range's published ones.
 * @borrowed: @tr->hmm_pfns is part of a larger array (a multi-range
 * fault) that the range cannot keep: if the DMA addresses do not lead back
 * to the pages, unmap and return 1, for the caller to fault the range on
 * its own.
 */
static int drm_svm_range_map_locked(struct drm_svm_range *range,
				    struct drm_svm_track *tr, bool borrowed)
{
	struct drm_svm *svm = range->svm;
	const unsigned long *pfns = tr->hmm_pfns;
	bool writable = !test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);
	bool translates = true;
	unsigned long i, n, j;
	dma_addr_t addr;
	u64 wr;

	lockdep_assert_held_write(&svm->notifier_lock);

	for (i = 0; i < range->npages; i += n) {
		struct page *page = hmm_pfn_to_page(pfns[i]);

		wr = drm_svm_pfn_writable(range, pfns[i]) ? DRM_SVM_ENT_WRITE : 0;
		writable &= !!wr;
		n = 1;
		if (!svm->dev || is_device_private_page(page)) {
			/* Not DMA-mapped: device-private pages are the driver's. */
			tr->dma_addr[i] = page_to_phys(page) | DRM_SVM_ENT_PHYS | wr;
			continue;
		}

		n = drm_svm_chunk_npages(range, pfns, i, range->npages);
		addr = dma_map_page(svm->dev, page, 0, n << PAGE_SHIFT,
				    drm_svm_ent_dir(wr));
		if (dma_mapping_error(svm->dev, addr))
			goto err_unmap;
		/* Page-aligned pages get page-aligned DMA addresses. */
		if (WARN_ON_ONCE(addr & (PAGE_SIZE - 1))) {
			dma_unmap_page(svm->dev, addr, n << PAGE_SHIFT,
				       drm_svm_ent_dir(wr));
			goto err_unmap;
		}
		range->dma_nsegs++;
		atomic64_inc(&svm->stats.dma_maps);
		for (j = 0; j < n; j++)
			tr->dma_addr[i + j] =
				(addr + ((dma_addr_t)j << PAGE_SHIFT)) | wr;
		tr->dma_addr[i] |= DRM_SVM_ENT_HEAD;
		/*
		 * One mapping covers physically contiguous pages with
		 * contiguous DMA addresses: if its first page leads back,
		 * so do the others.
		 */
		if (translates)
			translates = drm_svm_dma_translates(svm, addr, page);
	}

	if (!translates && borrowed) {
		if (svm->dev)
			drm_svm_dma_unmap(range, tr->dma_addr, range->npages);
		range->dma_nsegs = 0;
		return 1;
	}
	range->dma_addr = tr->dma_addr;
	tr->dma_addr = NULL;
	if (!translates) {
		/* Keep the pages: their DMA addresses do not lead back. */
		range->hmm_pfns = tr->hmm_pfns;
		tr->hmm_pfns = NULL;
	}
	if (writable)
		set_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags);
	set_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags);
	return 0;

err_unmap:
	if (svm->dev)
		drm_svm_dma_unmap(range, tr->dma_addr, i);
	range->dma_nsegs = 0;
	return -EFAULT;
}

/* Hand an unmapped mirror range to the garbage collector. */
static void drm_svm_mirror_queue_gc(struct drm_svm_range *range)
{
	struct drm_svm_mirror *mirror = &range->svm->mirror;

	spin_lock(&mirror->gc_lock);
	if (list_empty(&range->gc_link))
		list_add_tail(&range->gc_link, &mirror->gc_list);
	spin_unlock(&mirror->gc_lock);
	queue_work(system_wq, &mirror->gc_work);
}

/*
 * Stop the device and drop the DMA mappings of published pages, for the
 * helper's own reasons (not an mm event): the driver sees an
 * %MMU_NOTIFY_CLEAR event whose owner is the svm. The range stays.
 */
static void drm_svm_range_evict_locked(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;
	struct mmu_notifier_range mmu_range;

	lockdep_assert_held_write(&svm->notifier_lock);

	mmu_notifier_range_init_owner(&mmu_range, MMU_NOTIFY_CLEAR,
				      MMU_NOTIFIER_RANGE_BLOCKABLE, svm->mm,
				      range->start, range->end, svm);
	svm->ops->invalidate(svm, range, &mmu_range);
	drm_svm_range_unmap_locked(range);
}

static bool drm_svm_invalidate_nonblock(struct drm_svm_range *range,
					unsigned long cur_seq)
{
	struct drm_svm *svm = range->svm;
	bool mapped;

	/* The sequence moves under the notifier lock only: see "Locking". */
	if (!down_write_trylock(&svm->notifier_lock)) {
		atomic64_inc(&svm->stats.nonblock_bailouts);
		return false;
	}
	mmu_interval_set_seq(&range->notifier, cur_seq);
	drm_svm_restore_note(range);
	/* Also a partially invalidated range: it keeps DMA mappings. */
	mapped = range->dma_addr;
	up_write(&svm->notifier_lock);

	if (!mapped) {
		atomic64_inc(&svm->stats.nonblock_ok);
		return true;
	}
	/* Stopping the device and unmapping would have to sleep. */
	atomic64_inc(&svm->stats.nonblock_bailouts);
	return false;
}

/* An event of the driver's own making that must not invalidate at all. */
static bool drm_svm_event_ignored(struct drm_svm *svm,
				  const struct mmu_notifier_range *mmu_range)
{
	return (READ_ONCE(svm->event_filter) & DRM_SVM_FILTER_OWN_EXCLUSIVE) &&
	       mmu_range->event == MMU_NOTIFY_EXCLUSIVE &&
	       svm->dev_private_owner &&
	       mmu_range->owner == svm->dev_private_owner;
}

/* An event whose device page-table update the driver does itself. */
static bool drm_svm_event_driver_skips(struct drm_svm *svm,
				       const struct mmu_notifier_range *mmu_range)
{
	return (READ_ONCE(svm->event_filter) & DRM_SVM_FILTER_OWN_MIGRATE) &&
	       mmu_range->event == MMU_NOTIFY_MIGRATE &&
	       svm->dev_private_owner &&
	       mmu_range->owner == svm->dev_private_owner;
}

static bool drm_svm_invalidate(struct mmu_interval_notifier *mni,
			       const struct mmu_notifier_range *mmu_range,
			       unsigned long cur_seq)
{
	struct drm_svm_range *range =
		container_of(mni, struct drm_svm_range, notifier);
	struct drm_svm *svm = range->svm;

	if (drm_svm_event_ignored(svm, mmu_range))
		return true;
	if (!mmu_notifier_range_blockable(mmu_range))
		return drm_svm_invalidate_nonblock(range, cur_seq);

	down_write(&svm->notifier_lock);
	mmu_interval_set_seq(mni, cur_seq);
	atomic64_inc(&svm->stats.invalidations);
	drm_svm_restore_note(range);

	if (mmu_range->event == MMU_NOTIFY_RELEASE) {
		set_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
	} else if (mmu_range->event == MMU_NOTIFY_UNMAP) {
		if (mmu_range->start <= range->start &&
		    mmu_range->end >= range->end)
			set_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
		else
			set_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
	}

	if (!drm_svm_event_driver_skips(svm, mmu_range))
		svm->ops->invalidate(svm, range, mmu_range);
	if (!drm_svm_event_keeps_pages(mmu_range) ||
	    !drm_svm_range_unmap_span_locked(range, mmu_range->start,
					     mmu_range->end))
		drm_svm_range_unmap_locked(range);
	if (test_bit(DRM_SVM_RANGE_MIRROR_BIT, &range->flags) &&
	    (mmu_range->event == MMU_NOTIFY_RELEASE ||
	     mmu_range->event == MMU_NOTIFY_UNMAP))
		drm_svm_mirror_queue_gc(range);
	up_write(&svm->notifier_lock);

	return true;
}

static const struct mmu_interval_notifier_ops drm_svm_notifier_ops = {
	.invalidate = drm_svm_invalidate,
};

/* @flags may carry helper state bits (MIRROR) on top of the user flags. */
static int __drm_svm_range_init(struct drm_svm *svm,
				struct drm_svm_range *range,
				unsigned long start, unsigned long size,
				unsigned long flags)
{
	unsigned long end;
	int ret;

	might_sleep();
	might_lock(&svm->notifier_lock);
	drm_svm_assert_driver_lock(svm);

	if (!size || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (check_add_overflow(start, size, &end))
		return -EINVAL;
	if (end > svm->mm->task_size)
		return -EFAULT;
	/* Its pages could never be published: see drm_svm_set_max_pages(). */
	if (size >> PAGE_SHIFT > READ_ONCE(svm->max_pages))
		return -ENOMEM;

	memset(range, 0, sizeof(*range));
	range->svm = svm;
	range->start = start;
	range->end = end;
	range->npages = size >> PAGE_SHIFT;
	range->flags = flags;
	INIT_LIST_HEAD(&range->gc_link);
	INIT_LIST_HEAD(&range->restore_link);

	/* Inserting into an mm without users is not allowed. */
	if (!mmget_not_zero(svm->mm))
		return -ESRCH;
	ret = mmu_interval_notifier_insert(&range->notifier, svm->mm, start,
					   size, &drm_svm_notifier_ops);
	mmput(svm->mm);

	return ret;
}

/**
 * drm_svm_range_init() - start mirroring an interval
 * @svm: the mirror
 * @range: the range to initialise, usually embedded in a driver object
 * @start: first user address, page aligned
 * @size: size in bytes, page aligned, not zero
 * @flags: %DRM_SVM_RANGE_READ_ONLY and/or %DRM_SVM_RANGE_ANON_ONLY
 *
 * Inserts the interval notifier; the memory itself is not touched and no
 * per-page memory is allocated (see drm_svm_range_get_pages()). On failure
 * nothing stays registered. Sleeps; must not be called with the notifier lock held. If a
 * driver lock was set with drm_svm_driver_set_lock(), it must be held.
 *
 * Return: 0 or a negative errno, see "Errors" above.
 */
int drm_svm_range_init(struct drm_svm *svm, struct drm_svm_range *range,
		       unsigned long start, unsigned long size,
		       unsigned long flags)
{
	if (flags & ~DRM_SVM_RANGE_USER_FLAGS)
		return -EINVAL;

	return __drm_svm_range_init(svm, range, start, size, flags);
}
EXPORT_SYMBOL_GPL(drm_svm_range_init);

static void __drm_svm_range_fini(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;

	might_sleep();
	might_lock(&svm->notifier_lock);
	drm_svm_might_wait_invalidation();

	/*
	 * Unpublish while the notifier is still in: published pages are
	 * then known to be alive, and can be marked dirty.
	 */
	down_write(&svm->notifier_lock);
	drm_svm_range_unmap_locked(range);
	up_write(&svm->notifier_lock);

	mmu_interval_notifier_remove(&range->notifier);
	drm_svm_restore_forget(range);
}

/**
 * drm_svm_range_fini() - stop mirroring an interval
 * @range: a range set up by drm_svm_range_init()
 *
 * Marks the pages the device may have written dirty, unmaps DMA, frees
 * the tracking memory, then removes the interval notifier, waiting for
 * invalidations that are running on it. &drm_svm_ops.invalidate is
 * not called: the driver must already have stopped device access to the
 * range (e.g. waited for the fences of the object being destroyed). Works
 * after the mm has exited. Sleeps; must not be called with the notifier
 * lock held.
 */
void drm_svm_range_fini(struct drm_svm_range *range)
{
	drm_svm_assert_driver_lock(range->svm);
	__drm_svm_range_fini(range);
}
EXPORT_SYMBOL_GPL(drm_svm_range_fini);

static int drm_svm_range_check_vmas(struct drm_svm_range *range, bool ro)
{
	struct mm_struct *mm = range->svm->mm;
	unsigned long addr = range->start;
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);

	while (addr < range->end) {
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_READ) ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP)))
			return -EFAULT;
		if (!ro && !(vma->vm_flags & VM_WRITE))
			return -EPERM;
		if (test_bit(DRM_SVM_RANGE_ANON_ONLY_BIT, &range->flags) &&
		    vma->vm_file)
			return -EPERM;
		addr = vma->vm_end;
	}

	return 0;
}

/*
 * Account a collision with an invalidation and tell whether the caller's
 * budget allows another try (see "Collisions, timeout and -EAGAIN").
 */
static bool drm_svm_collision_retry(struct drm_svm *svm,
				    unsigned long timeout_ms,
				    unsigned long deadline)
{
	atomic64_inc(&svm->stats.retries);
	if (timeout_ms && time_before(jiffies, deadline)) {
		cond_resched();
		return true;
	}
	if (timeout_ms)
		atomic64_inc(&svm->stats.timeouts);
	return false;
}

/* Are the published pages valid, and writable if @write? (a hint) */
static bool drm_svm_range_valid(struct drm_svm_range *range, bool write)
{
	return test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags) &&
	       (!write || test_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags)) &&
	       !mmu_interval_check_retry(&range->notifier,
					 READ_ONCE(range->notifier_seq));
}

/*
 * Only the driver's own device-private pages (reported as such because
 * their owner is &drm_svm.dev_private_owner) and ordinary memory,
 * including fsdax pages, can be used: P2PDMA, device-coherent and
 * device-dax pages would need a mapping the helper does not make.
 */
VISIBLE_IF_KUNIT int drm_svm_check_page(const struct page *page)
{
	if (!is_zone_device_page(page))
		return 0;
	switch (page->pgmap->type) {
	case MEMORY_DEVICE_PRIVATE:
	case MEMORY_DEVICE_FS_DAX:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
EXPORT_SYMBOL_IF_KUNIT(drm_svm_check_page);

static int drm_svm_check_pfns(const unsigned long *pfns, unsigned long n)
{
	unsigned long i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = drm_svm_check_page(hmm_pfn_to_page(pfns[i]));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Is the range partially invalidated (see drm_svm_range_unmap_span_locked())
 * with pages that a fault of [*@s, *@e) can complete? Not when a write
 * fault must upgrade a read-only page that is still published.
 */
static bool drm_svm_range_stale_span(struct drm_svm_range *range, bool write,
				     unsigned long *s, unsigned long *e)
{
	const u64 *ent = range->dma_addr;
	unsigned long i;

	lockdep_assert_held(&range->svm->notifier_lock);

	if (!ent || range->hmm_pfns ||
	    test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags))
		return false;
	if (write)
		for (i = 0; i < range->npages; i++)
			if (!(ent[i] & (DRM_SVM_ENT_STALE | DRM_SVM_ENT_WRITE)))
				return false;
	*s = range->stale_start;
	*e = range->stale_end;
	return true;
}

/*
 * DMA-map the stale entries of [@s, @e) from @pfns (indexed like the
 * range) and publish the range. The entries between them are published
 * pages no invalidation touched: they keep their mappings. Returns 1 (after
 * evicting the range) if a new mapping does not lead back to its page, for
 * the caller to fault everything (the pfns must be kept then).
 */
static int drm_svm_range_map_span_locked(struct drm_svm_range *range,
					 const unsigned long *pfns,
					 unsigned long s, unsigned long e)
{
	struct drm_svm *svm = range->svm;
	bool writable = !test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);
	u64 *ent = range->dma_addr;
	unsigned long i, j, n, run;
	dma_addr_t addr;
	struct page *page;
	int ret = -EFAULT;
	u64 wr;

	lockdep_assert_held_write(&svm->notifier_lock);

	for (i = s; i < e; i += n) {
		n = 1;
		if (!(ent[i] & DRM_SVM_ENT_STALE))
			continue;
		page = hmm_pfn_to_page(pfns[i]);
		wr = drm_svm_pfn_writable(range, pfns[i]) ? DRM_SVM_ENT_WRITE : 0;
		if (is_device_private_page(page)) {
			ent[i] = page_to_phys(page) | DRM_SVM_ENT_PHYS | wr;
			continue;
		}
		for (run = i + 1; run < e && (ent[run] & DRM_SVM_ENT_STALE); run++)
			;
		n = drm_svm_chunk_npages(range, pfns, i, run);
		addr = dma_map_page(svm->dev, page, 0, n << PAGE_SHIFT,
				    drm_svm_ent_dir(wr));
		if (dma_mapping_error(svm->dev, addr))
			goto err_evict;
		if (WARN_ON_ONCE(addr & (PAGE_SIZE - 1)) ||
		    !drm_svm_dma_translates(svm, addr, page)) {
			if (!(addr & (PAGE_SIZE - 1)))
				ret = 1;
			dma_unmap_page(svm->dev, addr, n << PAGE_SHIFT,
				       drm_svm_ent_dir(wr));
			goto err_evict;
		}
		range->dma_nsegs++;
		atomic64_inc(&svm->stats.dma_maps);
		for (j = 0; j < n; j++)
			ent[i + j] = (addr + ((dma_addr_t)j << PAGE_SHIFT)) | wr;
		ent[i] |= DRM_SVM_ENT_HEAD;
	}

	for (i = 0; i < range->npages && writable; i++)
		writable = ent[i] & DRM_SVM_ENT_WRITE;
	if (writable)
		set_bit(DRM_SVM_RANGE_WRITABLE_BIT, &range->flags);
	set_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags);
	return 0;

err_evict:
	/*
	 * The device may still use the pages outside the invalidated span:
	 * stop it before every mapping of the range goes.
	 */
	drm_svm_range_evict_locked(range);
	return ret;
}

/*
 * One hmm_range_fault() walk of @hmm_range over @range (mm reference held),
 * from a new notifier sequence, under the mmap lock once the range's VMAs
 * still allow the access.
 */
static int drm_svm_range_walk(struct drm_svm_range *range,
			      struct hmm_range *hmm_range, bool write)
{
	struct drm_svm *svm = range->svm;
	int ret;

	hmm_range->notifier_seq = mmu_interval_read_begin(&range->notifier);
	mmap_read_lock(svm->mm);
	ret = drm_svm_range_check_vmas(range, !write);
	if (!ret)
		ret = hmm_range_fault(hmm_range);
	mmap_read_unlock(svm->mm);
#if IS_ENABLED(CONFIG_DRM_SVM_KUNIT_TEST)
	if (svm->test_after_fault)
		svm->test_after_fault(range);
#endif
	return ret;
}

/*
 * Revalidate a partially invalidated range: fault in only the span that
 * invalidations took away, DMA-map only its stale entries. Returns 1 when
 * the range is not (or no longer) in that state: the caller faults the
 * whole range then.
 */
static int drm_svm_range_revalidate(struct drm_svm_range *range,
				    unsigned long timeout_ms,
				    unsigned long deadline, bool write,
				    bool *faulted)
{
	struct drm_svm *svm = range->svm;
	struct hmm_range hmm_range = {
		.notifier = &range->notifier,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = svm->dev_private_owner,
	};
	unsigned long s, e, ns, ne, *pfns = NULL;
	bool partial;
	int ret;

again:
	/* A first fault has nothing to keep: no lock round trip for it. */
	if (!READ_ONCE(range->dma_addr))
		return 1;
	down_read(&svm->notifier_lock);
	partial = drm_svm_range_stale_span(range, write, &s, &e);
	up_read(&svm->notifier_lock);
	if (!partial)
		return 1;

	pfns = kvmalloc_array(e - s, sizeof(*pfns), DRM_SVM_TRACK_GFP);
	if (!pfns)
		return -ENOMEM;
	hmm_range.start = range->start + (s << PAGE_SHIFT);
	hmm_range.end = range->start + (e << PAGE_SHIFT);
	hmm_range.hmm_pfns = pfns;
	if (!*faulted) {
		atomic64_inc(&svm->stats.faults);
		atomic64_inc(&svm->stats.partial_faults);
		*faulted = true;
	}

retry:
	ret = drm_svm_range_walk(range, &hmm_range, write);
	if (ret == -EBUSY)
		goto collision;
	if (!ret)
		ret = drm_svm_check_pfns(pfns, e - s);
	if (ret)
		goto out_free;

	down_write(&svm->notifier_lock);
	if (drm_svm_range_valid(range, write)) {
		/* Someone else published valid pages meanwhile. */
		up_write(&svm->notifier_lock);
		goto out_free;
	}
	if (mmu_interval_read_retry(&range->notifier, hmm_range.notifier_seq)) {
		up_write(&svm->notifier_lock);
		goto collision;
	}
	if (!drm_svm_range_stale_span(range, write, &ns, &ne) ||
	    ns < s || ne > e) {
		/* Changed without an invalidation: another fault's doing. */
		up_write(&svm->notifier_lock);
		ret = 1;
		goto out_free;
	}
	ret = drm_svm_range_map_span_locked(range, pfns - s, s, e);
	if (!ret) {
		WRITE_ONCE(range->notifier_seq, hmm_range.notifier_seq);
		clear_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
		clear_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
	}
	up_write(&svm->notifier_lock);
	goto out_free;

collision:
	if (!drm_svm_collision_retry(svm, timeout_ms, deadline)) {
		ret = -EAGAIN;
		goto out_free;
	}
	down_read(&svm->notifier_lock);
	partial = drm_svm_range_stale_span(range, write, &ns, &ne);
	up_read(&svm->notifier_lock);
	if (partial && ns >= s && ne <= e)
		goto retry;
	/* The stale span grew, or everything went: start over. */
	kvfree(pfns);
	goto again;

out_free:
	kvfree(pfns);
	return ret;
}

/*
 * *faulted tells whether hmm_range_fault() ran (for the chunk counters).
 * @write: fault every page for writing (HMM_PFN_REQ_WRITE); otherwise
 * pages keep the write permission the CPU page tables give them.
 * @present: a prefetch: fault nothing in (hmm_range_fault() without
 * HMM_PFN_REQ_FAULT), publish only when every page is present, -ENOENT
 * otherwise.
 */
static int __drm_svm_range_get_pages(struct drm_svm_range *range,
				     unsigned long timeout_ms, bool write,
				     bool present, bool *faulted)
{
	struct drm_svm *svm = range->svm;
	struct mm_struct *mm = svm->mm;
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	bool ro = test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);
	struct hmm_range hmm_range = {
		.notifier = &range->notifier,
		.start = range->start,
		.end = range->end,
		.default_flags = present ? 0 : HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = svm->dev_private_owner,
	};
	struct drm_svm_track tr;
	unsigned long i;
	int ret;

	might_sleep();
	might_lock(&svm->notifier_lock);
	drm_svm_might_wait_invalidation();
	drm_svm_assert_driver_lock(svm);

	*faulted = false;
	if (WARN_ON(write && ro))
		return -EPERM;
	if (drm_svm_range_valid(range, write))
		return 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;

	/* Only part of the range was invalidated: fault that part in. */
	ret = present ? 1 : drm_svm_range_revalidate(range, timeout_ms,
						     deadline, write, faulted);
	if (ret != 1)
		goto out_mmput;

	ret = drm_svm_track_alloc(svm, &tr, range->npages, range->ent_block);
	if (ret)
		goto out_mmput;
	hmm_range.hmm_pfns = tr.hmm_pfns;
	if (!*faulted)
		atomic64_inc(&svm->stats.faults);
	*faulted = true;

retry:
	ret = drm_svm_range_walk(range, &hmm_range, write);
	if (ret == -EBUSY)
		goto collision;
	for (i = 0; present && !ret && i < range->npages; i++)
		if (!(tr.hmm_pfns[i] & HMM_PFN_VALID))
			ret = -ENOENT;
	if (!ret)
		ret = drm_svm_check_pfns(tr.hmm_pfns, range->npages);
	if (ret)
		goto out_free;

	down_write(&svm->notifier_lock);
	if (drm_svm_range_valid(range, write)) {
		/* Someone else published valid pages meanwhile. */
		up_write(&svm->notifier_lock);
		goto out_free;
	}
	if (mmu_interval_read_retry(&range->notifier, hmm_range.notifier_seq)) {
		up_write(&svm->notifier_lock);
		goto collision;
	}
	/*
	 * Pages still published here are either stale (a non-blockable
	 * notifier could not reach the driver) or read-only pages that a
	 * write fault upgrades: the device may be using them, so stop it
	 * before their DMA mappings go.
	 */
	if (range->dma_addr)
		drm_svm_range_evict_locked(range);

	ret = drm_svm_range_map_locked(range, &tr, false);
	if (!ret) {
		WRITE_ONCE(range->notifier_seq, hmm_range.notifier_seq);
		clear_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
		clear_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
	}
	up_write(&svm->notifier_lock);
	goto out_free;

collision:
	if (drm_svm_collision_retry(svm, timeout_ms, deadline))
		goto retry;
	ret = -EAGAIN;

out_free:
	/* Nothing left to free once the pages are published. */
	drm_svm_range_track_free(range, &tr);
out_mmput:
	mmput(mm);
	return ret;
}

/**
 * drm_svm_range_get_pages() - fault in, DMA-map and publish a range
 * @range: the range
 * @timeout_ms: collision budget in milliseconds; 0 returns -EAGAIN at the
 *              first collision (see "Collisions, timeout and -EAGAIN")
 *
 * Faults the whole range in with hmm_range_fault() under the mmap read
 * lock (for writing unless the range is read-only: see "Dirty pages and
 * write permission" for why userptr objects are write-faulted), then,
 * holding the notifier lock for write, checks that no invalidation ran in
 * between and only then DMA-maps the pages (one mapping per physically
 * contiguous run of pages, across folios; %DMA_TO_DEVICE for read-only
 * ranges, %DMA_BIDIRECTIONAL otherwise) and publishes them with their
 * notifier sequence. Returns at once if the published pages are still
 * valid. The per-page tracking memory is allocated here and freed when the
 * pages are invalidated, except by a permission change (mprotect(), NUMA
 * hinting, soft-dirty) of part of the range: then only the DMA mappings
 * of that part go, and the next call faults in and maps only that part.
 *
 * Success does not pin anything: the driver must still check
 * drm_svm_range_pages_valid() under drm_svm_notifier_lock() before it lets
 * the device use the pages, and call this again when that check fails.
 *
 * Sleeps; takes the mmap lock and the notifier lock, so neither may be held
 * by the caller. If a driver lock was set with drm_svm_driver_set_lock(),
 * it must be held.
 *
 * Return: 0 or a negative errno, see "Errors" above.
 */
int drm_svm_range_get_pages(struct drm_svm_range *range,
			    unsigned long timeout_ms)
{
	bool faulted;

	return __drm_svm_range_get_pages(range, timeout_ms,
					 !test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
						   &range->flags),
					 false, &faulted);
}
EXPORT_SYMBOL_GPL(drm_svm_range_get_pages);

/**
 * drm_svm_notifier_lock() - take the notifier lock for read
 * @svm: the mirror
 *
 * Hold it around drm_svm_range_pages_valid() and for as long as the device
 * may use the validated pages (or until they are in the GPU page tables,
 * which &drm_svm_ops.invalidate zaps). Do not allocate memory with reclaim
 * while holding it.
 */
void drm_svm_notifier_lock(struct drm_svm *svm)
{
	down_read(&svm->notifier_lock);
}
EXPORT_SYMBOL_GPL(drm_svm_notifier_lock);

/**
 * drm_svm_notifier_unlock() - release the lock taken by drm_svm_notifier_lock()
 * @svm: the mirror
 */
void drm_svm_notifier_unlock(struct drm_svm *svm)
{
	up_read(&svm->notifier_lock);
}
EXPORT_SYMBOL_GPL(drm_svm_notifier_unlock);

/**
 * drm_svm_range_pages_valid() - the commit check
 * @range: the range
 *
 * Must be called with the notifier lock held. True means the pages
 * published by the last drm_svm_range_get_pages() are still those of the
 * CPU page tables and are DMA-mapped, and stay so until the lock is
 * dropped.
 *
 * Return: true if the device may use the published pages.
 */
bool drm_svm_range_pages_valid(struct drm_svm_range *range)
{
	lockdep_assert_held(&range->svm->notifier_lock);

	return test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags) &&
	       !mmu_interval_read_retry(&range->notifier, range->notifier_seq);
}
EXPORT_SYMBOL_GPL(drm_svm_range_pages_valid);

/**
 * drm_svm_range_seq() - notifier sequence of the published pages
 * @range: the range
 *
 * Must be called with the notifier lock held. A driver that derives state
 * from the pages (a GART table, an sg_table) and drops the lock before it
 * commits saves this value with that state and, at commit time, also
 * checks that it has not changed: a newer get_pages may have published new
 * pages in the meantime.
 *
 * Return: the sequence number the published pages were faulted with.
 */
unsigned long drm_svm_range_seq(struct drm_svm_range *range)
{
	lockdep_assert_held(&range->svm->notifier_lock);

	return range->notifier_seq;
}
EXPORT_SYMBOL_GPL(drm_svm_range_seq);

/**
 * drm_svm_range_dma_addr() - DMA address of one page of a range
 * @range: the range
 * @idx: page index, 0 for @range->start
 *
 * Works for any page, also one inside a huge mapping. Must be called with
 * the notifier lock held, and the result is meaningful only while
 * drm_svm_range_pages_valid() is true.
 *
 * Return: the DMA address, or %DMA_MAPPING_ERROR if @idx is out of range,
 * nothing is mapped, or the page is not DMA-mapped (device-private page,
 * or no DMA device).
 */
dma_addr_t drm_svm_range_dma_addr(struct drm_svm_range *range,
				  unsigned long idx)
{
	lockdep_assert_held(&range->svm->notifier_lock);

	if (idx >= range->npages || !range->dma_addr ||
	    !test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags) ||
	    (range->dma_addr[idx] & DRM_SVM_ENT_PHYS))
		return DMA_MAPPING_ERROR;

	return DRM_SVM_ENT_ADDR(range->dma_addr[idx]);
}
EXPORT_SYMBOL_GPL(drm_svm_range_dma_addr);

/**
 * drm_svm_range_page() - page of one index of a range
 * @range: the range
 * @idx: page index, 0 for @range->start
 *
 * For drivers that reach the pages through the CPU, or that fill a page
 * array (TTM) or an sg_table with them. Must be called with the notifier
 * lock held, and the result is meaningful only while
 * drm_svm_range_pages_valid() is true: no page reference is held (this is
 * hmm_range_fault() semantics), so take one (or copy the page) under the
 * lock if it must outlive it. The page may be the zero page or a page
 * shared copy-on-write (see drm_svm_range_page_writable()).
 *
 * Return: the page, or NULL if @idx is out of range or nothing is
 * published.
 */
struct page *drm_svm_range_page(struct drm_svm_range *range,
				unsigned long idx)
{
	lockdep_assert_held(&range->svm->notifier_lock);

	if (idx >= range->npages || !range->dma_addr ||
	    !test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags))
		return NULL;

	return drm_svm_range_ent_page(range, idx);
}
EXPORT_SYMBOL_GPL(drm_svm_range_page);

/**
 * drm_svm_range_page_writable() - may the device write one page?
 * @range: the range
 * @idx: page index, 0 for @range->start
 *
 * Same locking and validity rule as drm_svm_range_page(). A page is
 * writable when the range is not read-only and the CPU page tables map it
 * writable (%HMM_PFN_WRITE); map the others read-only in the device. The
 * helper marks writable pages dirty when it takes them away from the
 * device, whether or not the device wrote them.
 *
 * Return: true if the device may write the page at @idx.
 */
bool drm_svm_range_page_writable(struct drm_svm_range *range,
				 unsigned long idx)
{
	lockdep_assert_held(&range->svm->notifier_lock);

	if (idx >= range->npages || !range->dma_addr ||
	    !test_bit(DRM_SVM_RANGE_MAPPED_BIT, &range->flags))
		return false;

	return range->dma_addr[idx] & DRM_SVM_ENT_WRITE;
}
EXPORT_SYMBOL_GPL(drm_svm_range_page_writable);

/**
 * drm_svm_sgt_nents() - count the sg_table entries of published pages
 * @ent: the entries of a range (&drm_svm_range.dma_addr)
 * @npages: number of entries
 * @max_nents: most entries the table may have (%UINT_MAX for
 *             sg_alloc_table(), which counts them in an unsigned int)
 * @nents: receives the number of DMA mappings, one entry each
 *
 * An sg_table entry's length is an unsigned int too. drm_svm never makes a
 * DMA mapping that long, but the table is refused rather than truncated
 * should one appear.
 *
 * Return: 0, or -E2BIG if there are more than @max_nents mappings or one
 * is longer than %UINT_MAX bytes.
 */
VISIBLE_IF_KUNIT int drm_svm_sgt_nents(const u64 *ent, unsigned long npages,
				       unsigned int max_nents,
				       unsigned int *nents)
{
	unsigned long i, n, count = 0;

	for (i = 0; drm_svm_next_mapping(ent, &i, &n, npages); i += n) {
		if (n > (UINT_MAX >> PAGE_SHIFT) || ++count > max_nents)
			return -E2BIG;
	}
	*nents = count;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(drm_svm_sgt_nents);

/**
 * drm_svm_range_get_sgt() - describe the DMA mappings of a range
 * @range: the range, with pages published by drm_svm_range_get_pages()
 * @sgt: table to fill; allocated here, free it with sg_free_table()
 * @seq: if not NULL, receives the notifier sequence the table belongs to
 *       (see drm_svm_range_seq())
 *
 * Builds an already DMA-mapped sg_table with one entry per DMA mapping,
 * for drivers whose binding code consumes sg tables. The mappings stay
 * owned by the helper: never dma_unmap_sgtable() it. Pages without a DMA
 * address (device-private pages) are not in the table. Must be called
 * without the notifier lock: it allocates, then takes the lock for read.
 *
 * Return: 0, -EAGAIN if the pages are not valid (call
 * drm_svm_range_get_pages() again), -ENODEV without DMA device, -E2BIG if
 * the range has more DMA mappings than an sg_table can hold (%UINT_MAX)
 * or a mapping longer than an entry can describe (%UINT_MAX bytes),
 * -ENOMEM.
 */
int drm_svm_range_get_sgt(struct drm_svm_range *range, struct sg_table *sgt,
			  unsigned long *seq)
{
	struct drm_svm *svm = range->svm;
	unsigned int nents, again;
	struct scatterlist *sg;
	unsigned long head, n, cur_seq;
	int ret;

	might_sleep();
	might_lock_read(&svm->notifier_lock);

	if (!svm->dev)
		return -ENODEV;

	down_read(&svm->notifier_lock);
	if (!drm_svm_range_pages_valid(range) || !range->dma_nsegs) {
		up_read(&svm->notifier_lock);
		return -EAGAIN;
	}
	cur_seq = range->notifier_seq;
	ret = drm_svm_sgt_nents(range->dma_addr, range->npages, UINT_MAX,
				&nents);
	up_read(&svm->notifier_lock);
	if (ret)
		return ret;

	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;

	down_read(&svm->notifier_lock);
	if (!drm_svm_range_pages_valid(range) ||
	    range->notifier_seq != cur_seq ||
	    drm_svm_sgt_nents(range->dma_addr, range->npages, nents, &again) ||
	    again != nents) {
		up_read(&svm->notifier_lock);
		sg_free_table(sgt);
		return -EAGAIN;
	}
	sg = sgt->sgl;
	for (head = 0;
	     drm_svm_next_mapping(range->dma_addr, &head, &n, range->npages);
	     head += n) {
		/* drm_svm_sgt_nents() checked that the length fits. */
		sg_set_page(sg, drm_svm_range_ent_page(range, head),
			    n << PAGE_SHIFT, 0);
		sg_dma_address(sg) = DRM_SVM_ENT_ADDR(range->dma_addr[head]);
		sg_dma_len(sg) = n << PAGE_SHIFT;
		sg = sg_next(sg);
	}
	up_read(&svm->notifier_lock);

	if (seq)
		*seq = cur_seq;
	return 0;
}
EXPORT_SYMBOL_GPL(drm_svm_range_get_sgt);

/**
 * DOC: Mirror mode
 *
 * Userptr ranges cover "this buffer"; mirror mode covers "any pointer the
 * CPU has". After drm_svm_mirror_init() the driver calls
 * drm_svm_mirror_fault() for each device page fault: the helper finds the
 * mirror range that contains the address, or creates one, faults and
 * DMA-maps its pages, and calls &drm_svm_ops.commit under the notifier lock
 * once drm_svm_range_pages_valid() holds, so that the driver writes its GPU
 * page tables from pages that cannot go stale before it is done.
 *
 * Chunked ranges: a new range is as large as the first size of the
 * driver's chunk list (largest first, e.g. 2M, 64K, 4K; the last one must
 * be PAGE_SIZE) that, aligned on itself around the faulting address, lies
 * inside the VMA of the address and does not overlap an existing range. A
 * 2M-aligned THP region is thus mirrored with one range, one fault and one
 * DMA mapping; the edges of a VMA fall back to smaller chunks. A range is
 * read-only (%DRM_SVM_RANGE_READ_ONLY) when its VMA is not writable.
 *
 * Notifier granularity: one interval notifier per range. The mm's own
 * interval tree then finds the ranges an invalidation hits in O(log n + k)
 * for n ranges and k hits, so munmap() of an unrelated page costs a tree
 * descent and no callback at all; each range has its own sequence, so an
 * invalidation never forces a neighbour to fault again (a notifier per
 * large window would, or would need a second, per-range sequence and a
 * walk of the window's ranges inside the notifier). The price is one
 * notifier insertion per new range (an O(log n) tree insert under the mm's
 * notifier spinlock) and a removal that may wait for a running
 * invalidation of the mm; both happen in the fault path or the garbage
 * collector, never in the notifier. For lookup by address the helper keeps
 * its own interval tree of ranges (&drm_svm_mirror.ranges), also
 * O(log n).
 *
 * Unmap and garbage collection: when munmap() (or exit) hits a mirror
 * range, the notifier marks it %DRM_SVM_RANGE_UNMAPPED or
 * %DRM_SVM_RANGE_PARTIAL_UNMAP, stops the device and unmaps DMA as for any
 * range, and queues the range for garbage collection; it cannot remove it
 * (removing a notifier from its own callback deadlocks). The collector,
 * drm_svm_mirror_garbage_collect(), runs from a work item on system_wq,
 * at the start of every fault, and whenever the driver calls it. A fault
 * that lands in a range that is unmapped, partially unmapped, no longer
 * inside its VMA, or whose permissions no longer match the VMA removes it
 * first and inserts a fresh range sized for the current VMA.
 *
 * Locking: the mirror lock (&drm_svm_mirror.lock, a mutex) serialises
 * faults, garbage collection, eviction and drm_svm_mirror_fini(). It is
 * the outermost lock of the helper::
 *
 *   driver lock (if any) -> mirror lock -> mmap lock -> notifier lock
 *                                                    -> gc_lock (spinlock)
 *
 * The notifier never takes the mirror lock, so the collector may wait for
 * running invalidations while holding it. Conversely the driver must never
 * take the mirror lock (or call drm_svm_mirror_fault()) while it holds the
 * notifier lock: a device that finds a hole while walking its mirror under
 * the notifier lock drops the lock first. The tree of ranges changes only
 * with both the mirror lock and the notifier lock (write) held, so
 * drm_svm_mirror_find() and drm_svm_mirror_for_each_range() work under
 * either; a range pointer stays valid for as long as that lock is held.
 *
 * mm lifetime: drm_svm_init() holds an mmgrab() reference; each fault
 * takes mmget_not_zero() and fails with -ESRCH once the process has
 * exited. When the process exits while a fault is in flight, the fault
 * finishes against the still-live mm and drops its reference last, after
 * the mirror lock: exit_mmap() then runs the notifiers (%MMU_NOTIFY_RELEASE),
 * which invalidate and queue every range for collection. Ranges never hold
 * page references.
 *
 * Device-private pages: &drm_svm.dev_private_owner is passed to
 * hmm_range_fault() as for userptr, which leaves room for VRAM migration;
 * migration itself is not implemented.
 */

static void drm_svm_mirror_prime_lockdep(struct drm_svm *svm)
{
	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return;

	/* Record: mirror lock -> reclaim / notifier lock, as the fault does. */
	mutex_lock(&svm->mirror.lock);
	fs_reclaim_acquire(GFP_KERNEL);
	fs_reclaim_release(GFP_KERNEL);
#if IS_BUILTIN(CONFIG_DRM_SVM) && defined(CONFIG_LOCKDEP)
	lock_map_acquire(&__mmu_notifier_invalidate_range_start_map);
	lock_map_release(&__mmu_notifier_invalidate_range_start_map);
#endif
	down_write(&svm->notifier_lock);
	up_write(&svm->notifier_lock);
	mutex_unlock(&svm->mirror.lock);
}

static void drm_svm_mirror_assert_lookup(struct drm_svm *svm)
{
	lockdep_assert(lockdep_is_held(&svm->mirror.lock) ||
		       lockdep_is_held(&svm->notifier_lock));
}

static struct drm_svm_range *drm_svm_mirror_first(struct drm_svm *svm,
						  unsigned long start,
						  unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&svm->mirror.ranges, start, last);
	return node ? container_of(node, struct drm_svm_range, itree) : NULL;
}

static bool drm_svm_mirror_range_unmapped(struct drm_svm_range *range)
{
	return test_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags) ||
	       test_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
}

/**
 * DOC: Range blocks
 *
 * A mirror range the driver allocates (&drm_svm_ops.range_alloc) is an
 * allocation of its own. Otherwise (&drm_svm_ops.range_size, or plain
 * ranges) a multi-range fault carves its ranges, and the entries of
 * those of more than one page, out of a few larger allocations: range
 * blocks of at most %DRM_SVM_BLOCK_MAX_RANGES ranges and
 * %DRM_SVM_BLOCK_MAX_BYTES bytes. A block is freed with the last of its
 * ranges (blocks are counted and freed under the mirror lock, as ranges
 * are). A fault that sets up 256 ranges of 4K then makes 4 allocations
 * instead of 256, one that sets up 128 ranges of 2M and their entries 9
 * instead of 256. Each allocation costs little in a production kernel,
 * but KASAN and kmemleak record a stack trace (kmemleak also allocates a
 * tracking object) per allocation, which made the allocations most of the
 * time of such faults under the debug kernel (bench P5 and P6).
 *
 * The price, bounded by the block limits:
 *
 * - a block stays allocated while one of its ranges lives;
 * - the entries of a range in a block stay reserved for it while it lives
 *   (later faults of the range reuse them); they are charged against
 *   drm_svm_set_max_pages() only while the range's pages are published,
 *   like every range's;
 * - KASAN and kmemleak see the block, not the ranges in it: a leaked
 *   range shows up as its leaked block, and an access to a freed range
 *   is caught only once its whole block is freed.
 */

/* Limits of one range block: see "Range blocks". */
#define DRM_SVM_BLOCK_MAX_RANGES	64
#define DRM_SVM_BLOCK_MAX_BYTES		SZ_64K

/*
 * A range block: @live ranges, then the entries of its multi-page ranges.
 * Each range takes drm_svm_block_stride() bytes of @data.
 */
struct drm_svm_range_block {
	/* ranges set up in the block and not freed yet (+1 while filled) */
	unsigned int live;
	u64 data[];
};

/* Size of a mirror range as the helper allocates it. */
static size_t drm_svm_mirror_range_size(struct drm_svm *svm)
{
	return svm->ops->range_size ?: sizeof(struct drm_svm_range);
}

/* Bytes one range takes in a range block. */
static size_t drm_svm_block_stride(struct drm_svm *svm)
{
	return ALIGN(drm_svm_mirror_range_size(svm), sizeof(u64));
}

static void drm_svm_block_put(struct drm_svm *svm,
			      struct drm_svm_range_block *blk)
{
	lockdep_assert_held(&svm->mirror.lock);

	if (--blk->live)
		return;
	kvfree(blk);
	svm->mirror.nr_blocks--;
}

static void drm_svm_mirror_range_free(struct drm_svm *svm,
				      struct drm_svm_range *range)
{
	if (range->block)
		drm_svm_block_put(svm, range->block);
	else if (svm->ops->range_free)
		svm->ops->range_free(range);
	else
		kfree(range);
}

/* Take a range out of the tree, the mm and memory. */
static void drm_svm_mirror_range_remove(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;
	struct drm_svm_mirror *mirror = &svm->mirror;

	lockdep_assert_held(&mirror->lock);

	down_write(&svm->notifier_lock);
	interval_tree_remove(&range->itree, &mirror->ranges);
	mirror->nr_ranges--;
	if (range->dma_addr)
		drm_svm_range_evict_locked(range);
	up_write(&svm->notifier_lock);

	/* After this the notifier cannot queue the range any more. */
	__drm_svm_range_fini(range);
	spin_lock(&mirror->gc_lock);
	list_del_init(&range->gc_link);
	spin_unlock(&mirror->gc_lock);

	drm_svm_mirror_range_free(svm, range);
}

static unsigned long drm_svm_mirror_gc_locked(struct drm_svm *svm)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	struct drm_svm_range *range;
	unsigned long n = 0;

	lockdep_assert_held(&mirror->lock);

	/*
	 * Every fault runs this: skip the lock when nothing is queued. A range
	 * queued concurrently is collected by the work item it queued.
	 */
	if (list_empty_careful(&mirror->gc_list))
		return 0;

	spin_lock(&mirror->gc_lock);
	while ((range = list_first_entry_or_null(&mirror->gc_list,
						 struct drm_svm_range,
						 gc_link))) {
		list_del_init(&range->gc_link);
		spin_unlock(&mirror->gc_lock);
		/* A range faulted back in since it was queued stays. */
		if (drm_svm_mirror_range_unmapped(range)) {
			drm_svm_mirror_range_remove(range);
			atomic64_inc(&svm->stats.ranges_collected);
			n++;
		}
		spin_lock(&mirror->gc_lock);
	}
	spin_unlock(&mirror->gc_lock);

	return n;
}

static void drm_svm_mirror_gc_work(struct work_struct *work)
{
	struct drm_svm *svm = container_of(work, struct drm_svm,
					   mirror.gc_work);

	drm_svm_mirror_garbage_collect(svm);
}

/**
 * drm_svm_mirror_init() - enable mirror mode on a &struct drm_svm
 * @svm: a mirror set up by drm_svm_init(), whose ops have
 *       &drm_svm_ops.commit
 * @chunk_sizes: sizes to try for new ranges, in bytes, strictly decreasing
 *               powers of two, the last one PAGE_SIZE (e.g. SZ_2M, SZ_64K,
 *               SZ_4K); copied
 * @num_chunks: number of entries in @chunk_sizes, at most
 *              %DRM_SVM_MAX_CHUNKS
 *
 * The same context keeps serving userptr ranges (drm_svm_range_init()):
 * mirror ranges live beside them, with the same notifier lock, ops,
 * counters and &drm_svm.dev_private_owner. &drm_svm_ops.range_alloc and
 * &drm_svm_ops.range_free are optional but go together. Call
 * drm_svm_mirror_fini() before drm_svm_fini(). Sleeps.
 *
 * Return: 0, or -EINVAL for a bad chunk list, missing ops, or a mirror that
 * is already enabled.
 */
int drm_svm_mirror_init(struct drm_svm *svm, const unsigned long *chunk_sizes,
			unsigned int num_chunks)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned int i;

	might_sleep();

	if (!svm->mm || !svm->ops || !svm->ops->commit || mirror->active)
		return -EINVAL;
	if (!svm->ops->range_alloc != !svm->ops->range_free)
		return -EINVAL;
	if (svm->ops->range_size &&
	    (svm->ops->range_alloc ||
	     svm->ops->range_size < sizeof(struct drm_svm_range)))
		return -EINVAL;
	if (!chunk_sizes || !num_chunks || num_chunks > DRM_SVM_MAX_CHUNKS)
		return -EINVAL;
	for (i = 0; i < num_chunks; i++) {
		if (!is_power_of_2(chunk_sizes[i]) || chunk_sizes[i] < PAGE_SIZE)
			return -EINVAL;
		if (i && chunk_sizes[i] >= chunk_sizes[i - 1])
			return -EINVAL;
	}
	if (chunk_sizes[num_chunks - 1] != PAGE_SIZE)
		return -EINVAL;

	memset(mirror->chunk_sizes, 0, sizeof(mirror->chunk_sizes));
	memcpy(mirror->chunk_sizes, chunk_sizes,
	       num_chunks * sizeof(*chunk_sizes));
	mirror->num_chunks = num_chunks;
	drm_svm_mirror_prime_lockdep(svm);
	mutex_lock(&mirror->lock);
	mirror->active = true;
	mutex_unlock(&mirror->lock);

	return 0;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_init);

/**
 * drm_svm_mirror_fini() - disable mirror mode and free every mirror range
 * @svm: the mirror
 *
 * Removes all mirror ranges, calling &drm_svm_ops.invalidate (owner @svm,
 * see there) for those whose pages are still published, and waits for the
 * garbage-collection work. Works after the mm has exited. Does nothing if
 * mirror mode is not enabled; drm_svm_mirror_init() may enable it again.
 * Sleeps; takes the mirror lock, so the caller must not hold it or the
 * notifier lock.
 */
void drm_svm_mirror_fini(struct drm_svm *svm)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	struct drm_svm_range *range;

	might_sleep();

	if (!mirror->active)
		return;

	mutex_lock(&mirror->lock);
	while ((range = drm_svm_mirror_first(svm, 0, ULONG_MAX)))
		drm_svm_mirror_range_remove(range);
	/* Each range block went with its last range. */
	WARN_ON(mirror->nr_blocks);
	mirror->active = false;
	mirror->fault_around = 0;
	mutex_unlock(&mirror->lock);

	/* No notifier is left to queue the work again. */
	cancel_work_sync(&mirror->gc_work);
	WARN_ON(!list_empty(&mirror->gc_list));
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_fini);

/**
 * drm_svm_mirror_garbage_collect() - remove unmapped mirror ranges now
 * @svm: the mirror
 *
 * Removes the ranges the notifier marked unmapped or partially unmapped
 * (and queued) since the last collection, unless a fault brought them back
 * meanwhile. The work item on system_wq and every fault do this too; a
 * driver calls it to bound the memory held by unmapped ranges, or before
 * walking the ranges. Sleeps; takes the mirror lock.
 *
 * Return: the number of ranges removed.
 */
unsigned long drm_svm_mirror_garbage_collect(struct drm_svm *svm)
{
	unsigned long n = 0;

	might_sleep();

	mutex_lock(&svm->mirror.lock);
	if (svm->mirror.active)
		n = drm_svm_mirror_gc_locked(svm);
	mutex_unlock(&svm->mirror.lock);

	return n;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_garbage_collect);

/**
 * drm_svm_mirror_lock() - take the mirror lock
 * @svm: the mirror
 *
 * Needed around drm_svm_mirror_range_evict(), and one of the two locks
 * that allow drm_svm_mirror_find() and drm_svm_mirror_for_each_range(). Do
 * not take it with the notifier lock held.
 */
void drm_svm_mirror_lock(struct drm_svm *svm)
{
	mutex_lock(&svm->mirror.lock);
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_lock);

/**
 * drm_svm_mirror_unlock() - release the lock taken by drm_svm_mirror_lock()
 * @svm: the mirror
 */
void drm_svm_mirror_unlock(struct drm_svm *svm)
{
	mutex_unlock(&svm->mirror.lock);
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_unlock);

/**
 * drm_svm_mirror_find() - the mirror range that contains an address
 * @svm: the mirror
 * @addr: user address
 *
 * Call with the mirror lock or the notifier lock held; the range stays
 * valid while that lock is held. O(log n) in the number of ranges. The
 * range may be unmapped (see drm_svm_range_unmapped()) and its pages need
 * not be valid: check drm_svm_range_pages_valid() under the notifier lock.
 *
 * Return: the range, or NULL.
 */
struct drm_svm_range *drm_svm_mirror_find(struct drm_svm *svm,
					  unsigned long addr)
{
	drm_svm_mirror_assert_lookup(svm);

	return drm_svm_mirror_first(svm, addr, addr);
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_find);

/**
 * drm_svm_mirror_range_first() - first mirror range that meets an interval
 * @svm: the mirror
 * @start: first address of the interval
 * @end: end of the interval (exclusive)
 *
 * See drm_svm_mirror_for_each_range() for the locking.
 *
 * Return: the range with the lowest start that intersects
 * [@start, @end), or NULL.
 */
struct drm_svm_range *drm_svm_mirror_range_first(struct drm_svm *svm,
						 unsigned long start,
						 unsigned long end)
{
	drm_svm_mirror_assert_lookup(svm);

	if (start >= end)
		return NULL;
	return drm_svm_mirror_first(svm, start, end - 1);
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_range_first);

/**
 * drm_svm_mirror_range_next() - next mirror range that meets an interval
 * @range: the current range, returned by drm_svm_mirror_range_first() or
 *         by this function for the same interval
 * @start: first address of the interval
 * @end: end of the interval (exclusive)
 *
 * Return: the next range intersecting [@start, @end), or NULL.
 */
struct drm_svm_range *drm_svm_mirror_range_next(struct drm_svm_range *range,
						unsigned long start,
						unsigned long end)
{
	struct interval_tree_node *node;

	drm_svm_mirror_assert_lookup(range->svm);

	node = interval_tree_iter_next(&range->itree, start, end - 1);
	return node ? container_of(node, struct drm_svm_range, itree) : NULL;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_range_next);

/**
 * drm_svm_mirror_range_evict() - drop all device mappings of a mirror range
 * @range: a mirror range (found under the mirror lock)
 *
 * Calls &drm_svm_ops.invalidate (event %MMU_NOTIFY_CLEAR, owner the
 * &struct drm_svm) and unmaps DMA, if pages are published; the range stays
 * in the tree, and the next drm_svm_mirror_fault() in it faults the pages
 * in again. For memory pressure on the device side (GPU page-table space,
 * IOMMU space). Call with the mirror lock held and the notifier lock not
 * held; sleeps.
 */
void drm_svm_mirror_range_evict(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;

	might_sleep();
	lockdep_assert_held(&svm->mirror.lock);

	down_write(&svm->notifier_lock);
	if (range->dma_addr) {
		drm_svm_range_evict_locked(range);
		atomic64_inc(&svm->stats.evictions);
	}
	up_write(&svm->notifier_lock);
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_range_evict);

/**
 * drm_svm_mirror_set_fault_around() - mirror present pages after a fault
 * @svm: a mirror with mirror mode enabled
 * @bytes: how far after the faulting chunk to look, 0 to switch it off
 *         (the default)
 *
 * A device fault at an address without a range then also sets up the
 * chunks that follow in the same VMA, up to @bytes after the faulting
 * chunk, and mirrors those whose pages are all present on the CPU side,
 * in the same hmm_range_fault() and commit (see "Multi-range faults").
 * Nothing is faulted in for them: memory the device did not touch is
 * never allocated. Takes the mirror lock; sleeps.
 *
 * Return: 0, or -EINVAL if mirror mode is not enabled.
 */
int drm_svm_mirror_set_fault_around(struct drm_svm *svm, unsigned long bytes)
{
	int ret = 0;

	mutex_lock(&svm->mirror.lock);
	if (svm->mirror.active)
		WRITE_ONCE(svm->mirror.fault_around, bytes);
	else
		ret = -EINVAL;
	mutex_unlock(&svm->mirror.lock);
	return ret;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_set_fault_around);

/*
 * Look the VMA of @addr up and check it; on success *vm_start, *vm_end and
 * *ro describe it.
 */
static int drm_svm_mirror_check_vma(struct drm_svm *svm, unsigned long addr,
				    unsigned long fault_flags,
				    unsigned long *vm_start,
				    unsigned long *vm_end, bool *ro)
{
	struct vm_area_struct *vma;
	int ret = 0;

	mmap_read_lock(svm->mm);
	vma = vma_lookup(svm->mm, addr);
	if (!vma || !(vma->vm_flags & VM_READ) ||
	    (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
		ret = -EFAULT;
	} else if ((fault_flags & DRM_SVM_FAULT_WRITE) &&
		   !(vma->vm_flags & VM_WRITE)) {
		ret = -EPERM;
	} else {
		*vm_start = vma->vm_start;
		*vm_end = vma->vm_end;
		*ro = !(vma->vm_flags & VM_WRITE);
	}
	mmap_read_unlock(svm->mm);

	return ret;
}

/*
 * The chunk of a range inserted for a fault at @addr in a VMA of
 * [@vm_start, @vm_end): the largest one that fits the VMA and meets no
 * range. The number of chunk sizes if none does.
 */
static unsigned int drm_svm_mirror_pick_chunk(struct drm_svm *svm,
					      unsigned long addr,
					      unsigned long vm_start,
					      unsigned long vm_end)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned long start, size;
	unsigned int i;

	for (i = 0; i < mirror->num_chunks; i++) {
		size = mirror->chunk_sizes[i];
		start = ALIGN_DOWN(addr, size);
		if (start < vm_start || start + size > vm_end)
			continue;
		if (!drm_svm_mirror_first(svm, start, start + size - 1))
			break;
	}
	return i;
}

/*
 * Allocate and set up (not insert) the mirror range of chunk size @chunk
 * containing @addr; @mem: zeroed storage for it in a range block, which
 * the caller owns until this succeeded, or NULL.
 */
static struct drm_svm_range *
drm_svm_mirror_range_new(struct drm_svm *svm, unsigned long addr,
			 unsigned int chunk, bool ro, void *mem)
{
	unsigned long size = svm->mirror.chunk_sizes[chunk];
	unsigned long start = ALIGN_DOWN(addr, size);
	struct drm_svm_range *range = mem;
	int ret;

	if (!mem)
		range = svm->ops->range_alloc ? svm->ops->range_alloc(svm) :
			kzalloc(drm_svm_mirror_range_size(svm), GFP_KERNEL);
	if (!range)
		return ERR_PTR(-ENOMEM);

	ret = __drm_svm_range_init(svm, range, start, size,
				   (ro ? DRM_SVM_RANGE_READ_ONLY : 0) |
				   DRM_SVM_RANGE_MIRROR);
	if (ret) {
		if (!mem)
			drm_svm_mirror_range_free(svm, range);
		return ERR_PTR(ret);
	}
	range->chunk = chunk;
	range->itree.start = start;
	range->itree.last = start + size - 1;
	return range;
}

static int drm_svm_mirror_find_or_insert(struct drm_svm *svm,
					 unsigned long addr,
					 unsigned long fault_flags,
					 struct drm_svm_range **out)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned long vm_start, vm_end;
	struct drm_svm_range *range;
	unsigned int i;
	bool ro;
	int ret;

	lockdep_assert_held(&mirror->lock);

	ret = drm_svm_mirror_check_vma(svm, addr, fault_flags, &vm_start,
				       &vm_end, &ro);
	if (ret)
		return ret;

	range = drm_svm_mirror_first(svm, addr, addr);
	if (range) {
		if (!drm_svm_mirror_range_unmapped(range) &&
		    range->start >= vm_start && range->end <= vm_end &&
		    test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags) == ro) {
			*out = range;
			return 0;
		}
		/* Stale: rebuild it for the current VMA. */
		drm_svm_mirror_range_remove(range);
		atomic64_inc(&svm->stats.ranges_collected);
	}

	i = drm_svm_mirror_pick_chunk(svm, addr, vm_start, vm_end);
	/* Cannot happen: the last chunk is the free page at @addr. */
	if (WARN_ON(i == mirror->num_chunks))
		return -EFAULT;

	range = drm_svm_mirror_range_new(svm, addr, i, ro, NULL);
	if (IS_ERR(range))
		return PTR_ERR(range);

	down_write(&svm->notifier_lock);
	interval_tree_insert(&range->itree, &mirror->ranges);
	mirror->nr_ranges++;
	up_write(&svm->notifier_lock);
	atomic64_inc(&svm->stats.ranges_inserted);

	*out = range;
	return 0;
}

/**
 * drm_svm_mirror_fault() - resolve a device page fault at a user address
 * @svm: a mirror with mirror mode enabled
 * @addr: faulting user address (need not be page aligned)
 * @fault_flags: %DRM_SVM_FAULT_WRITE if the device writes, else 0
 * @timeout_ms: collision budget, as for drm_svm_range_get_pages(); 0
 *              returns -EAGAIN at the first collision
 * @data: passed to &drm_svm_ops.commit
 *
 * Runs the garbage collector, then finds the mirror range containing
 * @addr, or inserts one (see "Mirror mode": the largest chunk that fits
 * the VMA and overlaps no other range; a stale range is rebuilt), faults
 * and DMA-maps its pages (drm_svm_range_get_pages()), and, holding the
 * notifier lock for read, calls &drm_svm_ops.commit once
 * drm_svm_range_pages_valid() is true. Collisions with invalidations are
 * retried until @timeout_ms has passed. Faults of one mirror are
 * serialised by the mirror lock.
 *
 * Sleeps. Takes the mirror lock, the mmap lock and the notifier lock, so
 * the caller must hold none of them; if a driver lock was set with
 * drm_svm_driver_set_lock(), it must be held.
 *
 * Return: the return value of &drm_svm_ops.commit, or a negative errno:
 * -EINVAL mirror mode not enabled or unknown @fault_flags; -ESRCH the
 * process exited; -EFAULT no VMA at @addr, no read permission, VM_IO or
 * VM_PFNMAP, or a page that cannot be faulted; -EPERM
 * %DRM_SVM_FAULT_WRITE on a read-only VMA; -EAGAIN collision budget
 * exhausted; -ENOMEM.
 */
int drm_svm_mirror_fault(struct drm_svm *svm, unsigned long addr,
			 unsigned long fault_flags, unsigned long timeout_ms,
			 void *data)
{
	struct drm_svm_fault fault = { .addr = addr, .flags = fault_flags };
	int ret;

	if (fault_flags & ~DRM_SVM_FAULT_WRITE)
		return -EINVAL;
	ret = drm_svm_mirror_fault_batch(svm, &fault, 1, timeout_ms, data);

	return ret ?: fault.ret;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_fault);

/**
 * DOC: Restore workers
 *
 * KFD does not fail a submission when a userptr object is invalidated: its
 * user-mode queues run on their own, so the notifier stops the queues and
 * a restore worker brings the object back later (amdgpu_amdkfd_gpuvm.c's
 * evicted_bos counter and userptr_inval_list). Ranges created with
 * %DRM_SVM_RANGE_RESTORE get that bookkeeping from the helper:
 *
 * - every mm invalidation of such a range (blockable or not, whatever the
 *   driver does in &drm_svm_ops.invalidate) advances the svm's restore
 *   generation and puts the range on the svm's invalidated list, under
 *   the notifier lock, before &drm_svm_ops.invalidate runs. The sequence
 *   always moves too: the driver cannot forget it, even when it decides
 *   not to stop its queues (KFD while CRIU blocks notifications).
 *   The helper's own invalidations (%MMU_NOTIFY_CLEAR with the svm as
 *   owner) do not count: they are not mm events.
 * - the restore worker reads drm_svm_restore_gen(), takes the ranges with
 *   drm_svm_restore_pop(), calls drm_svm_range_get_pages() on each and
 *   rebuilds its mappings, then takes drm_svm_notifier_lock() and checks
 *   drm_svm_range_pages_valid() for each range it restored. A range that
 *   failed goes back with drm_svm_restore_requeue(). The queues may
 *   resume only if the generation is still the one read at the start and
 *   nothing failed; otherwise the worker runs again later.
 *
 * The list and its links are protected by a spinlock nested inside the
 * notifier lock, so requeueing works with the notifier lock held for read.
 * drm_svm_range_fini() takes the range off the list. The generation is
 * per svm: a driver with one svm per (device, mm) checks each of them.
 */

static void drm_svm_restore_setup(struct drm_svm *svm)
{
	spin_lock_init(&svm->restore_lock);
	INIT_LIST_HEAD(&svm->restore_list);
	atomic_long_set(&svm->restore_gen, 0);
}

/* Notifier: the sequence just moved, with the notifier lock held (write). */
static void drm_svm_restore_note(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;

	if (!test_bit(DRM_SVM_RANGE_RESTORE_BIT, &range->flags))
		return;
	lockdep_assert_held_write(&svm->notifier_lock);

	spin_lock(&svm->restore_lock);
	atomic_long_inc(&svm->restore_gen);
	if (list_empty(&range->restore_link))
		list_add_tail(&range->restore_link, &svm->restore_list);
	spin_unlock(&svm->restore_lock);
}

/* The notifier is gone: nothing can queue @range again. */
static void drm_svm_restore_forget(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;

	spin_lock(&svm->restore_lock);
	list_del_init(&range->restore_link);
	spin_unlock(&svm->restore_lock);
}

/**
 * drm_svm_restore_gen() - the restore generation of a mirror
 * @svm: the mirror
 *
 * A counter advanced by every mm invalidation of a %DRM_SVM_RANGE_RESTORE
 * range of @svm (see "Restore workers"). A restore worker reads it before
 * it takes the invalidated ranges and compares it, with
 * drm_svm_notifier_lock() held, once it has revalidated them: a different
 * value means something was invalidated in between and the worker must run
 * again. Lock-free; the value only means something compared with an
 * earlier one.
 *
 * Return: the current generation.
 */
unsigned long drm_svm_restore_gen(struct drm_svm *svm)
{
	return atomic_long_read(&svm->restore_gen);
}
EXPORT_SYMBOL_GPL(drm_svm_restore_gen);

/**
 * drm_svm_restore_pop() - take the next invalidated range
 * @svm: the mirror
 *
 * Removes the oldest %DRM_SVM_RANGE_RESTORE range from @svm's
 * invalidated list. The range is queued again by its next invalidation,
 * or by drm_svm_restore_requeue(). The caller must keep the range alive
 * (not call drm_svm_range_fini()) while it uses it, usually by holding
 * the driver lock that also serialises object destruction. Does not sleep;
 * may be called with or without the notifier lock.
 *
 * Return: the range, or NULL when the list is empty.
 */
struct drm_svm_range *drm_svm_restore_pop(struct drm_svm *svm)
{
	struct drm_svm_range *range;

	spin_lock(&svm->restore_lock);
	range = list_first_entry_or_null(&svm->restore_list,
					 struct drm_svm_range, restore_link);
	if (range)
		list_del_init(&range->restore_link);
	spin_unlock(&svm->restore_lock);

	return range;
}
EXPORT_SYMBOL_GPL(drm_svm_restore_pop);

/**
 * drm_svm_restore_requeue() - put a range back on the invalidated list
 * @range: a %DRM_SVM_RANGE_RESTORE range taken by drm_svm_restore_pop()
 *
 * For a restore that failed (drm_svm_range_get_pages() error, pages no
 * longer valid at the commit check): the next restore run finds the range
 * again. Does not change the generation. A range already on the list
 * stays where it is. Does not sleep; may be called with or without the
 * notifier lock.
 */
void drm_svm_restore_requeue(struct drm_svm_range *range)
{
	struct drm_svm *svm = range->svm;

	if (WARN_ON(!test_bit(DRM_SVM_RANGE_RESTORE_BIT, &range->flags)))
		return;

	spin_lock(&svm->restore_lock);
	if (list_empty(&range->restore_link))
		list_add_tail(&range->restore_link, &svm->restore_list);
	spin_unlock(&svm->restore_lock);
}
EXPORT_SYMBOL_GPL(drm_svm_restore_requeue);

/**
 * drm_svm_restore_pending() - whether invalidated ranges wait for a restore
 * @svm: the mirror
 *
 * Lock-free snapshot; meaningful under drm_svm_notifier_lock(), where no
 * invalidation can add a range.
 *
 * Return: true if @svm's invalidated list is not empty.
 */
bool drm_svm_restore_pending(struct drm_svm *svm)
{
	return !list_empty_careful(&svm->restore_list);
}
EXPORT_SYMBOL_GPL(drm_svm_restore_pending);

/**
 * DOC: Batch, atomic and prefetch faults
 *
 * A GPU reports page faults in batches (nouveau's fault buffer).
 * drm_svm_mirror_fault_batch() serves such a batch under one mirror lock
 * and one garbage collection, and faults that follow each other in the
 * batch and land in the same mirror range share one hmm_range_fault() and
 * one &drm_svm_ops.commit (with write permission when any of them
 * writes). Sorting the batch by address groups the most.
 *
 * %DRM_SVM_FAULT_PREFETCH runs hmm_range_fault() without
 * %HMM_PFN_REQ_FAULT: it never faults a page in, it only mirrors a range
 * whose pages are all present (-ENOENT otherwise).
 *
 * %DRM_SVM_FAULT_ATOMIC makes the page at the address device-exclusive
 * with make_device_exclusive_range() and hands it, locked, to
 * &drm_svm_ops.commit_atomic under the notifier lock once no invalidation
 * ran since the sequence was read. The sequence is read before the page is
 * made exclusive, so the driver's own %MMU_NOTIFY_EXCLUSIVE event must not
 * move it: atomic faults need %DRM_SVM_FILTER_OWN_EXCLUSIVE. The lock
 * order is the fault's, with the folio lock between the mmap lock and the
 * notifier lock (as in reclaim, which calls the notifier with the folio
 * locked): mirror lock -> mmap lock -> folio lock -> notifier lock. Only
 * anonymous pages that are not part of a larger folio can be made
 * exclusive (make_device_exclusive_range()); others fail with -EFAULT, as
 * does a page whose folio stays locked (tried a few times).
 */

/**
 * drm_svm_set_event_filter() - let the driver handle some of its own events
 * @svm: the mirror
 * @filter: %DRM_SVM_FILTER_OWN_EXCLUSIVE and/or %DRM_SVM_FILTER_OWN_MIGRATE,
 *          or 0 (the default: every event invalidates)
 *
 * Applies to the events that arrive from then on, for every range of
 * @svm (userptr ranges included).
 *
 * Return: 0, or -EINVAL for unknown flags or an svm without
 * &drm_svm.dev_private_owner (events are told apart by their owner).
 */
int drm_svm_set_event_filter(struct drm_svm *svm, unsigned long filter)
{
	if (filter & ~(DRM_SVM_FILTER_OWN_EXCLUSIVE |
		       DRM_SVM_FILTER_OWN_MIGRATE))
		return -EINVAL;
	if (filter && !svm->dev_private_owner)
		return -EINVAL;
	WRITE_ONCE(svm->event_filter, filter);
	return 0;
}
EXPORT_SYMBOL_GPL(drm_svm_set_event_filter);

/**
 * DOC: Multi-range faults
 *
 * Each mirror fault costs a fixed amount on top of its per-page work: the
 * mirror lock, a VMA lookup, allocations, notifier and tree inserts, an
 * hmm_range_fault() walk, the notifier lock twice and the commit. When a
 * fault tells how much the device is about to access
 * (&drm_svm_fault.size, e.g. a prefetch), or when fault-around is on
 * (drm_svm_mirror_set_fault_around()), the helper sets up several
 * chunk-sized ranges in one go, if no range exists at the faulting
 * address yet:
 *
 * - one VMA lookup; the faulting chunk is picked as for a single fault,
 *   then the following chunks of the same VMA, each the largest chunk
 *   size aligned at its start that fits the VMA (the fault-around window
 *   for neighbours) and meets no existing range, up to the first address
 *   that already has a range, and at most %DRM_SVM_MULTI_MAX_RANGES
 *   ranges or %DRM_SVM_MULTI_MAX_PAGES pages;
 * - the ranges are allocated, their notifiers inserted and the lookup
 *   tree updated under one notifier-lock section; then
 *   mmu_interval_read_begin() on each notifier;
 * - ONE hmm_range_fault() over their union, under one mmap read lock.
 *   The pages of the span the device asked for are faulted in
 *   (%HMM_PFN_REQ_FAULT); fault-around neighbours are present-only (no
 *   %HMM_PFN_REQ_FAULT: memory the device did not touch is never
 *   allocated) and are kept only when all their pages are present;
 * - one notifier-lock section (write) DMA-maps and publishes every range
 *   for which mmu_interval_read_retry() of its own sequence says that no
 *   invalidation ran. The walk only restarts on the faulting range's
 *   notifier (hmm_range_fault() checks one notifier); this check is what
 *   makes one walk over several notifiers correct. A range that collided
 *   is left out, the others are published;
 * - one notifier-lock section (read) commits the ranges in address order,
 *   up to the first one that is not valid.
 *
 * When the faulting range itself is not committed (a collision, an error,
 * pages that are not present for a prefetch), the fault goes the
 * single-range way (drm_svm_mirror_fault()), with its retries, timeout and
 * errors, using the range created here. Neighbours that were not
 * published are removed again; ranges of the asked span that were not
 * published stay, empty, for the next fault.
 */

/* Most ranges and pages one multi-range fault sets up. */
#define DRM_SVM_MULTI_MAX_RANGES	256
#define DRM_SVM_MULTI_MAX_PAGES		(SZ_256M >> PAGE_SHIFT)

struct drm_svm_multi_ent {
	struct drm_svm_range *range;
	/* the range's entries, until they are published */
	u64 *ent;
	unsigned long seq;
	/* index of the range's first page in the union's pfns */
	unsigned long off;
	unsigned int chunk;
	/* fault the pages in (else present-only) */
	bool fault;
	/* pages published */
	bool ok;
};

/*
 * The chunk at @c (not the faulting one): the largest size aligned at @c
 * that ends by @lim and meets no range; -1 when @c has a range or no
 * chunk fits.
 */
static int drm_svm_mirror_chunk_at(struct drm_svm *svm, unsigned long c,
				   unsigned long lim)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned long size;
	unsigned int i;

	if (c >= lim || drm_svm_mirror_first(svm, c, c))
		return -1;
	for (i = 0; i < mirror->num_chunks; i++) {
		size = mirror->chunk_sizes[i];
		if (!IS_ALIGNED(c, size) || size > lim - c)
			continue;
		if (!drm_svm_mirror_first(svm, c, c + size - 1))
			return i;
	}
	return -1;
}

/* Can the VMA still hold all of [@start, @end) as the ranges expect? */
static bool drm_svm_multi_vma_ok(struct drm_svm *svm, unsigned long start,
				 unsigned long end, bool write, bool ro)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(svm->mm);

	vma = vma_lookup(svm->mm, start);
	return vma && vma->vm_end >= end && (vma->vm_flags & VM_READ) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP)) &&
	       !(vma->vm_flags & VM_WRITE) == ro && (!write || !ro);
}

/* Plan the chunks of a multi-range fault into @m; returns how many. */
static unsigned int drm_svm_multi_plan(struct drm_svm *svm,
				       struct drm_svm_multi_ent *m,
				       unsigned long addr, unsigned long end,
				       bool present, unsigned long vm_start,
				       unsigned long vm_end)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned long c, size, start, around, npages;
	unsigned int n;
	int chunk;

	/* The faulting chunk, as drm_svm_mirror_find_or_insert() picks it. */
	chunk = drm_svm_mirror_pick_chunk(svm, addr, vm_start, vm_end);
	if (chunk == mirror->num_chunks)
		return 0;
	size = mirror->chunk_sizes[chunk];
	start = ALIGN_DOWN(addr, size);

	end = min(end, vm_end);
	c = max(start + size, end);
	around = present ? c : c + min(vm_end - c, mirror->fault_around);

	m[0] = (struct drm_svm_multi_ent) {
		.range = NULL, .off = start, .chunk = chunk, .fault = !present,
	};
	npages = size >> PAGE_SHIFT;
	for (n = 1, c = start + size; n < DRM_SVM_MULTI_MAX_RANGES; n++) {
		bool fault = c < end && !present;

		chunk = drm_svm_mirror_chunk_at(svm, c, c < end ? vm_end :
						around);
		if (chunk < 0)
			break;
		size = mirror->chunk_sizes[chunk];
		if (npages + (size >> PAGE_SHIFT) > DRM_SVM_MULTI_MAX_PAGES)
			break;
		/* .off holds the start until the ranges exist. */
		m[n] = (struct drm_svm_multi_ent) {
			.off = c, .chunk = chunk, .fault = fault,
		};
		npages += size >> PAGE_SHIFT;
		c += size;
	}
	return n;
}

/* Free the unpublished entries of @m[0..n) and remove @m[1..n) if empty. */
static void drm_svm_multi_cleanup(struct drm_svm *svm,
				  struct drm_svm_multi_ent *m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (m[i].ent) {
			struct drm_svm_track tr = { .dma_addr = m[i].ent };

			drm_svm_range_track_free(m[i].range, &tr);
		}
		/* Neighbours nobody asked for do not stay around empty. */
		if (i && !m[i].ok && !m[i].fault) {
			drm_svm_mirror_range_remove(m[i].range);
			atomic64_inc(&svm->stats.ranges_collected);
		}
	}
}

/*
 * Allocate a range block for the first of the planned ranges @m[0..n):
 * as many as fit (at least one), *@k of them. NULL when the driver
 * allocates its ranges or out of memory.
 */
static struct drm_svm_range_block *
drm_svm_block_alloc(struct drm_svm *svm, const struct drm_svm_multi_ent *m,
		    unsigned int n, unsigned int *k)
{
	size_t rsize = drm_svm_block_stride(svm);
	size_t bytes = sizeof(struct drm_svm_range_block), add;
	struct drm_svm_range_block *blk;
	unsigned long np;
	unsigned int i;

	if (svm->ops->range_alloc)
		return NULL;
	for (i = 0; i < n && i < DRM_SVM_BLOCK_MAX_RANGES; i++) {
		np = svm->mirror.chunk_sizes[m[i].chunk] >> PAGE_SHIFT;
		add = rsize + (np > 1 ? np * sizeof(u64) : 0);
		if (i && bytes + add > DRM_SVM_BLOCK_MAX_BYTES)
			break;
		bytes += add;
	}
	blk = kvmalloc(bytes, DRM_SVM_TRACK_GFP);
	if (!blk)
		return NULL;
	/* Zeroed ranges; entries are written before they are published. */
	memset(blk, 0, sizeof(*blk) + i * rsize);
	/* The reference of the caller, while it fills the block. */
	blk->live = 1;
	svm->mirror.nr_blocks++;
	*k = i;
	return blk;
}

/*
 * Set up the planned ranges @m[0..n), in range blocks when the helper
 * allocates them; returns how many could be.
 */
static unsigned int drm_svm_multi_new(struct drm_svm *svm,
				      struct drm_svm_multi_ent *m,
				      unsigned int n, bool ro)
{
	size_t rsize = drm_svm_block_stride(svm);
	struct drm_svm_range_block *blk = NULL;
	struct drm_svm_range *range;
	unsigned int i, k = 0;
	unsigned long off = 0;
	u8 *mem = NULL;
	u64 *ent = NULL;

	for (i = 0; i < n; i++) {
		if (!k) {
			if (blk)
				drm_svm_block_put(svm, blk);
			blk = drm_svm_block_alloc(svm, m + i, n - i, &k);
			mem = blk ? (u8 *)blk->data : NULL;
			ent = blk ? (u64 *)(mem + k * rsize) : NULL;
		}
		/* .off holds the chunk's start, which is aligned to it. */
		range = drm_svm_mirror_range_new(svm, m[i].off, m[i].chunk, ro,
						 mem);
		if (IS_ERR(range))
			break;
		if (blk) {
			blk->live++;
			range->block = blk;
			if (range->npages > 1) {
				range->ent_block = ent;
				ent += range->npages;
			}
			mem += rsize;
			k--;
		}
		m[i].range = range;
		m[i].off = off;
		off += range->npages;
	}
	if (blk)
		drm_svm_block_put(svm, blk);
	return i;
}

/* Allocate, insert the notifiers of and tree-insert the planned ranges. */
static unsigned int drm_svm_multi_insert(struct drm_svm *svm,
					 struct drm_svm_multi_ent *m,
					 unsigned int n, bool ro)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned int i;

	n = drm_svm_multi_new(svm, m, n, ro);

	down_write(&svm->notifier_lock);
	for (i = 0; i < n; i++)
		interval_tree_insert(&m[i].range->itree, &mirror->ranges);
	mirror->nr_ranges += n;
	up_write(&svm->notifier_lock);
	atomic64_add(n, &svm->stats.ranges_inserted);

	/* The entries: charged and capped like every range's. */
	for (i = 0; i < n; i++) {
		unsigned long np = m[i].range->npages;

		if (!drm_svm_track_charge(svm, np))
			break;
		/* A one-page range keeps its entry inline. */
		if (np == 1)
			m[i].ent = &m[i].range->ent_one;
		else
			m[i].ent = m[i].range->ent_block ?:
				   kvmalloc_array(np, sizeof(u64),
						  DRM_SVM_TRACK_GFP);
		if (!m[i].ent) {
			atomic_long_sub(np, &svm->tracked_pages);
			break;
		}
	}
	/*
	 * Out of memory (or over the cap): the ranges without entries are
	 * not faulted here. The faulting one stays for the single-range
	 * fault, which reports the error; the others go again.
	 */
	for (; n > max(i, 1U); n--) {
		drm_svm_mirror_range_remove(m[n - 1].range);
		atomic64_inc(&svm->stats.ranges_collected);
	}
	return i;
}

/*
 * The multi-range fault (see "Multi-range faults") led by a fault at the
 * page-aligned @addr, where no range exists: the chunks up to @end are
 * faulted in (present-only for %DRM_SVM_FAULT_PREFETCH), fault-around
 * neighbours after them are mirrored if present. *@served tells whether
 * the range at @addr was committed; the return value is then its commit's.
 */
static int drm_svm_mirror_fault_multi(struct drm_svm *svm, unsigned long addr,
				      unsigned long end, unsigned long flags,
				      void *data, bool *served)
{
	bool write = flags & DRM_SVM_FAULT_WRITE;
	bool present = flags & DRM_SVM_FAULT_PREFETCH;
	struct hmm_range hmm_range = {
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
		.dev_private_owner = svm->dev_private_owner,
	};
	unsigned long vm_start, vm_end, req, i, npages;
	struct drm_svm_multi_ent *m;
	struct drm_svm_track tr;
	struct drm_svm_range *range;
	unsigned long *pfns = NULL;
	unsigned int n, k;
	bool uniform = true;
	int ret = 0;
	bool ro;

	lockdep_assert_held(&svm->mirror.lock);
	drm_svm_might_wait_invalidation();

	*served = false;
	if (drm_svm_mirror_check_vma(svm, addr, flags, &vm_start, &vm_end, &ro))
		return 0;

	m = kvmalloc_array(DRM_SVM_MULTI_MAX_RANGES, sizeof(*m), GFP_KERNEL);
	if (!m)
		return 0;
	n = drm_svm_multi_plan(svm, m, addr, end, present, vm_start, vm_end);
	/* Nothing to share: the single-range fault does the same. */
	if (n < 2)
		goto out_free;

	n = drm_svm_multi_insert(svm, m, n, ro);
	if (!n)
		goto out_free;
	npages = m[n - 1].off + m[n - 1].range->npages;
	pfns = kvmalloc_array(npages, sizeof(*pfns), DRM_SVM_TRACK_GFP);
	if (!pfns)
		goto out_cleanup;

	req = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
	for (k = 0; k < n; k++) {
		m[k].seq = mmu_interval_read_begin(&m[k].range->notifier);
		uniform &= m[k].fault == m[0].fault;
	}
	if (uniform) {
		/* One request for every page (a prefetch): no per-page input. */
		hmm_range.default_flags = m[0].fault ? req : 0;
		hmm_range.pfn_flags_mask = 0;
	} else {
		for (k = 0; k < n; k++)
			for (i = 0; i < m[k].range->npages; i++)
				pfns[m[k].off + i] = m[k].fault ? req : 0;
	}
	hmm_range.notifier = &m[0].range->notifier;
	hmm_range.notifier_seq = m[0].seq;
	hmm_range.start = m[0].range->start;
	hmm_range.end = m[n - 1].range->end;
	hmm_range.hmm_pfns = pfns;

	atomic64_inc(&svm->stats.faults);
	for (k = 0; k < n; k++)
		if (m[k].fault)
			atomic64_inc(&svm->stats.chunk_faults[m[k].chunk]);

	mmap_read_lock(svm->mm);
	if (drm_svm_multi_vma_ok(svm, hmm_range.start, hmm_range.end, write,
				 ro))
		ret = hmm_range_fault(&hmm_range);
	else
		ret = -EFAULT;
	mmap_read_unlock(svm->mm);
#if IS_ENABLED(CONFIG_DRM_SVM_KUNIT_TEST)
	if (svm->test_after_fault)
		svm->test_after_fault(m[0].range);
#endif
	if (ret) {
		/* -EBUSY: the faulting range collided; errors: see there. */
		if (ret == -EBUSY)
			atomic64_inc(&svm->stats.retries);
		goto out_cleanup;
	}

	/* Which ranges have pages to publish. */
	for (k = 0; k < n; k++) {
		const unsigned long *p = pfns + m[k].off;

		m[k].ok = true;
		for (i = 0; i < m[k].range->npages; i++)
			if (!(p[i] & HMM_PFN_VALID))
				m[k].ok = false;
		if (m[k].ok && drm_svm_check_pfns(p, m[k].range->npages))
			m[k].ok = false;
	}

	down_write(&svm->notifier_lock);
	for (k = 0; k < n; k++) {
		range = m[k].range;
		if (!m[k].ok)
			continue;
		m[k].ok = false;
		if (mmu_interval_read_retry(&range->notifier, m[k].seq)) {
			/* Only this range collided: leave it out. */
			atomic64_inc(&svm->stats.retries);
			continue;
		}
		tr.hmm_pfns = pfns + m[k].off;
		tr.dma_addr = m[k].ent;
		if (drm_svm_range_map_locked(range, &tr, true))
			continue;
		m[k].ent = NULL;
		WRITE_ONCE(range->notifier_seq, m[k].seq);
		/* As get_pages: a range faulted back in is not collected. */
		clear_bit(DRM_SVM_RANGE_UNMAPPED_BIT, &range->flags);
		clear_bit(DRM_SVM_RANGE_PARTIAL_UNMAP_BIT, &range->flags);
		m[k].ok = true;
	}
	up_write(&svm->notifier_lock);
	/* Fault-around neighbours count as faulted once they are mirrored. */
	for (k = 0; k < n && !present; k++)
		if (m[k].ok && !m[k].fault)
			atomic64_inc(&svm->stats.chunk_faults[m[k].chunk]);

	down_read(&svm->notifier_lock);
	for (k = 0; k < n; k++) {
		int r;

		if (!m[k].ok || !drm_svm_range_pages_valid(m[k].range))
			break;
		r = svm->ops->commit(svm, m[k].range, data);
		if (!k) {
			ret = r;
			*served = true;
		}
		if (r)
			break;
	}
	up_read(&svm->notifier_lock);

out_cleanup:
	drm_svm_multi_cleanup(svm, m, n);
out_free:
	kvfree(pfns);
	kvfree(m);
	return *served ? ret : 0;
}

/* Milliseconds left of the budget, 0 when it is spent (or there is none). */
static unsigned long drm_svm_budget_left(unsigned long timeout_ms,
					 unsigned long deadline)
{
	if (timeout_ms && time_before(jiffies, deadline))
		return max(jiffies_to_msecs(deadline - jiffies), 1U);
	return 0;
}

/*
 * How many of the @nr faults at @faults (the first one included) one
 * get_pages and commit of @range serve, and with which flags: the ones
 * that follow in @range, are not atomic, and do not ask for more than the
 * first can give (a prefetch serves prefetches only; a write into a
 * read-only range is left to fail on its own).
 */
static unsigned int drm_svm_fault_group(struct drm_svm_range *range,
					const struct drm_svm_fault *faults,
					unsigned int nr, unsigned long *flags)
{
	bool ro = test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);
	unsigned long f;
	unsigned int n;

	*flags = faults[0].flags;
	for (n = 1; n < nr; n++) {
		f = faults[n].flags;
		if (faults[n].addr < range->start ||
		    faults[n].addr >= range->end || (f & DRM_SVM_FAULT_ATOMIC))
			break;
		if (*flags & DRM_SVM_FAULT_PREFETCH) {
			if (f != DRM_SVM_FAULT_PREFETCH)
				break;
		} else if (f & DRM_SVM_FAULT_WRITE) {
			if (ro)
				break;
			*flags |= DRM_SVM_FAULT_WRITE;
		}
	}
	return n;
}

/* Does a fault lead a multi-range fault? (see "Multi-range faults") */
static bool drm_svm_mirror_want_multi(struct drm_svm *svm,
				      const struct drm_svm_fault *fault)
{
	if (!fault->size && (!svm->mirror.fault_around ||
			     (fault->flags & DRM_SVM_FAULT_PREFETCH)))
		return false;
	return !drm_svm_mirror_first(svm, fault->addr, fault->addr);
}

/* End of the span a fault asks for, page aligned, within the mm. */
static unsigned long drm_svm_fault_end(struct drm_svm *svm,
				       const struct drm_svm_fault *fault)
{
	unsigned long limit = svm->mm->task_size;

	if (fault->size > limit - fault->addr)
		return limit;
	return max(PAGE_ALIGN(fault->addr + fault->size),
		   (fault->addr & PAGE_MASK) + PAGE_SIZE);
}

/*
 * A group of faults of a batch (mirror lock and mm reference held), led by
 * @faults[0]: find or insert its range, get the pages and commit once for
 * every fault of the group (drm_svm_fault_group()). Returns how many
 * faults it served, with their results set.
 */
static unsigned int drm_svm_mirror_fault_group(struct drm_svm *svm,
					       struct drm_svm_fault *faults,
					       unsigned int nr,
					       unsigned long timeout_ms,
					       unsigned long deadline,
					       void *data)
{
	unsigned long addr = faults[0].addr & PAGE_MASK;
	struct drm_svm_range *range;
	bool faulted, rechecked = false;
	unsigned long flags, left;
	unsigned int n = 1, i;
	int ret;

	lockdep_assert_held(&svm->mirror.lock);

	if (drm_svm_mirror_want_multi(svm, faults)) {
		bool served;

		ret = drm_svm_mirror_fault_multi(svm, addr,
						 drm_svm_fault_end(svm,
								   faults),
						 faults[0].flags, data,
						 &served);
		if (served)
			goto out;
	}
again:
	ret = drm_svm_mirror_find_or_insert(svm, addr,
					    faults[0].flags &
					    DRM_SVM_FAULT_WRITE, &range);
	if (ret)
		goto out;
	n = drm_svm_fault_group(range, faults, nr, &flags);

	left = drm_svm_budget_left(timeout_ms, deadline);
	ret = __drm_svm_range_get_pages(range, left,
					flags & DRM_SVM_FAULT_WRITE,
					flags & DRM_SVM_FAULT_PREFETCH,
					&faulted);
	if (faulted && !(flags & DRM_SVM_FAULT_PREFETCH))
		atomic64_inc(&svm->stats.chunk_faults[range->chunk]);
	if ((ret == -EFAULT || ret == -EPERM) && !rechecked) {
		/*
		 * The VMA may have changed under the range: collect what an
		 * unmap queued (the range may be one) and look again.
		 */
		rechecked = true;
		drm_svm_mirror_gc_locked(svm);
		goto again;
	}
	if (ret == -EAGAIN && timeout_ms && !left)
		atomic64_inc(&svm->stats.timeouts);
	if (ret)
		goto out;

	down_read(&svm->notifier_lock);
	if (drm_svm_range_pages_valid(range)) {
		ret = svm->ops->commit(svm, range, data);
		up_read(&svm->notifier_lock);
		goto out;
	}
	up_read(&svm->notifier_lock);

	/* Invalidated between get_pages and commit: a collision. */
	if (drm_svm_collision_retry(svm, timeout_ms, deadline))
		goto again;
	ret = -EAGAIN;
out:
	for (i = 0; i < n; i++)
		faults[i].ret = ret;
	return n;
}

/*
 * make_device_exclusive_range() gives no page when the folio is locked:
 * how many times an atomic fault tries before it gives up with -EFAULT.
 */
#define DRM_SVM_EXCLUSIVE_TRIES	16

/* An atomic fault of a batch: see "Batch, atomic and prefetch faults". */
static int drm_svm_mirror_atomic_locked(struct drm_svm *svm,
					unsigned long addr,
					unsigned long timeout_ms,
					unsigned long deadline, void *data)
{
	struct mm_struct *mm = svm->mm;
	unsigned int tries = DRM_SVM_EXCLUSIVE_TRIES;
	struct drm_svm_range *range;
	struct folio *folio;
	struct page *page;
	unsigned long seq;
	int ret;

	lockdep_assert_held(&svm->mirror.lock);

	/* make_device_exclusive_range() exists with DEVICE_PRIVATE only. */
	if (!IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		return -EOPNOTSUPP;
again:
	ret = drm_svm_mirror_find_or_insert(svm, addr, DRM_SVM_FAULT_WRITE,
					    &range);
	if (ret)
		return ret;

	/*
	 * Fault the page in for writing first, outside the sequence window:
	 * make_device_exclusive_range() would otherwise take back a page
	 * made exclusive by an earlier atomic fault (an invalidation without
	 * owner) after the sequence was read, and collide with itself every
	 * time.
	 */
	mmap_read_lock(mm);
	ret = get_user_pages_remote(mm, addr, 1, FOLL_WRITE, &page, NULL);
	mmap_read_unlock(mm);
	if (ret < 0)
		return ret == -ENOMEM ? -ENOMEM : -EFAULT;
	if (ret == 1)
		put_page(page);

	seq = mmu_interval_read_begin(&range->notifier);
	page = NULL;
	mmap_read_lock(mm);
	ret = make_device_exclusive_range(mm, addr, addr + PAGE_SIZE, &page,
					  svm->dev_private_owner);
	mmap_read_unlock(mm);
	if (ret < 0)
		return ret == -ENOMEM ? -ENOMEM : -EFAULT;
	/*
	 * Not made exclusive: the page is not anonymous or is part of a
	 * large folio (for good), or its folio was locked, e.g. by a CPU
	 * fault taking an exclusive page back (for a moment).
	 */
	if (!ret || !page) {
		if (!--tries)
			return -EFAULT;
		cond_resched();
		goto again;
	}
	folio = page_folio(page);

	down_read(&svm->notifier_lock);
	if (!mmu_interval_read_retry(&range->notifier, seq)) {
		ret = svm->ops->commit_atomic(svm, range, addr, page, data);
		up_read(&svm->notifier_lock);
		folio_unlock(folio);
		folio_put(folio);
		return ret;
	}
	up_read(&svm->notifier_lock);
	folio_unlock(folio);
	folio_put(folio);

	if (drm_svm_collision_retry(svm, timeout_ms, deadline))
		goto again;
	return -EAGAIN;
}

/**
 * drm_svm_mirror_fault_batch() - resolve a batch of device page faults
 * @svm: a mirror with mirror mode enabled
 * @faults: the faults; each gets its result in &drm_svm_fault.ret
 * @nr: number of entries of @faults
 * @timeout_ms: collision budget of the whole batch, as for
 *              drm_svm_mirror_fault()
 * @data: passed to &drm_svm_ops.commit and &drm_svm_ops.commit_atomic
 *
 * Serves the faults in order under one mirror lock, as
 * drm_svm_mirror_fault() serves one ("Batch, atomic and prefetch
 * faults"): consecutive faults that land in the same mirror range share
 * one hmm_range_fault() and one commit, write-faulted if any of them has
 * %DRM_SVM_FAULT_WRITE; %DRM_SVM_FAULT_PREFETCH faults only mirror present
 * pages; %DRM_SVM_FAULT_ATOMIC faults go through
 * &drm_svm_ops.commit_atomic, one page each, after all the other faults
 * of the batch (faulting a range in takes exclusive pages back from the
 * device). A failed fault does not stop the batch. A fault with
 * &drm_svm_fault.size (or any fault, with fault-around on) at an address
 * without a range may set up several ranges in one go ("Multi-range
 * faults"), committing each.
 *
 * Sleeps; same locking as drm_svm_mirror_fault().
 *
 * Return: 0 when the batch ran (see each &drm_svm_fault.ret), or -EINVAL
 * (mirror mode not enabled, @nr is 0, unknown flags, PREFETCH combined
 * with another flag, ATOMIC without &drm_svm_ops.commit_atomic or
 * %DRM_SVM_FILTER_OWN_EXCLUSIVE), -ESRCH (the process exited).
 */
int drm_svm_mirror_fault_batch(struct drm_svm *svm,
			       struct drm_svm_fault *faults, unsigned int nr,
			       unsigned long timeout_ms, void *data)
{
	struct drm_svm_mirror *mirror = &svm->mirror;
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	struct mm_struct *mm = svm->mm;
	unsigned long flags;
	unsigned int i, n;
	int ret;

	might_sleep();
	might_lock(&mirror->lock);
	might_lock(&svm->notifier_lock);
	drm_svm_assert_driver_lock(svm);

	if (!mirror->active || !nr || !faults)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		flags = faults[i].flags;
		if ((flags & ~DRM_SVM_FAULT_FLAGS) ||
		    ((flags & DRM_SVM_FAULT_PREFETCH) &&
		     flags != DRM_SVM_FAULT_PREFETCH))
			return -EINVAL;
		if ((flags & DRM_SVM_FAULT_ATOMIC) &&
		    (!svm->ops->commit_atomic ||
		     !(READ_ONCE(svm->event_filter) &
		       DRM_SVM_FILTER_OWN_EXCLUSIVE)))
			return -EINVAL;
	}

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mutex_lock(&mirror->lock);
	if (!mirror->active) {
		ret = -EINVAL;
		goto out_unlock;
	}
	drm_svm_mirror_gc_locked(svm);

	for (i = 0; i < nr; i += n) {
		n = 1;
		if (faults[i].addr >= mm->task_size)
			faults[i].ret = -EFAULT;
		else if (!(faults[i].flags & DRM_SVM_FAULT_ATOMIC))
			n = drm_svm_mirror_fault_group(svm, faults + i, nr - i,
						       timeout_ms, deadline,
						       data);
	}
	/*
	 * Atomic faults last: faulting a range in (hmm_range_fault()) would
	 * take back from the device the pages made exclusive before.
	 */
	for (i = 0; i < nr; i++)
		if ((faults[i].flags & DRM_SVM_FAULT_ATOMIC) &&
		    faults[i].addr < mm->task_size)
			faults[i].ret =
				drm_svm_mirror_atomic_locked(svm,
							     faults[i].addr &
							     PAGE_MASK,
							     timeout_ms,
							     deadline, data);
	ret = 0;

out_unlock:
	mutex_unlock(&mirror->lock);
	/* May be the last reference: exit_mmap() runs the notifiers. */
	mmput(mm);
	return ret;
}
EXPORT_SYMBOL_GPL(drm_svm_mirror_fault_batch);

/**
 * drm_svm_stats_read() - copy the counters of a mirror
 * @svm: the mirror
 * @snap: where to store them
 *
 * Each counter is read atomically; the set is not a consistent snapshot
 * while the mirror is in use.
 */
void drm_svm_stats_read(struct drm_svm *svm,
			struct drm_svm_stats_snapshot *snap)
{
	const struct drm_svm_stats *s = &svm->stats;
	unsigned int i;

	snap->faults = atomic64_read(&s->faults);
	snap->retries = atomic64_read(&s->retries);
	snap->timeouts = atomic64_read(&s->timeouts);
	snap->invalidations = atomic64_read(&s->invalidations);
	snap->nonblock_ok = atomic64_read(&s->nonblock_ok);
	snap->nonblock_bailouts = atomic64_read(&s->nonblock_bailouts);
	snap->dma_maps = atomic64_read(&s->dma_maps);
	snap->dma_unmaps = atomic64_read(&s->dma_unmaps);
	for (i = 0; i < DRM_SVM_MAX_CHUNKS; i++)
		snap->chunk_faults[i] = atomic64_read(&s->chunk_faults[i]);
	snap->ranges_inserted = atomic64_read(&s->ranges_inserted);
	snap->ranges_collected = atomic64_read(&s->ranges_collected);
	snap->evictions = atomic64_read(&s->evictions);
	snap->partial_faults = atomic64_read(&s->partial_faults);
	snap->ranges_live = READ_ONCE(svm->mirror.nr_ranges);
	snap->range_blocks = READ_ONCE(svm->mirror.nr_blocks);
}
EXPORT_SYMBOL_GPL(drm_svm_stats_read);

static int drm_svm_stats_show(struct seq_file *m, void *data)
{
	struct drm_svm *svm = m->private;
	struct drm_svm_stats_snapshot s;
	unsigned int i;

	drm_svm_stats_read(svm, &s);
	seq_printf(m, "faults: %llu\n", s.faults);
	seq_printf(m, "retries: %llu\n", s.retries);
	seq_printf(m, "timeouts: %llu\n", s.timeouts);
	seq_printf(m, "invalidations: %llu\n", s.invalidations);
	seq_printf(m, "nonblock_ok: %llu\n", s.nonblock_ok);
	seq_printf(m, "nonblock_bailouts: %llu\n", s.nonblock_bailouts);
	seq_printf(m, "dma_maps: %llu\n", s.dma_maps);
	seq_printf(m, "dma_unmaps: %llu\n", s.dma_unmaps);
	/* Chunk sizes never change once mirror mode is enabled. */
	for (i = 0; i < svm->mirror.num_chunks; i++)
		seq_printf(m, "chunk_faults_%luk: %llu\n",
			   svm->mirror.chunk_sizes[i] >> 10, s.chunk_faults[i]);
	seq_printf(m, "ranges_inserted: %llu\n", s.ranges_inserted);
	seq_printf(m, "ranges_collected: %llu\n", s.ranges_collected);
	seq_printf(m, "ranges_live: %llu\n", s.ranges_live);
	seq_printf(m, "evictions: %llu\n", s.evictions);
	seq_printf(m, "partial_faults: %llu\n", s.partial_faults);
	seq_printf(m, "range_blocks: %llu\n", s.range_blocks);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(drm_svm_stats);

/**
 * drm_svm_debugfs_init() - expose the counters in debugfs
 * @svm: the mirror
 * @root: directory to create the "drm_svm_stats" file in; use one
 *        directory per mirror (e.g. per client)
 *
 * The file holds one "name: value" line per counter of &struct
 * drm_svm_stats, with one "chunk_faults_<size in KiB>k" line per chunk
 * size of mirror mode, and is removed by drm_svm_fini().
 */
void drm_svm_debugfs_init(struct drm_svm *svm, struct dentry *root)
{
	svm->debugfs = debugfs_create_file("drm_svm_stats", 0444, root, svm,
					   &drm_svm_stats_fops);
}
EXPORT_SYMBOL_GPL(drm_svm_debugfs_init);

MODULE_DESCRIPTION("DRM helper to mirror process memory (userptr and SVM)");
MODULE_LICENSE("GPL");
