// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 *
 * vsvm: a virtual GPU with a software engine whose access to user memory
 * goes through the drm_gpusvm helper exactly as a real GPU's would.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_vma_manager.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

#define DRIVER_NAME	"vsvm"
#define DRIVER_DESC	"Virtual SVM GPU"
#define DRIVER_MAJOR	1
#define DRIVER_MINOR	0

/**
 * DOC: vsvm overview
 *
 * vsvm is a render-only DRM driver for a virtual device, in the spirit of
 * vgem, with a software engine (see "vsvm engine") that executes copy, fill
 * and checksum commands between GPU virtual addresses of a per-file address
 * space. It exists so that the drm_gpusvm helper, the generic userptr IOCTL and
 * their IGT tests run in any virtual machine.
 *
 * Per open file (&struct vsvm_file): a GPU VM (an interval tree of
 * &struct vsvm_mapping, filled by DRM_IOCTL_VSVM_VM_BIND), the drm_gpusvm
 * instances of its userptr objects, one per mm (&struct vsvm_mirror), the
 * one of them SVM mode is enabled on (DRM_IOCTL_VSVM_SVM_ENABLE, see "vsvm
 * SVM mode internals"), and counters (DRM_IOCTL_VSVM_GET_STATS). The file structure is reference
 * counted: mirrors and queued jobs keep it alive after the DRM file is
 * closed.
 *
 * The device that DMA-maps user pages for the engine is QEMU's "edu" PCI
 * device when the VM has one (``-device edu``), so that behind an IOMMU
 * (``-M q35 -device intel-iommu``) drm_gpusvm maps through IOVA as it
 * would for a real GPU; otherwise a platform device of vsvm's own, where
 * dma-direct maps. The engine never dereferences those DMA addresses: it
 * reaches memory through the pages of an hmm snapshot (see "vsvm engine").
 *
 * Lock order: &vsvm_file.vm_lock, then &vsvm_file.mirrors_lock, then the
 * &vsvm_userptr.lock or &vsvm_mirror.svm_lock, then the mmap lock
 * (drm_gpusvm_get_pages()), then the reservation locks of userptr
 * objects (EXEC), then the notifier lock. The engine takes no vsvm lock
 * while it touches memory, and a dma-fence job takes none at all.
 */

static struct vsvm_device *vsvm_device;
/* vsvm's own device when the VM has no "edu" PCI device to hang off */
static struct platform_device *vsvm_platform;

static void vsvm_file_release(struct kref *ref)
{
	struct vsvm_file *vfile = container_of(ref, struct vsvm_file, ref);

	WARN_ON(!list_empty(&vfile->mirrors));
	WARN_ON(atomic_read(&vfile->in_flight));
	mutex_destroy(&vfile->mirrors_lock);
	mutex_destroy(&vfile->vm_lock);
	kfree(vfile);
}

/**
 * vsvm_file_put() - drop a reference to a file's state
 * @vfile: the file state
 */
void vsvm_file_put(struct vsvm_file *vfile)
{
	kref_put(&vfile->ref, vsvm_file_release);
}

static void vsvm_mapping_release(struct kref *ref)
{
	struct vsvm_mapping *map = container_of(ref, struct vsvm_mapping, ref);

	if (!vsvm_gem_is_userptr(map->obj))
		drm_gem_shmem_unpin(to_drm_gem_shmem_obj(map->obj));
	drm_gem_object_put(map->obj);
	kfree(map);
}

/**
 * vsvm_mapping_put() - drop a reference to a mapping
 * @map: the mapping
 *
 * The last reference unpins a shmem object and drops the object reference.
 * Context: process context; may sleep.
 */
void vsvm_mapping_put(struct vsvm_mapping *map)
{
	kref_put(&map->ref, vsvm_mapping_release);
}

