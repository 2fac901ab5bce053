// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/debugfs.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_svm.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm userptr objects
 *
 * A userptr object (created by the generic DRM_IOCTL_USERPTR_CREATE, which
 * DRM core routes to vsvm_userptr_create()) is a GEM object without backing
 * storage of its own: it embeds a &struct drm_svm_range over the user's
 * address range. The ranges of one file that belong to the same mm share one
 * &struct drm_svm context (a &struct vsvm_mirror), as the userptr objects of
 * one GPU VM share one notifier lock on real hardware.
 *
 * The engine reaches the pages in one of two ways (see "vsvm engine"):
 *
 * - dma-fence jobs (a GPU without recoverable page faults, as amdgpu's
 *   CS): EXEC validates the range and, under the notifier lock while
 *   drm_svm_range_pages_valid() holds, writes the object's "GPU page
 *   table" (vsvm_userptr_gpu_pages_write()) and publishes the job's fence
 *   in the object's reservation object. &drm_svm_ops.invalidate
 *   (vsvm_userptr_invalidate()) waits for those fences, so the job uses the
 *   pages of its page table without a lock and never faults.
 * - long-running jobs (SVM mode, a GPU with recoverable page faults),
 *   vsvm_userptr_access():
 *
 * ::
 *
 *   for each chunk of at most DRM_VSVM_CHUNK_PAGES pages:
 *       down_read(notifier_lock)
 *       while (!drm_svm_range_pages_valid(range)):      commit check
 *           up_read(notifier_lock)
 *           drm_svm_range_get_pages(range)              fault (sleeps)
 *           down_read(notifier_lock)
 *       kmap_local_page() + memcpy over the chunk      "DMA"
 *       up_read(notifier_lock)
 *
 *   The helper's notifier callback takes the notifier lock for write, so an
 *   invalidation waits for the chunk in flight, and the next chunk faults
 *   the range in again and sees the new pages. Such jobs never publish a
 *   fence in the reservation object.
 *
 * Nothing allocates memory while the notifier lock is held, as the helper
 * requires.
 *
 * A userptr object mirrors its creator's mm only: EXEC (-EPERM, see
 * vsvm_job_add_range()), GEM_OPEN of its flink name and PRIME export
 * (both -EPERM, vsvm_userptr_open() and vsvm_userptr_export()) refuse any
 * other mm, as amdgpu and radeon do.
 */

/*
 * debugfs: <debugfs>/vsvm/pid<tgid>-file<id>/drm_svm_stats, the helper's
 * counters of this (file, mm) context; best effort.
 */
static void vsvm_mirror_debugfs_init(struct vsvm_mirror *mirror)
{
	struct dentry *root = mirror->vfile->vdev->debugfs;
	char name[48];

	if (IS_ERR_OR_NULL(root))
		return;
	snprintf(name, sizeof(name), "pid%d-file%u", task_tgid_nr(current),
		 mirror->vfile->id);
	mirror->debugfs = debugfs_create_dir(name, root);
	if (!IS_ERR(mirror->debugfs))
		drm_svm_debugfs_init(&mirror->svm, mirror->debugfs);
}

/* Called by kref_put_mutex() with vfile->mirrors_lock held; drops it. */
static void vsvm_mirror_release(struct kref *ref)
{
	struct vsvm_mirror *mirror = container_of(ref, struct vsvm_mirror, ref);
	struct vsvm_file *vfile = mirror->vfile;

	list_del(&mirror->link);
	mutex_unlock(&vfile->mirrors_lock);

	drm_svm_mirror_fini(&mirror->svm);
	drm_svm_fini(&mirror->svm);
	debugfs_remove_recursive(mirror->debugfs);
	kfree(mirror);
	vsvm_file_put(vfile);
}

/**
 * vsvm_mirror_put() - drop a reference to a mirror
 * @mirror: the mirror
 *
 * The last reference disables SVM mode on it, tears it down and drops its
 * file reference. Context: process context; sleeps. The caller must not
 * hold &vsvm_file.mirrors_lock.
 */
void vsvm_mirror_put(struct vsvm_mirror *mirror)
{
	kref_put_mutex(&mirror->ref, vsvm_mirror_release,
		       &mirror->vfile->mirrors_lock);
}

