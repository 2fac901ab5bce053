// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests for the DRM GPU SVM helper (drm_gpusvm).
 *
 * The tests mirror real user memory: kunit_vm_mmap() attaches an mm to the
 * test thread, and the tests change that mm through the in-kernel paths
 * behind munmap, mprotect and madvise, as the process would. The "device"
 * is a KUnit device with a 64-bit DMA mask and no IOMMU, so its DMA
 * addresses are the physical addresses of the pages (dma-direct): a device
 * access is a kmap of the page behind a DMA address, made under the
 * notifier lock after drm_gpusvm_pages_valid(), as a driver commits.
 */

#include <kunit/device.h>
#include <kunit/test.h>

#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swap.h>
#include <linux/uaccess.h>

#include <asm/tlb.h>

#include <drm/drm_device.h>
#include <drm/drm_gpusvm.h>
#include <drm/drm_pagemap.h>

/* Small notifier windows, so that tests can cross them cheaply. */
#define GT_NOTIFIER_SIZE	SZ_2M

static const unsigned long gt_chunks[] = { SZ_2M, SZ_64K, SZ_4K };

struct gt_range {
	struct drm_gpusvm_range base;
	struct drm_gpusvm_pages pages;
	/* On struct gt.gc after an UNMAP event, under gc_lock. */
	struct list_head gc_link;
};

struct gt {
	struct kunit *test;
	struct device *dev;
	struct drm_device *drm;
	struct drm_gpusvm svm;
	bool svm_live;
	/* The driver's SVM lock: range insertion and removal. */
	struct mutex lock;
	/* Protects @gc, filled by the notifier callback. */
	spinlock_t gc_lock;
	struct list_head gc;

	/* What the invalidate callback saw. */
	atomic_t inval_calls;
	enum mmu_notifier_event last_event;
	unsigned long last_start, last_end;
	bool inval_locked_write;

	atomic_t range_allocs;
	atomic_t range_frees;
};

static struct gt_range *to_gt_range(struct drm_gpusvm_range *range)
{
	return container_of(range, struct gt_range, base);
}

static struct gt *to_gt(struct drm_gpusvm *svm)
{
	return container_of(svm, struct gt, svm);
}

static unsigned long gt_npages(struct drm_gpusvm_range *range)
{
	return drm_gpusvm_range_size(range) >> PAGE_SHIFT;
}

static struct drm_gpusvm_range *gt_range_alloc(struct drm_gpusvm *svm)
{
	struct gt *t = to_gt(svm);
	struct gt_range *r;

	r = kzalloc_obj(*r);
	if (!r)
		return NULL;
	drm_gpusvm_init_pages(&r->pages, t->drm);
	INIT_LIST_HEAD(&r->gc_link);
	atomic_inc(&t->range_allocs);
	return &r->base;
}

static void gt_range_free(struct drm_gpusvm_range *range)
{
	struct gt_range *r = to_gt_range(range);
	struct gt *t = to_gt(range->gpusvm);

	drm_gpusvm_free_pages(range->gpusvm, &r->pages, gt_npages(range));
	spin_lock(&t->gc_lock);
	list_del_init(&r->gc_link);
	spin_unlock(&t->gc_lock);
	atomic_inc(&t->range_frees);
	kfree(r);
}

/* The driver's notifier callback, as in the drm_gpusvm DOC example. */
static void gt_invalidate(struct drm_gpusvm *svm,
			  struct drm_gpusvm_notifier *notifier,
			  const struct mmu_notifier_range *mmu_range)
{
	struct drm_gpusvm_ctx ctx = { .in_notifier = true, };
	struct drm_gpusvm_range *range = NULL;
	struct gt *t = to_gt(svm);

	/* Held for write: not even a reader gets in. */
	t->inval_locked_write = !down_read_trylock(&svm->notifier_lock);
	if (!t->inval_locked_write)
		up_read(&svm->notifier_lock);
	t->last_event = mmu_range->event;
	t->last_start = mmu_range->start;
	t->last_end = mmu_range->end;
	atomic_inc(&t->inval_calls);

	drm_gpusvm_for_each_range(range, notifier, mmu_range->start,
				  mmu_range->end) {
		struct gt_range *r = to_gt_range(range);

		drm_gpusvm_unmap_pages(svm, &r->pages, gt_npages(range), &ctx);
		if (mmu_range->event != MMU_NOTIFY_UNMAP)
			continue;
		drm_gpusvm_range_set_unmapped(range, &r->pages, 1, mmu_range);
		spin_lock(&t->gc_lock);
		if (list_empty(&r->gc_link))
			list_add_tail(&r->gc_link, &t->gc);
		spin_unlock(&t->gc_lock);
	}
}

static const struct drm_gpusvm_ops gt_ops = {
	.range_alloc = gt_range_alloc,
	.range_free = gt_range_free,
	.invalidate = gt_invalidate,
};

static int gt_init(struct kunit *test)
{
	unsigned long addr;
	struct gt *t;
	int ret;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->test = test;
	test->priv = t;
	mutex_init(&t->lock);
	spin_lock_init(&t->gc_lock);
	INIT_LIST_HEAD(&t->gc);

	/* The first mapping attaches an mm to the test thread. */
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "no user mm for the test");
	KUNIT_ASSERT_NOT_NULL(test, current->mm);

	t->dev = kunit_device_register(test, "drm_gpusvm_test");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->dev);
	ret = dma_coerce_mask_and_coherent(t->dev, DMA_BIT_MASK(64));
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* drm_gpusvm only uses the drm_device for its struct device. */
	t->drm = kunit_kzalloc(test, sizeof(*t->drm), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->drm);
	t->drm->dev = t->dev;

	ret = drm_gpusvm_init(&t->svm, "drm_gpusvm_test", current->mm, 0,
			      current->mm->task_size, GT_NOTIFIER_SIZE, &gt_ops,
			      gt_chunks, ARRAY_SIZE(gt_chunks));
	KUNIT_ASSERT_EQ(test, ret, 0);
	drm_gpusvm_driver_set_lock(&t->svm, &t->lock);
	t->svm_live = true;
	return 0;
}

/* Runs in the cleanup thread, after the test thread's mm has exited. */
static void gt_exit(struct kunit *test)
{
	struct gt *t = test->priv;

	if (!t)
		return;
	if (t->svm_live) {
		mutex_lock(&t->lock);
		drm_gpusvm_fini(&t->svm);
		mutex_unlock(&t->lock);
	}
	mutex_destroy(&t->lock);
}

static unsigned long gt_mmap(struct kunit *test, unsigned long len,
			     unsigned long prot)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, len, prot,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return addr;
}

/* A VMA of exactly @len bytes starting at an @align aligned address. */
static unsigned long gt_mmap_aligned(struct kunit *test, unsigned long len,
				     unsigned long align, unsigned long prot)
{
	unsigned long raw, addr;

	raw = gt_mmap(test, len + align, prot);
	addr = ALIGN(raw, align);
	if (addr > raw)
		KUNIT_ASSERT_EQ(test, vm_munmap(raw, addr - raw), 0);
	if (raw + len + align > addr + len)
		KUNIT_ASSERT_EQ(test, vm_munmap(addr + len,
						raw + align - addr), 0);
	return addr;
}

/* Write a per-page pattern through the CPU page tables. */
static void gt_fill(struct kunit *test, unsigned long addr,
		    unsigned long npages, u32 seed)
{
	unsigned long i;
	u32 v;

	for (i = 0; i < npages; i++) {
		v = seed + i;
		KUNIT_ASSERT_EQ(test,
				copy_to_user((void __user *)(addr + i * PAGE_SIZE),
					     &v, sizeof(v)), 0);
	}
}

static u32 gt_cpu_word(struct kunit *test, unsigned long addr)
{
	u32 v = 0;

	KUNIT_EXPECT_EQ(test, copy_from_user(&v, (void __user *)addr,
					     sizeof(v)), 0);
	return v;
}

static struct drm_gpusvm_range *
gt_insert(struct gt *t, unsigned long fault, unsigned long start,
	  unsigned long end, const struct drm_gpusvm_ctx *ctx)
{
	struct drm_gpusvm_range *range;

	mutex_lock(&t->lock);
	range = drm_gpusvm_range_find_or_insert(&t->svm, fault, start, end,
						ctx);
	mutex_unlock(&t->lock);
	return range;
}

/* A range around @fault, any chunk size the helper picks. */
static struct drm_gpusvm_range *gt_range(struct kunit *test, unsigned long fault)
{
	struct drm_gpusvm_ctx ctx = {};
	struct drm_gpusvm_range *range;

	range = gt_insert(test->priv, fault, 0, ULONG_MAX, &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	return range;
}

static void gt_remove(struct gt *t, struct drm_gpusvm_range *range)
{
	struct drm_gpusvm_ctx ctx = {};

	mutex_lock(&t->lock);
	drm_gpusvm_unmap_pages(&t->svm, &to_gt_range(range)->pages,
			       gt_npages(range), &ctx);
	drm_gpusvm_range_remove(&t->svm, range);
	mutex_unlock(&t->lock);
}

/* The driver's garbage collector: drop the ranges an UNMAP marked. */
static int gt_gc(struct gt *t)
{
	struct gt_range *r;
	int n = 0;

	mutex_lock(&t->lock);
	for (;;) {
		spin_lock(&t->gc_lock);
		r = list_first_entry_or_null(&t->gc, struct gt_range, gc_link);
		if (r)
			list_del_init(&r->gc_link);
		spin_unlock(&t->gc_lock);
		if (!r)
			break;
		drm_gpusvm_unmap_pages(&t->svm, &r->pages, gt_npages(&r->base),
				       &(struct drm_gpusvm_ctx){});
		drm_gpusvm_range_remove(&t->svm, &r->base);
		n++;
	}
	mutex_unlock(&t->lock);
	return n;
}

static int gt_get_pages(struct gt *t, struct drm_gpusvm_range *range,
			const struct drm_gpusvm_ctx *ctx)
{
	return drm_gpusvm_get_pages(&t->svm, &to_gt_range(range)->pages,
				    t->svm.mm, &range->notifier->notifier,
				    drm_gpusvm_range_start(range),
				    drm_gpusvm_range_end(range), ctx);
}

static bool gt_valid(struct gt *t, struct drm_gpusvm_pages *pages)
{
	bool valid;

	drm_gpusvm_notifier_lock(&t->svm);
	valid = drm_gpusvm_pages_valid(&t->svm, pages);
	drm_gpusvm_notifier_unlock(&t->svm);
	return valid;
}

/* The page behind a DMA address of the test device (dma-direct). */
static struct page *gt_dma_page(struct gt *t, struct drm_pagemap_addr *a)
{
	return phys_to_page(dma_to_phys(t->dev, a->addr));
}

/*
 * The DMA address entry that maps page @i of @pages, and @i's index within
 * it: an entry maps PAGE_SIZE << order bytes (a THP, or a run of
 * physically contiguous pages, drm-svm/patches/0009).
 */
static struct drm_pagemap_addr *gt_entry(struct drm_gpusvm_pages *pages,
					 unsigned long i, unsigned long *k)
{
	struct drm_pagemap_addr *a = pages->dma_addr;
	unsigned long first = 0;

	while (first + (1UL << a->order) <= i)
		first += 1UL << a++->order;
	*k = i - first;
	return a;
}

/* The page behind page @i of @pages' DMA mapping (no IOMMU). */
static struct page *gt_page_of(struct gt *t, struct drm_gpusvm_pages *pages,
			       unsigned long i)
{
	unsigned long k;
	struct drm_pagemap_addr *a = gt_entry(pages, i, &k);

	return phys_to_page(dma_to_phys(t->dev, a->addr) + k * PAGE_SIZE);
}

/* The number of DMA address entries that map @npages pages. */
static unsigned long gt_entries(struct drm_gpusvm_pages *pages,
				unsigned long npages)
{
	unsigned long k;

	return gt_entry(pages, npages - 1, &k) - pages->dma_addr + 1;
}

/* The page the CPU page tables map at @addr (no reference kept). */
static struct page *gt_cpu_page(struct kunit *test, unsigned long addr)
{
	struct page *page;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, 1, 0, &page), 1);
	put_page(page);
	return page;
}

