// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Copyright (c) 2026 The drm_svm project authors
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_syncobj.h>
#include <drm/gpu_scheduler.h>
#include <drm/vsvm_drm.h>

#include "vsvm_drv.h"

/**
 * DOC: vsvm engine
 *
 * The device has %VSVM_NUM_SCHEDS DRM GPU schedulers, created at probe
 * (v3d, etnaviv and panfrost do the same), whose run_job callback executes
 * a job synchronously on the device's unbound engine workqueue. Each open
 * file has one scheduler entity (&vsvm_file.entity) over all of them: jobs
 * of one file run one at a time, in submission order, like a GPU context;
 * the files' queues run in parallel and round-robin, so a file with a long
 * queue does not hold up the others. The scheduler handles in-fences
 * (dependencies) without blocking anyone. Running a whole job in run_job
 * is a shortcut of this virtual engine: a real driver starts the job on
 * the hardware and returns a fence the hardware signals.
 *
 * DRM_IOCTL_VSVM_EXEC checks the commands, resolves every GPU VA range they
 * touch to the mappings of the file's VM and takes references to them (so
 * unbinding, closing handles or closing the file while the job runs is
 * safe). Then it follows one of two models:
 *
 * - **dma-fence jobs** (SVM mode off). The job's fence (the scheduler's
 *   finished fence) may be exported and waited for by anyone, including
 *   memory reclaim through our invalidate callback, so the job must never
 *   fault, allocate or take the mmap lock once the fence exists (see
 *   "Indefinite DMA Fences" in Documentation/driver-api/dma-buf.rst).
 *   EXEC validates every userptr object first (vsvm_userptr_validate(),
 *   which may fault), locks their reservation objects and reserves a fence
 *   slot, then takes the mirror's notifier lock, checks
 *   vsvm_userptr_valid() for every one of them, writes their GPU
 *   page tables (vsvm_userptr_gpu_pages_write()), arms the job and
 *   adds its fence to their reservation objects, pushes the job and drops
 *   the lock. A collision (a range invalidated since it was validated)
 *   drops everything and validates again, at most %VSVM_EXEC_MAX_RETRIES
 *   times, then EXEC fails with -EAGAIN. From then on the invalidate
 *   callback of those ranges waits for the job's fence
 *   (vsvm_userptr_invalidate()), so the engine reads and writes the
 *   pages of those page tables without any lock. The job runs
 *   inside dma_fence_begin_signalling() / dma_fence_end_signalling(), so
 *   lockdep proves it.
 * - **long-running jobs** (SVM mode on). They take GPU page faults: SVM
 *   memory through vsvm_svm_access(), userptr objects through
 *   vsvm_userptr_access(), both under the notifier lock chunk by chunk.
 *   They have no dma-fence anyone may wait for: EXEC refuses
 *   out-syncobjs, they never enter a reservation object, and they report
 *   completion through the user fence (&drm_vsvm_exec.ufence_addr), which
 *   the engine stores into the submitter's mm with kthread_use_mm() and
 *   put_user(), then wakes &vsvm_device.ufence_wq. Their scheduler
 *   fence exists but is private.
 *   Once SVM mode is on, every later job of the file is long-running, so
 *   no dma-fence job ever queues behind a long-running one.
 *
 * Data moves through the file's bounce buffer of DRM_VSVM_CHUNK_PAGES
 * pages: a chunk is read from the source mapping into it, then written to
 * the destination mapping; the engine therefore never holds two notifier
 * locks at once. Shmem objects are pinned while bound and accessed
 * directly.
 *
 * A command that fails stops the job: the error goes to the scheduler
 * fence, &vsvm_file.last_error and the file's jobs_failed counter (all
 * before the fence signals or the user fence is written).
 *
 * At most DRM_VSVM_MAX_JOBS_IN_FLIGHT jobs per file exist (submitted and
 * not yet freed); EXEC fails with -EAGAIN beyond. Jobs and their commands
 * are allocated with %VSVM_GFP. When a file is closed by a
 * process killed with SIGKILL, its entity is finalised at once: jobs not
 * yet started are dropped (drm_sched signals them with -ESRCH). Otherwise
 * the queue drains in the background (vsvm_engine_file_close()).
 */

