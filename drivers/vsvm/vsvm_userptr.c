// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/hmm.h>
#include <linux/iommu.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gpusvm.h>
#include <drm/drm_pagemap.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm userptr objects
 *
 * A userptr object (created by the generic DRM_IOCTL_USERPTR_CREATE, which
 * DRM core routes to vsvm_userptr_create()) is a GEM object without backing
 * storage of its own, built the way xe builds its userptr VMAs: it owns an
 * &struct mmu_interval_notifier over the user's range and a &struct
 * drm_gpusvm_pages that drm_gpusvm_get_pages() fills with the DMA mapping of
 * the range. The objects of one file that belong to the same mm share one
 * &struct drm_gpusvm (a &struct vsvm_mirror), whose notifier lock is their
 * notifier lock, as the userptrs of one GPU VM share one on real hardware.
 *
 * vsvm's engine is the CPU, and a virtual device cannot use DMA addresses:
 * it must never turn them back into pages (an IOMMU or swiotlb makes that
 * wrong). It therefore keeps the hmm pfns of the CPU page table walk that
 * drm_gpusvm_get_pages() made the DMA mapping from (drm_gpusvm_ctx.hmm_pfns,
 * into &vsvm_userptr.pfns), the way a device that walks the CPU page tables
 * (ATS) sees the pages; with the module parameter helper_pfns=0 it walks
 * again after drm_gpusvm_get_pages() with hmm_range_fault() and the same
 * notifier, as it would have to on a drm_gpusvm without hmm_pfns. The
 * object is valid (vsvm_userptr_valid()) while drm_gpusvm_pages_valid()
 * holds and the notifier did not fire since the walk. An invalidation
 * unmaps only the entries of the pages it reaches
 * (drm_gpusvm_unmap_pages_range()), and the next validation walks and maps
 * only those, into the same &vsvm_userptr.pfns: an mprotect() of one page
 * of a large object costs a page, not the object.
 *
 * The engine reaches the pages in one of two ways (see "vsvm engine"):
 *
 * - dma-fence jobs (a GPU without recoverable page faults, as amdgpu's
 *   CS): EXEC validates the object and, under the notifier lock while
 *   vsvm_userptr_valid() holds, writes the object's "GPU page table"
 *   (vsvm_userptr_gpu_pages_write()) and publishes the job's fence in the
 *   object's reservation object. The invalidate callback waits for those
 *   fences before drm_gpusvm_unmap_pages_range(), so the job uses the pages
 *   of its page table without a lock and never faults.
 * - long-running jobs (SVM mode, a GPU with recoverable page faults),
 *   vsvm_userptr_access(): chunk by chunk, under the notifier lock held
 *   for read after vsvm_userptr_valid(), faulting the object in again
 *   whenever it was invalidated. The invalidate callback takes the lock
 *   for write, so it waits for the chunk in flight.
 *
 * Nothing allocates memory while the notifier lock is held.
 *
 * A userptr object mirrors its creator's mm only: EXEC (-EPERM, see
 * vsvm_job_add_range()) and GEM_OPEN of its flink name (-EPERM,
 * vsvm_userptr_open()) refuse any other mm, as amdgpu and radeon do. PRIME
 * export fails with -EPERM in any process (vsvm_userptr_export()), as
 * amdgpu's and radeon's.
 */

static void vsvm_gpusvm_stats_add(struct drm_gpusvm_stats *to,
				  struct drm_gpusvm_stats *from)
{
	atomic64_add(atomic64_read(&from->dma_maps), &to->dma_maps);
	atomic64_add(atomic64_read(&from->dma_unmaps), &to->dma_unmaps);
	atomic64_add(atomic64_read(&from->retries), &to->retries);
	atomic64_add(atomic64_read(&from->timeouts), &to->timeouts);
}

/**
 * vsvm_mirrors_stats() - the drm_gpusvm counters of a file
 * @vfile: the file
 * @args: GET_STATS arguments to fill in
 *
 * Sums the helper's counters over the file's mirrors, live and released.
 * A mirror's counters move to the file's when its last user goes, so a
 * GET_STATS racing with that may miss them once.
 *
 * Context: process context; takes &vsvm_file.mirrors_lock.
 */
void vsvm_mirrors_stats(struct vsvm_file *vfile,
			struct drm_vsvm_get_stats *args)
{
	struct drm_gpusvm_stats sum = {};
	struct vsvm_mirror *mirror;