/* A "device" write of @v into the first word of page @i, if still valid. */
static bool gt_device_write(struct gt *t, struct drm_gpusvm_pages *pages,
			    unsigned long i, u32 v)
{
	bool valid;
	u32 *p;

	drm_gpusvm_notifier_lock(&t->svm);
	valid = drm_gpusvm_pages_valid(&t->svm, pages);
	if (valid) {
		p = kmap_local_page(gt_page_of(t, pages, i));
		WRITE_ONCE(*p, v);
		kunmap_local(p);
	}
	drm_gpusvm_notifier_unlock(&t->svm);
	return valid;
}

/* mprotect() without the syscall wrapper: the same mprotect_fixup() path. */
static int gt_mprotect_ro(struct mm_struct *mm, unsigned long start,
			  unsigned long end)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;
	int ret = 0;

	mmap_write_lock(mm);
	vma = vma_find(&vmi, end);
	if (!vma || vma->vm_start > start) {
		ret = -ENOMEM;
		goto out;
	}
	prev = vma_prev(&vmi);
	if (start > vma->vm_start)
		prev = vma;

	tlb_gather_mmu(&tlb, mm);
	for_each_vma_range(vmi, vma, end) {
		unsigned long s = max(start, vma->vm_start);
		unsigned long e = min(end, vma->vm_end);

		ret = mprotect_fixup(&vmi, &tlb, vma, &prev, s, e,
				     vma->vm_flags & ~VM_WRITE);
		if (ret)
			break;
		if (e >= end)
			break;
	}
	tlb_finish_mmu(&tlb);
out:
	mmap_write_unlock(mm);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* drm_gpusvm_init() / drm_gpusvm_fini() */

static void drm_gpusvm_test_init_rejects_missing_invalidate_or_chunks(struct kunit *test)
{
	static const struct drm_gpusvm_ops no_invalidate = {};
	struct mm_struct *mm = current->mm;
	struct drm_gpusvm svm;
	int count = atomic_read(&mm->mm_count);

	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", mm, 0, SZ_1G, SZ_2M,
					      &no_invalidate, gt_chunks,
					      ARRAY_SIZE(gt_chunks)), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", mm, 0, SZ_1G, SZ_2M,
					      &gt_ops, gt_chunks, 0), -EINVAL);
	/* A failed init holds no mm reference. */
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count);
}

static void drm_gpusvm_test_init_pages_only_rejects_svm_arguments(struct kunit *test)
{
	struct drm_gpusvm svm;

	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", NULL, 0, 0, 0,
					      &gt_ops, NULL, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", NULL, 0, 0, 0, NULL,
					      gt_chunks, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", NULL, 0, SZ_1G, 0,
					      NULL, NULL, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_init(&svm, "t", NULL, 0, 0, SZ_2M,
					      NULL, NULL, 0), -EINVAL);
	/* Only the pages API: name only. */
	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&svm, "t", NULL, 0, 0, 0, NULL,
					      NULL, 0), 0);
	KUNIT_EXPECT_NULL(test, svm.mm);
	drm_gpusvm_fini(&svm);
}

static void drm_gpusvm_test_init_grabs_mm_and_fini_drops_it(struct kunit *test)
{
	struct mm_struct *mm = current->mm;
	int count = atomic_read(&mm->mm_count);
	struct drm_gpusvm svm;

	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&svm, "t", mm, 0, SZ_1G, SZ_2M,
					      &gt_ops, gt_chunks,
					      ARRAY_SIZE(gt_chunks)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);
	KUNIT_EXPECT_PTR_EQ(test, svm.mm, mm);
	drm_gpusvm_fini(&svm);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count);
}

static void drm_gpusvm_test_fini_frees_every_range_and_notifier(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long addr, i, calls;

	addr = gt_mmap_aligned(test, 3 * SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	for (i = 0; i < 3; i++) {
		struct drm_gpusvm_range *range = gt_range(test, addr + i * SZ_2M);

		KUNIT_ASSERT_EQ(test, gt_get_pages(t, range,
						   &(struct drm_gpusvm_ctx){}),
				0);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_allocs), 3);

	mutex_lock(&t->lock);
	drm_gpusvm_fini(&t->svm);
	mutex_unlock(&t->lock);
	t->svm_live = false;

	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_frees), 3);
	KUNIT_EXPECT_TRUE(test, RB_EMPTY_ROOT(&t->svm.root.rb_root));
	/* No notifier is left behind to call back. */
	calls = atomic_read(&t->inval_calls);
	KUNIT_EXPECT_EQ(test, vm_munmap(addr, 3 * SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, (unsigned long)atomic_read(&t->inval_calls),
			calls);
}

/* ---------------------------------------------------------------------- */
/* drm_gpusvm_range_find_or_insert(): arguments and VMAs */

static void drm_gpusvm_test_insert_rejects_address_outside_svm(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct drm_gpusvm_range *range;
	struct drm_gpusvm svm;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 3 * SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&svm, "t", current->mm,
					      addr + SZ_2M, SZ_2M, SZ_2M,
					      &gt_ops, gt_chunks,
					      ARRAY_SIZE(gt_chunks)), 0);

	range = drm_gpusvm_range_find_or_insert(&svm, addr, 0, ULONG_MAX, &ctx);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(range), -EINVAL);
	range = drm_gpusvm_range_find_or_insert(&svm, addr + 2 * SZ_2M +
						PAGE_SIZE, 0, ULONG_MAX, &ctx);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(range), -EINVAL);
	KUNIT_EXPECT_TRUE(test, RB_EMPTY_ROOT(&svm.root.rb_root));
	drm_gpusvm_fini(&svm);
}

static void drm_gpusvm_test_insert_without_vma_is_enoent_and_leaves_no_notifier(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 4 * PAGE_SIZE), 0);

	range = gt_insert(t, addr, 0, ULONG_MAX, &(struct drm_gpusvm_ctx){});
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(range), -ENOENT);
	KUNIT_EXPECT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							 addr + 1));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_allocs), 0);
}

static void drm_gpusvm_test_insert_read_only_vma_needs_read_only_ctx(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap(test, 4 * PAGE_SIZE, PROT_READ);
	range = gt_insert(t, addr, 0, ULONG_MAX, &(struct drm_gpusvm_ctx){});
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(range), -EPERM);
	KUNIT_EXPECT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							 addr + 1));

	range = gt_insert(t, addr, 0, ULONG_MAX, &ro);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	KUNIT_EXPECT_LE(test, drm_gpusvm_range_start(range), addr);
	KUNIT_EXPECT_GT(test, drm_gpusvm_range_end(range), addr);
}

static void drm_gpusvm_test_chunk_is_2m_in_aligned_large_vma(struct kunit *test)
{
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 2 * SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr + SZ_2M + 123 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(range), addr + SZ_2M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range), (unsigned long)SZ_2M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_notifier_start(range->notifier),
			addr + SZ_2M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_notifier_size(range->notifier),
			(unsigned long)GT_NOTIFIER_SIZE);
}

static void drm_gpusvm_test_chunk_is_64k_when_2m_crosses_vma(struct kunit *test)
{
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 4 * SZ_64K, SZ_2M, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr + SZ_64K + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(range), addr + SZ_64K);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)SZ_64K);
}

static void drm_gpusvm_test_chunk_is_4k_in_small_vma(struct kunit *test)
{
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 3 * PAGE_SIZE, SZ_64K,
			       PROT_READ | PROT_WRITE);
	range = gt_range(test, addr + PAGE_SIZE + 17);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(range), addr + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)PAGE_SIZE);
}

static void drm_gpusvm_test_chunk_stays_inside_gpuva_bounds(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	range = gt_insert(t, addr + SZ_1M, addr + SZ_1M, addr + SZ_1M + SZ_128K,
			  &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(range), addr + SZ_1M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)SZ_64K);

	range = gt_insert(t, addr + 8 * PAGE_SIZE, addr + 8 * PAGE_SIZE,
			  addr + 9 * PAGE_SIZE, &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)PAGE_SIZE);
}

/* A new range never overlaps an existing one: the chunk shrinks. */
static void drm_gpusvm_test_chunk_shrinks_to_avoid_existing_range(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *small, *mid, *tiny;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	small = gt_insert(t, addr + 2 * PAGE_SIZE, addr + 2 * PAGE_SIZE,
			  addr + 3 * PAGE_SIZE, &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, small);

	/* 2M would cover @small: 64K. */
	mid = gt_range(test, addr + SZ_1M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(mid), addr + SZ_1M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(mid), (unsigned long)SZ_64K);

	/* The 64K block around @small is taken too: 4K. */
	tiny = gt_range(test, addr + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(tiny),
			addr + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(tiny),
			(unsigned long)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_allocs), 3);
}