static int vsvm_open(struct drm_device *dev, struct drm_file *file)
{
	struct vsvm_file *vfile;
	int ret;

	vfile = kzalloc_obj(*vfile, VSVM_GFP);
	if (!vfile)
		return -ENOMEM;

	kref_init(&vfile->ref);
	vfile->vdev = to_vsvm_device(dev);
	vfile->client_id = file->client_id;
	mutex_init(&vfile->vm_lock);
	vfile->vm = RB_ROOT_CACHED;
	mutex_init(&vfile->mirrors_lock);
	INIT_LIST_HEAD(&vfile->mirrors);
	spin_lock_init(&vfile->error_lock);
	init_waitqueue_head(&vfile->ufence_wq);

	ret = vsvm_engine_file_init(vfile);
	if (ret) {
		mutex_destroy(&vfile->mirrors_lock);
		mutex_destroy(&vfile->vm_lock);
		kfree(vfile);
		return ret;
	}
	file->driver_priv = vfile;

	return 0;
}

static void vsvm_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct interval_tree_node *node;
	struct vsvm_mirror *mirror;

	/* Unbind everything; running jobs hold their own references. */
	for (;;) {
		mutex_lock(&vfile->vm_lock);
		node = interval_tree_iter_first(&vfile->vm, 0, ULONG_MAX);
		if (node)
			interval_tree_remove(node, &vfile->vm);
		mutex_unlock(&vfile->vm_lock);
		if (!node)
			break;
		vsvm_mapping_put(container_of(node, struct vsvm_mapping, node));
	}

	/* Jobs using SVM hold their own mirror reference. */
	mutex_lock(&vfile->vm_lock);
	mirror = vfile->svm;
	vfile->svm = NULL;
	mutex_unlock(&vfile->vm_lock);
	if (mirror)
		vsvm_mirror_put(mirror);

	/* Drops the postclose reference once the queue is gone. */
	vsvm_engine_file_close(vfile);
}

static int vsvm_gem_create_ioctl(struct drm_device *dev, void *data,
				 struct drm_file *file)
{
	struct drm_vsvm_gem_create *args = data;
	struct drm_gem_shmem_object *shmem;
	u64 size;
	int ret;

	if (args->flags || !args->size ||
	    args->size > DRM_VSVM_VA_END - DRM_VSVM_VA_START)
		return -EINVAL;
	size = PAGE_ALIGN(args->size);
	/* VM_BIND pins the whole object: never more than the machine has. */
	if (size >> PAGE_SHIFT > totalram_pages())
		return -ENOMEM;

	shmem = drm_gem_shmem_create(dev, size);
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	/*
	 * VM_BIND pins the pages. shmem charges them to the memcg of the task
	 * that allocates them, the one that binds, and drm_gem_shmem_create()
	 * set __GFP_RETRY_MAYFAIL: the allocation and the memcg charge fail
	 * with -ENOMEM instead of invoking the OOM killer.
	 */

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	drm_gem_object_put(&shmem->base);
	if (ret)
		return ret;

	args->size = size;
	return 0;
}

static int vsvm_gem_mmap_offset_ioctl(struct drm_device *dev, void *data,
				      struct drm_file *file)
{
	struct drm_vsvm_gem_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->pad)
		return -EINVAL;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	if (vsvm_gem_is_userptr(obj)) {
		ret = -EINVAL;
	} else {
		ret = drm_gem_create_mmap_offset(obj);
		if (!ret)
			args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	}

	drm_gem_object_put(obj);
	return ret;
}