#define VSVM_BOUNCE_SIZE		(DRM_VSVM_CHUNK_PAGES * PAGE_SIZE)
#define VSVM_FNV_OFFSET			0xcbf29ce484222325ull
#define VSVM_FNV_PRIME			0x100000001b3ull
/* EXEC validates userptr objects at most this many times on collisions. */
#define VSVM_EXEC_MAX_RETRIES		8

/**
 * struct vsvm_job - a submitted job
 * @base: scheduler job; its finished fence is the job's fence
 * @vfile: submitting file (referenced)
 * @in_fence: fence waited for first (a scheduler dependency), or NULL
 *	      (referenced, to report its error)
 * @cmds: the commands
 * @num_cmds: number of @cmds
 * @maps: the mappings the commands touch (referenced)
 * @num_maps: number of @maps
 * @max_maps: allocated size of @maps
 * @svm: the file's SVM mirror if the commands touch SVM memory
 *	 (referenced), else NULL
 * @long_running: submitted in SVM mode: may fault, no dma-fence
 * @ran: run_job was called (a job finished without it was cancelled)
 * @seqno: the job's number on its file
 * @ufence_addr: user fence address, or 0
 * @ufence_value: user fence value
 * @ufence_mm: the submitter's mm, where the user fence is (mmgrab()ed)
 */
struct vsvm_job {
	struct drm_sched_job base;
	struct vsvm_file *vfile;
	struct dma_fence *in_fence;
	struct drm_vsvm_cmd *cmds;
	u32 num_cmds;
	struct vsvm_mapping **maps;
	unsigned int num_maps;
	unsigned int max_maps;
	struct vsvm_mirror *svm;
	bool long_running;
	bool ran;
	u64 seqno;
	u64 ufence_addr;
	u64 ufence_value;
	struct mm_struct *ufence_mm;
};

static struct vsvm_job *to_vsvm_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct vsvm_job, base);
}

/**
 * vsvm_copy_page() - the engine's "DMA": copy within one page
 * @page: the page
 * @off: byte offset in @page
 * @buf: kernel buffer
 * @n: bytes to copy, at most PAGE_SIZE - @off
 * @write: copy @buf to the page instead of the page to @buf
 *
 * The caller guarantees @page stays valid. Does not sleep.
 */