static void drm_gpusvm_test_insert_returns_existing_range(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	a = gt_range(test, addr);
	b = gt_range(test, addr + SZ_2M - PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, a, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_allocs), 1);
	KUNIT_EXPECT_PTR_EQ(test, drm_gpusvm_range_find(a->notifier, addr,
							addr + 1), a);
}

static void drm_gpusvm_test_notifier_shared_within_window_only(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b, *c;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 2 * SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	a = gt_insert(t, addr, addr, addr + SZ_64K, &ctx);
	b = gt_insert(t, addr + SZ_1M, addr + SZ_1M, addr + SZ_1M + SZ_64K,
		      &ctx);
	c = gt_insert(t, addr + SZ_2M, addr + SZ_2M, addr + SZ_2M + SZ_64K,
		      &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);

	KUNIT_EXPECT_PTR_EQ(test, a->notifier, b->notifier);
	KUNIT_EXPECT_PTR_NE(test, a->notifier, c->notifier);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_notifier_start(a->notifier), addr);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_notifier_end(a->notifier),
			addr + SZ_2M);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_notifier_start(c->notifier),
			addr + SZ_2M);
	KUNIT_EXPECT_PTR_EQ(test, drm_gpusvm_notifier_find(&t->svm, addr,
							   addr + 1),
			    a->notifier);
}

static void drm_gpusvm_test_last_range_removal_drops_notifier(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b;
	unsigned long addr;
	int calls;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	a = gt_insert(t, addr, addr, addr + SZ_64K, &ctx);
	b = gt_insert(t, addr + SZ_1M, addr + SZ_1M, addr + SZ_1M + SZ_64K,
		      &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);

	gt_remove(t, a);
	KUNIT_EXPECT_NOT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							     addr + 1));
	gt_remove(t, b);
	KUNIT_EXPECT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							 addr + 1));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_frees), 2);

	/* Nothing is registered on the mm any more. */
	calls = atomic_read(&t->inval_calls);
	KUNIT_EXPECT_EQ(test, vm_munmap(addr, SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls);
}

static void drm_gpusvm_test_migrate_devmem_set_only_if_devmem_possible(struct kunit *test)
{
	struct drm_gpusvm_ctx devmem = { .devmem_possible = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	a = gt_insert(t, addr, addr, addr + SZ_64K, &devmem);
	b = gt_insert(t, addr + SZ_1M, addr + SZ_1M, addr + SZ_1M + SZ_64K,
		      &(struct drm_gpusvm_ctx){});
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_TRUE(test, a->flags.migrate_devmem);
	KUNIT_EXPECT_FALSE(test, b->flags.migrate_devmem);
}

static void drm_gpusvm_test_has_mapping_covers_tracked_ranges_only(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 4 * SZ_64K, SZ_2M, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_end(range), addr + SZ_64K);

	KUNIT_EXPECT_TRUE(test, drm_gpusvm_has_mapping(&t->svm, addr,
						       addr + PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_has_mapping(&t->svm, addr - PAGE_SIZE,
						       addr + 2 * SZ_64K));
	KUNIT_EXPECT_FALSE(test, drm_gpusvm_has_mapping(&t->svm, addr + SZ_64K,
							addr + 2 * SZ_64K));
	gt_remove(t, range);
	KUNIT_EXPECT_FALSE(test, drm_gpusvm_has_mapping(&t->svm, addr,
							addr + SZ_64K));
}

/* check_pages_threshold: no chunk larger than what the CPU faulted in. */
static void drm_gpusvm_test_check_pages_threshold_shrinks_unpopulated_chunk(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = { .check_pages_threshold = SZ_64K, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 2 * SZ_64K, SZ_2M, PROT_READ | PROT_WRITE);
	range = gt_insert(t, addr, 0, ULONG_MAX, &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)PAGE_SIZE);

	/* Populated by the CPU: the 64K chunk is allowed. */
	gt_fill(test, addr + SZ_64K, SZ_64K >> PAGE_SHIFT, 1);
	range = gt_insert(t, addr + SZ_64K, 0, ULONG_MAX, &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_start(range), addr + SZ_64K);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)SZ_64K);
}

static void drm_gpusvm_test_find_vma_start_returns_first_vma_or_ulong_max(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 4 * PAGE_SIZE, SZ_64K,
			       PROT_READ | PROT_WRITE);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_find_vma_start(&t->svm, addr,
							addr + 4 * PAGE_SIZE),
			addr);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_find_vma_start(&t->svm, addr,
							addr + 4 * PAGE_SIZE),
			addr + PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_find_vma_start(&t->svm, addr,
							addr + 4 * PAGE_SIZE),
			ULONG_MAX);
}

/* ---------------------------------------------------------------------- */
/* drm_gpusvm_get_pages() */

static void drm_gpusvm_test_get_pages_maps_the_cpu_pages(struct kunit *test)
{
	struct gt *t = test->priv;
	struct page *cpu[16];
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0x1000);
	range = gt_range(test, addr);
	KUNIT_ASSERT_EQ(test, gt_npages(range), 16UL);
	pages = &to_gt_range(range)->pages;

	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_NE(test, pages->notifier_seq, (unsigned long)LONG_MAX);
	for (i = 0; i < 16; i++)
		cpu[i] = gt_cpu_page(test, addr + i * PAGE_SIZE);

	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&t->svm, pages));
	KUNIT_EXPECT_TRUE(test, pages->flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, pages->flags.has_devmem_pages);
	for (i = 0; i < 16; i++) {
		unsigned long k;
		struct drm_pagemap_addr *a = gt_entry(pages, i, &k);
		struct page *page = gt_page_of(t, pages, i);
		u32 *p;

		KUNIT_EXPECT_EQ(test, (int)a->proto, DRM_INTERCONNECT_SYSTEM);
		KUNIT_EXPECT_EQ(test, (int)a->dir, DMA_BIDIRECTIONAL);
		KUNIT_EXPECT_PTR_EQ(test, page, cpu[i]);
		p = kmap_local_page(page);
		KUNIT_EXPECT_EQ(test, *p, 0x1000 + (u32)i);
		kunmap_local(p);
	}
	drm_gpusvm_notifier_unlock(&t->svm);
}

static void drm_gpusvm_test_get_pages_faults_in_private_writable_pages(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	pages = &to_gt_range(range)->pages;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);

	drm_gpusvm_notifier_lock(&t->svm);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test,
				   is_zero_page(gt_page_of(t, pages, i)));
	drm_gpusvm_notifier_unlock(&t->svm);

	/* What the device writes, the CPU reads. */
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_TRUE(test, gt_device_write(t, pages, i, 0xabc0 + i));
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, gt_cpu_word(test, addr + i * PAGE_SIZE),
				0xabc0 + (u32)i);
	/* Reading did not invalidate anything. */
	KUNIT_EXPECT_TRUE(test, gt_valid(t, pages));
}

static void drm_gpusvm_test_get_pages_without_drm_device_is_einval(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages pages;
	unsigned long addr;

	addr = gt_mmap(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	drm_gpusvm_init_pages(&pages, NULL);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_get_pages(&t->svm, &pages, t->svm.mm,
						   &range->notifier->notifier,
						   addr, addr + PAGE_SIZE,
						   &(struct drm_gpusvm_ctx){}),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, pages.dma_addr);
}

static void drm_gpusvm_test_get_pages_reuses_a_valid_mapping(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	struct drm_pagemap_addr *array;
	unsigned long addr, seq;
	dma_addr_t first;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	pages = &to_gt_range(range)->pages;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	array = pages->dma_addr;
	first = array[0].addr;
	seq = pages->notifier_seq;

	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_PTR_EQ(test, pages->dma_addr, array);
	KUNIT_EXPECT_EQ(test, pages->dma_addr[0].addr, first);
	KUNIT_EXPECT_EQ(test, pages->notifier_seq, seq);
}

/*
 * With ctx->hmm_pfns the caller gets the hmm pfns the mapping was made
 * from, one walk for both: valid, writable and the CPU's pages, left alone
 * by a call that finds the pages valid, refilled by one that faults again.
 */
static void drm_gpusvm_test_get_pages_fills_the_callers_hmm_pfns(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_stats *st = &t->svm.stats;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	struct drm_gpusvm_ctx ctx = {};
	struct page *cpu[16], *dev[16];
	unsigned long addr, i, wrong = 0;
	unsigned long *pfns;
	s64 walks;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0x2000);
	range = gt_range(test, addr);
	KUNIT_ASSERT_EQ(test, gt_npages(range), 16UL);
	pages = &to_gt_range(range)->pages;
	pfns = kunit_kcalloc(test, 16, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	ctx.hmm_pfns = pfns;

	walks = atomic64_read(&st->hmm_faults);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&st->hmm_faults) - walks, 1LL);
	for (i = 0; i < 16; i++)
		cpu[i] = gt_cpu_page(test, addr + i * PAGE_SIZE);
	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&t->svm, pages));
	for (i = 0; i < 16; i++)
		dev[i] = gt_page_of(t, pages, i);
	drm_gpusvm_notifier_unlock(&t->svm);
	for (i = 0; i < 16; i++) {
		wrong += (pfns[i] & (HMM_PFN_VALID | HMM_PFN_WRITE)) !=
			 (HMM_PFN_VALID | HMM_PFN_WRITE);
		wrong += hmm_pfn_to_page(pfns[i]) != cpu[i];
		wrong += dev[i] != cpu[i];
	}
	KUNIT_EXPECT_EQ(test, wrong, 0UL);

	/* Still valid: nothing walked, the array left alone. */
	pfns[5] = 0;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&st->hmm_faults) - walks, 1LL);
	KUNIT_EXPECT_EQ(test, pfns[5], 0UL);

	/* A new page behind page 5: the next call walks and reports it. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr + 5 * PAGE_SIZE,
					 PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&st->hmm_faults) - walks, 2LL);
	cpu[5] = gt_cpu_page(test, addr + 5 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, pfns[5] & HMM_PFN_VALID);
	KUNIT_EXPECT_PTR_EQ(test, hmm_pfn_to_page(pfns[5]), cpu[5]);
	KUNIT_EXPECT_EQ(test, gt_cpu_word(test, addr + 5 * PAGE_SIZE), 0U);
}

/* A 2 MB aligned anonymous mapping THP may back (MADV_HUGEPAGE). */
static unsigned long gt_mmap_thp(struct kunit *test)
{
	unsigned long addr;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		kunit_skip(test, "CONFIG_TRANSPARENT_HUGEPAGE is off");

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_2M,
					 MADV_HUGEPAGE), 0);
	return addr;
}