	vsvm_gpusvm_stats_add(&sum, &vfile->stats.gone);
	mutex_lock(&vfile->mirrors_lock);
	list_for_each_entry(mirror, &vfile->mirrors, link)
		vsvm_gpusvm_stats_add(&sum, &mirror->gpusvm.stats);
	mutex_unlock(&vfile->mirrors_lock);

	args->svm_dma_maps = atomic64_read(&sum.dma_maps);
	args->svm_dma_unmaps = atomic64_read(&sum.dma_unmaps);
	args->svm_retries = atomic64_read(&sum.retries);
	args->svm_timeouts = atomic64_read(&sum.timeouts);
}

/* Called by kref_put_mutex() with vfile->mirrors_lock held; drops it. */
static void vsvm_mirror_release(struct kref *ref)
{
	struct vsvm_mirror *mirror = container_of(ref, struct vsvm_mirror, ref);
	struct vsvm_file *vfile = mirror->vfile;

	list_del(&mirror->link);
	mutex_unlock(&vfile->mirrors_lock);

	vsvm_svm_fini(mirror);
	/* drm_gpusvm_fini() leaves the counters readable. */
	vsvm_gpusvm_stats_add(&vfile->stats.gone, &mirror->gpusvm.stats);
	mutex_destroy(&mirror->svm_lock);
	kfree(mirror);
	vsvm_file_put(vfile);
}

/**
 * vsvm_mirror_put() - drop a reference to a mirror
 * @mirror: the mirror
 *
 * The last reference tears its drm_gpusvm down and drops its file
 * reference. Context: process context; sleeps. The caller must not hold
 * &vsvm_file.mirrors_lock.
 */
void vsvm_mirror_put(struct vsvm_mirror *mirror)
{
	kref_put_mutex(&mirror->ref, vsvm_mirror_release,
		       &mirror->vfile->mirrors_lock);
}

/**
 * vsvm_mirror_get() - find or create the drm_gpusvm of a file for an mm
 * @vfile: the file
 * @mm: the address space
 *
 * Context: process context; sleeps; takes &vsvm_file.mirrors_lock.
 * Return: a referenced mirror, or an ERR_PTR().
 */
struct vsvm_mirror *vsvm_mirror_get(struct vsvm_file *vfile,
				    struct mm_struct *mm)
{
	struct vsvm_mirror *mirror;
	int ret;

	mutex_lock(&vfile->mirrors_lock);
	list_for_each_entry(mirror, &vfile->mirrors, link) {
		if (vsvm_mirror_mm(mirror) == mm &&
		    kref_get_unless_zero(&mirror->ref))
			goto out_unlock;
	}