void vsvm_copy_page(struct page *page, size_t off, void *buf, size_t n,
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

/*
 * vsvm_copy_pages() - copy between a page array and a kernel buffer
 * @pages: page array of an object
 * @offset: byte offset into the object
 * @buf: kernel buffer
 * @len: bytes to copy
 * @write: copy @buf to the pages instead of the pages to @buf
 *
 * For pinned shmem pages and a userptr object's GPU page table (SVM and
 * locked userptr accesses go through vsvm_pfns_copy()). Does not sleep.
 */
static void vsvm_copy_pages(struct page **pages, u64 offset, void *buf,
			    size_t len, bool write)
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

/*
 * A dma-fence job reads or writes a userptr object that EXEC validated:
 * the invalidate callback waits for the job's fence, so the pages stay
 * valid while the job runs; no lock, no fault.
 */
static void vsvm_userptr_copy(struct vsvm_file *vfile,
			      struct vsvm_userptr *uobj, u64 offset,
			      void *buf, size_t len, bool write)
{
	atomic64_add(len, &vfile->stats.bytes_accessed);
	vsvm_copy_pages(uobj->gpu_pages, offset, buf, len, write);
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

		if (vsvm_gem_is_userptr(map->obj) && job->long_running) {
			ret = vsvm_userptr_access(job->vfile,
						  to_vsvm_userptr(map->obj),
						  offset, buf, n, write);
			if (ret)
				return ret;
		} else if (vsvm_gem_is_userptr(map->obj)) {
			vsvm_userptr_copy(job->vfile,
					  to_vsvm_userptr(map->obj), offset,
					  buf, n, write);
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
	void *bounce = job->vfile->bounce;
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

	case DRM_VSVM_OP_ATOMIC_ADD:
		/* EXEC checked that @dst is SVM memory. */
		if (WARN_ON_ONCE(!job->svm))
			return -EFAULT;
		return vsvm_svm_atomic_add(job->vfile, job->svm, cmd->dst,
					   lower_32_bits(cmd->value));
	}

	return -EINVAL;
}

static void vsvm_job_free(struct vsvm_job *job)
{
	struct vsvm_file *vfile = job->vfile;
	unsigned int i;

	for (i = 0; i < job->num_maps; i++)
		vsvm_mapping_put(job->maps[i]);
	kfree(job->maps);
	if (job->svm)
		vsvm_mirror_put(job->svm);
	kvfree(job->cmds);
	if (job->in_fence)
		dma_fence_put(job->in_fence);
	if (job->ufence_mm)
		mmdrop(job->ufence_mm);
	kfree(job);

	atomic_dec(&vfile->in_flight);
	wake_up_all(&vfile->ufence_wq);
	vsvm_file_put(vfile);
}

static void vsvm_job_set_error(struct vsvm_job *job, int error)
{
	struct vsvm_file *vfile = job->vfile;

	spin_lock(&vfile->error_lock);
	vfile->last_error = error;
	vfile->last_error_seqno = job->seqno;
	spin_unlock(&vfile->error_lock);
	atomic64_inc(&vfile->stats.jobs_failed);
}

static int vsvm_job_execute(struct vsvm_job *job)
{
	unsigned int i;
	int ret = 0;

	/* The scheduler waited for it; a failed dependency fails the job. */
	if (job->in_fence)
		ret = job->in_fence->error;

	for (i = 0; !ret && i < job->num_cmds; i++)
		ret = vsvm_run_cmd(job, &job->cmds[i]);

	return ret;
}

/*
 * Long-running jobs only: write the user fence into the submitter's mm,
 * as a CPU store of that process would (it may fault).
 */
static int vsvm_job_write_ufence(struct vsvm_job *job)
{
	u64 __user *ptr = u64_to_user_ptr(job->ufence_addr);
	int ret = 0;

	if (!mmget_not_zero(job->ufence_mm))
		return -ESRCH;
	kthread_use_mm(job->ufence_mm);
	if (put_user(job->ufence_value, ptr))
		ret = -EFAULT;
	kthread_unuse_mm(job->ufence_mm);
	mmput(job->ufence_mm);

	return ret;
}

static struct dma_fence *vsvm_job_run(struct drm_sched_job *sched_job)
{
	struct vsvm_job *job = to_vsvm_job(sched_job);
	struct vsvm_file *vfile = job->vfile;
	bool cookie;
	int ret;

	job->ran = true;
	if (job->long_running) {
		ret = vsvm_job_execute(job);
		if (ret)
			vsvm_job_set_error(job, ret);
		atomic64_inc(&vfile->stats.jobs_completed);
		if (job->ufence_addr) {
			int err = vsvm_job_write_ufence(job);

			if (err && !ret) {
				ret = err;
				vsvm_job_set_error(job, ret);
			}
			wake_up_all(&vfile->vdev->ufence_wq);
		}
		return ret ? ERR_PTR(ret) : NULL;
	}

	/* From here to the fence: no faults, no allocations, no mmap lock. */
	cookie = dma_fence_begin_signalling();
	ret = vsvm_job_execute(job);
	if (ret)
		vsvm_job_set_error(job, ret);
	atomic64_inc(&vfile->stats.jobs_completed);
	dma_fence_end_signalling(cookie);

	return ret ? ERR_PTR(ret) : NULL;
}

static void vsvm_job_sched_free(struct drm_sched_job *sched_job)
{
	struct vsvm_job *job = to_vsvm_job(sched_job);

	if (!job->ran) {
		/* Dropped by drm_sched_entity_fini(): the process was killed. */
		atomic64_inc(&job->vfile->stats.jobs_cancelled);
		vsvm_job_set_error(job, -ESRCH);
		atomic64_inc(&job->vfile->stats.jobs_completed);
	}
	drm_sched_job_cleanup(sched_job);
	vsvm_job_free(job);
}

static enum drm_gpu_sched_stat vsvm_job_timedout(struct drm_sched_job *sched_job)
{
	/* The scheduler runs without a timeout: jobs are bounded. */
	return DRM_GPU_SCHED_STAT_NO_HANG;
}

static const struct drm_sched_backend_ops vsvm_sched_ops = {
	.run_job = vsvm_job_run,
	.timedout_job = vsvm_job_timedout,
	.free_job = vsvm_job_sched_free,
};

/**
 * vsvm_engine_device_init() - create the device's schedulers
 * @vdev: the device, being probed
 *
 * %VSVM_NUM_SCHEDS schedulers on the engine workqueue, each running one
 * job at a time; the files' entities spread over them. They live as long
 * as the device, so a job's fence never outlives its scheduler because a
 * file was closed, and opening a file costs no scheduler.
 *
 * Return: 0 or a negative errno.
 */
int vsvm_engine_device_init(struct vsvm_device *vdev)
{
	const struct drm_sched_init_args args = {
		.ops = &vsvm_sched_ops,
		.submit_wq = vdev->engine_wq,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = 1,
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.name = "vsvm",
		.dev = vdev->drm.dev,
	};
	int i, ret;

	for (i = 0; i < VSVM_NUM_SCHEDS; i++) {
		ret = drm_sched_init(&vdev->scheds[i], &args);
		if (ret) {
			while (i--)
				drm_sched_fini(&vdev->scheds[i]);
			return ret;
		}
		vdev->sched_list[i] = &vdev->scheds[i];
	}
	return 0;
}

/**
 * vsvm_engine_device_fini() - tear the device's schedulers down
 * @vdev: the device, being released (no file is open any more, and the
 *	  queues of closed files are gone)
 */
void vsvm_engine_device_fini(struct vsvm_device *vdev)
{
	int i;

	for (i = 0; i < VSVM_NUM_SCHEDS; i++)
		drm_sched_fini(&vdev->scheds[i]);
}

/**
 * vsvm_engine_file_init() - set up a file's queue
 * @vfile: the new file
 *
 * One scheduler entity over the device's schedulers: the file's jobs run
 * in order, one at a time (drm_sched moves an entity to another scheduler
 * only once its last job finished), beside other files' jobs.
 *
 * Return: 0 or a negative errno.
 */
int vsvm_engine_file_init(struct vsvm_file *vfile)
{
	struct vsvm_device *vdev = vfile->vdev;
	int ret;

	vfile->bounce = kvmalloc(VSVM_BOUNCE_SIZE, VSVM_GFP);
	if (!vfile->bounce)
		return -ENOMEM;

	ret = drm_sched_entity_init(&vfile->entity, DRM_SCHED_PRIORITY_NORMAL,
				    vdev->sched_list, VSVM_NUM_SCHEDS, NULL);
	if (ret)
		kvfree(vfile->bounce);
	return ret;
}

static void vsvm_engine_file_fini_work(struct work_struct *work)
{
	struct vsvm_file *vfile = container_of(work, struct vsvm_file,
					       fini_work);

	if (!vfile->queue_killed)
		drm_sched_entity_destroy(&vfile->entity);
	/* Jobs are freed on the scheduler's workqueue: let them all go. */
	wait_event(vfile->ufence_wq, !atomic_read(&vfile->in_flight));
	kvfree(vfile->bounce);
	vsvm_file_put(vfile);
}

/**
 * vsvm_engine_file_close() - the DRM file is being closed
 * @vfile: the file (its postclose reference is dropped by this call)
 *
 * A process killed with SIGKILL (closing its files on the way out) loses
 * its queued jobs at once; otherwise they run. Either way the queue is torn
 * down in the background, so close() never waits for the GPU.
 */
void vsvm_engine_file_close(struct vsvm_file *vfile)
{
	if (fatal_signal_pending(current) ||
	    ((current->flags & PF_EXITING) &&
	     (current->exit_code & 0x7f) == SIGKILL)) {
		drm_sched_entity_fini(&vfile->entity);
		vfile->queue_killed = true;
	}

	/*
	 * Not on the engine's WQ_MEM_RECLAIM workqueue: the work waits for
	 * jobs that run there, and under memory pressure only its rescuer
	 * would be left to run them.
	 */
	INIT_WORK(&vfile->fini_work, vsvm_engine_file_fini_work);
	queue_work(vfile->vdev->fini_wq, &vfile->fini_work);
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
	case DRM_VSVM_OP_ATOMIC_ADD:
		if (cmd->src || cmd->size || !IS_ALIGNED(cmd->dst, 4))
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
				      sizeof(*maps), VSVM_GFP);
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
	if (!mirror || vsvm_mirror_mm(mirror) != current->mm)
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
		/* A userptr object serves its creator's mm only. */
		if (vsvm_gem_is_userptr(map->obj) &&
		    vsvm_mirror_mm(to_vsvm_userptr(map->obj)->mirror) !=
		    current->mm)
			return -EPERM;
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
		case DRM_VSVM_OP_ATOMIC_ADD:
			/* Atomics go through SVM only. */
			if (interval_tree_iter_first(&vfile->vm, cmd->dst,
						     cmd->dst + 3))
				ret = -EINVAL;
			else
				ret = vsvm_job_add_svm(job, vfile);
			break;
		}
	}

	return ret;
}

