// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/err.h>
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
 * The engine reaches the pages like a GPU would, see vsvm_userptr_access():
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
 * The helper's notifier callback takes the notifier lock for write, so an
 * invalidation (munmap, mprotect, remap, COW, migration, exit) waits for the
 * chunk in flight, and the next chunk faults the range in again and sees the
 * new pages. &drm_svm_ops.invalidate (vsvm_mirror_invalidate()) therefore
 * has nothing to wait for: for userptr ranges it only counts (for SVM
 * ranges see "vsvm SVM mode internals").
 *
 * Nothing allocates memory while the notifier lock is held, as the helper
 * requires, and the engine's fences are never added to a reservation object,
 * so memory reclaim never waits for a vsvm job: faulting pages from the
 * engine (like a GPU with recoverable page faults) cannot deadlock against
 * reclaim.
 */

/* Called by kref_put_mutex() with vfile->mirrors_lock held; drops it. */
static void vsvm_mirror_release(struct kref *ref)
{
	struct vsvm_mirror *mirror = container_of(ref, struct vsvm_mirror, ref);
	struct vsvm_file *vfile = mirror->vfile;

	list_del(&mirror->link);
	mutex_unlock(&vfile->mirrors_lock);

	drm_svm_mirror_fini(&mirror->svm);
	drm_svm_fini(&mirror->svm);
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
	ret = drm_svm_init(&mirror->svm, vfile->vdev->drm.dev, mm,
			   &vsvm_svm_ops, NULL);
	if (ret) {
		kfree(mirror);
		mirror = ERR_PTR(ret);
		goto out_unlock;
	}
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
	drm_svm_range_fini(&uobj->range);
	vsvm_mirror_put(uobj->mirror);
	drm_gem_object_release(obj);
	kfree(uobj);
}

static struct dma_buf *vsvm_userptr_export(struct drm_gem_object *obj,
					   int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static const struct drm_gem_object_funcs vsvm_userptr_funcs = {
	.free = vsvm_userptr_free,
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

/* Fault the range in, counting it in @vfile's statistics. */
static int vsvm_userptr_validate(struct vsvm_file *vfile,
				 struct vsvm_userptr *uobj)
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

		vsvm_copy_range(range, offset, buf, chunk, write);
		drm_svm_notifier_unlock(svm);

		atomic64_add(chunk, &vfile->stats.bytes_accessed);
		offset += chunk;
		buf += chunk;
		len -= chunk;
		cond_resched();
	}

	return 0;
}
