// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_syncobj.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm engine
 *
 * The engine is an ordered workqueue per device: it runs one job at a time,
 * in submission order, like a single GPU ring. DRM_IOCTL_VSVM_EXEC checks the
 * commands, resolves every GPU VA range they touch to the mappings of the
 * file's VM and takes references to them (so unbinding, closing handles or
 * closing the file while the job runs is safe), creates the job's fence,
 * installs it in the out-syncobj and queues the job.
 *
 * The job first waits for its in-fence (at most
 * %VSVM_IN_FENCE_TIMEOUT_MS), then runs the commands. Data moves through a
 * bounce buffer of DRM_VSVM_CHUNK_PAGES pages: a chunk is read from the
 * source mapping into it, then written to the destination mapping. The
 * engine therefore never holds two notifier locks at once, whatever mirrors
 * the source and destination belong to. Shmem objects are pinned while
 * bound and accessed directly; userptr objects go through
 * vsvm_userptr_access(), see "vsvm userptr objects"; GPU VAs that no
 * mapping of the job covers are SVM memory, reached through
 * vsvm_svm_access(), see "vsvm SVM mode internals".
 *
 * A command that fails stops the job: the fence is signalled with the error
 * and the file's jobs_failed counter is incremented, before the fence
 * signals so that a waiter sees the counters of the job it waited for.
 */

#define VSVM_IN_FENCE_TIMEOUT_MS	10000
#define VSVM_BOUNCE_SIZE		(DRM_VSVM_CHUNK_PAGES * PAGE_SIZE)
#define VSVM_FNV_OFFSET			0xcbf29ce484222325ull
#define VSVM_FNV_PRIME			0x100000001b3ull

/**
 * struct vsvm_job - a submitted job
 * @work: engine work item
 * @vfile: submitting file (referenced)
 * @fence: completion fence (referenced)
 * @in_fence: fence to wait for first, or NULL (referenced)
 * @cmds: the commands
 * @num_cmds: number of @cmds
 * @maps: the mappings the commands touch (referenced)
 * @num_maps: number of @maps
 * @max_maps: allocated size of @maps
 * @svm: the file's SVM mirror if the commands touch SVM memory, i.e. GPU
 *	 VAs no mapping covered at submission (referenced), else NULL
 */
struct vsvm_job {
	struct work_struct work;
	struct vsvm_file *vfile;
	struct dma_fence *fence;
	struct dma_fence *in_fence;
	struct drm_vsvm_cmd *cmds;
	u32 num_cmds;
	struct vsvm_mapping **maps;
	unsigned int num_maps;
	unsigned int max_maps;
	struct vsvm_mirror *svm;
};

static const char *vsvm_fence_get_driver_name(struct dma_fence *fence)
{
	return "vsvm";
}

static const char *vsvm_fence_get_timeline_name(struct dma_fence *fence)
{
	return "engine";
}

static const struct dma_fence_ops vsvm_fence_ops = {
	.get_driver_name = vsvm_fence_get_driver_name,
	.get_timeline_name = vsvm_fence_get_timeline_name,
};

static void vsvm_copy_page(struct page *page, size_t off, void *buf, size_t n,
			   bool write)
{
	void *vaddr = kmap_local_page(page);

	if (write) {
		memcpy(vaddr + off, buf, n);
		flush_dcache_page(page);
	} else {
		memcpy(buf, vaddr + off, n);
	}
	kunmap_local(vaddr);
}

/**
 * vsvm_copy_pages() - copy between a page array and a kernel buffer
 * @pages: page array of an object
 * @offset: byte offset into the object
 * @buf: kernel buffer
 * @len: bytes to copy
 * @write: copy @buf to the pages instead of the pages to @buf
 *
 * The caller guarantees that the pages stay valid (pinned shmem pages, or
 * validated userptr pages under the notifier lock). Does not sleep.
 */