/**
 * vsvm_mirror_get() - find or create the drm_svm context of a file for an mm
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
		if (mirror->svm.mm == mm && kref_get_unless_zero(&mirror->ref))
			goto out_unlock;
	}

	mirror = kzalloc(sizeof(*mirror), GFP_KERNEL);
	if (!mirror) {
		mirror = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	/* The owner tells our own exclusive events apart (ATOMIC_ADD). */
	ret = drm_svm_init(&mirror->svm, vfile->vdev->drm.dev, mm,
			   &vsvm_svm_ops, vfile->vdev);
	if (ret) {
		kfree(mirror);
		mirror = ERR_PTR(ret);
		goto out_unlock;
	}
	kref_init(&mirror->ref);
	kref_get(&vfile->ref);
	mirror->vfile = vfile;
	list_add(&mirror->link, &vfile->mirrors);
	vsvm_mirror_debugfs_init(mirror);

out_unlock:
	mutex_unlock(&vfile->mirrors_lock);
	return mirror;
}

static void vsvm_userptr_free(struct drm_gem_object *obj)
{
	struct vsvm_userptr *uobj = to_vsvm_userptr(obj);

	/* Jobs hold references: nothing can access the range any more. */
	drm_svm_range_fini(&uobj->range);
	vsvm_mirror_put(uobj->mirror);
	drm_gem_object_release(obj);
	kvfree(uobj->gpu_pages);
	kfree(uobj);
}

/* A userptr object serves its creator's mm only (as in amdgpu, radeon). */
static bool vsvm_userptr_foreign(struct drm_gem_object *obj)
{
	return to_vsvm_userptr(obj)->mirror->svm.mm != current->mm;
}