	mirror = kzalloc_obj(*mirror, VSVM_GFP);
	if (!mirror) {
		mirror = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	/* SVM_ENABLE may restrict the chunk sizes before the first range. */
	ret = drm_gpusvm_init(&mirror->gpusvm, "vsvm", mm, 0, TASK_SIZE,
			      SZ_512M, &vsvm_gpusvm_ops, mirror->chunks,
			      vsvm_svm_set_chunks(mirror,
						  DRM_VSVM_SVM_CHUNKS_ALL));
	if (ret) {
		kfree(mirror);
		mirror = ERR_PTR(ret);
		goto out_unlock;
	}
	mutex_init(&mirror->svm_lock);
	drm_gpusvm_driver_set_lock(&mirror->gpusvm, &mirror->svm_lock);
	/* Our GPU atomics (vsvm_svm_atomic_add()) do not invalidate SVM ranges. */
	drm_gpusvm_set_device_exclusive_owner(&mirror->gpusvm, mirror);
	spin_lock_init(&mirror->gc_lock);
	INIT_LIST_HEAD(&mirror->gc_list);
	INIT_WORK(&mirror->gc_work, vsvm_svm_gc_work);
	kref_init(&mirror->ref);
	kref_get(&vfile->ref);
	mirror->vfile = vfile;
	list_add(&mirror->link, &vfile->mirrors);

out_unlock:
	mutex_unlock(&vfile->mirrors_lock);
	return mirror;
}

static void vsvm_userptr_free(struct drm_gem_object *obj)
{
	struct vsvm_userptr *uobj = to_vsvm_userptr(obj);

	/* Jobs hold references: nothing can access the range any more. */
	drm_gpusvm_free_pages(&uobj->mirror->gpusvm, &uobj->pages,
			      uobj->npages);
	mmu_interval_notifier_remove(&uobj->notifier);
	vsvm_mirror_put(uobj->mirror);
	drm_gem_object_release(obj);
	mutex_destroy(&uobj->lock);
	kvfree(uobj->pfns);
	kvfree(uobj->gpu_pages);
	kfree(uobj);
}

/* A userptr object serves its creator's mm only (as in amdgpu, radeon). */
static bool vsvm_userptr_foreign(struct drm_gem_object *obj)
{
	return vsvm_mirror_mm(to_vsvm_userptr(obj)->mirror) != current->mm;
}

static struct dma_buf *vsvm_userptr_export(struct drm_gem_object *obj,
					   int flags)
{
	return ERR_PTR(-EPERM);
}

/* GEM_OPEN of a flink name, and handle creation in general. */
static int vsvm_userptr_open(struct drm_gem_object *obj, struct drm_file *file)
{
	return vsvm_userptr_foreign(obj) ? -EPERM : 0;
}

static const struct drm_gem_object_funcs vsvm_userptr_funcs = {
	.free = vsvm_userptr_free,
	.open = vsvm_userptr_open,
	.export = vsvm_userptr_export,
};

/**
 * vsvm_gem_is_userptr() - is this a userptr object?
 * @obj: a vsvm GEM object
 *
 * Return: true for userptr objects, false for shmem objects.
 */
bool vsvm_gem_is_userptr(const struct drm_gem_object *obj)
{
	return obj->funcs == &vsvm_userptr_funcs;
}

/*
 * The notifier of a userptr object: wait for the dma-fence jobs that use
 * it (they hold no lock), then let drm_gpusvm unmap the pages. Long-running
 * jobs touch the pages with the notifier lock held for read: none is in
 * flight while we hold it for write.
 */
static bool vsvm_userptr_invalidate(struct mmu_interval_notifier *mni,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq)
{
	struct vsvm_userptr *uobj = container_of(mni, struct vsvm_userptr,
						 notifier);
	struct drm_gpusvm *gpusvm = &uobj->mirror->gpusvm;
	const struct drm_gpusvm_ctx ctx = {
		.in_notifier = true,
		.read_only = uobj->read_only,
	};

	if (!mmu_notifier_range_blockable(range)) {
		/*
		 * The OOM reaper: succeed without sleeping if the device
		 * cannot be using the pages, else ask it to come back.
		 */
		if (!down_write_trylock(&gpusvm->notifier_lock))
			return false;
		if (uobj->pages.flags.has_dma_mapping ||
		    uobj->pages.flags.has_holes ||
		    !dma_resv_test_signaled(uobj->base.resv,
					    DMA_RESV_USAGE_BOOKKEEP)) {
			up_write(&gpusvm->notifier_lock);
			return false;
		}
		mmu_interval_set_seq(mni, cur_seq);
		up_write(&gpusvm->notifier_lock);
		return true;
	}

	down_write(&gpusvm->notifier_lock);
	mmu_interval_set_seq(mni, cur_seq);
	/* Our own GPU atomics make pages exclusive: not an mm change. */
	if (range->event != MMU_NOTIFY_EXCLUSIVE ||
	    range->owner != uobj->mirror) {
		atomic64_inc(&uobj->mirror->vfile->stats.invalidations);
		dma_resv_wait_timeout(uobj->base.resv, DMA_RESV_USAGE_BOOKKEEP,
				      false, MAX_SCHEDULE_TIMEOUT);
		/* Only what changed: the next validation maps just that. */
		drm_gpusvm_unmap_pages_range(gpusvm, &uobj->pages, uobj->start,
					     uobj->npages, range->start,
					     range->end, &ctx);
	}
	up_write(&gpusvm->notifier_lock);

	return true;
}

static const struct mmu_interval_notifier_ops vsvm_userptr_notifier_ops = {
	.invalidate = vsvm_userptr_invalidate,
};

/* Does [@start, @end) hold anything but private anonymous memory? */
static bool vsvm_range_has_file(struct mm_struct *mm, unsigned long start,
				unsigned long end)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma;

	for_each_vma_range(vmi, vma, end)
		if (!vma_is_anonymous(vma))
			return true;
	return false;
}