/*
 * A THP faulted in at a new 2 MB mapping (the test is skipped if none can
 * be allocated), optionally split into 511 4K PTEs by MADV_DONTNEED of its
 * last page; *@addr is the mapping.
 */
static struct folio *gt_thp(struct kunit *test, bool split,
			    unsigned long *addr)
{
	struct folio *folio;

	*addr = gt_mmap_thp(test);
	gt_fill(test, *addr, 1, 1);
	folio = page_folio(gt_cpu_page(test, *addr));
	if (folio_order(folio) < HPAGE_PMD_ORDER)
		kunit_skip(test, "no THP could be allocated (order %u folio)",
			   folio_order(folio));
	if (split)
		KUNIT_ASSERT_EQ(test, do_madvise(current->mm,
						 *addr + SZ_2M - PAGE_SIZE,
						 PAGE_SIZE, MADV_DONTNEED), 0);
	return folio;
}

/* The pages of the 2 MB range at @addr, faulted in and DMA-mapped. */
static struct drm_gpusvm_pages *gt_get_pages_2m(struct kunit *test,
						unsigned long addr)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range = gt_range(test, addr);

	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range),
			(unsigned long)SZ_2M);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	return &to_gt_range(range)->pages;
}

static void drm_gpusvm_test_get_pages_maps_a_thp_as_one_entry(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_pages *pages;
	struct folio *folio;

	pages = gt_get_pages_2m(test, gt_mmap_thp(test));

	drm_gpusvm_notifier_lock(&t->svm);
	folio = page_folio(gt_dma_page(t, &pages->dma_addr[0]));
	if (folio_order(folio) < HPAGE_PMD_ORDER) {
		drm_gpusvm_notifier_unlock(&t->svm);
		kunit_skip(test, "no THP could be allocated (order %u folio)",
			   folio_order(folio));
	}
	KUNIT_EXPECT_EQ(test, (unsigned int)pages->dma_addr[0].order,
			(unsigned int)HPAGE_PMD_ORDER);
	KUNIT_EXPECT_EQ(test, (u64)pages->dma_addr[0].addr,
			(u64)page_to_phys(folio_page(folio, 0)));
	drm_gpusvm_notifier_unlock(&t->svm);
}

/*
 * A THP whose PMD is split (MADV_DONTNEED of its last page) is 511
 * physically contiguous pages mapped by 4K PTEs. One DMA entry per CPU
 * mapping would be 511 entries of order 0; drm-svm/patches/0009 maps each
 * contiguous run as one entry, at the right address for every page.
 * Fails with drm_gpusvm_helper.merge_contiguous=0 (512 entries).
 */
static void drm_gpusvm_test_get_pages_merges_physically_contiguous_pages(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i, entries = 0, wrong = 0;
	unsigned int first_order = 0;
	struct folio *folio;
	bool valid;

	folio = gt_thp(test, true, &addr);
	pages = gt_get_pages_2m(test, addr);

	/* Read under the lock, assert outside it (a failure allocates). */
	drm_gpusvm_notifier_lock(&t->svm);
	valid = drm_gpusvm_pages_valid(&t->svm, pages);
	if (valid) {
		entries = gt_entries(pages, SZ_2M >> PAGE_SHIFT);
		first_order = pages->dma_addr[0].order;
		for (i = 0; i < HPAGE_PMD_NR - 1; i++)
			wrong += gt_page_of(t, pages, i) != folio_page(folio, i);
	}
	drm_gpusvm_notifier_unlock(&t->svm);

	KUNIT_ASSERT_TRUE(test, valid);
	KUNIT_EXPECT_EQ(test, wrong, 0UL);
	/* 511 = 256 + 128 + ... + 1: nine entries, and the new last page */
	KUNIT_EXPECT_GE(test, first_order, 8U);
	KUNIT_EXPECT_LE(test, entries, 10UL);
}

/*
 * drm-svm/patches/0011: the DMA address array has a slot per entry, not
 * per page: one for a THP, as many as the runs of a split one. Fails
 * without it, or with drm_gpusvm_helper.slot_per_entry=0 (an 8 KB array
 * of 512 slots for each).
 */
static void drm_gpusvm_test_get_pages_allocates_a_slot_per_entry(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_pages *pages[2];
	unsigned long addr[2], entries[2] = {}, i;
	size_t size[2] = {};

	/* [0]: a THP mapped by its PMD; [1]: one split into 4K PTEs */
	for (i = 0; i < 2; i++)
		gt_thp(test, i == 1, &addr[i]);
	for (i = 0; i < 2; i++)
		pages[i] = gt_get_pages_2m(test, addr[i]);

	drm_gpusvm_notifier_lock(&t->svm);
	for (i = 0; i < 2; i++) {
		if (!drm_gpusvm_pages_valid(&t->svm, pages[i]) ||
		    is_vmalloc_addr(pages[i]->dma_addr))
			continue;
		entries[i] = gt_entries(pages[i], SZ_2M >> PAGE_SHIFT);
		size[i] = ksize(pages[i]->dma_addr);
	}
	drm_gpusvm_notifier_unlock(&t->svm);

	KUNIT_EXPECT_EQ(test, entries[0], 1UL);
	KUNIT_EXPECT_GE(test, entries[1], 2UL);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, size[i],
				kmalloc_size_roundup(entries[i] *
						     sizeof(struct drm_pagemap_addr)));
}

static struct drm_gpusvm_range *gt_mapped(struct kunit *test, unsigned long len,
					  unsigned long *addr)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;

	*addr = gt_mmap_aligned(test, len, len, PROT_READ | PROT_WRITE);
	gt_fill(test, *addr, len >> PAGE_SHIFT, 0x100);
	range = gt_range(test, *addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range), len);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_ASSERT_TRUE(test, gt_valid(t, &to_gt_range(range)->pages));
	return range;
}

/* ---------------------------------------------------------------------- */
/* Read-only mappings */

static void drm_gpusvm_test_read_only_ctx_maps_zero_page_to_device(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	range = gt_insert(t, addr, 0, ULONG_MAX, &ro);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	pages = &to_gt_range(range)->pages;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);

	drm_gpusvm_notifier_lock(&t->svm);
	for (i = 0; i < 4; i++) {
		struct drm_pagemap_addr *a = &pages->dma_addr[i];

		KUNIT_EXPECT_EQ(test, (int)a->dir, DMA_TO_DEVICE);
		KUNIT_EXPECT_TRUE(test, is_zero_page(gt_dma_page(t, a)));
	}
	drm_gpusvm_notifier_unlock(&t->svm);

	/* The CPU's first write replaces the zero page: invalidation. */
	gt_fill(test, addr, 1, 7);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
}

static void drm_gpusvm_test_read_only_vma_maps_for_read_with_read_only_ctx(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr;

	addr = gt_mmap_aligned(test, 4 * PAGE_SIZE, SZ_64K, PROT_READ);
	range = gt_insert(t, addr, 0, ULONG_MAX, &ro);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	pages = &to_gt_range(range)->pages;

	/* Asking for write access on a read-only VMA fails... */
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			-EPERM);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	/* ...a read-only one maps. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);
	KUNIT_EXPECT_TRUE(test, gt_valid(t, pages));
	KUNIT_EXPECT_EQ(test, (int)pages->dma_addr[0].dir, DMA_TO_DEVICE);
}

/*
 * A read request followed by a write request on the same range: the write
 * must get a writable mapping, with COW broken (not the zero page).
 */
static void drm_gpusvm_test_write_after_read_mapping_maps_writable_pages(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	bool valid, zero[4] = {};
	int dir[4] = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i, k;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	pages = &to_gt_range(range)->pages;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);
	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, is_zero_page(gt_dma_page(t, &pages->dma_addr[0])));
	drm_gpusvm_notifier_unlock(&t->svm);

	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	/* Read under the lock, assert outside it (a failure allocates). */
	drm_gpusvm_notifier_lock(&t->svm);
	valid = drm_gpusvm_pages_valid(&t->svm, pages);
	for (i = 0; valid && i < 4; i++) {
		dir[i] = gt_entry(pages, i, &k)->dir;
		zero[i] = is_zero_page(gt_page_of(t, pages, i));
	}
	drm_gpusvm_notifier_unlock(&t->svm);
	KUNIT_ASSERT_TRUE(test, valid);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, dir[i], (int)DMA_BIDIRECTIONAL,
				    "page %lu still mapped for reading", i);
		KUNIT_EXPECT_FALSE_MSG(test, zero[i],
				       "page %lu is the zero page", i);
	}

	/* The device's write reaches the process. */
	KUNIT_ASSERT_TRUE(test, gt_device_write(t, pages, 1, 0x5151));
	KUNIT_EXPECT_EQ(test, gt_cpu_word(test, addr + PAGE_SIZE), 0x5151U);
}

/* A read request does not downgrade a writable mapping. */
static void drm_gpusvm_test_read_after_write_mapping_keeps_it_writable(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, seq;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;
	seq = pages->notifier_seq;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);
	KUNIT_EXPECT_EQ(test, pages->notifier_seq, seq);
	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&t->svm, pages));
	KUNIT_EXPECT_EQ(test, (int)pages->dma_addr[0].dir, DMA_BIDIRECTIONAL);
	drm_gpusvm_notifier_unlock(&t->svm);
}

/* Count the dirty folios behind the first @n pages of the DMA mapping. */
static unsigned long gt_dirty(struct gt *t, struct drm_gpusvm_pages *pages,
			      unsigned long n)
{
	unsigned long i, dirty = 0;

	drm_gpusvm_notifier_lock(&t->svm);
	for (i = 0; drm_gpusvm_pages_valid(&t->svm, pages) && i < n; i++)
		dirty += folio_test_dirty(page_folio(gt_page_of(t, pages, i)));
	drm_gpusvm_notifier_unlock(&t->svm);
	return dirty;
}

/*
 * The device writes through its own mapping, never through the CPU page
 * tables: pages mapped for device writes must be dirty, or reclaim drops
 * a clean page with what the device wrote. MADV_FREE leaves the PTEs
 * writable but cleans them and the folios.
 */
