// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include <drm/drm_file.h>
#include <drm/drm_gpusvm.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm SVM mode internals
 *
 * DRM_IOCTL_VSVM_SVM_ENABLE turns on SVM mode on the file's &struct
 * vsvm_mirror for the caller's mm (whose &struct drm_gpusvm its userptr
 * objects of that mm also use) and keeps a reference to it in
 * &vsvm_file.svm. A job whose commands touch GPU VAs that no bound mapping
 * covers takes a reference to that mirror at submission; the engine then
 * treats those VAs as CPU addresses, see vsvm_svm_access(). This is xe's
 * SVM design on drm_gpusvm, with the engine as the GPU:
 *
 * ::
 *
 *   engine                                   mm (munmap, mprotect ...)
 *   ------                                   -------------------------
 *   svm_lock, down_read(notifier_lock)
 *   range = drm_gpusvm_range_find(va)
 *   range->gpu_mapped && pages valid? --no--> up_read, unlock svm_lock
 *       |                                    vsvm_svm_fault(va):
 *       | yes                                  svm_lock, garbage collector
 *   copy <= DRM_VSVM_CHUNK_PAGES pages         drm_gpusvm_range_find_or_insert()
 *   up_read(notifier_lock), unlock svm_lock    drm_gpusvm_get_pages(), which
 *                                              leaves the engine's view (the
 *                                              hmm pfns) in vrange->pfns
 *                                              commit: gpu_mapped = 1
 *                                            retry the lookup
 *
 *   drm_gpusvm notifier, notifier lock held for write:
 *     vsvm_svm_invalidate(): gpu_mapped = 0, drm_gpusvm_unmap_pages_range()
 *     of the pages it reaches, or on munmap drm_gpusvm_unmap_pages() and
 *     drm_gpusvm_range_set_unmapped(), and queue the range for the
 *     garbage collector, which drm_gpusvm_range_remove()s it under
 *     &vsvm_mirror.svm_lock
 *
 * so a CPU-side invalidation waits for the access in flight and the next
 * access faults again. The engine's lookup holds svm_lock too: drm_gpusvm
 * changes its notifier and range trees under the driver lock, removing and
 * inserting ranges with the notifier lock held only for read, so the
 * notifier lock alone does not keep the trees still (a lookup that raced
 * the garbage collector once dereferenced a range tree emptied under it).
 *
 * Each range is a &struct vsvm_svm_range: drm_gpusvm's range, its &struct
 * drm_gpusvm_pages, the engine's view of the pages (hmm pfns, see "vsvm
 * userptr objects" for why the engine needs one) and the flags that play
 * the GPU page-table entry.
 *
 * A device read fault is served with drm_gpusvm_ctx.read_only set, so it
 * neither breaks COW nor allocates for untouched memory; a later write
 * fault on the range gets the pages mapped again for writing. Pages mapped
 * for device writes are marked dirty by the helper. Both need the drm-svm
 * drm_gpusvm patches ("read stays read", "device writes dirty").
 *
 * There is no fault-around: an access fault maps the one chunk of at most
 * 2M that drm_gpusvm picks for it, as xe does. A PREFETCH says how much
 * the GPU is about to use, so its faults may pick larger chunks, powers of
 * two up to VSVM_SVM_PREFETCH_MAX that fit in its span rounded out to 2M
 * (and, as any chunk, in the VMA and overlapping no range): a 2M-aligned
 * 256M span is at most 10 ranges instead of 128. What that costs: an
 * invalidation that reaches part of a large range zaps its whole "GPU
 * mapping" (the next access faults, and maps again the DMA entries of the
 * pages it reached, which alone it unmapped), and a munmap or mprotect of
 * part of it has the whole range collected; the accesses after that fault
 * in 2M chunks again.
 */

static struct vsvm_svm_range *to_vsvm_svm_range(struct drm_gpusvm_range *r)
{
	return container_of(r, struct vsvm_svm_range, base);
}

static struct vsvm_mirror *to_vsvm_mirror(struct drm_gpusvm *gpusvm)
{
	return container_of(gpusvm, struct vsvm_mirror, gpusvm);
}