static int vsvm_vm_bind_ioctl(struct drm_device *dev, void *data,
			      struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_vm_bind *args = data;
	struct drm_gem_object *obj;
	struct vsvm_mapping *map;
	u64 end;
	int ret;

	if (args->flags & ~DRM_VSVM_BIND_READ_ONLY)
		return -EINVAL;
	if (!args->range || !PAGE_ALIGNED(args->va) ||
	    !PAGE_ALIGNED(args->range) || !PAGE_ALIGNED(args->bo_offset))
		return -EINVAL;
	if (check_add_overflow(args->va, args->range, &end) ||
	    args->va < DRM_VSVM_VA_START || end > DRM_VSVM_VA_END)
		return -EINVAL;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	if (args->bo_offset > obj->size ||
	    args->range > obj->size - args->bo_offset) {
		drm_gem_object_put(obj);
		return -EINVAL;
	}

	map = kzalloc_obj(*map, VSVM_GFP);
	if (!map) {
		drm_gem_object_put(obj);
		return -ENOMEM;
	}
	map->obj = obj;
	map->bo_offset = args->bo_offset;
	map->node.start = args->va;
	map->node.last = end - 1;
	map->read_only = args->flags & DRM_VSVM_BIND_READ_ONLY;

	if (vsvm_gem_is_userptr(obj)) {
		if (to_vsvm_userptr(obj)->read_only)
			map->read_only = true;
	} else {
		/*
		 * Refuse to pin more than is available now: pinned pages
		 * cannot be reclaimed, and other processes would be OOM
		 * killed for them.
		 */
		if (obj->size >> PAGE_SHIFT > si_mem_available()) {
			drm_gem_object_put(obj);
			kfree(map);
			return -ENOMEM;
		}
		ret = drm_gem_shmem_pin(to_drm_gem_shmem_obj(obj));
		if (ret) {
			drm_gem_object_put(obj);
			kfree(map);
			return ret;
		}
	}
	kref_init(&map->ref);

	mutex_lock(&vfile->vm_lock);
	if (interval_tree_iter_first(&vfile->vm, map->node.start,
				     map->node.last)) {
		ret = -EEXIST;
	} else {
		interval_tree_insert(&map->node, &vfile->vm);
		ret = 0;
	}
	mutex_unlock(&vfile->vm_lock);

	if (ret)
		vsvm_mapping_put(map);
	return ret;
}

static int vsvm_vm_unbind_ioctl(struct drm_device *dev, void *data,
				struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_vm_unbind *args = data;
	struct interval_tree_node *node;
	int ret = 0;

	if (args->pad)
		return -EINVAL;

	mutex_lock(&vfile->vm_lock);
	node = interval_tree_iter_first(&vfile->vm, args->va, args->va);
	if (!node || node->start != args->va)
		ret = -ENOENT;
	else if (node->last - node->start + 1 != args->range)
		ret = -EINVAL;
	else
		interval_tree_remove(node, &vfile->vm);
	mutex_unlock(&vfile->vm_lock);

	if (!ret)
		vsvm_mapping_put(container_of(node, struct vsvm_mapping, node));
	return ret;
}

static int vsvm_get_stats_ioctl(struct drm_device *dev, void *data,
				struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_get_stats *args = data;
	struct vsvm_stats *stats = &vfile->stats;

	if (args->flags)
		return -EINVAL;

	args->pad = 0;
	args->faults = atomic64_read(&stats->faults);
	args->revalidations = atomic64_read(&stats->revalidations);
	args->invalidations = atomic64_read(&stats->invalidations);
	args->retries = atomic64_read(&stats->retries);
	args->jobs_submitted = atomic64_read(&stats->jobs_submitted);
	args->jobs_completed = atomic64_read(&stats->jobs_completed);
	args->jobs_failed = atomic64_read(&stats->jobs_failed);
	args->bytes_accessed = atomic64_read(&stats->bytes_accessed);
	args->svm_faults = atomic64_read(&stats->svm_faults);
	args->svm_faults_2m = 0;
	args->svm_faults_64k = 0;
	args->svm_faults_4k = 0;
	args->svm_ranges_live = 0;
	args->svm_ranges_collected = 0;
	args->svm_invalidations = atomic64_read(&stats->svm_invalidations);
	args->reserved = 0;
	args->jobs_cancelled = atomic64_read(&stats->jobs_cancelled);
	spin_lock(&vfile->error_lock);
	args->last_error = vfile->last_error;
	args->last_error_seqno = vfile->last_error_seqno;
	spin_unlock(&vfile->error_lock);
	args->pad2 = 0;
	args->svm_fault_ns = atomic64_read(&stats->svm_fault_ns);
	args->validate_ns = atomic64_read(&stats->validate_ns);

	mutex_lock(&vfile->vm_lock);
	if (vfile->svm)
		vsvm_svm_stats(vfile->svm, args);
	mutex_unlock(&vfile->vm_lock);

	/* The helper's own counters (drm_gpusvm_stats). */
	vsvm_mirrors_stats(vfile, args);

	return 0;
}

static int vsvm_ufence_check(u64 __user *ptr, u64 value)
{
	u64 cur;

	if (get_user(cur, ptr))
		return -EFAULT;
	return cur >= value ? 0 : 1;
}

