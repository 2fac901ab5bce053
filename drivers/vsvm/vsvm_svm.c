// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_svm.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm SVM mode internals
 *
 * DRM_IOCTL_VSVM_SVM_ENABLE turns the file's drm_svm context for the
 * caller's mm (the &struct vsvm_mirror its userptr objects of that mm also
 * use) into a mirror with drm_svm_mirror_init(), and keeps a reference to
 * it in &vsvm_file.svm. A job whose commands touch GPU VAs that no bound
 * mapping covers takes a reference to that mirror at submission; the
 * engine then treats those VAs as CPU addresses, see vsvm_svm_access().
 *
 * Each mirror range is a &struct vsvm_svm_range, which drm_svm allocates
 * (&drm_svm_ops.range_size), whose @gpu_mapped flag plays the GPU
 * page-table entry:
 *
 * ::
 *
 *   engine                                   mm (munmap, mprotect ...)
 *   ------                                   -------------------------
 *   down_read(notifier_lock)
 *   range = drm_svm_mirror_find(va)
 *   range->gpu_mapped && pages_valid? --no--> up_read
 *       |                                    drm_svm_mirror_fault(va)
 *       | yes                                  -> commit: gpu_mapped = 1
 *   copy <= DRM_VSVM_CHUNK_PAGES pages       retry the lookup
 *   up_read(notifier_lock)                   drm_svm notifier:
 *                                              down_write(notifier_lock)
 *                                              invalidate: gpu_mapped = 0
 *
 * so a CPU-side invalidation waits for the access in flight and the next
 * access faults again. The engine calls drm_svm_mirror_fault() without any
 * lock held; the helper takes its mirror lock, mmget_not_zero() (-ESRCH
 * once the process has exited), the mmap lock and the notifier lock.
 */

/*
 * Fault-around window: a copy that faults also mirrors up to 16 MB of
 * present pages after its chunk (8 more 2M chunks), in the same
 * hmm_range_fault() and commit. Each fault saved is worth a walk and a
 * DMA mapping of 16 MB of present pages under TCG (per-fault machinery
 * is ~0.3 ms, bench P5), and the cost of guessing wrong is bounded:
 * 32 KB of entries and the DMA mappings of pages that already exist.
 */
#define VSVM_SVM_FAULT_AROUND	SZ_16M

/* Data passed from the engine to the commit callbacks. */
struct vsvm_svm_commit {
	bool write;
	/* out: end of the range the fault committed */
	u64 end;
	/* DRM_VSVM_OP_ATOMIC_ADD: the word's address and the addend */
	u64 atomic_va;
	u32 atomic_add;
};

static struct vsvm_svm_range *to_vsvm_svm_range(struct drm_svm_range *range)
{
	return container_of(range, struct vsvm_svm_range, base);
}

static void vsvm_mirror_invalidate(struct drm_svm *svm,
				   struct drm_svm_range *range,
				   const struct mmu_notifier_range *mmu_range)
{
	struct vsvm_mirror *mirror = container_of(svm, struct vsvm_mirror, svm);
	struct vsvm_stats *stats = &mirror->vfile->stats;

	/*
	 * Userptr range: wait for the dma-fence jobs that use it (they hold
	 * no lock). Long-running jobs touch pages with the notifier lock held
	 * for read and the helper holds it for write here: none is in flight,
	 * and the next access finds the range invalid and faults it in again.
	 */
	if (!test_bit(DRM_SVM_RANGE_MIRROR_BIT, &range->flags)) {
		atomic64_inc(&stats->invalidations);
		vsvm_userptr_invalidate(container_of(range, struct vsvm_userptr,
						     range));
		return;
	}

	/* Zap the "GPU page table entry" of the SVM range. */
	WRITE_ONCE(to_vsvm_svm_range(range)->gpu_mapped, false);
	WRITE_ONCE(to_vsvm_svm_range(range)->gpu_writable, false);
	/* Evictions and removals by the helper itself are not mm events. */
	if (mmu_range->owner != svm)
		atomic64_inc(&stats->svm_invalidations);
}

static int vsvm_mirror_commit(struct drm_svm *svm, struct drm_svm_range *range,
			      void *data)
{
	struct vsvm_svm_range *vrange = to_vsvm_svm_range(range);
	struct vsvm_svm_commit *commit = data;
	bool ro = test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags);

	/* drm_svm_mirror_fault() checked the VMA for a write fault. */
	if (WARN_ON_ONCE(commit->write && ro))
		return -EPERM;

	/* Read faults may publish read-only pages; a write fault upgrades. */
	WRITE_ONCE(vrange->gpu_writable, drm_svm_range_writable(range));
	WRITE_ONCE(vrange->gpu_mapped, true);
	commit->end = range->end;
	return 0;
}