static struct dma_buf *vsvm_userptr_export(struct drm_gem_object *obj,
					   int flags)
{
	return ERR_PTR(vsvm_userptr_foreign(obj) ? -EPERM : -EOPNOTSUPP);
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

/**
 * vsvm_userptr_validate() - fault a userptr object's range in
 * @vfile: file whose counters to update
 * @uobj: the object
 *
 * Context: process context, no vsvm or drm_svm lock held; faults, sleeps.
 * Return: 0 or the error of drm_svm_range_get_pages().
 */
int vsvm_userptr_validate(struct vsvm_file *vfile, struct vsvm_userptr *uobj)
{
	int ret;

	atomic64_inc(&vfile->stats.faults);
	if (uobj->ever_valid)
		atomic64_inc(&vfile->stats.revalidations);

	ret = drm_svm_range_get_pages(&uobj->range,
				      DRM_SVM_TIMEOUT_DEFAULT_MS);
	if (!ret)
		uobj->ever_valid = true;

	return ret;
}

/**
 * vsvm_range_page() - the page behind page @idx of a drm_svm range
 * @range: a userptr range or an SVM mirror range
 * @idx: page index into the range
 *
 * The one place the engine reads the helper's view of user pages (so a
 * change of the helper's page accessors is a one-line change here). The
 * caller holds the mirror's notifier lock, and drm_svm_range_pages_valid()
 * was true under it.
 *
 * Return: the page.
 */
struct page *vsvm_range_page(struct drm_svm_range *range, pgoff_t idx)
{
	return drm_svm_range_page(range, idx);
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
	pages = kvcalloc(drm_svm_range_npages(&uobj->range), sizeof(*pages),
			 GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	if (cmpxchg(&uobj->gpu_pages, NULL, pages))
		kvfree(pages);
	return 0;
}

/**
 * vsvm_userptr_gpu_pages_write() - "write the GPU page table" at commit
 * @uobj: an object whose pages EXEC found valid
 *
 * Copies the published pages into @uobj->gpu_pages, unless they are there
 * already (same notifier sequence). Called with the notifier lock held
 * for read after drm_svm_range_pages_valid(), and with the object's
 * reservation held (which serialises EXECs on it). dma-fence jobs then
 * read @uobj->gpu_pages without a lock: the invalidate callback waits for
 * their fences before the helper takes the pages away, as a real GPU's
 * invalidation waits before its page tables may point elsewhere.
 */
void vsvm_userptr_gpu_pages_write(struct vsvm_userptr *uobj)
{
	struct drm_svm_range *range = &uobj->range;
	unsigned long seq = drm_svm_range_seq(range);
	pgoff_t i;

	dma_resv_assert_held(uobj->base.resv);
	if (uobj->gpu_pages_set && uobj->gpu_seq == seq)
		return;
	for (i = 0; i < drm_svm_range_npages(range); i++)
		uobj->gpu_pages[i] = vsvm_range_page(range, i);
	uobj->gpu_seq = seq;
	uobj->gpu_pages_set = true;
}

/**
 * vsvm_range_copy() - copy between a drm_svm range and a kernel buffer
 * @range: the range
 * @offset: byte offset into the range
 * @buf: kernel buffer
 * @len: bytes to copy; [@offset, @offset + @len) lies in the range
 * @write: copy @buf to the range instead of the range to @buf
 *
 * Through vsvm_range_page(), whose rules the caller follows. Does not
 * sleep or allocate.
 */
void vsvm_range_copy(struct drm_svm_range *range, u64 offset, void *buf,
		     size_t len, bool write)
{
	while (len) {
		size_t off = offset_in_page(offset);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		vsvm_copy_page(vsvm_range_page(range, offset >> PAGE_SHIFT),
			       off, buf, n, write);
		offset += n;
		buf += n;
		len -= n;
	}
}

/**
 * vsvm_userptr_invalidate() - the CPU side invalidates a userptr range
 * @uobj: the object
 *
 * Waits for the fences of the dma-fence jobs that use the object (they
 * access its pages without a lock, see "vsvm engine"). Called from
 * &drm_svm_ops.invalidate, with the notifier lock held for write, possibly
 * from reclaim: those jobs never allocate or fault, so this terminates.
 */
void vsvm_userptr_invalidate(struct vsvm_userptr *uobj)
{
	dma_resv_wait_timeout(uobj->base.resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
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
	unsigned long flags = 0;
	int ret;

	if (args->flags & DRM_USERPTR_READ_ONLY)
		flags |= DRM_SVM_RANGE_READ_ONLY;
	if (args->flags & DRM_USERPTR_ANON_ONLY)
		flags |= DRM_SVM_RANGE_ANON_ONLY;

	uobj = kzalloc(sizeof(*uobj), GFP_KERNEL);
	if (!uobj)
		return -ENOMEM;

	mirror = vsvm_mirror_get(vfile, current->mm);
	if (IS_ERR(mirror)) {
		kfree(uobj);
		return PTR_ERR(mirror);
	}

	ret = drm_svm_range_init(&mirror->svm, &uobj->range, args->addr,
				 args->size, flags);
	if (ret) {
		vsvm_mirror_put(mirror);
		kfree(uobj);
		return ret;
	}
	uobj->mirror = mirror;
	uobj->base.funcs = &vsvm_userptr_funcs;
	drm_gem_private_object_init(dev, &uobj->base, args->size);

	/* From here on, dropping the last reference frees everything. */
	if (args->flags & DRM_USERPTR_VALIDATE) {
		ret = vsvm_userptr_validate(vfile, uobj);
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
 * Return: 0, or the error of drm_svm_range_get_pages() (-EFAULT, -EPERM,
 * -ESRCH, -ENOMEM), or -ETIMEDOUT.
 */
int vsvm_userptr_access(struct vsvm_file *vfile, struct vsvm_userptr *uobj,
			u64 offset, void *buf, size_t len, bool write)
{
	struct drm_svm *svm = &uobj->mirror->svm;
	struct drm_svm_range *range = &uobj->range;
	unsigned long deadline;
	bool faulted;
	size_t chunk;
	int ret;

	if (write && test_bit(DRM_SVM_RANGE_READ_ONLY_BIT, &range->flags))
		return -EACCES;

	while (len) {
		chunk = min_t(u64, len, DRM_VSVM_CHUNK_PAGES * PAGE_SIZE -
					offset_in_page(offset));
		deadline = jiffies +
			   msecs_to_jiffies(DRM_VSVM_VALIDATE_TIMEOUT_MS);
		faulted = false;

		for (;;) {
			drm_svm_notifier_lock(svm);
			if (drm_svm_range_pages_valid(range))
				break;
			drm_svm_notifier_unlock(svm);

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

		vsvm_range_copy(range, offset, buf, chunk, write);
		drm_svm_notifier_unlock(svm);

		atomic64_add(chunk, &vfile->stats.bytes_accessed);
		offset += chunk;
		buf += chunk;
		len -= chunk;
		cond_resched();
	}

	return 0;
}