/**
 * vsvm_wait_ufence_ioctl() - DRM_IOCTL_VSVM_WAIT_UFENCE
 * @dev: DRM device
 * @data: a &struct drm_vsvm_wait_ufence
 * @file: DRM file of the caller
 *
 * Reads the user fence word with the caller's permissions (it may fault),
 * so the wait uses wait_woken() rather than a wait_event() condition. Any
 * file of the device may wait for any user fence, so every user fence
 * write wakes the device's wait queue; the timeout is a deadline taken at
 * entry, or given as an absolute CLOCK_MONOTONIC time with
 * DRM_VSVM_UFENCE_WAIT_ABSTIME. A signal restarts the call: with a
 * relative timeout, for the full timeout again (the IOCTL cannot write
 * back what is left: DRM_IOW); with an absolute one, up to the same
 * deadline.
 *
 * Return: 0 or a negative errno as documented for &struct
 * drm_vsvm_wait_ufence.
 */
int vsvm_wait_ufence_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_wait_ufence *args = data;
	u64 __user *ptr = u64_to_user_ptr(args->addr);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	unsigned long deadline;
	long timeout;
	s64 left;
	int ret;

	if ((args->flags & ~DRM_VSVM_UFENCE_WAIT_ABSTIME) || args->pad ||
	    !args->addr || !IS_ALIGNED(args->addr, sizeof(u64)) ||
	    args->timeout_ns < 0)
		return -EINVAL;

	/* Spurious wake-ups do not extend the wait. */
	left = args->timeout_ns;
	if (args->flags & DRM_VSVM_UFENCE_WAIT_ABSTIME)
		left = max_t(s64, args->timeout_ns - ktime_get_ns(), 0);
	deadline = jiffies + nsecs_to_jiffies(left);
	add_wait_queue(&vfile->vdev->ufence_wq, &wait);
	for (;;) {
		ret = vsvm_ufence_check(ptr, args->value);
		if (ret <= 0)
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		timeout = time_before(jiffies, deadline) ? deadline - jiffies : 0;
		if (!timeout) {
			ret = -ETIME;
			break;
		}
		wait_woken(&wait, TASK_INTERRUPTIBLE, timeout);
	}
	remove_wait_queue(&vfile->vdev->ufence_wq, &wait);

	return ret;
}

static const struct drm_ioctl_desc vsvm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VSVM_GEM_CREATE, vsvm_gem_create_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_GEM_MMAP_OFFSET, vsvm_gem_mmap_offset_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_VM_BIND, vsvm_vm_bind_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_VM_UNBIND, vsvm_vm_unbind_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_EXEC, vsvm_exec_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_GET_STATS, vsvm_get_stats_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_SVM_ENABLE, vsvm_svm_enable_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VSVM_WAIT_UFENCE, vsvm_wait_ufence_ioctl,
			  DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_FOPS(vsvm_fops);

static const struct drm_driver vsvm_driver = {
	.driver_features	= DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ,
	.open			= vsvm_open,
	.postclose		= vsvm_postclose,
	.ioctls			= vsvm_ioctls,
	.num_ioctls		= ARRAY_SIZE(vsvm_ioctls),
	.fops			= &vsvm_fops,

	.userptr_create		= vsvm_userptr_create,
	.userptr_flags		= DRM_USERPTR_READ_ONLY |
				  DRM_USERPTR_ANON_ONLY |
				  DRM_USERPTR_VALIDATE,

	.name			= DRIVER_NAME,
	.desc			= DRIVER_DESC,
	.major			= DRIVER_MAJOR,
	.minor			= DRIVER_MINOR,
};

static void vsvm_device_fini(struct drm_device *dev, void *data)
{
	struct vsvm_device *vdev = to_vsvm_device(dev);

	/* Closed files' queues first: they wait for jobs on engine_wq. */
	destroy_workqueue(vdev->fini_wq);
	vsvm_engine_device_fini(vdev);
	destroy_workqueue(vdev->engine_wq);
}