/*
 * The "GPU atomic": @page is device-exclusive and locked by the helper, so
 * the CPU cannot touch it until this returns and its next access takes it
 * back (an invalidation without owner).
 */
static int vsvm_mirror_commit_atomic(struct drm_svm *svm,
				     struct drm_svm_range *range,
				     unsigned long addr, struct page *page,
				     void *data)
{
	struct vsvm_svm_commit *commit = data;
	__le32 *word;

	if (WARN_ON_ONCE((commit->atomic_va & PAGE_MASK) != addr))
		return -EFAULT;
	word = kmap_local_page(page) + offset_in_page(commit->atomic_va);
	*word = cpu_to_le32(le32_to_cpu(*word) + commit->atomic_add);
	kunmap_local(word);
	return 0;
}

/* drm_svm allocates the ranges: the range comes first. */
static_assert(offsetof(struct vsvm_svm_range, base) == 0);

/*
 * One set of ops for every vsvm drm_svm context: userptr ranges only ever
 * see @invalidate; @commit and the range hooks serve SVM mode.
 */
const struct drm_svm_ops vsvm_svm_ops = {
	.invalidate = vsvm_mirror_invalidate,
	.commit = vsvm_mirror_commit,
	.commit_atomic = vsvm_mirror_commit_atomic,
	.range_size = sizeof(struct vsvm_svm_range),
};

static const struct {
	u32 flag;
	unsigned long size;
} vsvm_svm_chunks[] = {
	{ DRM_VSVM_SVM_CHUNK_2M, SZ_2M },
	{ DRM_VSVM_SVM_CHUNK_64K, SZ_64K },
	{ DRM_VSVM_SVM_CHUNK_4K, SZ_4K },
};

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
	unsigned long sizes[ARRAY_SIZE(vsvm_svm_chunks)];
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_svm_enable *args = data;
	struct vsvm_mirror *mirror;
	unsigned int i, n = 0;
	u32 mask;
	int ret;

	BUILD_BUG_ON(PAGE_SIZE != SZ_4K);
	BUILD_BUG_ON(ARRAY_SIZE(vsvm_svm_chunks) > DRM_SVM_MAX_CHUNKS);

	mask = args->chunk_sizes ?: DRM_VSVM_SVM_CHUNKS_ALL;
	if (args->flags || args->pad || (mask & ~DRM_VSVM_SVM_CHUNKS_ALL) ||
	    !(mask & DRM_VSVM_SVM_CHUNK_4K))
		return -EINVAL;
	if (!current->mm)
		return -ESRCH;

	for (i = 0; i < ARRAY_SIZE(vsvm_svm_chunks); i++)
		if (mask & vsvm_svm_chunks[i].flag)
			sizes[n++] = vsvm_svm_chunks[i].size;

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

	ret = drm_svm_mirror_init(&mirror->svm, sizes, n);
	/* DRM_VSVM_OP_ATOMIC_ADD makes pages exclusive with our owner. */
	if (!ret)
		ret = drm_svm_set_event_filter(&mirror->svm,
					       DRM_SVM_FILTER_OWN_EXCLUSIVE);
	if (!ret)
		ret = drm_svm_mirror_set_fault_around(&mirror->svm,
						      VSVM_SVM_FAULT_AROUND);
	if (ret) {
		/* Only a programming error can get us here. */
		WARN_ON_ONCE(ret == -EINVAL);
		vsvm_mirror_put(mirror);
		goto out_unlock;
	}
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
	struct drm_svm *svm = &mirror->svm;
	struct drm_svm_stats_snapshot snap;
	unsigned int i;

	drm_svm_stats_read(svm, &snap);
	/* The chunk sizes never change once mirror mode is enabled. */
	for (i = 0; i < svm->mirror.num_chunks; i++) {
		switch (svm->mirror.chunk_sizes[i]) {
		case SZ_2M:
			args->svm_faults_2m = snap.chunk_faults[i];
			break;
		case SZ_64K:
			args->svm_faults_64k = snap.chunk_faults[i];
			break;
		case SZ_4K:
			args->svm_faults_4k = snap.chunk_faults[i];
			break;
		}
	}
	args->svm_ranges_live = snap.ranges_live;
	args->svm_ranges_collected = snap.ranges_collected;
}

/*
 * Under the notifier lock: the range mapping @va if the engine may access
 * it now (its "GPU page table entry" is present, for writing if @write).
 */