/*
 * dma-fence jobs: validate the job's userptr objects, then publish the job
 * and its fence under the notifier lock once they are all still valid; see
 * "vsvm engine". Called with &vsvm_file.vm_lock held; pushes the job.
 */
static int vsvm_job_publish(struct vsvm_job *job, struct drm_syncobj *out,
			    u64 *seqno)
{
	struct vsvm_file *vfile = job->vfile;
	struct drm_gem_object **objs;
	struct ww_acquire_ctx ctx;
	struct drm_gpusvm *gpusvm = NULL;
	unsigned int i, j, n = 0;
	int tries = 0;
	int ret;

	lockdep_assert_held(&vfile->vm_lock);

	objs = kmalloc_array(job->num_maps, sizeof(*objs),
			     VSVM_GFP);
	if (!objs)
		return -ENOMEM;
	for (i = 0; i < job->num_maps; i++) {
		struct drm_gem_object *obj = job->maps[i]->obj;

		if (!vsvm_gem_is_userptr(obj))
			continue;
		for (j = 0; j < n && objs[j] != obj; j++)
			;
		if (j < n)
			continue;
		objs[n++] = obj;
		/* One mm (the caller's) per file: one notifier lock. */
		gpusvm = &to_vsvm_userptr(obj)->mirror->gpusvm;
	}

retry:
	/* May fault, allocate and sleep: the fence does not exist yet. */
	for (i = 0; i < n; i++) {
		struct vsvm_userptr *uobj = to_vsvm_userptr(objs[i]);
		bool valid;

		ret = vsvm_userptr_gpu_pages_alloc(uobj);
		if (ret)
			goto out_free;
		drm_gpusvm_notifier_lock(gpusvm);
		valid = vsvm_userptr_valid(uobj);
		drm_gpusvm_notifier_unlock(gpusvm);
		if (valid)
			continue;
		ret = vsvm_userptr_validate(vfile, uobj);
		if (ret == -EAGAIN)
			goto collision;
		if (ret)
			goto out_free;
	}

	if (n) {
		ret = drm_gem_lock_reservations(objs, n, &ctx);
		if (ret)
			goto out_free;
		for (i = 0; i < n; i++) {
			ret = dma_resv_reserve_fences(objs[i]->resv, 1);
			if (ret) {
				drm_gem_unlock_reservations(objs, n, &ctx);
				goto out_free;
			}
		}

		drm_gpusvm_notifier_lock(gpusvm);
		for (i = 0; i < n; i++) {
			if (!vsvm_userptr_valid(to_vsvm_userptr(objs[i])))
				break;
		}
		if (i < n) {
			drm_gpusvm_notifier_unlock(gpusvm);
			drm_gem_unlock_reservations(objs, n, &ctx);
			goto collision;
		}
		for (i = 0; i < n; i++)
			vsvm_userptr_gpu_pages_write(to_vsvm_userptr(objs[i]));
	}

	/* Commit: the fence exists from here on, and is published at once. */
	job->seqno = ++vfile->seqno;
	*seqno = job->seqno;
	drm_sched_job_arm(&job->base);
	for (i = 0; i < n; i++)
		dma_resv_add_fence(objs[i]->resv, &job->base.s_fence->finished,
				   DMA_RESV_USAGE_BOOKKEEP);
	if (out)
		drm_syncobj_replace_fence(out, &job->base.s_fence->finished);
	atomic64_inc(&vfile->stats.jobs_submitted);
	drm_sched_entity_push_job(&job->base);
	if (n) {
		drm_gpusvm_notifier_unlock(gpusvm);
		drm_gem_unlock_reservations(objs, n, &ctx);
	}
	kfree(objs);
	return 0;

collision:
	atomic64_inc(&vfile->stats.retries);
	if (++tries <= VSVM_EXEC_MAX_RETRIES) {
		cond_resched();
		goto retry;
	}
	ret = -EAGAIN;
out_free:
	kfree(objs);
	return ret;
}