void vsvm_copy_pages(struct page **pages, u64 offset, void *buf, size_t len,
		     bool write)
{
	while (len) {
		size_t off = offset_in_page(offset);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		vsvm_copy_page(pages[offset >> PAGE_SHIFT], off, buf, n, write);
		offset += n;
		buf += n;
		len -= n;
	}
}

/**
 * vsvm_copy_range() - copy between a drm_svm range and a kernel buffer
 * @range: a range whose pages are valid, notifier lock held for read
 * @offset: byte offset into the range
 * @buf: kernel buffer
 * @len: bytes to copy
 * @write: copy @buf to the pages instead of the pages to @buf
 *
 * As vsvm_copy_pages(), with the pages drm_svm published for @range
 * (drm_svm_range_page()). Does not sleep.
 */
void vsvm_copy_range(struct drm_svm_range *range, u64 offset, void *buf,
		     size_t len, bool write)
{
	while (len) {
		size_t off = offset_in_page(offset);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		vsvm_copy_page(drm_svm_range_page(range, offset >> PAGE_SHIFT),
			       off, buf, n, write);
		offset += n;
		buf += n;
		len -= n;
	}
}

/*
 * The job's mapping that contains @va, or NULL; then *@hole_end is where
 * the next mapping starts (at most @end).
 */
static struct vsvm_mapping *vsvm_job_find_map(struct vsvm_job *job, u64 va,
					      u64 end, u64 *hole_end)
{
	unsigned int i;

	*hole_end = end;
	for (i = 0; i < job->num_maps; i++) {
		struct vsvm_mapping *map = job->maps[i];

		if (va >= map->node.start && va <= map->node.last)
			return map;
		if (map->node.start > va && map->node.start < *hole_end)
			*hole_end = map->node.start;
	}

	return NULL;
}

/*
 * Read or write [@va, @va + @len) of the job's GPU address space; with a
 * NULL @buf, prefetch its SVM parts.
 */
static int vsvm_vm_access(struct vsvm_job *job, u64 va, void *buf, size_t len,
			  bool write)
{
	while (len) {
		struct vsvm_mapping *map;
		u64 offset, hole_end;
		size_t n;
		int ret;

		map = vsvm_job_find_map(job, va, va + len, &hole_end);
		if (!map) {
			/* Only SVM holes pass submission. */
			if (WARN_ON_ONCE(!job->svm))
				return -EFAULT;
			n = hole_end - va;
			ret = vsvm_svm_access(job->vfile, job->svm, va, buf, n,
					      write);
			if (ret)
				return ret;
			goto next;
		}

		n = min_t(u64, len, map->node.last - va + 1);
		if (!buf)
			goto next;
		offset = map->bo_offset + (va - map->node.start);

		if (vsvm_gem_is_userptr(map->obj)) {
			ret = vsvm_userptr_access(job->vfile,
						  to_vsvm_userptr(map->obj),
						  offset, buf, n, write);
			if (ret)
				return ret;
		} else {
			vsvm_copy_pages(to_drm_gem_shmem_obj(map->obj)->pages,
					offset, buf, n, write);
		}

next:
		va += n;
		if (buf)
			buf += n;
		len -= n;
	}

	return 0;
}