static struct vsvm_svm_range *vsvm_svm_lookup(struct drm_svm *svm, u64 va,
					      bool write)
{
	struct drm_svm_range *range = drm_svm_mirror_find(svm, va);
	struct vsvm_svm_range *vrange;

	if (!range)
		return NULL;
	vrange = to_vsvm_svm_range(range);
	if (!READ_ONCE(vrange->gpu_mapped) ||
	    (write && !READ_ONCE(vrange->gpu_writable)) ||
	    !drm_svm_range_pages_valid(range))
		return NULL;

	return vrange;
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
 * Walks [@va, @va + @len) range by range. For each piece, looks the
 * mirror range up under the notifier lock; if it is present and valid,
 * copies at most DRM_VSVM_CHUNK_PAGES pages of it under that lock (or,
 * to prefetch, skips to its end); otherwise drops the lock and takes a
 * GPU page fault through drm_svm_mirror_fault(), then looks again.
 *
 * Context: process context (the engine); sleeps. No vsvm or drm_svm lock
 * may be held.
 *
 * Return: 0; the error of drm_svm_mirror_fault() (-EFAULT, -EPERM,
 * -ESRCH, -ENOMEM); or -ETIMEDOUT if one address could not be made
 * accessible for DRM_VSVM_VALIDATE_TIMEOUT_MS because it kept being
 * invalidated.
 */
int vsvm_svm_access(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
		    u64 va, void *buf, size_t len, bool write)
{
	struct vsvm_svm_commit commit = { .write = write };
	struct drm_svm *svm = &mirror->svm;
	struct drm_svm_fault fault;
	unsigned long deadline = 0;
	bool faulted = false;
	int ret;

	while (len) {
		struct vsvm_svm_range *vrange;
		size_t n;

		drm_svm_notifier_lock(svm);
		vrange = vsvm_svm_lookup(svm, va, write);
		if (vrange) {
			struct drm_svm_range *range = &vrange->base;

			n = min_t(u64, len, range->end - va);
			if (buf) {
				n = min_t(size_t, n,
					  DRM_VSVM_CHUNK_PAGES * PAGE_SIZE -
					  offset_in_page(va));
				vsvm_range_copy(range, va - range->start, buf,
						n, write);
			}
			drm_svm_notifier_unlock(svm);

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
		drm_svm_notifier_unlock(svm);

		/* A GPU page fault. */
		if (!faulted)
			deadline = jiffies +
				   msecs_to_jiffies(DRM_VSVM_VALIDATE_TIMEOUT_MS);
		else
			atomic64_inc(&vfile->stats.retries);
		if (faulted && time_after(jiffies, deadline))
			return -ETIMEDOUT;

		atomic64_inc(&vfile->stats.svm_faults);
		fault = (struct drm_svm_fault) {
			.addr = va,
			.flags = write ? DRM_SVM_FAULT_WRITE : 0,
			/*
			 * A prefetch is about to touch all of it: set up its
			 * ranges in one go. A copy faults its chunk, and
			 * fault-around mirrors the present ones after it.
			 */
			.size = buf ? 0 : len,
		};
		ret = drm_svm_mirror_fault_batch(svm, &fault, 1,
						 DRM_SVM_TIMEOUT_DEFAULT_MS,
						 &commit) ?: fault.ret;
		if (ret == -EAGAIN)
			ret = 0;
		if (ret)
			return ret;
		/*
		 * A prefetch touches nothing: the commit made the range
		 * usable, go on after it without looking it up again.
		 */
		if (!buf && commit.end > va) {
			n = min_t(u64, len, commit.end - va);
			va += n;
			len -= n;
			commit.end = 0;
			faulted = false;
			cond_resched();
			continue;
		}
		commit.end = 0;
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
 * A GPU atomic on SVM memory: an atomic fault through
 * drm_svm_mirror_fault_batch() makes the page device-exclusive and the
 * commit_atomic callback does the addition on it.
 *
 * Context: process context (the engine); sleeps. No vsvm or drm_svm lock
 * may be held.
 *
 * Return: 0; -EFAULT (nothing mapped, or the page cannot be made
 * exclusive), -EPERM (read-only mapping), -ESRCH, -ENOMEM; -ETIMEDOUT if
 * the page kept being invalidated.
 */
int vsvm_svm_atomic_add(struct vsvm_file *vfile, struct vsvm_mirror *mirror,
			u64 va, u32 add)
{
	struct vsvm_svm_commit commit = {
		.write = true,
		.atomic_va = va,
		.atomic_add = add,
	};
	struct drm_svm_fault fault = {
		.addr = va,
		.flags = DRM_SVM_FAULT_ATOMIC,
	};
	int ret;

	atomic64_inc(&vfile->stats.svm_faults);
	ret = drm_svm_mirror_fault_batch(&mirror->svm, &fault, 1,
					 DRM_VSVM_VALIDATE_TIMEOUT_MS, &commit);
	if (!ret)
		ret = fault.ret;
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (!ret)
		atomic64_add(sizeof(u32), &vfile->stats.bytes_accessed);
	return ret;
}