static void drm_gpusvm_test_write_mapping_dirties_clean_pages(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0x900);
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_64K, MADV_FREE),
			0);
	range = gt_range(test, addr);
	pages = &to_gt_range(range)->pages;

	/* A read-only mapping lets the device write nothing: still clean. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);
	KUNIT_EXPECT_EQ(test, gt_dirty(t, pages, 16), 0UL);
	drm_gpusvm_unmap_pages(&t->svm, pages, 16, &(struct drm_gpusvm_ctx){});

	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_TRUE(test, gt_valid(t, pages));
	KUNIT_EXPECT_EQ_MSG(test, gt_dirty(t, pages, 16), 16UL,
			    "pages mapped for device writes are not dirty");
}

/* The same, end to end: a device write after MADV_FREE, then reclaim. */
static void drm_gpusvm_test_device_write_survives_madv_free_and_pageout(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, i;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0x900);
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_64K, MADV_FREE),
			0);
	range = gt_range(test, addr);
	pages = &to_gt_range(range)->pages;
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	for (i = 0; i < 16; i++)
		KUNIT_ASSERT_TRUE(test, gt_device_write(t, pages, i, 0xd0 + i));

	/* Reclaim: the lazily freed folios go unless they are dirty. */
	lru_add_drain_all();
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_64K,
					 MADV_PAGEOUT), 0);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ_MSG(test, gt_cpu_word(test, addr + i * PAGE_SIZE),
				    0xd0 + (u32)i,
				    "device write to page %lu lost", i);
}

/* ---------------------------------------------------------------------- */
/* Invalidation */

static void drm_gpusvm_test_munmap_invalidates_and_marks_unmapped(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;

	KUNIT_ASSERT_EQ(test, vm_munmap(addr, SZ_64K), 0);
	KUNIT_EXPECT_GE(test, atomic_read(&t->inval_calls), 1);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_UNMAP);
	KUNIT_EXPECT_TRUE(test, t->inval_locked_write);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	KUNIT_EXPECT_FALSE(test, pages->flags.has_dma_mapping);
	KUNIT_EXPECT_TRUE(test, pages->flags.unmapped);
	KUNIT_EXPECT_TRUE(test, range->flags.unmapped);
	KUNIT_EXPECT_FALSE(test, range->flags.partial_unmap);

	/* An unmapped range is not mapped again. */
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			-EFAULT);
}

static void drm_gpusvm_test_partial_munmap_sets_partial_unmap(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	range = gt_mapped(test, SZ_64K, &addr);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_UNMAP);
	KUNIT_EXPECT_EQ(test, t->last_start, addr + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, t->last_end, addr + 2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, range->flags.unmapped);
	KUNIT_EXPECT_TRUE(test, range->flags.partial_unmap);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, &to_gt_range(range)->pages));
}

static void drm_gpusvm_test_gc_removes_unmapped_range_and_notifier(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long addr;

	gt_mapped(test, SZ_64K, &addr);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, SZ_64K), 0);
	KUNIT_EXPECT_EQ(test, gt_gc(t), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_frees), 1);
	KUNIT_EXPECT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							 addr + 1));
	KUNIT_EXPECT_FALSE(test, drm_gpusvm_has_mapping(&t->svm, addr,
							addr + SZ_64K));
	/* Nothing left to collect. */
	KUNIT_EXPECT_EQ(test, gt_gc(t), 0);
}

static void drm_gpusvm_test_mprotect_invalidates_without_unmapping(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct page *cpu;
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr, k;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;

	KUNIT_ASSERT_EQ(test, gt_mprotect_ro(current->mm, addr, addr + SZ_64K),
			0);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_PROTECTION_VMA);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	KUNIT_EXPECT_FALSE(test, range->flags.unmapped);

	/* No more write access; a read-only mapping of the same data. */
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			-EPERM);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &ro), 0);
	cpu = gt_cpu_page(test, addr + 3 * PAGE_SIZE);
	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&t->svm, pages));
	KUNIT_EXPECT_EQ(test, (int)gt_entry(pages, 3, &k)->dir, DMA_TO_DEVICE);
	KUNIT_EXPECT_PTR_EQ(test, gt_page_of(t, pages, 3), cpu);
	drm_gpusvm_notifier_unlock(&t->svm);
}

static void drm_gpusvm_test_madv_dontneed_invalidates_and_refault_maps_new_pages(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr;
	u32 *p;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_64K,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_CLEAR);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	KUNIT_EXPECT_FALSE(test, range->flags.unmapped);

	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	drm_gpusvm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&t->svm, pages));
	p = kmap_local_page(gt_dma_page(t, &pages->dma_addr[0]));
	KUNIT_EXPECT_EQ(test, *p, 0U);
	kunmap_local(p);
	drm_gpusvm_notifier_unlock(&t->svm);
}

static void drm_gpusvm_test_invalidation_elsewhere_in_notifier_keeps_range_valid(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b;
	unsigned long addr;
	int calls;

	addr = gt_mmap_aligned(test, SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	a = gt_insert(t, addr, addr, addr + SZ_64K, &ctx);
	b = gt_insert(t, addr + SZ_1M, addr + SZ_1M, addr + SZ_1M + SZ_64K,
		      &ctx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_ASSERT_PTR_EQ(test, a->notifier, b->notifier);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, a, &ctx), 0);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, b, &ctx), 0);

	calls = atomic_read(&t->inval_calls);
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, SZ_64K,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&t->inval_calls), calls);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, &to_gt_range(a)->pages));
	KUNIT_EXPECT_TRUE(test, gt_valid(t, &to_gt_range(b)->pages));
}

static void drm_gpusvm_test_unmap_pages_outside_notifier_invalidates(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	unsigned long addr;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;

	drm_gpusvm_unmap_pages(&t->svm, pages, gt_npages(range),
			       &(struct drm_gpusvm_ctx){});
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
	KUNIT_EXPECT_FALSE(test, pages->flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, range->flags.unmapped);

	/* The driver maps again. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_TRUE(test, gt_valid(t, pages));

	drm_gpusvm_free_pages(&t->svm, pages, gt_npages(range));
	KUNIT_EXPECT_NULL(test, pages->dma_addr);
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
}

/* The driver's commit check sees a collision until it maps again. */
static void drm_gpusvm_test_notifier_seq_goes_stale_until_refault(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	struct mmu_interval_notifier *mni;
	unsigned long addr;

	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;
	mni = &range->notifier->notifier;

	KUNIT_EXPECT_FALSE(test, mmu_interval_check_retry(mni,
							  pages->notifier_seq));
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr + PAGE_SIZE,
					 PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_TRUE(test, mmu_interval_check_retry(mni,
							 pages->notifier_seq));
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_FALSE(test, mmu_interval_check_retry(mni,
							  pages->notifier_seq));
}

/*
 * A non-blockable invalidation (the OOM reaper) is refused, without
 * sleeping and without calling the driver: the reaper skips the mm.
 */
static void drm_gpusvm_test_nonblockable_invalidation_is_refused(struct kunit *test)
{
	struct gt *t = test->priv;
	struct mmu_notifier_range mmu_range = {
		.mm = current->mm,
		.event = MMU_NOTIFY_CLEAR,
		.flags = 0,
	};
	struct drm_gpusvm_range *range;
	struct mmu_interval_notifier *mni;
	unsigned long addr;
	int calls;

	range = gt_mapped(test, SZ_64K, &addr);
	mni = &range->notifier->notifier;
	mmu_range.start = addr;
	mmu_range.end = addr + SZ_64K;
	calls = atomic_read(&t->inval_calls);

	KUNIT_EXPECT_FALSE(test, mni->ops->invalidate(mni, &mmu_range,
						      mni->invalidate_seq | 1));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls);
	KUNIT_EXPECT_TRUE(test, gt_valid(t, &to_gt_range(range)->pages));
}

static void drm_gpusvm_test_range_reference_outlives_removal(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	drm_gpusvm_range_get(range);
	gt_remove(t, range);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_frees), 0);
	KUNIT_EXPECT_NULL(test, drm_gpusvm_notifier_find(&t->svm, addr,
							 addr + 1));
	drm_gpusvm_range_put(range);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->range_frees), 1);
}

/* Against a device pagemap the range is not in (a NULL one matches). */
static void drm_gpusvm_test_scan_mm_reports_unpopulated_then_system(struct kunit *test)
{
	static const struct dev_pagemap other;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	range = gt_range(test, addr);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_scan_mm(range, NULL, &other),
			DRM_GPUSVM_SCAN_UNPOPULATED);
	gt_fill(test, addr, 16, 3);
	KUNIT_EXPECT_EQ(test, drm_gpusvm_scan_mm(range, NULL, &other),
			DRM_GPUSVM_SCAN_SYSTEM);
}

/* ---------------------------------------------------------------------- */
/* Device-exclusive events (GPU atomics, nouveau) */

/* make_device_exclusive() of the page at @addr for @owner, as an atomic. */
static void gt_make_exclusive(struct kunit *test, unsigned long addr,
			      void *owner)
{
#if IS_ENABLED(CONFIG_DEVICE_PRIVATE)
	struct folio *folio;
	struct page *page;

	mmap_read_lock(current->mm);
	page = make_device_exclusive(current->mm, addr, owner, &folio);
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(page), "make_device_exclusive: %ld",
			       PTR_ERR(page));
	folio_unlock(folio);
	folio_put(folio);
#else
	kunit_skip(test, "make_device_exclusive() needs CONFIG_DEVICE_PRIVATE");
#endif
}

static void gt_other_fini(void *data)
{
	struct gt *o = data;

	mutex_lock(&o->lock);
	drm_gpusvm_fini(&o->svm);
	mutex_unlock(&o->lock);
	mutex_destroy(&o->lock);
}

/* A second GPU SVM of the test's mm and device: another SVM context. */
static struct gt *gt_other(struct kunit *test)
{
	struct gt *t = test->priv, *o;

	o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	o->test = test;
	o->dev = t->dev;
	o->drm = t->drm;
	mutex_init(&o->lock);
	spin_lock_init(&o->gc_lock);
	INIT_LIST_HEAD(&o->gc);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&o->svm, "drm_gpusvm_test_other",
					      current->mm, 0,
					      current->mm->task_size,
					      GT_NOTIFIER_SIZE, &gt_ops,
					      gt_chunks,
					      ARRAY_SIZE(gt_chunks)), 0);
	drm_gpusvm_driver_set_lock(&o->svm, &o->lock);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gt_other_fini, o),
			0);
	return o;
}

/*
 * The GPU SVM's own make_device_exclusive() (nouveau's atomic fault): no
 * invalidation, so the sequence the driver began before it stays valid
 * for its commit, and the mapping stays. The CPU touching the page takes
 * it back: that is an invalidation.
 */