static int vsvm_run_cmd(struct vsvm_job *job, const struct drm_vsvm_cmd *cmd)
{
	void *bounce = job->vfile->vdev->bounce;
	u64 pos, hash;
	__le64 result;
	__le32 *words = bounce;
	size_t n, i;
	int ret = 0;

	switch (cmd->op) {
	case DRM_VSVM_OP_COPY:
		for (pos = 0; !ret && pos < cmd->size; pos += n) {
			n = min_t(u64, cmd->size - pos, VSVM_BOUNCE_SIZE);
			ret = vsvm_vm_access(job, cmd->src + pos, bounce, n,
					     false);
			if (!ret)
				ret = vsvm_vm_access(job, cmd->dst + pos,
						     bounce, n, true);
			cond_resched();
		}
		return ret;

	case DRM_VSVM_OP_FILL:
		n = min_t(u64, cmd->size, VSVM_BOUNCE_SIZE);
		for (i = 0; i < n / 4; i++)
			words[i] = cpu_to_le32(lower_32_bits(cmd->value));
		for (pos = 0; !ret && pos < cmd->size; pos += n) {
			n = min_t(u64, cmd->size - pos, VSVM_BOUNCE_SIZE);
			ret = vsvm_vm_access(job, cmd->dst + pos, bounce, n,
					     true);
			cond_resched();
		}
		return ret;

	case DRM_VSVM_OP_CHECKSUM:
		hash = VSVM_FNV_OFFSET;
		for (pos = 0; !ret && pos < cmd->size; pos += n) {
			n = min_t(u64, cmd->size - pos, VSVM_BOUNCE_SIZE);
			ret = vsvm_vm_access(job, cmd->src + pos, bounce, n,
					     false);
			for (i = 0; !ret && i < n / 4; i++) {
				hash ^= le32_to_cpu(words[i]);
				hash *= VSVM_FNV_PRIME;
			}
			cond_resched();
		}
		if (ret)
			return ret;
		result = cpu_to_le64(hash);
		return vsvm_vm_access(job, cmd->dst, &result, sizeof(result),
				      true);

	case DRM_VSVM_OP_DELAY:
		fsleep(cmd->value);
		return 0;

	case DRM_VSVM_OP_PREFETCH:
		return vsvm_vm_access(job, cmd->dst, NULL, cmd->size,
				      cmd->value & DRM_VSVM_PREFETCH_WRITE);
	}

	return -EINVAL;
}

static void vsvm_job_free(struct vsvm_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_maps; i++)
		vsvm_mapping_put(job->maps[i]);
	kfree(job->maps);
	if (job->svm)
		vsvm_mirror_put(job->svm);
	kfree(job->cmds);
	if (job->in_fence)
		dma_fence_put(job->in_fence);
	if (job->fence)
		dma_fence_put(job->fence);
	if (job->vfile)
		vsvm_file_put(job->vfile);
	kfree(job);
}

static void vsvm_job_work(struct work_struct *work)
{
	struct vsvm_job *job = container_of(work, struct vsvm_job, work);
	struct vsvm_stats *stats = &job->vfile->stats;
	unsigned int i;
	long timeout;
	int ret = 0;

	if (job->in_fence) {
		timeout = dma_fence_wait_timeout(job->in_fence, false,
						 msecs_to_jiffies(VSVM_IN_FENCE_TIMEOUT_MS));
		if (timeout == 0)
			ret = -ETIMEDOUT;
		else if (timeout < 0)
			ret = timeout;
	}

	for (i = 0; !ret && i < job->num_cmds; i++)
		ret = vsvm_run_cmd(job, &job->cmds[i]);

	if (ret) {
		dma_fence_set_error(job->fence, ret);
		atomic64_inc(&stats->jobs_failed);
	}
	atomic64_inc(&stats->jobs_completed);
	dma_fence_signal(job->fence);

	vsvm_job_free(job);
}