/**
 * vsvm_exec_ioctl() - DRM_IOCTL_VSVM_EXEC: submit a job to the file's queue
 * @dev: DRM device
 * @data: a &struct drm_vsvm_exec
 * @file: DRM file of the caller
 *
 * Copies and checks the commands, resolves the GPU VA ranges they touch,
 * validates the userptr objects of a dma-fence job, and queues the job;
 * see "vsvm engine".
 *
 * Return: 0 or a negative errno as documented for &struct drm_vsvm_exec.
 */
int vsvm_exec_ioctl(struct drm_device *dev, void *data,
		    struct drm_file *file)
{
	struct vsvm_file *vfile = file->driver_priv;
	struct drm_vsvm_exec *args = data;
	struct drm_syncobj *out = NULL;
	struct vsvm_job *job;
	unsigned int i;
	int ret;

	if (args->flags || !args->num_cmds ||
	    args->num_cmds > DRM_VSVM_MAX_CMDS ||
	    !IS_ALIGNED(args->ufence_addr, sizeof(u64)))
		return -EINVAL;

	if (atomic_inc_return(&vfile->in_flight) > DRM_VSVM_MAX_JOBS_IN_FLIGHT) {
		atomic_dec(&vfile->in_flight);
		return -EAGAIN;
	}