/* Set under the notifier lock held for write; may be read without it. */
static bool vsvm_svm_range_unmapped(struct drm_gpusvm_range *range)
{
	struct drm_gpusvm_range_flags flags = {
		.__flags = READ_ONCE(range->flags.__flags),
	};

	return flags.unmapped;
}

static unsigned long vsvm_svm_range_npages(struct drm_gpusvm_range *range)
{
	return drm_gpusvm_range_size(range) >> PAGE_SHIFT;
}

static struct drm_gpusvm_range *vsvm_svm_range_alloc(struct drm_gpusvm *gpusvm)
{
	struct vsvm_mirror *mirror = to_vsvm_mirror(gpusvm);
	struct vsvm_svm_range *vrange;

	vrange = kzalloc_obj(*vrange, VSVM_GFP);
	if (!vrange)
		return NULL;
	drm_gpusvm_init_pages(&vrange->pages, &mirror->vfile->vdev->drm);
	INIT_LIST_HEAD(&vrange->gc_link);
	atomic64_inc(&mirror->ranges_live);
	return &vrange->base;
}

static void vsvm_svm_range_free(struct drm_gpusvm_range *range)
{
	struct vsvm_svm_range *vrange = to_vsvm_svm_range(range);
	struct vsvm_mirror *mirror = to_vsvm_mirror(range->gpusvm);

	drm_gpusvm_free_pages(range->gpusvm, &vrange->pages,
			      vsvm_svm_range_npages(range));
	kvfree(vrange->pfns);
	kfree(vrange);
	atomic64_dec(&mirror->ranges_live);
}

/* Called by drm_gpusvm with the notifier lock held for write. */
static void vsvm_svm_invalidate(struct drm_gpusvm *gpusvm,
				struct drm_gpusvm_notifier *notifier,
				const struct mmu_notifier_range *mmu_range)
{
	struct vsvm_mirror *mirror = to_vsvm_mirror(gpusvm);
	const struct drm_gpusvm_ctx ctx = { .in_notifier = true };
	struct drm_gpusvm_range *range = NULL;
	bool unmap = mmu_range->event == MMU_NOTIFY_UNMAP;
	bool protect = mmu_range->event == MMU_NOTIFY_PROTECTION_VMA;
	bool queued = false, hit = false;

	/*
	 * Our own GPU atomics make pages exclusive: not an mm change.
	 * drm_gpusvm filters those events out (the mirror is the gpusvm's
	 * device-exclusive owner), so they never get here.
	 */
	drm_gpusvm_for_each_range(range, notifier, mmu_range->start,
				  mmu_range->end) {
		struct vsvm_svm_range *vrange = to_vsvm_svm_range(range);
		unsigned long start = drm_gpusvm_range_start(range);
		unsigned long npages = vsvm_svm_range_npages(range);
		/*
		 * munmap: the range goes. mprotect of a part of the range:
		 * the range now spans mappings with different permissions,
		 * and the next fault must pick a chunk inside one of them.
		 */
		bool collect = unmap ||
			(protect && (start < mmu_range->start ||
				     drm_gpusvm_range_end(range) >
				     mmu_range->end));

		hit = true;
		/* Zap the "GPU page-table entries", then the DMA mapping. */
		WRITE_ONCE(vrange->gpu_mapped, false);
		WRITE_ONCE(vrange->gpu_writable, false);
		vrange->inval_gen++;
		/*
		 * Of a range that stays, only the entries of the pages the
		 * invalidation reaches: the next fault maps just those again
		 * (a page of a 64M PREFETCH range costs a page, not 64M).
		 */
		if (collect)
			drm_gpusvm_unmap_pages(gpusvm, &vrange->pages, npages,
					       &ctx);
		else
			drm_gpusvm_unmap_pages_range(gpusvm, &vrange->pages,
						     start, npages,
						     mmu_range->start,
						     mmu_range->end, &ctx);
		if (unmap)
			drm_gpusvm_range_set_unmapped(range, &vrange->pages, 1,
						      mmu_range);
		if (!collect)
			continue;
		spin_lock(&mirror->gc_lock);
		if (list_empty(&vrange->gc_link) && !vrange->gc_removed) {
			list_add_tail(&vrange->gc_link, &mirror->gc_list);
			queued = true;
		}
		spin_unlock(&mirror->gc_lock);
	}
	if (hit)
		atomic64_inc(&mirror->vfile->stats.svm_invalidations);
	if (queued)
		queue_work(system_dfl_wq, &mirror->gc_work);
}