static int vsvm_cmd_check(const struct drm_vsvm_cmd *cmd)
{
	u64 end;

	if (cmd->flags)
		return -EINVAL;

	switch (cmd->op) {
	case DRM_VSVM_OP_COPY:
		if (!cmd->size ||
		    check_add_overflow(cmd->src, cmd->size, &end) ||
		    check_add_overflow(cmd->dst, cmd->size, &end))
			return -EINVAL;
		return 0;
	case DRM_VSVM_OP_FILL:
		if (!cmd->size || !IS_ALIGNED(cmd->size, 4) ||
		    !IS_ALIGNED(cmd->dst, 4) ||
		    check_add_overflow(cmd->dst, cmd->size, &end))
			return -EINVAL;
		return 0;
	case DRM_VSVM_OP_CHECKSUM:
		if (!cmd->size || !IS_ALIGNED(cmd->size, 4) ||
		    !IS_ALIGNED(cmd->src, 4) || !IS_ALIGNED(cmd->dst, 8) ||
		    check_add_overflow(cmd->src, cmd->size, &end) ||
		    check_add_overflow(cmd->dst, 8, &end))
			return -EINVAL;
		return 0;
	case DRM_VSVM_OP_DELAY:
		if (cmd->src || cmd->dst || cmd->size ||
		    cmd->value > DRM_VSVM_MAX_DELAY_US)
			return -EINVAL;
		return 0;
	case DRM_VSVM_OP_PREFETCH:
		if (!cmd->size || cmd->src ||
		    (cmd->value & ~(u64)DRM_VSVM_PREFETCH_WRITE) ||
		    check_add_overflow(cmd->dst, cmd->size, &end))
			return -EINVAL;
		return 0;
	}

	return -EINVAL;
}

static int vsvm_job_add_map(struct vsvm_job *job, struct vsvm_mapping *map)
{
	struct vsvm_mapping **maps;
	unsigned int i;

	for (i = 0; i < job->num_maps; i++)
		if (job->maps[i] == map)
			return 0;

	if (job->num_maps == job->max_maps) {
		maps = krealloc_array(job->maps, job->max_maps + 8,
				      sizeof(*maps), GFP_KERNEL);
		if (!maps)
			return -ENOMEM;
		job->maps = maps;
		job->max_maps += 8;
	}

	kref_get(&map->ref);
	job->maps[job->num_maps++] = map;
	return 0;
}

/*
 * A part of a command's range that no mapping covers is SVM memory if SVM
 * is enabled on the file for the caller's mm; reference the mirror.
 */
static int vsvm_job_add_svm(struct vsvm_job *job, struct vsvm_file *vfile)
{
	struct vsvm_mirror *mirror = vfile->svm;

	lockdep_assert_held(&vfile->vm_lock);

	if (job->svm)
		return 0;
	if (!mirror || mirror->svm.mm != current->mm)
		return -EFAULT;

	kref_get(&mirror->ref);
	job->svm = mirror;
	return 0;
}

/*
 * Check that [@va, @va + @size) is covered by mappings or SVM memory and
 * reference them.
 */
static int vsvm_job_add_range(struct vsvm_job *job, struct vsvm_file *vfile,
			      u64 va, u64 size, bool write)
{
	struct interval_tree_node *node;
	u64 last = va + size - 1;
	u64 next = va;
	int ret;

	lockdep_assert_held(&vfile->vm_lock);

	for (node = interval_tree_iter_first(&vfile->vm, va, last); node;
	     node = interval_tree_iter_next(node, va, last)) {
		struct vsvm_mapping *map =
			container_of(node, struct vsvm_mapping, node);

		if (node->start > next) {
			ret = vsvm_job_add_svm(job, vfile);
			if (ret)
				return ret;
		}
		if (write && map->read_only)
			return -EACCES;
		ret = vsvm_job_add_map(job, map);
		if (ret)
			return ret;
		if (node->last >= last)
			return 0;
		next = node->last + 1;
	}

	return vsvm_job_add_svm(job, vfile);
}