	job = kzalloc_obj(*job, VSVM_GFP);
	if (!job) {
		ret = -ENOMEM;
		goto err_in_flight;
	}
	kref_get(&vfile->ref);
	job->vfile = vfile;
	job->ufence_addr = args->ufence_addr;
	job->ufence_value = args->ufence_value;

	job->cmds = kvmalloc_array(args->num_cmds, sizeof(*job->cmds),
				   VSVM_GFP);
	if (!job->cmds) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (copy_from_user(job->cmds, u64_to_user_ptr(args->cmds),
			   array_size(args->num_cmds, sizeof(*job->cmds)))) {
		ret = -EFAULT;
		goto err_free;
	}
	job->num_cmds = args->num_cmds;

	for (i = 0; i < job->num_cmds; i++) {
		ret = vsvm_cmd_check(&job->cmds[i]);
		if (ret)
			goto err_free;
	}

	ret = drm_sched_job_init(&job->base, &vfile->entity, 1, vfile,
				 file->client_id);
	if (ret)
		goto err_free;

	if (args->in_syncobj) {
		struct drm_syncobj *in = drm_syncobj_find(file,
							  args->in_syncobj);

		if (!in) {
			ret = -ENOENT;
			goto err_cleanup;
		}
		job->in_fence = drm_syncobj_fence_get(in);
		drm_syncobj_put(in);
		if (job->in_fence) {
			ret = drm_sched_job_add_dependency(&job->base,
							   dma_fence_get(job->in_fence));
			if (ret)
				goto err_cleanup;
		}
	}

	if (args->out_syncobj) {
		out = drm_syncobj_find(file, args->out_syncobj);
		if (!out) {
			ret = -ENOENT;
			goto err_cleanup;
		}
	}

	mutex_lock(&vfile->vm_lock);
	job->long_running = vfile->svm;
	if (job->long_running && out) {
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}
	if (!job->long_running && job->ufence_addr) {
		ret = -EINVAL;
		goto err_unlock;
	}
	ret = vsvm_job_resolve(job, vfile);
	if (ret)
		goto err_unlock;
	if (job->ufence_addr) {
		if (!current->mm) {
			ret = -ESRCH;
			goto err_unlock;
		}
		mmgrab(current->mm);
		job->ufence_mm = current->mm;
	}

	/* Once pushed, the job may complete and be freed at any time. */
	if (job->long_running) {
		job->seqno = ++vfile->seqno;
		args->seqno = job->seqno;
		drm_sched_job_arm(&job->base);
		atomic64_inc(&vfile->stats.jobs_submitted);
		drm_sched_entity_push_job(&job->base);
	} else {
		ret = vsvm_job_publish(job, out, &args->seqno);
		if (ret)
			goto err_unlock;
	}
	mutex_unlock(&vfile->vm_lock);

	if (out)
		drm_syncobj_put(out);
	return 0;

err_unlock:
	mutex_unlock(&vfile->vm_lock);
err_cleanup:
	drm_sched_job_cleanup(&job->base);
err_free:
	if (out)
		drm_syncobj_put(out);
	vsvm_job_free(job);
	return ret;

err_in_flight:
	atomic_dec(&vfile->in_flight);
	return ret;
}