/*
 * One set of ops for every vsvm drm_gpusvm: userptr objects have their own
 * notifiers (vsvm_userptr.c); these serve SVM mode.
 */
const struct drm_gpusvm_ops vsvm_gpusvm_ops = {
	.range_alloc = vsvm_svm_range_alloc,
	.range_free = vsvm_svm_range_free,
	.invalidate = vsvm_svm_invalidate,
};

/* Remove the ranges the CPU unmapped. */
static void vsvm_svm_gc_locked(struct vsvm_mirror *mirror)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	const struct drm_gpusvm_ctx ctx = {};
	struct vsvm_svm_range *vrange;

	lockdep_assert_held(&mirror->svm_lock);

	for (;;) {
		/*
		 * Under the notifier lock, so that the notifier cannot queue
		 * the range again before drm_gpusvm_range_remove() takes it
		 * out of the tree (and frees it).
		 */
		down_write(&gpusvm->notifier_lock);
		spin_lock(&mirror->gc_lock);
		vrange = list_first_entry_or_null(&mirror->gc_list,
						  struct vsvm_svm_range,
						  gc_link);
		if (vrange)
			list_del_init(&vrange->gc_link);
		spin_unlock(&mirror->gc_lock);
		if (vrange) {
			vrange->gc_removed = true;
			/*
			 * The notifier unmapped the pages; but the range may
			 * have been faulted in again since (mprotect).
			 */
			vrange->gpu_mapped = false;
		}
		up_write(&gpusvm->notifier_lock);
		if (!vrange)
			return;
		drm_gpusvm_unmap_pages(gpusvm, &vrange->pages,
				       vsvm_svm_range_npages(&vrange->base),
				       &ctx);
		drm_gpusvm_range_remove(gpusvm, &vrange->base);
		atomic64_inc(&mirror->ranges_collected);
	}
}

/**
 * vsvm_svm_gc_work() - the garbage collector of SVM ranges
 * @work: &vsvm_mirror.gc_work
 */
void vsvm_svm_gc_work(struct work_struct *work)
{
	struct vsvm_mirror *mirror = container_of(work, struct vsvm_mirror,
						  gc_work);

	mutex_lock(&mirror->svm_lock);
	vsvm_svm_gc_locked(mirror);
	mutex_unlock(&mirror->svm_lock);
}

/**
 * vsvm_svm_fini() - tear a mirror's drm_gpusvm down
 * @mirror: the mirror, unreferenced
 *
 * Removes every range and notifier. Context: process context; sleeps.
 */
void vsvm_svm_fini(struct vsvm_mirror *mirror)
{
	mutex_lock(&mirror->svm_lock);
	vsvm_svm_gc_locked(mirror);
	drm_gpusvm_fini(&mirror->gpusvm);
	/*
	 * drm_gpusvm_fini() removed the notifiers, then freed every range,
	 * including any the notifier queued meanwhile.
	 */
	spin_lock(&mirror->gc_lock);
	INIT_LIST_HEAD(&mirror->gc_list);
	spin_unlock(&mirror->gc_lock);
	mutex_unlock(&mirror->svm_lock);
	cancel_work_sync(&mirror->gc_work);
}

static const struct {
	u32 flag;
	unsigned long size;
} vsvm_svm_chunks[] = {
	{ DRM_VSVM_SVM_CHUNK_2M, SZ_2M },
	{ DRM_VSVM_SVM_CHUNK_64K, SZ_64K },
	{ DRM_VSVM_SVM_CHUNK_4K, SZ_4K },
};

/**
 * vsvm_svm_set_chunks() - set the chunk sizes of a mirror's SVM ranges
 * @mirror: the mirror, without SVM ranges
 * @mask: the DRM_VSVM_SVM_CHUNK_* sizes a GPU page fault may use
 *
 * Fills &vsvm_mirror.chunks, largest first: if @mask has 2M, the sizes
 * from VSVM_SVM_PREFETCH_MAX down to 4M (only a PREFETCH gets them, see
 * vsvm_svm_fault_locked()), then the sizes of @mask.
 *
 * Return: the number of chunk sizes, for &drm_gpusvm.num_chunks.
 */