/*
 * The engine's view of a range's pages comes from drm_gpusvm_get_pages()'s
 * own walk (drm_gpusvm_ctx.hmm_pfns), or, with helper_pfns=0, from a second
 * walk after it (vsvm_hmm_snapshot()), as on a drm_gpusvm without
 * drm_gpusvm_ctx.hmm_pfns: the stock anchor of the benchmark's P7.
 */
bool vsvm_helper_pfns = true;
module_param_named(helper_pfns, vsvm_helper_pfns, bool, 0644);
MODULE_PARM_DESC(helper_pfns,
		 "Take the engine's view of the pages from drm_gpusvm_get_pages() (default), not from a walk of their own");

/* -EPERM if [@start, @end) holds anything but private anonymous memory. */
static int vsvm_range_check_anon(struct mm_struct *mm, unsigned long start,
				 unsigned long end)
{
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = mmap_read_lock_killable(mm);
	if (!ret) {
		if (vsvm_range_has_file(mm, start, end))
			ret = -EPERM;
		mmap_read_unlock(mm);
	}
	mmput(mm);
	return ret;
}

/**
 * vsvm_hmm_snapshot() - the engine's view of the pages of a range
 * @notifier: interval notifier covering the range
 * @start: first address
 * @end: end address (exclusive)
 * @write: fault for writing
 * @anon_only: fail with -EPERM if the range holds a file-backed mapping
 * @pfns: out: one hmm pfn per page
 * @seq: out: @notifier sequence the snapshot is valid for
 *
 * With helper_pfns=0 only (else drm_gpusvm_get_pages() fills the pfns).
 * Called after drm_gpusvm_get_pages() faulted the range in, so this
 * normally only reads the CPU page table. The caller checks @seq with
 * mmu_interval_read_retry() under the notifier lock before it uses @pfns.
 *
 * Context: process context; takes the mmap lock; no vsvm lock held but
 * the caller's validation lock.
 * Return: 0, -ESRCH if the mm is gone, or an error of hmm_range_fault().
 */
int vsvm_hmm_snapshot(struct mmu_interval_notifier *notifier,
		      unsigned long start, unsigned long end, bool write,
		      bool anon_only, unsigned long *pfns, unsigned long *seq)
{
	struct mm_struct *mm = notifier->mm;
	struct hmm_range range = {
		.notifier = notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
	};
	unsigned long timeout = jiffies +
				msecs_to_jiffies(DRM_VSVM_VALIDATE_TIMEOUT_MS);
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	do {
		if (time_after(jiffies, timeout)) {
			ret = -EAGAIN;
			break;
		}
		range.notifier_seq = mmu_interval_read_begin(notifier);
		ret = mmap_read_lock_killable(mm);
		if (ret)
			break;
		if (anon_only && vsvm_range_has_file(mm, start, end))
			ret = -EPERM;
		else
			ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
	} while (ret == -EBUSY);
	mmput(mm);

	*seq = range.notifier_seq;
	return ret;
}

/**
 * vsvm_userptr_valid() - may the engine use the object's pages now?
 * @uobj: the object
 *
 * Context: the mirror's notifier lock held.
 * Return: true if drm_gpusvm's mapping and the engine's snapshot are both
 * current.
 */
bool vsvm_userptr_valid(struct vsvm_userptr *uobj)
{
	lockdep_assert_held(&uobj->mirror->gpusvm.notifier_lock);

	return uobj->snap_valid &&
	       drm_gpusvm_pages_valid(&uobj->mirror->gpusvm, &uobj->pages) &&
	       !mmu_interval_read_retry(&uobj->notifier, uobj->snap_seq);
}

/**
 * vsvm_check_dma() - do the DMA addresses of pages lead to their pages?
 * @gpusvm: the drm_gpusvm of @pages
 * @pages: pages drm_gpusvm_get_pages() mapped
 * @pfns: the hmm pfns the engine uses for them, one per page
 * @npages: the number of pages
 *
 * vsvm's engine works on the pages of the walk, never through their DMA
 * addresses, so a wrong DMA mapping would go unseen where a real device
 * would read and write other memory. On debug kernels (CONFIG_DEBUG_VM),
 * behind an IOMMU in DMA mode, each page's DMA address is looked up in the
 * IOMMU's page table and must be its page, or this warns. Without an IOMMU
 * there is nothing the DMA API lets a driver check.
 *
 * Context: the notifier lock held, @pages valid.
 */