static void drm_gpusvm_test_own_exclusive_event_is_ignored(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct drm_gpusvm_pages *pages;
	struct mmu_interval_notifier *mni;
	unsigned long addr, seq;
	s64 invals;
	int calls;

	drm_gpusvm_set_device_exclusive_owner(&t->svm, t);
	range = gt_mapped(test, SZ_64K, &addr);
	pages = &to_gt_range(range)->pages;
	mni = &range->notifier->notifier;
	seq = mmu_interval_read_begin(mni);
	calls = atomic_read(&t->inval_calls);
	invals = atomic64_read(&t->svm.stats.invalidations);

	gt_make_exclusive(test, addr + PAGE_SIZE, t);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls);
	KUNIT_EXPECT_FALSE(test, mmu_interval_check_retry(mni, seq));
	KUNIT_EXPECT_TRUE(test, gt_valid(t, pages));
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->svm.stats.invalidations),
			invals);

	/* The CPU takes the page back, with its data. */
	KUNIT_EXPECT_EQ(test, gt_cpu_word(test, addr + PAGE_SIZE), 0x101);
	KUNIT_EXPECT_GT(test, atomic_read(&t->inval_calls), calls);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_CLEAR);
	KUNIT_EXPECT_TRUE(test, mmu_interval_check_retry(mni, seq));
	KUNIT_EXPECT_FALSE(test, gt_valid(t, pages));
}

/*
 * Two GPU SVMs (SVM contexts) of one mm on one device, each its own owner:
 * one's exclusive event is ignored by it and invalidates the other, whose
 * mapping of the page must go (a filter keyed on the device would hide it).
 */
static void drm_gpusvm_test_other_context_exclusive_event_invalidates(struct kunit *test)
{
	struct gt *t = test->priv, *o = gt_other(test);
	struct drm_gpusvm_range *range, *orange;
	struct mmu_interval_notifier *mni, *omni;
	unsigned long addr, seq, oseq;
	int calls, ocalls;

	drm_gpusvm_set_device_exclusive_owner(&t->svm, t);
	drm_gpusvm_set_device_exclusive_owner(&o->svm, o);
	range = gt_mapped(test, SZ_64K, &addr);
	orange = gt_insert(o, addr, 0, ULONG_MAX, &(struct drm_gpusvm_ctx){});
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, orange);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(orange), SZ_64K);
	KUNIT_ASSERT_EQ(test, gt_get_pages(o, orange,
					   &(struct drm_gpusvm_ctx){}), 0);
	mni = &range->notifier->notifier;
	omni = &orange->notifier->notifier;
	seq = mmu_interval_read_begin(mni);
	oseq = mmu_interval_read_begin(omni);
	calls = atomic_read(&t->inval_calls);
	ocalls = atomic_read(&o->inval_calls);

	gt_make_exclusive(test, addr + 2 * PAGE_SIZE, o);

	/* The other context's own event. */
	KUNIT_EXPECT_EQ(test, atomic_read(&o->inval_calls), ocalls);
	KUNIT_EXPECT_FALSE(test, mmu_interval_check_retry(omni, oseq));
	KUNIT_EXPECT_TRUE(test, gt_valid(o, &to_gt_range(orange)->pages));

	/* A foreign one for this context. */
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls + 1);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_EXCLUSIVE);
	KUNIT_EXPECT_EQ(test, t->last_start, addr + 2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, mmu_interval_check_retry(mni, seq));
	KUNIT_EXPECT_FALSE(test, gt_valid(t, &to_gt_range(range)->pages));
}

/* Without an owner nothing is filtered, not even an event of owner NULL. */
static void drm_gpusvm_test_exclusive_event_without_owner_invalidates(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *range;
	struct mmu_interval_notifier *mni;
	unsigned long addr, seq;
	int calls;

	KUNIT_EXPECT_NULL(test, t->svm.device_exclusive_owner);
	range = gt_mapped(test, SZ_64K, &addr);
	mni = &range->notifier->notifier;
	seq = mmu_interval_read_begin(mni);
	calls = atomic_read(&t->inval_calls);

	gt_make_exclusive(test, addr, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls + 1);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_EXCLUSIVE);
	KUNIT_EXPECT_TRUE(test, mmu_interval_check_retry(mni, seq));
	KUNIT_EXPECT_FALSE(test, gt_valid(t, &to_gt_range(range)->pages));
}

/* ---------------------------------------------------------------------- */
/* Snapshots without DMA mapping (drm_gpusvm_range_get_pfns(), nouveau) */

#define GT_64K_PAGES	(SZ_64K >> PAGE_SHIFT)

static int gt_get_pfns(struct gt *t, struct drm_gpusvm_range *range,
		       const unsigned long *mask, unsigned long *pfns,
		       bool read_only, unsigned long *seq)
{
	struct drm_gpusvm_ctx ctx = { .read_only = read_only };

	return drm_gpusvm_range_get_pfns(&t->svm, range, mask, pfns, &ctx, seq);
}

static bool gt_pfns_valid(struct gt *t, struct drm_gpusvm_range *range,
			  unsigned long seq)
{
	bool valid;

	drm_gpusvm_notifier_lock(&t->svm);
	valid = drm_gpusvm_range_pfns_valid(&t->svm, range, seq);
	drm_gpusvm_notifier_unlock(&t->svm);
	return valid;
}

/*
 * Only the pages of the mask are faulted in; present pages are reported,
 * absent ones not; nothing is DMA-mapped or kept. The snapshot is good
 * until an invalidation; an unmapped range has none.
 */
static void drm_gpusvm_test_get_pfns_faults_only_the_mask(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long pfns[GT_64K_PAGES], addr, seq = 0;
	DECLARE_BITMAP(mask, GT_64K_PAGES) = {};
	struct drm_gpusvm_range *range;
	s64 maps;
	int calls;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr + 2 * PAGE_SIZE, 1, 0x200);
	range = gt_range(test, addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range), SZ_64K);
	calls = atomic_read(&t->inval_calls);
	maps = atomic64_read(&t->svm.stats.dma_maps);

	/* No mask (a prefetch): what is there, nothing faulted in. */
	KUNIT_ASSERT_EQ(test, gt_get_pfns(t, range, NULL, pfns, false, &seq), 0);
	KUNIT_EXPECT_TRUE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[5] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, gt_pfns_valid(t, range, seq));

	/* Page 5 for writing: faulted in; page 2 reported; the rest absent. */
	__set_bit(5, mask);
	KUNIT_ASSERT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq), 0);
	KUNIT_EXPECT_TRUE(test, pfns[5] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, pfns[5] & HMM_PFN_WRITE);
	KUNIT_EXPECT_TRUE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[0] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[4] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[6] & HMM_PFN_VALID);
	KUNIT_EXPECT_PTR_EQ(test, hmm_pfn_to_page(pfns[2]),
			    gt_cpu_page(test, addr + 2 * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, gt_pfns_valid(t, range, seq));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->svm.stats.dma_maps), maps);
	KUNIT_EXPECT_NULL(test, to_gt_range(range)->pages.dma_addr);

	/* An invalidation anywhere in the notifier: the snapshot is stale. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr + 2 * PAGE_SIZE,
					 PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_FALSE(test, gt_pfns_valid(t, range, seq));

	/* An unmapped range has no snapshot. */
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, SZ_64K), 0);
	KUNIT_EXPECT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq),
			-EFAULT);
}

/*
 * A write fault on page 0 of a range whose upper half is read-only: the
 * read-only pages do not fail it (nouveau's N3) and are reported read-only.
 * A write fault on a read-only page fails; a read fault on it does not.
 */
static void drm_gpusvm_test_get_pfns_write_fault_ignores_read_only_neighbours(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long pfns[GT_64K_PAGES], addr, seq = 0;
	DECLARE_BITMAP(mask, GT_64K_PAGES) = {};
	struct drm_gpusvm_range *range;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, GT_64K_PAGES, 0x300);
	range = gt_range(test, addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range), SZ_64K);
	KUNIT_ASSERT_EQ(test, gt_mprotect_ro(current->mm, addr + SZ_32K,
					     addr + SZ_64K), 0);

	__set_bit(0, mask);
	KUNIT_ASSERT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq), 0);
	KUNIT_EXPECT_TRUE(test, pfns[0] & HMM_PFN_WRITE);
	KUNIT_EXPECT_TRUE(test, pfns[8] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[8] & HMM_PFN_WRITE);

	__clear_bit(0, mask);
	__set_bit(8, mask);
	KUNIT_EXPECT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq),
			-EPERM);
	KUNIT_EXPECT_EQ(test, gt_get_pfns(t, range, mask, pfns, true, &seq), 0);
	KUNIT_EXPECT_TRUE(test, pfns[8] & HMM_PFN_VALID);
}

/*
 * A page a device holds exclusive is left to it unless it is in the mask
 * (nouveau's N5: plain faults do not take atomics' pages back).
 */
static void drm_gpusvm_test_get_pfns_leaves_exclusive_pages_outside_the_mask(struct kunit *test)
{
	struct gt *t = test->priv;
	unsigned long pfns[GT_64K_PAGES], addr, seq = 0;
	DECLARE_BITMAP(mask, GT_64K_PAGES) = {};
	struct drm_gpusvm_range *range;
	int calls;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, GT_64K_PAGES, 0x400);
	range = gt_range(test, addr);
	gt_make_exclusive(test, addr + 2 * PAGE_SIZE, test);
	calls = atomic_read(&t->inval_calls);

	__set_bit(0, mask);
	KUNIT_ASSERT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq), 0);
	KUNIT_EXPECT_FALSE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, pfns[3] & HMM_PFN_VALID);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), calls);

	__set_bit(2, mask);
	KUNIT_ASSERT_EQ(test, gt_get_pfns(t, range, mask, pfns, false, &seq), 0);
	KUNIT_EXPECT_TRUE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_GT(test, atomic_read(&t->inval_calls), calls);
}

/* ---------------------------------------------------------------------- */
/* drm_gpusvm_pages with a driver-owned notifier (userptr, xe_userptr.c) */

struct gt_userptr {
	struct drm_gpusvm svm;
	struct drm_gpusvm_pages pages;
	struct mmu_interval_notifier notifier;
	unsigned long addr;
	unsigned long npages;
	int calls;
};