unsigned int vsvm_svm_set_chunks(struct vsvm_mirror *mirror, u32 mask)
{
	unsigned long size;
	unsigned int i, n = 0;

	BUILD_BUG_ON(ARRAY_SIZE(vsvm_svm_chunks) +
		     ilog2(VSVM_SVM_PREFETCH_MAX / SZ_2M) != VSVM_SVM_MAX_CHUNKS);

	if (mask & DRM_VSVM_SVM_CHUNK_2M)
		for (size = VSVM_SVM_PREFETCH_MAX; size > SZ_2M; size >>= 1)
			mirror->chunks[n++] = size;
	for (i = 0; i < ARRAY_SIZE(vsvm_svm_chunks); i++)
		if (mask & vsvm_svm_chunks[i].flag)
			mirror->chunks[n++] = vsvm_svm_chunks[i].size;

	return n;
}

/**
 * vsvm_svm_enable_ioctl() - DRM_IOCTL_VSVM_SVM_ENABLE
 * @dev: DRM device
 * @data: a &struct drm_vsvm_svm_enable
 * @file: DRM file of the caller
 *
 * Enables SVM mode on @file for current->mm, see "vsvm SVM mode".
 *
 * Return: 0 or a negative errno as documented for &struct
 * drm_vsvm_svm_enable.
 */
int vsvm_svm_enable_ioctl(struct drm_device *dev, void *data,
			  struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_svm_enable *args = data;
	struct vsvm_mirror *mirror;
	int ret = 0;
	u32 mask;

	BUILD_BUG_ON(PAGE_SIZE != SZ_4K);

	mask = args->chunk_sizes ?: DRM_VSVM_SVM_CHUNKS_ALL;
	if (args->flags || args->pad || (mask & ~DRM_VSVM_SVM_CHUNKS_ALL) ||
	    !(mask & DRM_VSVM_SVM_CHUNK_4K))
		return -EINVAL;
	if (!current->mm)
		return -ESRCH;

	mutex_lock(&vfile->vm_lock);
	if (vfile->svm) {
		ret = -EBUSY;
		goto out_unlock;
	}

	mirror = vsvm_mirror_get(vfile, current->mm);
	if (IS_ERR(mirror)) {
		ret = PTR_ERR(mirror);
		goto out_unlock;
	}

	/* No SVM range exists before SVM mode: set the chunk sizes now. */
	mutex_lock(&mirror->svm_lock);
	mirror->gpusvm.num_chunks = vsvm_svm_set_chunks(mirror, mask);
	mutex_unlock(&mirror->svm_lock);
	vfile->svm = mirror;

out_unlock:
	mutex_unlock(&vfile->vm_lock);
	return ret;
}

/**
 * vsvm_svm_stats() - fill the SVM counters of DRM_IOCTL_VSVM_GET_STATS
 * @mirror: the file's SVM mirror
 * @args: the counters to fill
 */
void vsvm_svm_stats(struct vsvm_mirror *mirror, struct drm_vsvm_get_stats *args)
{
	int i;

	/* The chunk sizes never change once SVM mode is enabled. */
	for (i = 0; i < mirror->gpusvm.num_chunks; i++) {
		u64 faults = atomic64_read(&mirror->chunk_faults[i]);

		switch (mirror->chunks[i]) {
		case SZ_2M:
			args->svm_faults_2m = faults;
			break;
		case SZ_64K:
			args->svm_faults_64k = faults;
			break;
		case SZ_4K:
			args->svm_faults_4k = faults;
			break;
		}
	}
	args->svm_ranges_live = atomic64_read(&mirror->ranges_live);
	args->svm_ranges_collected = atomic64_read(&mirror->ranges_collected);
}

/*
 * Under the notifier lock: the range mapping @va if the engine may access
 * it now (its "GPU page-table entry" is present, for writing if @write).
 */