void vsvm_check_dma(struct drm_gpusvm *gpusvm, struct drm_gpusvm_pages *pages,
		    const unsigned long *pfns, unsigned long npages)
{
	struct iommu_domain *domain;
	unsigned long i, j, k;

	lockdep_assert_held(&gpusvm->notifier_lock);
	if (!IS_ENABLED(CONFIG_DEBUG_VM) ||
	    !drm_gpusvm_pages_valid(gpusvm, pages))
		return;
	domain = iommu_get_domain_for_dev(pages->drm->dev);
	if (!domain || !iommu_is_dma_domain(domain))
		return;

	for (i = 0, j = 0; i < npages; j++) {
		const struct drm_pagemap_addr *addr = &pages->dma_addr[j];

		for (k = 0; k < 1UL << addr->order; k++) {
			dma_addr_t dma = addr->addr + (k << PAGE_SHIFT);
			struct page *page = hmm_pfn_to_page(pfns[i + k]);

			if (WARN_ONCE(iommu_iova_to_phys(domain, dma) !=
				      page_to_phys(page),
				      "vsvm: page %lu of %lu: IOVA %pad is not its page\n",
				      i + k, npages, &dma))
				return;
		}
		i += 1UL << addr->order;
	}
}

static int vsvm_userptr_fault(struct vsvm_userptr *uobj)
{
	struct drm_gpusvm *gpusvm = &uobj->mirror->gpusvm;
	struct drm_gpusvm_ctx ctx = { .read_only = uobj->read_only };
	unsigned long end = uobj->start + (uobj->npages << PAGE_SHIFT);
	unsigned long seq;
	bool valid, helper_pfns;
	int ret;

	drm_gpusvm_notifier_lock(gpusvm);
	valid = vsvm_userptr_valid(uobj);
	drm_gpusvm_notifier_unlock(gpusvm);
	/* Another validation got there first. */
	if (valid)
		return 0;

	/*
	 * Not zeroed: nobody reads @pfns while the object is invalid, and
	 * it becomes valid (snap_valid) only after a walk filled @pfns.
	 */
	if (!uobj->pfns) {
		uobj->pfns = kvmalloc_array(uobj->npages, sizeof(*uobj->pfns),
					    VSVM_GFP);
		if (!uobj->pfns)
			return -ENOMEM;
	}

	helper_pfns = READ_ONCE(vsvm_helper_pfns);
	if (helper_pfns)
		ctx.hmm_pfns = uobj->pfns;
	ret = drm_gpusvm_get_pages(gpusvm, &uobj->pages,
				   vsvm_mirror_mm(uobj->mirror),
				   &uobj->notifier, uobj->start, end, &ctx);
	if (ret == -EBUSY)
		return -EAGAIN;
	if (ret)
		return ret;

	if (helper_pfns) {
		/*
		 * The pfns of the walk that mapped the pages. A VMA that
		 * changed since then invalidated the pages: the sequence
		 * check below fails, so this check saw what the walk saw.
		 */
		seq = uobj->pages.notifier_seq;
		if (uobj->anon_only)
			ret = vsvm_range_check_anon(vsvm_mirror_mm(uobj->mirror),
						    uobj->start, end);
	} else {
		ret = vsvm_hmm_snapshot(&uobj->notifier, uobj->start, end,
					!uobj->read_only, uobj->anon_only,
					uobj->pfns, &seq);
		/*
		 * Valid pages, a half-written @pfns: unmap them, so that the
		 * next validation walks again whatever helper_pfns says by
		 * then (get_pages() does not walk valid pages).
		 */
		if (ret)
			drm_gpusvm_unmap_pages(gpusvm, &uobj->pages,
					       uobj->npages, &ctx);
	}
	if (ret)
		return ret;

	down_write(&gpusvm->notifier_lock);
	if (!mmu_interval_read_retry(&uobj->notifier, seq)) {
		uobj->snap_seq = seq;
		uobj->snap_valid = true;
		vsvm_check_dma(gpusvm, &uobj->pages, uobj->pfns,
			       uobj->npages);
	} else {
		ret = -EAGAIN;
	}
	up_write(&gpusvm->notifier_lock);

	return ret;
}

/**
 * vsvm_userptr_validate() - fault a userptr object's range in
 * @vfile: file whose counters to update
 * @uobj: the object
 *
 * Context: process context, no vsvm or drm_gpusvm lock held; faults,
 * sleeps.
 * Return: 0; -EAGAIN if the range was invalidated meanwhile (the caller
 * retries); or -EFAULT, -EPERM, -ESRCH, -ENOMEM, -EINTR.
 */