static bool gt_userptr_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *mmu_range,
				  unsigned long cur_seq)
{
	struct gt_userptr *u = container_of(mni, struct gt_userptr, notifier);
	struct drm_gpusvm_ctx ctx = { .in_notifier = true, };

	if (!mmu_notifier_range_blockable(mmu_range))
		return false;
	down_write(&u->svm.notifier_lock);
	mmu_interval_set_seq(mni, cur_seq);
	/* As vsvm's userptr: unmap only what the invalidation reaches. */
	drm_gpusvm_unmap_pages_range(&u->svm, &u->pages, u->addr, u->npages,
				     mmu_range->start, mmu_range->end, &ctx);
	u->calls++;
	up_write(&u->svm.notifier_lock);
	return true;
}

static const struct mmu_interval_notifier_ops gt_userptr_ops = {
	.invalidate = gt_userptr_invalidate,
};

static struct gt_userptr *gt_userptr_new(struct kunit *test, unsigned long addr,
					 unsigned long npages)
{
	struct gt *t = test->priv;
	struct gt_userptr *u;

	u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u);
	u->addr = addr;
	u->npages = npages;
	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&u->svm, "userptr", NULL, 0, 0, 0,
					      NULL, NULL, 0), 0);
	drm_gpusvm_init_pages(&u->pages, t->drm);
	KUNIT_ASSERT_EQ(test, mmu_interval_notifier_insert(&u->notifier,
							   current->mm, addr,
							   npages * PAGE_SIZE,
							   &gt_userptr_ops), 0);
	return u;
}

static void gt_userptr_del(struct gt_userptr *u)
{
	mmu_interval_notifier_remove(&u->notifier);
	drm_gpusvm_free_pages(&u->svm, &u->pages, u->npages);
	drm_gpusvm_fini(&u->svm);
}

static int gt_userptr_get(struct gt_userptr *u, unsigned long addr,
			  const struct drm_gpusvm_ctx *ctx)
{
	return drm_gpusvm_get_pages(&u->svm, &u->pages, current->mm,
				    &u->notifier, addr,
				    addr + u->npages * PAGE_SIZE, ctx);
}

static void drm_gpusvm_test_userptr_pages_follow_their_own_notifier(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct gt_userptr *u;
	unsigned long addr, i;
	u32 *p;

	addr = gt_mmap(test, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 8, 0x700);
	u = gt_userptr_new(test, addr, 8);

	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ctx), 0);
	drm_gpusvm_notifier_lock(&u->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&u->svm, &u->pages));
	for (i = 0; i < 8; i++) {
		p = kmap_local_page(gt_page_of(t, &u->pages, i));
		KUNIT_EXPECT_EQ(test, *p, 0x700 + (u32)i);
		kunmap_local(p);
	}
	drm_gpusvm_notifier_unlock(&u->svm);

	/* A CPU change invalidates through the driver's notifier. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr + 2 * PAGE_SIZE,
					 PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, u->calls, 1);
	drm_gpusvm_notifier_lock(&u->svm);
	KUNIT_EXPECT_FALSE(test, drm_gpusvm_pages_valid(&u->svm, &u->pages));
	drm_gpusvm_notifier_unlock(&u->svm);

	/* Revalidation: the new zero-filled page is mapped. */
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ctx), 0);
	drm_gpusvm_notifier_lock(&u->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&u->svm, &u->pages));
	p = kmap_local_page(gt_page_of(t, &u->pages, 2));
	KUNIT_EXPECT_EQ(test, *p, 0U);
	kunmap_local(p);
	drm_gpusvm_notifier_unlock(&u->svm);

	/* Gone from the mm: get_pages fails, free_pages releases it all. */
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 8 * PAGE_SIZE), 0);
	KUNIT_EXPECT_GE(test, u->calls, 2);
	KUNIT_EXPECT_EQ(test, gt_userptr_get(u, addr, &ctx), -EFAULT);
	gt_userptr_del(u);
	KUNIT_EXPECT_NULL(test, u->pages.dma_addr);
}

static void drm_gpusvm_test_userptr_read_only_memory_needs_read_only_ctx(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct gt_userptr *u;
	unsigned long addr;

	addr = gt_mmap(test, 4 * PAGE_SIZE, PROT_READ);
	u = gt_userptr_new(test, addr, 4);
	KUNIT_EXPECT_EQ(test, gt_userptr_get(u, addr,
					     &(struct drm_gpusvm_ctx){}),
			-EPERM);
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ro), 0);
	drm_gpusvm_notifier_lock(&u->svm);
	KUNIT_EXPECT_TRUE(test, drm_gpusvm_pages_valid(&u->svm, &u->pages));
	KUNIT_EXPECT_EQ(test, (int)u->pages.dma_addr[0].dir, DMA_TO_DEVICE);
	drm_gpusvm_notifier_unlock(&u->svm);
	gt_userptr_del(u);
}

/* ---------------------------------------------------------------------- */
/* Counters and tracking memory */

static s64 gt_stat(atomic64_t *counter)
{
	return atomic64_read(counter);
}

static void drm_gpusvm_test_stats_count_get_pages_maps_and_invalidations(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_stats *st = &t->svm.stats;
	struct drm_gpusvm_range *range;
	unsigned long addr;

	addr = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0x300);
	range = gt_range(test, addr);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->get_pages), 0);

	/* The first call faults and maps the 16 pages. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->get_pages), 1);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->hmm_faults), 1);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), 16);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_unmaps), 0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->retries), 0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->timeouts), 0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->invalidations), 0);

	/* Valid pages: counted, but no fault and no mapping. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->get_pages), 2);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->hmm_faults), 1);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), 16);

	/* An invalidation: counted, and the driver's unmap too. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->invalidations), 1);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_unmaps), 16);

	/* The refault maps all 16 again: nothing is left mapped twice. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->hmm_faults), 2);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), 32);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps) - gt_stat(&st->dma_unmaps),
			16);

	/* A failure is counted as a call, not as a mapping. */
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, SZ_64K), 0);
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, range, &(struct drm_gpusvm_ctx){}),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->get_pages), 4);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), 32);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_unmaps), 32);
}

/*
 * drm-svm/patches/0012: an invalidation of one page makes a hole of the
 * entry that holds it and unmaps nothing else; the next get_pages() walks
 * and maps that entry only, in the same array, at the same addresses.
 * Fails without it (drm_gpusvm_helper.fill_holes=0): all 512 pages are
 * unmapped and mapped again.
 */
static void drm_gpusvm_test_userptr_invalidation_unmaps_and_maps_only_its_entry(struct kunit *test)
{
	struct drm_gpusvm_ctx ro = { .read_only = true, };
	struct drm_pagemap_addr *before, *array = NULL;
	struct gt *t = test->priv;
	struct drm_gpusvm_stats *st;
	struct gt_userptr *u;
	unsigned long addr, i, k, n = 0, entries = 0, holes = 0, moved = 0;
	unsigned long wrong = 0;
	const unsigned long p = 500;
	bool valid, has_holes, same_array = false;
	struct folio *folio;

	/* A split THP: entries of 256, 128, ... pages (patch 0009). */
	folio = gt_thp(test, true, &addr);
	u = gt_userptr_new(test, addr, HPAGE_PMD_NR);
	st = &u->svm.stats;
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ro), 0);
	KUNIT_ASSERT_EQ(test, gt_stat(&st->dma_maps), (s64)HPAGE_PMD_NR);

	before = kunit_kcalloc(test, HPAGE_PMD_NR, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	drm_gpusvm_notifier_lock(&u->svm);
	valid = drm_gpusvm_pages_valid(&u->svm, &u->pages);
	if (valid) {
		entries = gt_entries(&u->pages, HPAGE_PMD_NR);
		memcpy(before, u->pages.dma_addr, entries * sizeof(*before));
		array = u->pages.dma_addr;
		n = 1UL << gt_entry(&u->pages, p, &k)->order;
	}
	drm_gpusvm_notifier_unlock(&u->svm);
	KUNIT_ASSERT_TRUE(test, valid);
	KUNIT_ASSERT_LT(test, n, (unsigned long)HPAGE_PMD_NR);

	/* mprotect() of page p: one hole, the size of p's entry. */
	KUNIT_ASSERT_EQ(test, gt_mprotect_ro(current->mm, addr + p * PAGE_SIZE,
					     addr + (p + 1) * PAGE_SIZE), 0);
	KUNIT_EXPECT_GE(test, u->calls, 1);
	drm_gpusvm_notifier_lock(&u->svm);
	valid = drm_gpusvm_pages_valid(&u->svm, &u->pages);
	has_holes = u->pages.flags.has_holes;
	for (i = 0; i < entries; i++) {
		if (u->pages.dma_addr[i].addr == DMA_MAPPING_ERROR)
			holes += 1UL << before[i].order;
		else
			moved += u->pages.dma_addr[i].addr != before[i].addr;
	}
	drm_gpusvm_notifier_unlock(&u->svm);
	KUNIT_EXPECT_FALSE(test, valid);
	KUNIT_EXPECT_TRUE(test, has_holes);
	KUNIT_EXPECT_EQ(test, holes, n);
	KUNIT_EXPECT_EQ(test, moved, 0UL);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_unmaps), (s64)n);

	/* The next call walks and maps p's entry only. */
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ro), 0);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->hmm_faults), 2);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), (s64)(HPAGE_PMD_NR + n));
	drm_gpusvm_notifier_lock(&u->svm);
	valid = drm_gpusvm_pages_valid(&u->svm, &u->pages);
	has_holes = u->pages.flags.has_holes;
	same_array = u->pages.dma_addr == array;
	moved = 0;
	if (same_array)
		for (i = 0; i < entries; i++)
			moved += u->pages.dma_addr[i].addr != before[i].addr;
	for (i = 0; i < HPAGE_PMD_NR - 1; i++)
		wrong += gt_page_of(t, &u->pages, i) != folio_page(folio, i);
	drm_gpusvm_notifier_unlock(&u->svm);
	KUNIT_EXPECT_TRUE(test, valid);
	KUNIT_EXPECT_FALSE(test, has_holes);
	KUNIT_EXPECT_TRUE(test, same_array);
	KUNIT_EXPECT_EQ(test, moved, 0UL);
	KUNIT_EXPECT_EQ(test, wrong, 0UL);
	gt_userptr_del(u);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), gt_stat(&st->dma_unmaps));
}

/*
 * A hole whose page changed: the new page is mapped, in place if it can be
 * or with all the pages again if not (without an IOMMU a run that is no
 * longer physically contiguous); nothing is left mapped twice.
 */