static struct vsvm_svm_range *vsvm_svm_lookup(struct vsvm_mirror *mirror,
					      u64 va, bool write)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	struct drm_gpusvm_notifier *notifier;
	struct drm_gpusvm_range *range;
	struct vsvm_svm_range *vrange;

	/* The trees change under svm_lock; invalidations under notifier_lock */
	lockdep_assert_held(&mirror->svm_lock);
	lockdep_assert_held(&gpusvm->notifier_lock);

	notifier = drm_gpusvm_notifier_find(gpusvm, va, va + 1);
	if (!notifier)
		return NULL;
	range = drm_gpusvm_range_find(notifier, va, va + 1);
	if (!range)
		return NULL;
	vrange = to_vsvm_svm_range(range);
	if (!vrange->gpu_mapped || (write && !vrange->gpu_writable) ||
	    !drm_gpusvm_pages_valid(gpusvm, &vrange->pages))
		return NULL;

	return vrange;
}

static int vsvm_svm_errno(int err)
{
	switch (err) {
	case -ENOENT:	/* nothing mapped there */
	case -EIO:	/* VM_IO, VM_PFNMAP */
	case -EINVAL:	/* outside the user address space */
		return -EFAULT;
	case -EBUSY:	/* kept being invalidated */
		return -EAGAIN;
	}
	return err;
}

/*
 * A GPU page fault at @va: map the SVM range around it. @span is 0 for an
 * access, which gets a range of at most 2M, as a fault on a real GPU; a
 * PREFETCH passes the bytes it has left from @va on, and so gets ranges
 * of up to VSVM_SVM_PREFETCH_MAX inside its 2M-aligned span.
 */
static int vsvm_svm_fault_locked(struct vsvm_mirror *mirror, u64 va,
				 u64 span, bool write)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	struct drm_gpusvm_ctx ctx = { .read_only = !write };
	struct vsvm_svm_range *vrange;
	struct drm_gpusvm_range *range;
	unsigned long gen, seq, start, end, lo, hi;
	bool upgrade, helper_pfns;
	int i, ret;

	lockdep_assert_held(&mirror->svm_lock);

	vsvm_svm_gc_locked(mirror);

	/*
	 * A read fault asks the CPU for read access only, so that it maps
	 * the zero page and keeps COW pages shared, as a CPU read would. A
	 * write fault where the mapping allows it, else a read fault (the
	 * write then fails with -EPERM, or -EFAULT if the CPU cannot even
	 * read there).
	 */
	lo = ALIGN_DOWN(va, SZ_2M);
	hi = ALIGN(va + max_t(u64, span, 1), SZ_2M);
	range = drm_gpusvm_range_find_or_insert(gpusvm, va, lo, hi, &ctx);
	if (IS_ERR(range) && PTR_ERR(range) == -EPERM) {
		ctx.read_only = true;
		range = drm_gpusvm_range_find_or_insert(gpusvm, va, lo, hi,
							&ctx);
	}
	if (IS_ERR(range))
		return vsvm_svm_errno(PTR_ERR(range));
	if (vsvm_svm_range_unmapped(range))
		return -EAGAIN;	/* the collector removes it first */

	vrange = to_vsvm_svm_range(range);
	start = drm_gpusvm_range_start(range);
	end = drm_gpusvm_range_end(range);
	/*
	 * Not zeroed: the engine reads it only while gpu_mapped, which is
	 * set only after a walk filled it (drm_gpusvm_get_pages() into
	 * ctx.hmm_pfns, or vsvm_hmm_snapshot()).
	 */
	if (!vrange->pfns) {
		vrange->pfns = kvmalloc_array(vsvm_svm_range_npages(range),
					      sizeof(*vrange->pfns),
					      VSVM_GFP);
		if (!vrange->pfns)
			return -ENOMEM;
	}

	for (i = 0; i < gpusvm->num_chunks; i++)
		if (mirror->chunks[i] == end - start)
			atomic64_inc(&mirror->chunk_faults[i]);

	/*
	 * Read-only pages and a write: drop the mapping, then fault for
	 * writing. Nobody else touches the engine's view of the range while
	 * gpu_mapped is clear (we hold svm_lock).
	 */
	down_write(&gpusvm->notifier_lock);
	upgrade = vrange->gpu_mapped && write && !vrange->gpu_writable;
	if (upgrade)
		vrange->gpu_mapped = false;
	gen = vrange->inval_gen;
	up_write(&gpusvm->notifier_lock);
	if (upgrade)
		drm_gpusvm_unmap_pages(gpusvm, &vrange->pages,
				       vsvm_svm_range_npages(range), &ctx);

	/* The engine's view: the pfns the pages are mapped from. */
	helper_pfns = READ_ONCE(vsvm_helper_pfns);
	if (helper_pfns)
		ctx.hmm_pfns = vrange->pfns;
	ret = drm_gpusvm_get_pages(gpusvm, &vrange->pages, gpusvm->mm,
				   &range->notifier->notifier, start, end,
				   &ctx);
	if (ret == -EFAULT && vsvm_svm_range_unmapped(range))
		return -EAGAIN;
	if (ret)
		return vsvm_svm_errno(ret);

	if (!helper_pfns) {
		ret = vsvm_hmm_snapshot(&range->notifier->notifier, start, end,
					!ctx.read_only, false, vrange->pfns,
					&seq);
		if (ret) {
			/*
			 * Valid pages, a half-written view: unmap them, so that
			 * the next fault walks again whatever helper_pfns says
			 * by then (get_pages() does not walk valid pages).
			 */
			drm_gpusvm_unmap_pages(gpusvm, &vrange->pages,
					       vsvm_svm_range_npages(range),
					       &ctx);
			return vsvm_svm_errno(ret);
		}
	}

	/* Commit: map the range for the engine unless it was invalidated. */
	down_write(&gpusvm->notifier_lock);
	if (vrange->inval_gen == gen && !range->flags.unmapped &&
	    drm_gpusvm_pages_valid(gpusvm, &vrange->pages)) {
		vrange->gpu_writable = !ctx.read_only;
		vrange->gpu_mapped = true;
		vsvm_check_dma(gpusvm, &vrange->pages, vrange->pfns,
			       vsvm_svm_range_npages(range));
	} else {
		ret = -EAGAIN;
	}
	up_write(&gpusvm->notifier_lock);

	if (!ret && write && ctx.read_only)
		ret = -EPERM;
	return ret;
}