int vsvm_userptr_validate(struct vsvm_file *vfile, struct vsvm_userptr *uobj)
{
	u64 t0 = ktime_get_ns();
	int ret;

	atomic64_inc(&vfile->stats.faults);
	if (uobj->ever_valid)
		atomic64_inc(&vfile->stats.revalidations);

	mutex_lock(&uobj->lock);
	ret = vsvm_userptr_fault(uobj);
	if (!ret)
		uobj->ever_valid = true;
	mutex_unlock(&uobj->lock);
	atomic64_add(ktime_get_ns() - t0, &vfile->stats.validate_ns);

	return ret;
}

/**
 * vsvm_userptr_gpu_pages_alloc() - allocate an object's GPU page table
 * @uobj: the object
 *
 * Called by EXEC before it takes any lock, as a real driver allocates its
 * page-table memory before it commits. Charged to the caller's memory
 * cgroup. Safe against a concurrent EXEC on the same object.
 *
 * Return: 0 or -ENOMEM.
 */
int vsvm_userptr_gpu_pages_alloc(struct vsvm_userptr *uobj)
{
	struct page **pages;

	if (READ_ONCE(uobj->gpu_pages))
		return 0;
	pages = kvcalloc(uobj->npages, sizeof(*pages),
			 VSVM_GFP);
	if (!pages)
		return -ENOMEM;
	if (cmpxchg(&uobj->gpu_pages, NULL, pages))
		kvfree(pages);
	return 0;
}

/**
 * vsvm_userptr_gpu_pages_write() - "write the GPU page table" at commit
 * @uobj: an object EXEC found valid
 *
 * Copies the engine's view of the pages into @uobj->gpu_pages, unless they
 * are there already (same snapshot). Called with the notifier lock held
 * for read after vsvm_userptr_valid(), and with the object's reservation
 * held (which serialises EXECs on it). dma-fence jobs then read
 * @uobj->gpu_pages without a lock: the invalidate callback waits for their
 * fences before drm_gpusvm unmaps the pages.
 */
void vsvm_userptr_gpu_pages_write(struct vsvm_userptr *uobj)
{
	unsigned long i;

	dma_resv_assert_held(uobj->base.resv);
	if (uobj->gpu_pages_set && uobj->gpu_seq == uobj->snap_seq)
		return;
	for (i = 0; i < uobj->npages; i++)
		uobj->gpu_pages[i] = hmm_pfn_to_page(uobj->pfns[i]);
	uobj->gpu_seq = uobj->snap_seq;
	uobj->gpu_pages_set = true;
}

/**
 * vsvm_pfns_copy() - copy between pages of an hmm snapshot and a buffer
 * @pfns: the snapshot, index 0 for byte 0
 * @offset: byte offset
 * @buf: kernel buffer
 * @len: bytes to copy
 * @write: copy @buf to the pages instead of the pages to @buf
 *
 * The caller holds the notifier lock and checked that the snapshot is
 * current. Does not sleep or allocate.
 */
void vsvm_pfns_copy(const unsigned long *pfns, u64 offset, void *buf,
		    size_t len, bool write)
{
	while (len) {
		size_t off = offset_in_page(offset);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		vsvm_copy_page(hmm_pfn_to_page(pfns[offset >> PAGE_SHIFT]),
			       off, buf, n, write);
		offset += n;
		buf += n;
		len -= n;
	}
}

/**
 * vsvm_userptr_create() - &drm_driver.userptr_create hook
 * @dev: DRM device
 * @file: DRM file of the caller
 * @args: checked by DRM core, see drm_gem_userptr_create_ioctl()
 *
 * Creates a userptr object mirroring [@args->addr, @args->addr +
 * @args->size) of current->mm, faults it in now if %DRM_USERPTR_VALIDATE is
 * set, and returns a handle in @args->handle.
 *
 * Return: 0 or a negative errno as documented for DRM_IOCTL_USERPTR_CREATE.
 */