static int vsvm_job_resolve(struct vsvm_job *job, struct vsvm_file *vfile)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < job->num_cmds; i++) {
		const struct drm_vsvm_cmd *cmd = &job->cmds[i];

		switch (cmd->op) {
		case DRM_VSVM_OP_COPY:
			ret = vsvm_job_add_range(job, vfile, cmd->src,
						 cmd->size, false);
			if (!ret)
				ret = vsvm_job_add_range(job, vfile, cmd->dst,
							 cmd->size, true);
			break;
		case DRM_VSVM_OP_FILL:
			ret = vsvm_job_add_range(job, vfile, cmd->dst,
						 cmd->size, true);
			break;
		case DRM_VSVM_OP_CHECKSUM:
			ret = vsvm_job_add_range(job, vfile, cmd->src,
						 cmd->size, false);
			if (!ret)
				ret = vsvm_job_add_range(job, vfile, cmd->dst,
							 8, true);
			break;
		case DRM_VSVM_OP_PREFETCH:
			ret = vsvm_job_add_range(job, vfile, cmd->dst,
						 cmd->size, cmd->value &
						 DRM_VSVM_PREFETCH_WRITE);
			break;
		}
	}

	return ret;
}

/**
 * vsvm_exec_ioctl() - DRM_IOCTL_VSVM_EXEC: submit a job to the engine
 * @dev: DRM device
 * @data: a &struct drm_vsvm_exec
 * @file: DRM file of the caller
 *
 * Copies and checks the commands, resolves the GPU VA ranges they touch,
 * and queues the job on the engine; see "vsvm engine".
 *
 * Return: 0 or a negative errno as documented for &struct drm_vsvm_exec.
 */
int vsvm_exec_ioctl(struct drm_device *dev, void *data,
		    struct drm_file *file)
{
	struct vsvm_device *vdev = to_vsvm_device(dev);
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_exec *args = data;
	struct drm_syncobj *out = NULL;
	struct vsvm_job *job;
	unsigned int i;
	u64 seqno;
	int ret;

	if (args->flags || !args->num_cmds ||
	    args->num_cmds > DRM_VSVM_MAX_CMDS)
		return -EINVAL;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	INIT_WORK(&job->work, vsvm_job_work);

	job->cmds = memdup_array_user(u64_to_user_ptr(args->cmds),
				      args->num_cmds, sizeof(*job->cmds));
	if (IS_ERR(job->cmds)) {
		ret = PTR_ERR(job->cmds);
		job->cmds = NULL;
		goto err_free;
	}
	job->num_cmds = args->num_cmds;

	for (i = 0; i < job->num_cmds; i++) {
		ret = vsvm_cmd_check(&job->cmds[i]);
		if (ret)
			goto err_free;
	}

	if (args->in_syncobj) {
		struct drm_syncobj *in = drm_syncobj_find(file,
							  args->in_syncobj);

		if (!in) {
			ret = -ENOENT;
			goto err_free;
		}
		job->in_fence = drm_syncobj_fence_get(in);
		drm_syncobj_put(in);
	}

	if (args->out_syncobj) {
		out = drm_syncobj_find(file, args->out_syncobj);
		if (!out) {
			ret = -ENOENT;
			goto err_free;
		}
	}

	job->fence = kzalloc(sizeof(*job->fence), GFP_KERNEL);
	if (!job->fence) {
		ret = -ENOMEM;
		goto err_free;
	}

	mutex_lock(&vfile->vm_lock);
	ret = vsvm_job_resolve(job, vfile);
	if (ret) {
		mutex_unlock(&vfile->vm_lock);
		kfree(job->fence);
		job->fence = NULL;
		goto err_free;
	}

	/* Under vm_lock: fences of one context are queued in seqno order. */
	seqno = atomic64_inc_return(&vfile->seqno);
	dma_fence_init(job->fence, &vsvm_fence_ops, &vdev->fence_lock,
		       vfile->fence_context, seqno);
	kref_get(&vfile->ref);
	job->vfile = vfile;
	if (out)
		drm_syncobj_replace_fence(out, job->fence);
	atomic64_inc(&vfile->stats.jobs_submitted);
	queue_work(vdev->engine_wq, &job->work);
	mutex_unlock(&vfile->vm_lock);

	if (out)
		drm_syncobj_put(out);
	args->seqno = seqno;
	return 0;

err_free:
	if (out)
		drm_syncobj_put(out);
	vsvm_job_free(job);
	return ret;
}