static int vsvm_svm_fault(struct vsvm_mirror *mirror, u64 va, u64 span,
			  bool write)
{
	struct mm_struct *mm = vsvm_mirror_mm(mirror);
	int ret;

	/* The process has exited. */
	if (!mmget_not_zero(mm))
		return -ESRCH;
	mutex_lock(&mirror->svm_lock);
	ret = vsvm_svm_fault_locked(mirror, va, span, write);
	mutex_unlock(&mirror->svm_lock);
	mmput(mm);

	return ret;
}

/**
 * vsvm_svm_access() - the engine reads, writes or prefetches SVM memory
 * @vfile: file of the job, for the statistics
 * @mirror: the file's SVM mirror (referenced by the job)
 * @va: first GPU VA, i.e. CPU address in the mirror's mm
 * @buf: kernel buffer to copy from (@write) or to; NULL to prefetch
 * @len: bytes
 * @write: the engine writes (or prefetches for writing)
 *
 * Walks [@va, @va + @len) range by range. For each piece, looks the SVM
 * range up under &vsvm_mirror.svm_lock and the notifier lock; if it is
 * mapped for the engine, copies at most DRM_VSVM_CHUNK_PAGES pages of it
 * under those locks (or, to prefetch, skips to its end); otherwise drops
 * them and takes a GPU page fault (vsvm_svm_fault()), then looks again.
 *
 * Context: process context (the engine); sleeps. No vsvm or drm_gpusvm
 * lock may be held.
 *
 * Return: 0; the error of the fault (-EFAULT, -EPERM, -ESRCH, -ENOMEM);
 * or -ETIMEDOUT if one address could not be made accessible for
 * DRM_VSVM_VALIDATE_TIMEOUT_MS because it kept being invalidated.
 */