int vsvm_userptr_create(struct drm_device *dev, struct drm_file *file,
			struct drm_userptr_create *args)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct vsvm_mirror *mirror;
	struct vsvm_userptr *uobj;
	int ret;

	if (!current->mm)
		return -ESRCH;
	/*
	 * An object whose tracking arrays alone (drm_gpusvm's DMA addresses,
	 * the engine's pfns) would not fit in memory can never be used.
	 */
	if (args->size >> PAGE_SHIFT >
	    div_u64((u64)totalram_pages() << PAGE_SHIFT,
		    sizeof(struct drm_pagemap_addr) + sizeof(unsigned long)))
		return -ENOMEM;

	uobj = kzalloc_obj(*uobj, VSVM_GFP);
	if (!uobj)
		return -ENOMEM;

	mirror = vsvm_mirror_get(vfile, current->mm);
	if (IS_ERR(mirror)) {
		kfree(uobj);
		return PTR_ERR(mirror);
	}

	uobj->start = args->addr;
	uobj->npages = args->size >> PAGE_SHIFT;
	uobj->read_only = args->flags & DRM_USERPTR_READ_ONLY;
	uobj->anon_only = args->flags & DRM_USERPTR_ANON_ONLY;
	mutex_init(&uobj->lock);
	drm_gpusvm_init_pages(&uobj->pages, dev);
	ret = mmu_interval_notifier_insert(&uobj->notifier, current->mm,
					   args->addr, args->size,
					   &vsvm_userptr_notifier_ops);
	if (ret) {
		mutex_destroy(&uobj->lock);
		vsvm_mirror_put(mirror);
		kfree(uobj);
		return ret;
	}
	uobj->mirror = mirror;
	uobj->base.funcs = &vsvm_userptr_funcs;
	drm_gem_private_object_init(dev, &uobj->base, args->size);

	/* From here on, dropping the last reference frees everything. */
	if (args->flags & DRM_USERPTR_VALIDATE) {
		unsigned int tries = 0;

		do {
			ret = vsvm_userptr_validate(vfile, uobj);
		} while (ret == -EAGAIN && ++tries < 8);
		if (ret)
			goto out_put;
	}

	ret = drm_gem_handle_create(file, &uobj->base, &args->handle);

out_put:
	drm_gem_object_put(&uobj->base);
	return ret;
}

/**
 * vsvm_userptr_access() - the engine reads or writes a userptr object
 * @vfile: file of the job, for the statistics
 * @uobj: the object
 * @offset: byte offset into the object
 * @buf: kernel buffer to copy from (@write) or to
 * @len: bytes to copy; [@offset, @offset + @len) lies inside the object
 * @write: copy @buf to the object instead of the object to @buf
 *
 * Validates the range and copies in chunks of at most DRM_VSVM_CHUNK_PAGES
 * pages, each under the notifier lock held for read after a successful
 * commit check, faulting the range in again whenever it was invalidated.
 * Gives up with -ETIMEDOUT when one chunk could not be committed for
 * DRM_VSVM_VALIDATE_TIMEOUT_MS because the range kept being invalidated.
 *
 * Context: process context; sleeps. Must not be called with the notifier
 * lock of any vsvm mirror held.
 *
 * Return: 0, or the error of the fault (-EFAULT, -EPERM, -ESRCH, -ENOMEM),
 * or -ETIMEDOUT.
 */
int vsvm_userptr_access(struct vsvm_file *vfile, struct vsvm_userptr *uobj,
			u64 offset, void *buf, size_t len, bool write)
{
	struct drm_gpusvm *gpusvm = &uobj->mirror->gpusvm;
	unsigned long deadline;
	bool faulted;
	size_t chunk;
	int ret;

	if (write && uobj->read_only)
		return -EACCES;

	while (len) {
		chunk = min_t(u64, len, DRM_VSVM_CHUNK_PAGES * PAGE_SIZE -
					offset_in_page(offset));
		deadline = jiffies +
			   msecs_to_jiffies(DRM_VSVM_VALIDATE_TIMEOUT_MS);
		faulted = false;

		for (;;) {
			drm_gpusvm_notifier_lock(gpusvm);
			if (vsvm_userptr_valid(uobj))
				break;
			drm_gpusvm_notifier_unlock(gpusvm);

			if (faulted)
				atomic64_inc(&vfile->stats.retries);
			if (time_after(jiffies, deadline))
				return -ETIMEDOUT;

			ret = vsvm_userptr_validate(vfile, uobj);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				return ret;
			faulted = true;
		}

		vsvm_pfns_copy(uobj->pfns, offset, buf, chunk, write);
		drm_gpusvm_notifier_unlock(gpusvm);

		atomic64_add(chunk, &vfile->stats.bytes_accessed);
		offset += chunk;
		buf += chunk;
		len -= chunk;
		cond_resched();
	}

	return 0;
}