/*
 * vsvm_device_create() - the virtual GPU on @parent, the device that DMA
 * maps for it: QEMU's "edu" PCI device when the VM has one (behind the
 * IOMMU if the VM has one: drm_gpusvm's DMA mapping then goes through
 * IOVA as on real machines), else vsvm's own platform device (dma-direct).
 */
static int vsvm_device_create(struct device *parent)
{
	struct vsvm_device *vdev;
	int ret;

	if (!devres_open_group(parent, vsvm_device_create, GFP_KERNEL))
		return -ENOMEM;

	vdev = devm_drm_dev_alloc(parent, &vsvm_driver,
				  struct vsvm_device, drm);
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		goto out_devres;
	}
	init_waitqueue_head(&vdev->ufence_wq);

	/* The files' queues run in parallel; reclaim may wait for them. */
	vdev->engine_wq = alloc_workqueue("vsvm-engine",
					  WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!vdev->engine_wq) {
		ret = -ENOMEM;
		goto out_devres;
	}
	vdev->fini_wq = alloc_workqueue("vsvm-fini", WQ_UNBOUND, 0);
	if (!vdev->fini_wq) {
		destroy_workqueue(vdev->engine_wq);
		ret = -ENOMEM;
		goto out_devres;
	}
	ret = vsvm_engine_device_init(vdev);
	if (ret) {
		destroy_workqueue(vdev->fini_wq);
		destroy_workqueue(vdev->engine_wq);
		goto out_devres;
	}
	ret = drmm_add_action_or_reset(&vdev->drm, vsvm_device_fini, NULL);
	if (ret)
		goto out_devres;

	ret = drm_dev_register(&vdev->drm, 0);
	if (ret)
		goto out_devres;

	vsvm_device = vdev;
	return 0;

out_devres:
	devres_release_group(parent, vsvm_device_create);
	return ret;
}

static void vsvm_device_destroy(void)
{
	struct device *parent = vsvm_device->drm.dev;

	drm_dev_unregister(&vsvm_device->drm);
	devres_release_group(parent, vsvm_device_create);
	vsvm_device = NULL;
}

static int vsvm_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	/* One virtual GPU: a second "edu" device is left alone. */
	if (vsvm_device)
		return -EBUSY;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	return vsvm_device_create(&pdev->dev);
}

static void vsvm_pci_remove(struct pci_dev *pdev)
{
	if (vsvm_device && vsvm_device->drm.dev == &pdev->dev)
		vsvm_device_destroy();
}

/* QEMU's "edu" educational device (hw/misc/edu.c): a bus master to hang off */
#define VSVM_PCI_VENDOR_QEMU	0x1234
#define VSVM_PCI_DEVICE_EDU	0x11e8

static const struct pci_device_id vsvm_pci_ids[] = {
	{ PCI_DEVICE(VSVM_PCI_VENDOR_QEMU, VSVM_PCI_DEVICE_EDU) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vsvm_pci_ids);

static struct pci_driver vsvm_pci_driver = {
	.name		= DRIVER_NAME,
	.id_table	= vsvm_pci_ids,
	.probe		= vsvm_pci_probe,
	.remove		= vsvm_pci_remove,
};

static int __init vsvm_init(void)
{
	struct platform_device *pdev;
	int ret;

	/* PCI probing is synchronous: the edu device, if any, is bound now. */
	ret = pci_register_driver(&vsvm_pci_driver);
	if (ret)
		return ret;
	if (vsvm_device)
		return 0;

	pdev = platform_device_register_simple(DRIVER_NAME, -1, NULL, 0);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto out_pci;
	}

	/* drm_gpusvm DMA-maps user pages for the device: dma-direct does it. */
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_unregister;

	ret = vsvm_device_create(&pdev->dev);
	if (ret)
		goto out_unregister;
	vsvm_platform = pdev;
	return 0;

out_unregister:
	platform_device_unregister(pdev);
out_pci:
	pci_unregister_driver(&vsvm_pci_driver);
	return ret;
}

static void __exit vsvm_exit(void)
{
	if (vsvm_platform) {
		vsvm_device_destroy();
		platform_device_unregister(vsvm_platform);
	}
	pci_unregister_driver(&vsvm_pci_driver);
}

module_init(vsvm_init);
module_exit(vsvm_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("Dual MIT/GPL");