int vsvm_svm_access(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
		    u64 va, void *buf, size_t len, bool write)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	unsigned long deadline = 0;
	bool faulted = false;
	u64 t0;
	int ret;

	while (len) {
		struct vsvm_svm_range *vrange;
		size_t n;

		mutex_lock(&mirror->svm_lock);
		drm_gpusvm_notifier_lock(gpusvm);
		vrange = vsvm_svm_lookup(mirror, va, write);
		if (vrange) {
			struct drm_gpusvm_range *range = &vrange->base;
			u64 start = drm_gpusvm_range_start(range);

			n = min_t(u64, len, drm_gpusvm_range_end(range) - va);
			if (buf) {
				n = min_t(size_t, n,
					  DRM_VSVM_CHUNK_PAGES * PAGE_SIZE -
					  offset_in_page(va));
				vsvm_pfns_copy(vrange->pfns, va - start, buf, n,
					       write);
			}
			drm_gpusvm_notifier_unlock(gpusvm);
			mutex_unlock(&mirror->svm_lock);

			if (buf) {
				atomic64_add(n, &vfile->stats.bytes_accessed);
				buf += n;
			}
			va += n;
			len -= n;
			faulted = false;
			cond_resched();
			continue;
		}
		drm_gpusvm_notifier_unlock(gpusvm);
		mutex_unlock(&mirror->svm_lock);

		/* A GPU page fault. */
		if (!faulted)
			deadline = jiffies +
				   msecs_to_jiffies(DRM_VSVM_VALIDATE_TIMEOUT_MS);
		else
			atomic64_inc(&vfile->stats.retries);
		if (faulted && time_after(jiffies, deadline))
			return -ETIMEDOUT;

		atomic64_inc(&vfile->stats.svm_faults);
		t0 = ktime_get_ns();
		ret = vsvm_svm_fault(mirror, va, buf ? 0 : len, write);
		atomic64_add(ktime_get_ns() - t0, &vfile->stats.svm_fault_ns);
		if (ret && ret != -EAGAIN)
			return ret;
		faulted = true;
	}

	return 0;
}

/**
 * vsvm_svm_atomic_add() - the engine's DRM_VSVM_OP_ATOMIC_ADD
 * @vfile: file of the job, for the statistics
 * @mirror: the file's SVM mirror (referenced by the job)
 * @va: CPU address of the little-endian 32-bit word, 4-byte aligned
 * @add: the addend
 *
 * A GPU atomic on SVM memory, as nouveau does them: make_device_exclusive()
 * takes the page away from the CPU (whose next access takes it back
 * through an MMU_NOTIFY_CLEAR invalidation), and the engine does the
 * addition on it while it holds the folio lock. The owner is the mirror,
 * the device-exclusive owner of its drm_gpusvm: drm_gpusvm ignores this
 * MMU_NOTIFY_EXCLUSIVE event, so the SVM ranges that map the page stay
 * mapped, while other mirrors of the mm (other files) see a foreign
 * owner and invalidate. drm_gpusvm has no atomic path for system memory.
 *
 * Context: process context (the engine); sleeps. No vsvm or drm_gpusvm
 * lock may be held.
 *
 * Return: 0; -EFAULT (nothing mapped, or the page cannot be made
 * exclusive), -EPERM (read-only mapping), -ESRCH (the process exited).
 */
int vsvm_svm_atomic_add(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
			u64 va, u32 add)
{
	struct mm_struct *mm = vsvm_mirror_mm(mirror);
	struct vm_area_struct *vma;
	struct folio *folio;
	struct page *page;
	__le32 *word;
	int ret = 0;

	atomic64_inc(&vfile->stats.svm_faults);
	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_put;

	vma = vma_lookup(mm, va);
	if (!vma) {
		ret = -EFAULT;
		goto out_unlock;
	}
	if (!(vma->vm_flags & VM_WRITE)) {
		ret = -EPERM;
		goto out_unlock;
	}
	page = make_device_exclusive(mm, va & PAGE_MASK, mirror, &folio);
	if (IS_ERR(page)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	word = kmap_local_page(page) + offset_in_page(va);
	*word = cpu_to_le32(le32_to_cpu(*word) + add);
	kunmap_local(word);
	/* Device-exclusive entries are clean to core mm: we wrote it. */
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	atomic64_add(sizeof(u32), &vfile->stats.bytes_accessed);

out_unlock:
	mmap_read_unlock(mm);
out_put:
	mmput(mm);
	return ret;
}