static void drm_gpusvm_test_userptr_hole_of_a_new_page_maps_the_new_page(struct kunit *test)
{
	struct drm_gpusvm_ctx ctx = {};
	struct gt *t = test->priv;
	struct page *cpu[16], *dev[16] = {};
	struct drm_gpusvm_stats *st;
	struct gt_userptr *u;
	unsigned long addr, i;
	bool valid;

	addr = gt_mmap(test, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	gt_fill(test, addr, 16, 0xa00);
	u = gt_userptr_new(test, addr, 16);
	st = &u->svm.stats;
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ctx), 0);

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr + 5 * PAGE_SIZE,
					 PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, u->calls, 1);
	gt_fill(test, addr + 5 * PAGE_SIZE, 1, 0xb00);
	for (i = 0; i < 16; i++)
		cpu[i] = gt_cpu_page(test, addr + i * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr, &ctx), 0);
	drm_gpusvm_notifier_lock(&u->svm);
	valid = drm_gpusvm_pages_valid(&u->svm, &u->pages);
	if (valid)
		for (i = 0; i < 16; i++)
			dev[i] = gt_page_of(t, &u->pages, i);
	drm_gpusvm_notifier_unlock(&u->svm);
	KUNIT_ASSERT_TRUE(test, valid);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_PTR_EQ(test, dev[i], cpu[i]);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps) - gt_stat(&st->dma_unmaps),
			16);
	gt_userptr_del(u);
	KUNIT_EXPECT_EQ(test, gt_stat(&st->dma_maps), gt_stat(&st->dma_unmaps));
}

static void drm_gpusvm_test_tracking_is_bounded_with_enomem(struct kunit *test)
{
	struct gt *t = test->priv;
	struct drm_gpusvm_range *a, *b;
	unsigned long addr_a, addr_b;

	/* By default a GPU SVM may track four times the RAM. */
	KUNIT_EXPECT_EQ(test, t->svm.max_tracked_pages, 4 * totalram_pages());
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0);

	t->svm.max_tracked_pages = 16;
	addr_a = gt_mmap_aligned(test, SZ_64K, SZ_64K, PROT_READ | PROT_WRITE);
	addr_b = gt_mmap(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	a = gt_range(test, addr_a);
	b = gt_range(test, addr_b);
	KUNIT_ASSERT_EQ(test, gt_npages(a), 16UL);

	/* 16 pages fit, one more does not: -ENOMEM, nothing allocated. */
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, a, &(struct drm_gpusvm_ctx){}), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 16);
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, b, &(struct drm_gpusvm_ctx){}),
			-ENOMEM);
	KUNIT_EXPECT_NULL(test, to_gt_range(b)->pages.dma_addr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 16);

	/* An invalidation and the refault leave the count where it was. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr_a, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_ASSERT_EQ(test, gt_get_pages(t, a, &(struct drm_gpusvm_ctx){}), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 16);

	/* Freeing the first range's pages makes room for the second. */
	gt_remove(t, a);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0);
	KUNIT_EXPECT_EQ(test, gt_get_pages(t, b, &(struct drm_gpusvm_ctx){}), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 1);
}

static void drm_gpusvm_test_userptr_tracking_is_bounded_and_released(struct kunit *test)
{
	struct gt_userptr *u;
	unsigned long addr;

	addr = gt_mmap(test, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	u = gt_userptr_new(test, addr, 8);
	u->svm.max_tracked_pages = 7;
	KUNIT_EXPECT_EQ(test, gt_userptr_get(u, addr,
					     &(struct drm_gpusvm_ctx){}),
			-ENOMEM);
	KUNIT_EXPECT_NULL(test, u->pages.dma_addr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&u->svm.tracked_pages), 0);

	u->svm.max_tracked_pages = 8;
	KUNIT_ASSERT_EQ(test, gt_userptr_get(u, addr,
					     &(struct drm_gpusvm_ctx){}), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&u->svm.tracked_pages), 8);
	KUNIT_EXPECT_EQ(test, atomic64_read(&u->svm.stats.dma_maps), 8);
	gt_userptr_del(u);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&u->svm.tracked_pages), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&u->svm.stats.dma_unmaps), 8);
}

static struct kunit_case drm_gpusvm_tests[] = {
	KUNIT_CASE(drm_gpusvm_test_init_rejects_missing_invalidate_or_chunks),
	KUNIT_CASE(drm_gpusvm_test_init_pages_only_rejects_svm_arguments),
	KUNIT_CASE(drm_gpusvm_test_init_grabs_mm_and_fini_drops_it),
	KUNIT_CASE(drm_gpusvm_test_fini_frees_every_range_and_notifier),
	KUNIT_CASE(drm_gpusvm_test_insert_rejects_address_outside_svm),
	KUNIT_CASE(drm_gpusvm_test_insert_without_vma_is_enoent_and_leaves_no_notifier),
	KUNIT_CASE(drm_gpusvm_test_insert_read_only_vma_needs_read_only_ctx),
	KUNIT_CASE(drm_gpusvm_test_chunk_is_2m_in_aligned_large_vma),
	KUNIT_CASE(drm_gpusvm_test_chunk_is_64k_when_2m_crosses_vma),
	KUNIT_CASE(drm_gpusvm_test_chunk_is_4k_in_small_vma),
	KUNIT_CASE(drm_gpusvm_test_chunk_stays_inside_gpuva_bounds),
	KUNIT_CASE(drm_gpusvm_test_chunk_shrinks_to_avoid_existing_range),
	KUNIT_CASE(drm_gpusvm_test_insert_returns_existing_range),
	KUNIT_CASE(drm_gpusvm_test_notifier_shared_within_window_only),
	KUNIT_CASE(drm_gpusvm_test_last_range_removal_drops_notifier),
	KUNIT_CASE(drm_gpusvm_test_migrate_devmem_set_only_if_devmem_possible),
	KUNIT_CASE(drm_gpusvm_test_has_mapping_covers_tracked_ranges_only),
	KUNIT_CASE(drm_gpusvm_test_check_pages_threshold_shrinks_unpopulated_chunk),
	KUNIT_CASE(drm_gpusvm_test_find_vma_start_returns_first_vma_or_ulong_max),
	KUNIT_CASE(drm_gpusvm_test_get_pages_maps_the_cpu_pages),
	KUNIT_CASE(drm_gpusvm_test_get_pages_faults_in_private_writable_pages),
	KUNIT_CASE(drm_gpusvm_test_get_pages_without_drm_device_is_einval),
	KUNIT_CASE(drm_gpusvm_test_get_pages_reuses_a_valid_mapping),
	KUNIT_CASE(drm_gpusvm_test_get_pages_fills_the_callers_hmm_pfns),
	KUNIT_CASE(drm_gpusvm_test_get_pages_maps_a_thp_as_one_entry),
	KUNIT_CASE(drm_gpusvm_test_get_pages_merges_physically_contiguous_pages),
	KUNIT_CASE(drm_gpusvm_test_get_pages_allocates_a_slot_per_entry),
	KUNIT_CASE(drm_gpusvm_test_read_only_ctx_maps_zero_page_to_device),
	KUNIT_CASE(drm_gpusvm_test_read_only_vma_maps_for_read_with_read_only_ctx),
	KUNIT_CASE(drm_gpusvm_test_write_after_read_mapping_maps_writable_pages),
	KUNIT_CASE(drm_gpusvm_test_read_after_write_mapping_keeps_it_writable),
	KUNIT_CASE(drm_gpusvm_test_write_mapping_dirties_clean_pages),
	KUNIT_CASE(drm_gpusvm_test_device_write_survives_madv_free_and_pageout),
	KUNIT_CASE(drm_gpusvm_test_munmap_invalidates_and_marks_unmapped),
	KUNIT_CASE(drm_gpusvm_test_partial_munmap_sets_partial_unmap),
	KUNIT_CASE(drm_gpusvm_test_gc_removes_unmapped_range_and_notifier),
	KUNIT_CASE(drm_gpusvm_test_mprotect_invalidates_without_unmapping),
	KUNIT_CASE(drm_gpusvm_test_madv_dontneed_invalidates_and_refault_maps_new_pages),
	KUNIT_CASE(drm_gpusvm_test_invalidation_elsewhere_in_notifier_keeps_range_valid),
	KUNIT_CASE(drm_gpusvm_test_unmap_pages_outside_notifier_invalidates),
	KUNIT_CASE(drm_gpusvm_test_notifier_seq_goes_stale_until_refault),
	KUNIT_CASE(drm_gpusvm_test_nonblockable_invalidation_is_refused),
	KUNIT_CASE(drm_gpusvm_test_range_reference_outlives_removal),
	KUNIT_CASE(drm_gpusvm_test_scan_mm_reports_unpopulated_then_system),
	KUNIT_CASE(drm_gpusvm_test_own_exclusive_event_is_ignored),
	KUNIT_CASE(drm_gpusvm_test_other_context_exclusive_event_invalidates),
	KUNIT_CASE(drm_gpusvm_test_exclusive_event_without_owner_invalidates),
	KUNIT_CASE(drm_gpusvm_test_get_pfns_faults_only_the_mask),
	KUNIT_CASE(drm_gpusvm_test_get_pfns_write_fault_ignores_read_only_neighbours),
	KUNIT_CASE(drm_gpusvm_test_get_pfns_leaves_exclusive_pages_outside_the_mask),
	KUNIT_CASE(drm_gpusvm_test_userptr_pages_follow_their_own_notifier),
	KUNIT_CASE(drm_gpusvm_test_userptr_read_only_memory_needs_read_only_ctx),
	KUNIT_CASE(drm_gpusvm_test_userptr_invalidation_unmaps_and_maps_only_its_entry),
	KUNIT_CASE(drm_gpusvm_test_userptr_hole_of_a_new_page_maps_the_new_page),
	KUNIT_CASE(drm_gpusvm_test_stats_count_get_pages_maps_and_invalidations),
	KUNIT_CASE(drm_gpusvm_test_tracking_is_bounded_with_enomem),
	KUNIT_CASE(drm_gpusvm_test_userptr_tracking_is_bounded_and_released),
	{}
};

static struct kunit_suite drm_gpusvm_test_suite = {
	.name = "drm_gpusvm",
	.init = gt_init,
	.exit = gt_exit,
	.test_cases = drm_gpusvm_tests,
};

kunit_test_suite(drm_gpusvm_test_suite);

MODULE_DESCRIPTION("KUnit tests for the DRM GPU SVM helper");
MODULE_LICENSE("GPL");
