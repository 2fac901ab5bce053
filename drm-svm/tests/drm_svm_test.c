// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests for the drm_svm helper.
 *
 * The tests mirror real user memory: kunit_vm_mmap() attaches an mm to the
 * test thread, and the tests act on it through the in-kernel paths behind
 * munmap, mprotect, mmap(MAP_FIXED) and madvise.
 */

#include <kunit/device.h>
#include <kunit/test.h>

#include <linux/completion.h>
#include <linux/debug_locks.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/memremap.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <asm/tlb.h>

#include <drm/drm_svm.h>

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define TEST_MAX_RANGES	8

struct svm_test {
	struct kunit *test;
	struct device *dev;
	struct drm_svm svm;
	bool svm_live;
	struct drm_svm_range *ranges[TEST_MAX_RANGES];

	/* What the invalidate callback saw. */
	atomic_t inval_calls;
	enum mmu_notifier_event last_event;
	unsigned long last_start, last_end;
	bool lock_held_in_inval;

	/* test_after_fault hook: invalidate the first hook_limit times. */
	int hook_calls;
	int hook_limit;

	/* Mirror mode: what the commit callback saw. */
	int commit_calls;
	bool commit_bad;
	void *last_inval_owner;
	bool saw_release;
	/* range_alloc / range_free accounting. */
	atomic_t allocs;
	atomic_t frees;
	/* mm dropped by the exit-in-flight hook. */
	struct mm_struct *drop_mm;
	/* What the commit_atomic callback saw. */
	int atomic_calls;
	unsigned long atomic_addr;
	u32 atomic_word;
};

static void svm_test_invalidate(struct drm_svm *svm,
				struct drm_svm_range *range,
				const struct mmu_notifier_range *mmu_range)
{
	struct svm_test *t = container_of(svm, struct svm_test, svm);

	t->lock_held_in_inval = rwsem_is_locked(&svm->notifier_lock);
	t->last_event = mmu_range->event;
	t->last_start = mmu_range->start;
	t->last_end = mmu_range->end;
	t->last_inval_owner = mmu_range->owner;
	if (mmu_range->event == MMU_NOTIFY_RELEASE)
		t->saw_release = true;
	atomic_inc(&t->inval_calls);
}

static const struct drm_svm_ops svm_test_ops = {
	.invalidate = svm_test_invalidate,
};

static int svm_test_init(struct kunit *test)
{
	struct svm_test *t;
	unsigned long addr;
	int ret;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->test = test;
	test->priv = t;

	/* The first mapping attaches an mm to the test thread. */
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "no user mm for the test");
	KUNIT_ASSERT_NOT_NULL(test, current->mm);

	t->dev = kunit_device_register(test, "drm_svm_test");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->dev);
	ret = dma_coerce_mask_and_coherent(t->dev, DMA_BIT_MASK(64));
	KUNIT_ASSERT_EQ(test, ret, 0);

	ret = drm_svm_init(&t->svm, t->dev, current->mm, &svm_test_ops, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	t->svm_live = true;

	return 0;
}

/* Runs in the cleanup thread, after the test thread's mm has exited. */
static void svm_test_exit(struct kunit *test)
{
	struct svm_test *t = test->priv;
	int i;

	if (!t)
		return;
	for (i = 0; i < TEST_MAX_RANGES; i++)
		if (t->ranges[i])
			drm_svm_range_fini(t->ranges[i]);
	if (t->svm_live) {
		drm_svm_mirror_fini(&t->svm);
		drm_svm_fini(&t->svm);
	}
}

/* Initialise a range that svm_test_exit() finalises if the test does not. */
static int svm_range_new(struct svm_test *t, struct drm_svm_range **out,
			 unsigned long start, unsigned long size,
			 unsigned long flags)
{
	struct drm_svm_range *range;
	int i, ret;

	range = kunit_kzalloc(t->test, sizeof(*range), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(t->test, range);
	ret = drm_svm_range_init(&t->svm, range, start, size, flags);
	if (ret)
		return ret;
	for (i = 0; i < TEST_MAX_RANGES; i++) {
		if (!t->ranges[i]) {
			t->ranges[i] = range;
			*out = range;
			return 0;
		}
	}
	drm_svm_range_fini(range);
	return -ENOSPC;
}

static void svm_range_del(struct svm_test *t, struct drm_svm_range *range)
{
	int i;

	for (i = 0; i < TEST_MAX_RANGES; i++)
		if (t->ranges[i] == range)
			t->ranges[i] = NULL;
	drm_svm_range_fini(range);
}

static unsigned long svm_mmap(struct kunit *test, unsigned long len,
			      unsigned long prot)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, len, prot,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return addr;
}

/* Write a per-page pattern through the CPU page tables. */
static void svm_fill(struct kunit *test, unsigned long addr,
		     unsigned long npages, u32 seed)
{
	unsigned long i;
	u32 v;

	for (i = 0; i < npages; i++) {
		v = seed + i;
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)(addr + i * PAGE_SIZE),
						   &v, sizeof(v)), 0);
	}
}

static u32 svm_page_word(struct page *page)
{
	u32 *p = kmap_local_page(page);
	u32 v = *p;

	kunmap_local(p);
	return v;
}

static bool svm_valid(struct drm_svm_range *range)
{
	bool valid;

	drm_svm_notifier_lock(range->svm);
	valid = drm_svm_range_pages_valid(range);
	drm_svm_notifier_unlock(range->svm);
	return valid;
}

static unsigned long svm_nsegs(struct drm_svm_range *range)
{
	unsigned long n;

	drm_svm_notifier_lock(range->svm);
	n = drm_svm_range_dma_nsegs(range);
	drm_svm_notifier_unlock(range->svm);
	return n;
}

static void svm_stats(struct svm_test *t, struct drm_svm_stats_snapshot *s)
{
	drm_svm_stats_read(&t->svm, s);
}

/* mprotect() without the syscall wrapper: the same mprotect_fixup() path. */
static int svm_mprotect_ro(struct mm_struct *mm, unsigned long start,
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

/* Invalidate the whole range through MADV_DONTNEED. */
static void svm_hook_dontneed(struct drm_svm_range *range)
{
	struct svm_test *t = container_of(range->svm, struct svm_test, svm);

	t->hook_calls++;
	if (t->hook_limit < 0 || t->hook_calls <= t->hook_limit)
		do_madvise(current->mm, range->start,
			   range->end - range->start, MADV_DONTNEED);
}

/* ---------------------------------------------------------------------- */

static void drm_svm_test_range_insert_remove(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr;

	addr = svm_mmap(test, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, 8 * PAGE_SIZE, 0), 0);

	KUNIT_EXPECT_EQ(test, range->start, addr);
	KUNIT_EXPECT_EQ(test, range->end, addr + 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_svm_range_npages(range), 8UL);
	KUNIT_EXPECT_EQ(test, range->notifier.interval_tree.start, addr);
	KUNIT_EXPECT_EQ(test, range->notifier.interval_tree.last,
			addr + 8 * PAGE_SIZE - 1);
	KUNIT_EXPECT_PTR_EQ(test, range->notifier.mm, current->mm);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(range));

	/* Nothing is faulted until get_pages. */
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 0ULL);

	svm_range_del(t, range);
	/* The notifier is gone: munmap no longer calls back. */
	vm_munmap(addr, 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);
}

static void drm_svm_test_bad_input(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range range;
	struct drm_svm svm;
	unsigned long addr, top;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	top = current->mm->task_size;

	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, addr, 0, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, addr + 1,
						 PAGE_SIZE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, addr,
						 PAGE_SIZE + 8, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, PAGE_MASK,
						 2 * PAGE_SIZE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, addr,
						 PAGE_SIZE, BIT(5)), -EINVAL);
	/* Kernel addresses and the end of the user address space. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, PAGE_OFFSET,
						 PAGE_SIZE, 0), -EFAULT);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range,
						 top - PAGE_SIZE, 2 * PAGE_SIZE,
						 0), -EFAULT);
	/* Valid but absurd: larger than the tracking cap (4 x RAM). */
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t->svm, &range, PAGE_SIZE,
						 (top >> 1) & PAGE_MASK, 0),
			-ENOMEM);

	/* drm_svm_init() argument checks. */
	KUNIT_EXPECT_EQ(test, drm_svm_init(&svm, t->dev, NULL, &svm_test_ops,
					   NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_init(&svm, t->dev, current->mm, NULL,
					   NULL), -EINVAL);

	/* None of these left a notifier behind. */
	vm_munmap(addr, 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);
}

static void drm_svm_test_get_pages_populated(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 16;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, i, nsegs;

	addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	svm_fill(test, addr, npages, 0x1000);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, npages * PAGE_SIZE,
					    0), 0);

	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);

	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(range));
	nsegs = drm_svm_range_dma_nsegs(range);
	KUNIT_EXPECT_GE(test, nsegs, 1UL);
	KUNIT_EXPECT_LE(test, nsegs, npages);
	for (i = 0; i < npages; i++) {
		dma_addr_t dma = drm_svm_range_dma_addr(range, i);
		struct page *page = drm_svm_range_page(range, i);

		KUNIT_EXPECT_EQ(test, svm_page_word(page), 0x1000 + i);
		KUNIT_EXPECT_NE(test, dma, DMA_MAPPING_ERROR);
		/* dma-direct, no IOMMU: the bus address is the physical one. */
		KUNIT_EXPECT_EQ(test, (u64)dma, (u64)page_to_phys(page));
		KUNIT_EXPECT_TRUE(test, drm_svm_range_page_writable(range, i));
	}
	KUNIT_EXPECT_EQ(test, drm_svm_range_dma_addr(range, npages),
			DMA_MAPPING_ERROR);
	drm_svm_notifier_unlock(&t->svm);

	/* Valid pages: the second call does not fault again. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.retries, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_maps, (u64)nsegs);

	svm_range_del(t, range);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);
}

static void drm_svm_test_get_pages_unpopulated(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 8;
	struct drm_svm_range *range;
	unsigned long addr, i;
	u32 v;

	addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, npages * PAGE_SIZE,
					    0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);

	/* Write through the mirrored pages, read back through the CPU. */
	drm_svm_notifier_lock(&t->svm);
	KUNIT_ASSERT_TRUE(test, drm_svm_range_pages_valid(range));
	for (i = 0; i < npages; i++) {
		struct page *page = drm_svm_range_page(range, i);
		u32 *p = kmap_local_page(page);

		KUNIT_EXPECT_NE(test, page_to_pfn(page),
				my_zero_pfn(addr + i * PAGE_SIZE));
		*p = 0xabc0 + i;
		kunmap_local(p);
	}
	drm_svm_notifier_unlock(&t->svm);

	for (i = 0; i < npages; i++) {
		KUNIT_ASSERT_EQ(test, copy_from_user(&v, (void __user *)(addr + i * PAGE_SIZE),
						     sizeof(v)), 0);
		KUNIT_EXPECT_EQ(test, v, 0xabc0 + i);
	}
	/* Reading back did not invalidate anything. */
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
}

static void drm_svm_test_thp(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = HPAGE_PMD_NR;
	struct drm_svm_range *range;
	unsigned long addr, aligned, i, seq;
	struct sg_table sgt;
	struct folio *folio;
	dma_addr_t base;
	int ret;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		kunit_skip(test, "CONFIG_TRANSPARENT_HUGEPAGE is off");

	addr = svm_mmap(test, 2 * HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE);
	aligned = ALIGN(addr, HPAGE_PMD_SIZE);
	ret = do_madvise(current->mm, aligned, HPAGE_PMD_SIZE, MADV_HUGEPAGE);
	KUNIT_ASSERT_EQ(test, ret, 0);

	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, aligned, HPAGE_PMD_SIZE,
					    0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);

	drm_svm_notifier_lock(&t->svm);
	KUNIT_ASSERT_TRUE(test, drm_svm_range_pages_valid(range));
	folio = page_folio(drm_svm_range_page(range, 0));
	if (folio_order(folio) < HPAGE_PMD_ORDER) {
		drm_svm_notifier_unlock(&t->svm);
		kunit_skip(test, "no THP could be allocated (order %u folio)",
			   folio_order(folio));
	}
	KUNIT_EXPECT_EQ(test, drm_svm_range_dma_nsegs(range), 1UL);
	base = drm_svm_range_dma_addr(range, 0);
	for (i = 0; i < npages; i++)
		if (drm_svm_range_dma_addr(range, i) != base + i * PAGE_SIZE)
			break;
	KUNIT_EXPECT_EQ(test, i, npages);
	drm_svm_notifier_unlock(&t->svm);

	/* The sg_table describes the same single mapping. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_sgt(range, &sgt, &seq), 0);
	KUNIT_EXPECT_EQ(test, sgt.nents, 1U);
	KUNIT_EXPECT_EQ(test, sg_dma_address(sgt.sgl), base);
	KUNIT_EXPECT_EQ(test, sg_dma_len(sgt.sgl), (unsigned int)HPAGE_PMD_SIZE);
	KUNIT_EXPECT_EQ(test, seq, range->notifier_seq);
	sg_free_table(&sgt);
}

static void drm_svm_test_sgt(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 12;
	struct drm_svm_range *range;
	struct scatterlist *sg;
	unsigned long addr, total = 0;
	struct sg_table sgt;
	unsigned int i;

	addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, npages * PAGE_SIZE,
					    0), 0);
	/* No pages yet. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_sgt(range, &sgt, NULL), -EAGAIN);

	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_sgt(range, &sgt, NULL), 0);
	KUNIT_EXPECT_EQ(test, (unsigned long)sgt.nents, svm_nsegs(range));
	for_each_sgtable_dma_sg(&sgt, sg, i)
		total += sg_dma_len(sg);
	KUNIT_EXPECT_EQ(test, total, npages * PAGE_SIZE);
	sg_free_table(&sgt);

	do_madvise(current->mm, addr, PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_sgt(range, &sgt, NULL), -EAGAIN);
}

/*
 * Tracking memory is per published page, not per page of virtual size: a
 * range larger than RAM costs nothing until it is faulted, and what a
 * fault allocates is freed when the range is invalidated.
 */
static void drm_svm_test_tracking(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long big_size = 2 * (totalram_pages() << PAGE_SHIFT);
	struct drm_svm_range *big;
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, big_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &big, addr, big_size, 0), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(big));
	KUNIT_EXPECT_NULL(test, big->hmm_pfns);
	KUNIT_EXPECT_NULL(test, big->dma_addr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
	svm_range_del(t, big);
	vm_munmap(addr, big_size);
}

/* Bytes of tracking memory per published page, and the per-svm cap. */
static void drm_svm_test_tracking_published(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 512;
	struct drm_svm_range *range;
	unsigned long addr, bytes;

	addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, npages * PAGE_SIZE,
					    0), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages),
			(long)npages);
	drm_svm_notifier_lock(&t->svm);
	/* dma-direct without IOMMU: DMA addresses lead back to the pages. */
	KUNIT_EXPECT_NULL(test, range->hmm_pfns);
	bytes = ksize(range->dma_addr) +
		(range->hmm_pfns ? ksize(range->hmm_pfns) : 0);
	drm_svm_notifier_unlock(&t->svm);
	kunit_info(test, "tracking memory: %lu bytes for %lu published pages (%lu.%02lu bytes/page), 0 when unpublished\n",
		   bytes, npages, bytes / npages, (bytes % npages) * 100 / npages);
	KUNIT_EXPECT_LE(test, bytes, npages * 8);

	/* Invalidated and not revalidated: freed. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_NULL(test, range->hmm_pfns);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);

	/* Over the cap: -ENOMEM, nothing allocated. */
	drm_svm_set_max_pages(&t->svm, npages - 1);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
	drm_svm_set_max_pages(&t->svm, npages);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));

	svm_range_del(t, range);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
}

/*
 * Issue 8 item 5: ZONE_DEVICE pages the helper cannot DMA-map as RAM are
 * refused. A crafted struct page stands in for each kind of device
 * memory (the guest has no P2PDMA or coherent device memory to fault).
 */
static void drm_svm_test_zone_device(struct kunit *test)
{
	static const struct {
		enum memory_type type;
		int ret;
	} cases[] = {
		{ MEMORY_DEVICE_PRIVATE, 0 },
		{ MEMORY_DEVICE_FS_DAX, 0 },
		{ MEMORY_DEVICE_COHERENT, -EOPNOTSUPP },
		{ MEMORY_DEVICE_GENERIC, -EOPNOTSUPP },
		{ MEMORY_DEVICE_PCI_P2PDMA, -EOPNOTSUPP },
	};
	struct dev_pagemap *pgmap;
	struct page *page, *ram;
	int i;

	if (!IS_ENABLED(CONFIG_ZONE_DEVICE))
		kunit_skip(test, "no CONFIG_ZONE_DEVICE");
	ram = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ram);
	KUNIT_EXPECT_EQ(test, drm_svm_check_page(ram), 0);
	__free_page(ram);

	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	pgmap = kunit_kzalloc(test, sizeof(*pgmap), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, pgmap);
#ifdef CONFIG_ZONE_DEVICE
	set_page_zone(page, ZONE_DEVICE);
#endif
	page->pgmap = pgmap;
	KUNIT_ASSERT_TRUE(test, is_zone_device_page(page));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pgmap->type = cases[i].type;
		KUNIT_EXPECT_EQ_MSG(test, drm_svm_check_page(page),
				    cases[i].ret, "memory type %d",
				    cases[i].type);
	}
}

/*
 * Issue 8 item 6: drm_svm_range_get_sgt() refuses (-E2BIG) what an
 * sg_table cannot describe instead of truncating it: a DMA mapping longer
 * than an entry's unsigned int length, more mappings than the table's
 * unsigned int count (driven through a lower limit).
 */
static void drm_svm_test_sgt_limits(struct kunit *test)
{
	const unsigned long max_pages = UINT_MAX >> PAGE_SHIFT;
	unsigned int nents = 0;
	u64 *ent;
	unsigned long i;

	/* One mapping of max_pages + 1 pages, as one head and its tail. */
	ent = kvcalloc(max_pages + 1, sizeof(*ent), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ent);
	for (i = 0; i <= max_pages; i++)
		ent[i] = (u64)i << PAGE_SHIFT;
	ent[0] |= DRM_SVM_ENT_HEAD;
	KUNIT_EXPECT_EQ(test, drm_svm_sgt_nents(ent, max_pages, UINT_MAX,
						&nents), 0);
	KUNIT_EXPECT_EQ(test, nents, 1U);
	KUNIT_EXPECT_EQ(test, drm_svm_sgt_nents(ent, max_pages + 1, UINT_MAX,
						&nents), -E2BIG);

	/* Three mappings: fine with room for three, -E2BIG with two. */
	ent[1] |= DRM_SVM_ENT_HEAD;
	ent[2] |= DRM_SVM_ENT_HEAD;
	KUNIT_EXPECT_EQ(test, drm_svm_sgt_nents(ent, 3, 3, &nents), 0);
	KUNIT_EXPECT_EQ(test, nents, 3U);
	KUNIT_EXPECT_EQ(test, drm_svm_sgt_nents(ent, 3, 2, &nents), -E2BIG);
	/* Not DMA-mapped pages are not in the table. */
	ent[1] = DRM_SVM_ENT_PHYS;
	KUNIT_EXPECT_EQ(test, drm_svm_sgt_nents(ent, 3, 2, &nents), 0);
	KUNIT_EXPECT_EQ(test, nents, 2U);
	kvfree(ent);
}

static void drm_svm_test_read_only(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *rw, *ro;
	unsigned long addr;
	bool writable;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &rw, addr, 4 * PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &ro, addr, 4 * PAGE_SIZE,
					    DRM_SVM_RANGE_READ_ONLY), 0);

	/* A writable range over a read-only VMA. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(rw, 0), -EPERM);
	KUNIT_EXPECT_FALSE(test, svm_valid(rw));

	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(ro, 0), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(ro));
	KUNIT_EXPECT_GE(test, svm_nsegs(ro), 1UL);
	/* Read-only: the device may write no page (DMA_TO_DEVICE). */
	drm_svm_notifier_lock(&t->svm);
	writable = drm_svm_range_writable(ro) ||
		   drm_svm_range_page_writable(ro, 0);
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_FALSE(test, writable);
}

static void drm_svm_test_anon_only(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *anon, *any;
	const unsigned long len = 4 * PAGE_SIZE;
	unsigned long addr;
	struct file *file;

	if (!IS_ENABLED(CONFIG_SHMEM))
		kunit_skip(test, "no shmem to make a file-backed VMA");

	file = shmem_file_setup("drm_svm_test", len, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	addr = kunit_vm_mmap(test, file, 0, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, 0);
	fput(file);
	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));

	KUNIT_ASSERT_EQ(test, svm_range_new(t, &anon, addr, len,
					    DRM_SVM_RANGE_ANON_ONLY), 0);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &any, addr, len, 0), 0);

	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(anon, 0), -EPERM);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(any, 0), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(any));
}

static void drm_svm_test_bad_vmas(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *hole, *io;
	struct vm_area_struct *vma;
	unsigned long addr;

	/* A hole in the middle of the range. */
	addr = svm_mmap(test, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	vm_munmap(addr + PAGE_SIZE, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &hole, addr, 3 * PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(hole, 0), -EFAULT);

	/*
	 * VM_IO: no user-reachable driver hands out such VMAs here, so mark
	 * an (empty) anonymous VMA the way remap_pfn_range() would.
	 */
	addr = svm_mmap(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mmap_write_lock(current->mm);
	vma = vma_lookup(current->mm, addr);
	KUNIT_ASSERT_NOT_NULL(test, vma);
	vm_flags_set(vma, VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	mmap_write_unlock(current->mm);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &io, addr, 2 * PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(io, 0), -EFAULT);
	KUNIT_EXPECT_FALSE(test, svm_valid(io));
}

static void drm_svm_test_mm_gone(struct kunit *test)
{
	struct svm_test *t = test->priv, *t2;
	struct drm_svm_range range, other;
	struct mm_struct *mm;
	int ret;

	/* A second address space, owned by nobody but this test. */
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	mm->task_size = TASK_SIZE;

	t2 = kunit_kzalloc(test, sizeof(*t2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t2);
	KUNIT_ASSERT_EQ(test, drm_svm_init(&t2->svm, t->dev, mm, &svm_test_ops,
					   NULL), 0);

	ret = drm_svm_range_init(&t2->svm, &range, SZ_1M, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* Nothing mapped there in that mm. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(&range, 0), -EFAULT);

	/* The last user goes away: exit_mmap() releases the notifiers. */
	mmput(mm);
	KUNIT_EXPECT_EQ(test, atomic_read(&t2->inval_calls), 1);
	KUNIT_EXPECT_EQ(test, t2->last_event, MMU_NOTIFY_RELEASE);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_unmapped(&range));
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(&range, 0), -ESRCH);
	KUNIT_EXPECT_EQ(test, drm_svm_range_init(&t2->svm, &other, SZ_1M,
						 PAGE_SIZE, 0), -ESRCH);

	/* Teardown works on a dead mm; drm_svm_fini() drops the last ref. */
	drm_svm_range_fini(&range);
	drm_svm_fini(&t2->svm);
}

/*
 * drm_svm_registry: one svm per mm. Userptr objects of one process created
 * in two GPU VMs (two gets) share one svm and so one notifier lock; another
 * mm gets its own; the last put tears the svm down.
 */
static void drm_svm_test_registry(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range r1, r2, r3;
	struct drm_svm_registry reg;
	struct drm_svm *a, *b, *c;
	struct mm_struct *mm;
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, 0);
	KUNIT_ASSERT_NE(test, addr, 0);
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	mm->task_size = TASK_SIZE;

	drm_svm_registry_init(&reg, t->dev, &svm_test_ops, NULL);
	a = drm_svm_registry_get(&reg, current->mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = drm_svm_registry_get(&reg, current->mm);
	KUNIT_EXPECT_PTR_EQ(test, a, b);
	c = drm_svm_registry_get(&reg, mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_EXPECT_PTR_NE(test, a, c);
	KUNIT_EXPECT_PTR_EQ(test, c->mm, mm);
	KUNIT_EXPECT_PTR_EQ(test, a->dev, t->dev);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&reg.list), 2);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_registry_get(&reg, NULL),
			    ERR_PTR(-EINVAL));

	/* Two "VMs" of one process: one commit covers both objects. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_init(a, &r1, addr, PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_init(b, &r2, addr + PAGE_SIZE,
						 PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(&r1, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(&r2, 0), 0);
	drm_svm_notifier_lock(a);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(&r1));
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(&r2));
	drm_svm_notifier_unlock(a);
	KUNIT_ASSERT_EQ(test, drm_svm_range_init(c, &r3, SZ_1M, PAGE_SIZE, 0),
			0);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(&r3, 0), -EFAULT);

	/* One VM goes: the svm stays for the other one. */
	drm_svm_range_fini(&r2);
	drm_svm_registry_put(b);
	b = drm_svm_registry_get(&reg, current->mm);
	KUNIT_EXPECT_PTR_EQ(test, a, b);
	drm_svm_registry_put(b);
	drm_svm_range_fini(&r1);
	drm_svm_registry_put(a);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&reg.list), 1);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&reg.list, struct drm_svm,
						   registry_link), c);
	drm_svm_range_fini(&r3);
	drm_svm_registry_put(c);
	KUNIT_EXPECT_TRUE(test, list_empty(&reg.list));
	drm_svm_registry_fini(&reg);
	mmput(mm);
}

static struct kunit_case drm_svm_tests[] = {
	KUNIT_CASE(drm_svm_test_range_insert_remove),
	KUNIT_CASE(drm_svm_test_bad_input),
	KUNIT_CASE(drm_svm_test_get_pages_populated),
	KUNIT_CASE(drm_svm_test_get_pages_unpopulated),
	KUNIT_CASE(drm_svm_test_thp),
	KUNIT_CASE(drm_svm_test_sgt),
	KUNIT_CASE(drm_svm_test_tracking),
	KUNIT_CASE(drm_svm_test_tracking_published),
	KUNIT_CASE(drm_svm_test_zone_device),
	KUNIT_CASE(drm_svm_test_sgt_limits),
	KUNIT_CASE(drm_svm_test_read_only),
	KUNIT_CASE(drm_svm_test_anon_only),
	KUNIT_CASE(drm_svm_test_bad_vmas),
	KUNIT_CASE(drm_svm_test_mm_gone),
	KUNIT_CASE(drm_svm_test_registry),
	{}
};

static struct kunit_suite drm_svm_suite = {
	.name = "drm_svm",
	.init = svm_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_tests,
};

/* ---------------------------------------------------------------------- */

/* Map, populate and mirror npages; returns the range, *addr the memory. */
static struct drm_svm_range *svm_mirrored(struct kunit *test,
					  unsigned long npages,
					  unsigned long *addr)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;

	*addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	svm_fill(test, *addr, npages, 0x5000);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, *addr,
					    npages * PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_ASSERT_TRUE(test, svm_valid(range));
	KUNIT_ASSERT_GE(test, svm_nsegs(range), 1UL);
	return range;
}

/* Common checks after an invalidation of a mirrored range. */
static void svm_expect_invalidated(struct kunit *test,
				   struct drm_svm_range *range,
				   unsigned long old_seq,
				   enum mmu_notifier_event event)
{
	struct svm_test *t = test->priv;
	unsigned long i;
	bool tracked;

	KUNIT_EXPECT_GE(test, atomic_read(&t->inval_calls), 1);
	KUNIT_EXPECT_EQ(test, t->last_event, event);
	KUNIT_EXPECT_TRUE(test, t->lock_held_in_inval);
	KUNIT_EXPECT_NE(test, READ_ONCE(range->notifier.invalidate_seq), old_seq);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, svm_nsegs(range), 0UL);

	/* Invalidated and not revalidated: no tracking memory left. */
	drm_svm_notifier_lock(range->svm);
	for (i = 0; i < range->npages; i++)
		if (drm_svm_range_dma_addr(range, i) != DMA_MAPPING_ERROR ||
		    drm_svm_range_page(range, i))
			break;
	tracked = range->hmm_pfns || range->dma_addr;
	drm_svm_notifier_unlock(range->svm);
	/* Outside the lock: a failing expectation allocates. */
	KUNIT_EXPECT_EQ(test, i, range->npages);
	KUNIT_EXPECT_FALSE(test, tracked);
}

static void drm_svm_test_inval_munmap(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, seq;

	range = svm_mirrored(test, 8, &addr);
	seq = range->notifier_seq;

	/* Unmap the tail: partial unmap. */
	vm_munmap(addr + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
	svm_expect_invalidated(test, range, seq, MMU_NOTIFY_UNMAP);
	KUNIT_EXPECT_EQ(test, t->last_start, addr + 4 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_partially_unmapped(range));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(range));
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), -EFAULT);

	/*
	 * Unmap the rest: still only "partial" (no single event covered the
	 * range), and nothing left to fault.
	 */
	vm_munmap(addr, 4 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_partially_unmapped(range));
	KUNIT_EXPECT_EQ(test, t->last_start, addr);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), -EFAULT);

	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.invalidations, 2ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);
}

static void drm_svm_test_inval_mprotect(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range, *ro;
	unsigned long addr, seq;

	range = svm_mirrored(test, 8, &addr);
	seq = range->notifier_seq;

	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, addr,
					      addr + 8 * PAGE_SIZE), 0);
	svm_expect_invalidated(test, range, seq, MMU_NOTIFY_PROTECTION_VMA);
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(range));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_partially_unmapped(range));

	/* Writable mirror of now read-only memory: -EPERM. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), -EPERM);

	/* A read-only mirror still works and sees the data. */
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &ro, addr, 8 * PAGE_SIZE,
					    DRM_SVM_RANGE_READ_ONLY), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(ro, 0), 0);
	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(ro));
	KUNIT_EXPECT_EQ(test, svm_page_word(drm_svm_range_page(ro, 3)),
			0x5000 + 3);
	drm_svm_notifier_unlock(&t->svm);
}

static void drm_svm_test_inval_remap(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	unsigned long addr, seq, ret;
	struct page *old;

	range = svm_mirrored(test, 4, &addr);
	seq = range->notifier_seq;
	drm_svm_notifier_lock(&t->svm);
	old = drm_svm_range_page(range, 0);
	drm_svm_notifier_unlock(&t->svm);

	/* mmap(MAP_FIXED) over the mirrored memory. */
	ret = vm_mmap(NULL, addr, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_EQ(test, ret, addr);
	svm_expect_invalidated(test, range, seq, MMU_NOTIFY_UNMAP);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_unmapped(range));

	/* The same addresses now mirror the new, zeroed memory. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(range));
	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(range));
	KUNIT_EXPECT_PTR_NE(test, drm_svm_range_page(range, 0), old);
	KUNIT_EXPECT_EQ(test, svm_page_word(drm_svm_range_page(range, 0)), 0U);
	drm_svm_notifier_unlock(&t->svm);
}

/* Take a reference on each published page and clear its dirty flag. */
static void svm_grab_clean(struct kunit *test, struct drm_svm_range *range,
			   struct folio **folios, unsigned long n)
{
	unsigned long i;
	bool valid;

	drm_svm_notifier_lock(range->svm);
	valid = drm_svm_range_pages_valid(range);
	for (i = 0; valid && i < n; i++) {
		folios[i] = page_folio(drm_svm_range_page(range, i));
		folio_get(folios[i]);
		folio_clear_dirty(folios[i]);
	}
	drm_svm_notifier_unlock(range->svm);
	KUNIT_ASSERT_TRUE(test, valid);
}

static unsigned long svm_put_dirty(struct folio **folios, unsigned long n)
{
	unsigned long i, dirty = 0;

	for (i = 0; i < n; i++) {
		dirty += folio_test_dirty(folios[i]);
		folio_put(folios[i]);
	}
	return dirty;
}

/*
 * The device writes through its own mapping, never through the CPU page
 * tables: the helper must mark the pages of a writable range dirty when it
 * takes them away from the device (invalidation, teardown), or reclaim may
 * drop what the device wrote (clean lazily freed or swap-cache pages).
 */
static void drm_svm_test_dirty(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct folio *folios[4];
	struct drm_svm_range *range, *ro;
	unsigned long addr;

	range = svm_mirrored(test, 4, &addr);
	svm_grab_clean(test, range, folios, 4);
	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, addr,
					      addr + 4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, svm_put_dirty(folios, 4), 4UL);

	/* Teardown of a writable range with published pages. */
	range = svm_mirrored(test, 4, &addr);
	svm_grab_clean(test, range, folios, 4);
	svm_range_del(t, range);
	KUNIT_EXPECT_EQ(test, svm_put_dirty(folios, 4), 4UL);

	/* A read-only range never lets the device write: nothing dirtied. */
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &ro, addr, 4 * PAGE_SIZE,
					    DRM_SVM_RANGE_READ_ONLY), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(ro, 0), 0);
	svm_grab_clean(test, ro, folios, 4);
	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, addr,
					      addr + 4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(ro));
	KUNIT_EXPECT_EQ(test, svm_put_dirty(folios, 4), 0UL);
}

/*
 * DMA addresses that do not lead back to the pages (IOMMU, swiotlb): the
 * helper keeps the pfns, and pages, write permission and dirtying work
 * as with dma-direct.
 */
static void drm_svm_test_untranslatable(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 4;
	struct page *pages[4];
	struct folio *folios[4];
	struct drm_svm_range *range;
	unsigned long addr, i;

	range = svm_mirrored(test, npages, &addr);
	drm_svm_notifier_lock(&t->svm);
	for (i = 0; i < npages; i++)
		pages[i] = drm_svm_range_page(range, i);
	drm_svm_notifier_unlock(&t->svm);
	svm_range_del(t, range);

	t->svm.test_untranslatable = true;
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr,
					    npages * PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_NOT_NULL(test, range->hmm_pfns);
	for (i = 0; i < npages; i++) {
		KUNIT_EXPECT_PTR_EQ(test, drm_svm_range_page(range, i),
				    pages[i]);
		KUNIT_EXPECT_TRUE(test, drm_svm_range_page_writable(range, i));
	}
	drm_svm_notifier_unlock(&t->svm);
	svm_grab_clean(test, range, folios, npages);
	svm_range_del(t, range);
	KUNIT_EXPECT_EQ(test, svm_put_dirty(folios, npages), npages);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
}

static void drm_svm_test_inval_dontneed(struct kunit *test)
{
	struct drm_svm_range *range;
	unsigned long addr, seq;

	range = svm_mirrored(test, 4, &addr);
	seq = range->notifier_seq;

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	svm_expect_invalidated(test, range, seq, MMU_NOTIFY_CLEAR);
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(range));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_partially_unmapped(range));

	/* get_pages brings it back. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
}

/*
 * Call the helper's notifier callback as the OOM reaper would: atomic, and
 * with the notifier lock held for read elsewhere if @contended.
 */
static bool svm_nonblock_invalidate(struct drm_svm_range *range,
				    unsigned long cur_seq, bool contended)
{
	struct mmu_notifier_range r;
	bool ret;

	mmu_notifier_range_init(&r, MMU_NOTIFY_UNMAP, 0, range->svm->mm,
				range->start, range->end);
	if (contended)
		drm_svm_notifier_lock(range->svm);
	preempt_disable();
	ret = range->notifier.ops->invalidate(&range->notifier, &r, cur_seq);
	preempt_enable();
	if (contended)
		drm_svm_notifier_unlock(range->svm);

	return ret;
}

static void drm_svm_test_nonblock_unmapped(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, seq, old;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, 4 * PAGE_SIZE, 0),
			0);

	/*
	 * A busy reader holds the notifier lock: the sequence may only move
	 * under that lock (mmu_interval_set_seq()), so the callback cannot
	 * take it without sleeping and must bail out, leaving it alone.
	 */
	old = READ_ONCE(range->notifier.invalidate_seq);
	seq = old + 2;		/* odd, as during an invalidation */
	KUNIT_EXPECT_FALSE(test, svm_nonblock_invalidate(range, seq, true));
	KUNIT_EXPECT_EQ(test, READ_ONCE(range->notifier.invalidate_seq), old);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.nonblock_ok, 0ULL);
	KUNIT_EXPECT_EQ(test, s.nonblock_bailouts, 1ULL);

	/* Uncontended and nothing published: served without sleeping. */
	KUNIT_EXPECT_TRUE(test, svm_nonblock_invalidate(range, seq, false));
	KUNIT_EXPECT_EQ(test, READ_ONCE(range->notifier.invalidate_seq), seq);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);

	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.nonblock_ok, 1ULL);
	KUNIT_EXPECT_EQ(test, s.nonblock_bailouts, 1ULL);

	/* The range is still usable afterwards. */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
}

static void drm_svm_test_nonblock_mapped(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, seq, nsegs;

	range = svm_mirrored(test, 4, &addr);
	nsegs = svm_nsegs(range);

	seq = range->notifier.invalidate_seq + 2;
	KUNIT_EXPECT_FALSE(test, svm_nonblock_invalidate(range, seq, false));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);
	/* Not torn down (that would sleep), but no longer valid. */
	KUNIT_EXPECT_EQ(test, svm_nsegs(range), nsegs);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));

	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.nonblock_ok, 0ULL);
	KUNIT_EXPECT_EQ(test, s.nonblock_bailouts, 1ULL);

	/*
	 * get_pages replaces the stale mapping, and first stops the device,
	 * which may still be using it: the driver sees a CLEAR event.
	 */
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 1);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_CLEAR);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.dma_maps - s.dma_unmaps, (u64)svm_nsegs(range));
}

/*
 * The helper does not migrate pages itself, so a migration or exclusive
 * access by the driver's own pgmap owner takes the system pages away like
 * any other: the published pages and DMA addresses must go.
 */
static void drm_svm_test_owner_events(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const struct mmu_interval_notifier_ops *ops;
	static const enum mmu_notifier_event events[] = {
		MMU_NOTIFY_MIGRATE, MMU_NOTIFY_EXCLUSIVE,
	};
	struct drm_svm_range *range;
	struct mmu_notifier_range r;
	unsigned long addr, seq;
	static int owner;
	int i;

	/* The test svm has no owner; give it one for this case. */
	t->svm.dev_private_owner = &owner;
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		range = svm_mirrored(test, 2, &addr);
		ops = range->notifier.ops;
		seq = range->notifier.invalidate_seq;
		mmu_notifier_range_init_owner(&r, events[i],
					      MMU_NOTIFIER_RANGE_BLOCKABLE,
					      current->mm, addr,
					      addr + PAGE_SIZE, &owner);
		KUNIT_EXPECT_TRUE(test, ops->invalidate(&range->notifier, &r,
							seq + 2));
		svm_expect_invalidated(test, range, seq, events[i]);
		svm_range_del(t, range);
	}
	t->svm.dev_private_owner = NULL;
}

static void drm_svm_test_eagain_no_timeout(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, 4 * PAGE_SIZE, 0),
			0);
	t->hook_limit = -1;
	t->svm.test_after_fault = svm_hook_dontneed;

	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), -EAGAIN);
	t->svm.test_after_fault = NULL;

	KUNIT_EXPECT_EQ(test, t->hook_calls, 1);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.retries, 1ULL);
	KUNIT_EXPECT_EQ(test, s.timeouts, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_maps, 0ULL);
}

static void drm_svm_test_timeout(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr;
	ktime_t t0;
	s64 ms;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, 4 * PAGE_SIZE, 0),
			0);
	t->hook_limit = -1;
	t->svm.test_after_fault = svm_hook_dontneed;

	t0 = ktime_get();
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 50), -EAGAIN);
	ms = ktime_ms_delta(ktime_get(), t0);
	t->svm.test_after_fault = NULL;

	KUNIT_EXPECT_GE(test, ms, 40LL);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.timeouts, 1ULL);
	KUNIT_EXPECT_GE(test, s.retries, 2ULL);
	KUNIT_EXPECT_EQ(test, s.retries, (u64)t->hook_calls);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
}

static void drm_svm_test_retry_succeeds(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, 4 * PAGE_SIZE, 0),
			0);
	t->hook_limit = 3;
	t->svm.test_after_fault = svm_hook_dontneed;

	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);
	t->svm.test_after_fault = NULL;

	KUNIT_EXPECT_EQ(test, t->hook_calls, 4);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.retries, 3ULL);
	KUNIT_EXPECT_EQ(test, s.timeouts, 0ULL);
	KUNIT_EXPECT_EQ(test, s.invalidations, 3ULL);
}

/*
 * A collision without any hook: a writable mirror of memory that is mapped
 * to the zero page makes hmm_range_fault() break COW, which invalidates
 * the very range being faulted.
 */
static void drm_svm_test_cow_collision(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *ro, *rw;
	unsigned long addr;

	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &ro, addr, 4 * PAGE_SIZE,
					    DRM_SVM_RANGE_READ_ONLY), 0);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &rw, addr, 4 * PAGE_SIZE, 0), 0);

	/* Read faults map the shared zero page. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(ro, 0), 0);
	drm_svm_notifier_lock(&t->svm);
	if (page_to_pfn(drm_svm_range_page(ro, 0)) != my_zero_pfn(addr)) {
		drm_svm_notifier_unlock(&t->svm);
		kunit_skip(test, "read fault did not map the zero page");
	}
	drm_svm_notifier_unlock(&t->svm);

	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(rw, 0), -EAGAIN);
	/* The COW break invalidated the read-only mirror too. */
	KUNIT_EXPECT_FALSE(test, svm_valid(ro));
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(rw, 100), 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(rw));

	svm_stats(t, &s);
	KUNIT_EXPECT_GE(test, s.retries, 1ULL);
	KUNIT_EXPECT_EQ(test, s.timeouts, 0ULL);
}

struct svm_stress {
	struct mm_struct *mm;
	unsigned long addr, len;
	atomic_t stop;
	unsigned long loops;
	struct completion done;
};

static int svm_stress_fn(void *data)
{
	struct svm_stress *st = data;

	kthread_use_mm(st->mm);
	while (!atomic_read(&st->stop)) {
		do_madvise(st->mm, st->addr, st->len, MADV_DONTNEED);
		WRITE_ONCE(st->loops, st->loops + 1);
		cond_resched();
	}
	kthread_unuse_mm(st->mm);
	complete(&st->done);
	return 0;
}

/* get_pages and commit checks against a thread zapping the memory. */
static void drm_svm_test_concurrent_invalidate(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	struct task_struct *task;
	struct svm_stress *st;
	int i, ret, ok = 0, again = 0, bad = 0;
	ktime_t end;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->len = 16 * PAGE_SIZE;
	st->addr = svm_mmap(test, st->len, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, st->addr, st->len, 0), 0);
	init_completion(&st->done);
	st->mm = current->mm;
	mmget(st->mm);

	task = kthread_run(svm_stress_fn, st, "drm_svm_stress");
	if (IS_ERR(task)) {
		mmput(st->mm);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}

	/* Let the zapper get going, then race it for 300 ms. */
	for (i = 0; i < 1000 && !READ_ONCE(st->loops); i++)
		usleep_range(1000, 2000);
	end = ktime_add_ms(ktime_get(), 300);
	for (i = 0; ktime_before(ktime_get(), end); i++) {
		cond_resched();
		ret = drm_svm_range_get_pages(range, 5);
		if (ret == -EAGAIN) {
			again++;
			continue;
		}
		if (ret) {
			bad++;
			continue;
		}
		drm_svm_notifier_lock(&t->svm);
		if (drm_svm_range_pages_valid(range)) {
			/* "GPU access": pages stay put while we hold the lock. */
			if (svm_page_word(drm_svm_range_page(range, i % 16)))
				bad++;
			ok++;
		}
		drm_svm_notifier_unlock(&t->svm);
	}

	atomic_set(&st->stop, 1);
	wait_for_completion(&st->done);
	mmput(st->mm);

	svm_stats(t, &s);
	kunit_info(test, "commits %d, -EAGAIN %d, zaps %lu, retries %llu, invalidations %llu\n",
		   ok, again, st->loops, s.retries, s.invalidations);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_GT(test, s.invalidations, 0ULL);
	KUNIT_EXPECT_EQ(test, (u64)again, s.timeouts);
}

static void drm_svm_test_counters_debugfs(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	struct dentry *dir, *file;
	unsigned long addr;

	dir = debugfs_create_dir("drm_svm_kunit", NULL);
	drm_svm_debugfs_init(&t->svm, dir);
	if (IS_ENABLED(CONFIG_DEBUG_FS)) {
		file = debugfs_lookup("drm_svm_stats", dir);
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, file);
		dput(file);
	}

	range = svm_mirrored(test, 4, &addr);
	do_madvise(current->mm, addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	svm_range_del(t, range);

	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 2ULL);
	KUNIT_EXPECT_EQ(test, s.invalidations, 1ULL);
	KUNIT_EXPECT_EQ(test, s.retries, 0ULL);
	KUNIT_EXPECT_EQ(test, s.timeouts, 0ULL);
	KUNIT_EXPECT_GE(test, s.dma_maps, 2ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);

	drm_svm_fini(&t->svm);
	t->svm_live = false;
	KUNIT_EXPECT_NULL(test, t->svm.debugfs);
	debugfs_remove(dir);
}

static void drm_svm_test_driver_lock(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	struct mutex *lock; /* stands for the driver's VM lock */
	unsigned long addr;
	int ret;

	lock = kunit_kzalloc(test, sizeof(*lock), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, lock);
	mutex_init(lock);
	drm_svm_driver_set_lock(&t->svm, lock);

	/* Everything that asserts the driver lock, with it held. */
	addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mutex_lock(lock);
	ret = svm_range_new(t, &range, addr, 4 * PAGE_SIZE, 0);
	if (!ret) {
		ret = drm_svm_range_get_pages(range, 0);
		svm_range_del(t, range);
	}
	mutex_unlock(lock);
	KUNIT_EXPECT_EQ(test, ret, 0);
}

static void drm_svm_test_lockdep_clean(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_PROVE_LOCKING))
		kunit_skip(test, "CONFIG_PROVE_LOCKING is off");
	/* Any lockdep report so far (in these suites or before) clears it. */
	KUNIT_EXPECT_TRUE(test, debug_locks);
}

static struct kunit_case drm_svm_invalidate_tests[] = {
	KUNIT_CASE(drm_svm_test_inval_munmap),
	KUNIT_CASE(drm_svm_test_inval_mprotect),
	KUNIT_CASE(drm_svm_test_inval_remap),
	KUNIT_CASE(drm_svm_test_inval_dontneed),
	KUNIT_CASE(drm_svm_test_dirty),
	KUNIT_CASE(drm_svm_test_untranslatable),
	KUNIT_CASE(drm_svm_test_nonblock_unmapped),
	KUNIT_CASE(drm_svm_test_nonblock_mapped),
	KUNIT_CASE(drm_svm_test_owner_events),
	KUNIT_CASE(drm_svm_test_eagain_no_timeout),
	KUNIT_CASE(drm_svm_test_timeout),
	KUNIT_CASE(drm_svm_test_retry_succeeds),
	KUNIT_CASE(drm_svm_test_cow_collision),
	KUNIT_CASE(drm_svm_test_concurrent_invalidate),
	KUNIT_CASE(drm_svm_test_counters_debugfs),
	KUNIT_CASE(drm_svm_test_driver_lock),
	KUNIT_CASE(drm_svm_test_lockdep_clean),
	{}
};

static struct kunit_suite drm_svm_invalidate_suite = {
	.name = "drm_svm_invalidate",
	.init = svm_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_invalidate_tests,
};

/* ---------------------------------------------------------------------- */
/* Mirror mode */

static const unsigned long svm_chunks[] = { SZ_2M, SZ_64K, PAGE_SIZE };

/* Commit: check the contract, hand the range back through @data. */
static int svm_test_commit(struct drm_svm *svm, struct drm_svm_range *range,
			   void *data)
{
	struct svm_test *t = container_of(svm, struct svm_test, svm);

	t->commit_calls++;
	if (!rwsem_is_locked(&svm->notifier_lock) ||
	    !drm_svm_range_pages_valid(range) ||
	    !test_bit(DRM_SVM_RANGE_MIRROR_BIT, &range->flags))
		t->commit_bad = true;
	if (data)
		*(struct drm_svm_range **)data = range;
	return 0;
}

static const struct drm_svm_ops svm_mirror_ops = {
	.invalidate = svm_test_invalidate,
	.commit = svm_test_commit,
};

/* A driver structure embedding the range, for range_alloc / range_free. */
struct svm_test_range {
	u32 magic;
	struct drm_svm_range base;
};

static struct drm_svm_range *svm_test_range_alloc(struct drm_svm *svm)
{
	struct svm_test *t = container_of(svm, struct svm_test, svm);
	struct svm_test_range *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	r->magic = 0x5356;
	atomic_inc(&t->allocs);
	return &r->base;
}

static void svm_test_range_free(struct drm_svm_range *range)
{
	struct svm_test_range *r = container_of(range, struct svm_test_range,
						base);
	struct svm_test *t = container_of(range->svm, struct svm_test, svm);

	WARN_ON(r->magic != 0x5356);
	atomic_inc(&t->frees);
	kfree(r);
}

static const struct drm_svm_ops svm_mirror_alloc_ops = {
	.invalidate = svm_test_invalidate,
	.commit = svm_test_commit,
	.range_alloc = svm_test_range_alloc,
	.range_free = svm_test_range_free,
};

static int svm_mirror_test_init(struct kunit *test)
{
	struct svm_test *t;
	int ret;

	ret = svm_test_init(test);
	if (ret)
		return ret;
	t = test->priv;
	/* Same device and mm, with the mirror ops. */
	drm_svm_fini(&t->svm);
	t->svm_live = false;
	ret = drm_svm_init(&t->svm, t->dev, current->mm, &svm_mirror_alloc_ops,
			   NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	t->svm_live = true;
	ret = drm_svm_mirror_init(&t->svm, svm_chunks, ARRAY_SIZE(svm_chunks));
	KUNIT_ASSERT_EQ(test, ret, 0);

	return 0;
}

/*
 * Map exactly [base + off, base + off + len) with base 2M-aligned, by
 * carving it out of a larger mapping. Returns base.
 */
static unsigned long svm_mirror_vma(struct kunit *test, unsigned long off,
				    unsigned long len)
{
	unsigned long addr, base, reserve = off + len + 2 * SZ_2M;

	addr = svm_mmap(test, reserve, PROT_READ | PROT_WRITE);
	base = ALIGN(addr, SZ_2M);
	if (base + off > addr)
		vm_munmap(addr, base + off - addr);
	vm_munmap(base + off + len, addr + reserve - (base + off + len));
	return base;
}

/* Fault @addr, return the committed range (NULL on error, in *ret). */
static struct drm_svm_range *svm_mfault(struct svm_test *t, unsigned long addr,
					unsigned long flags, int *ret)
{
	struct drm_svm_range *range = NULL;
	int r;

	r = drm_svm_mirror_fault(&t->svm, addr, flags,
				 DRM_SVM_TIMEOUT_DEFAULT_MS, &range);
	if (ret)
		*ret = r;
	return r ? NULL : range;
}

static struct drm_svm_range *svm_mfault_ok(struct kunit *test,
					   unsigned long addr)
{
	struct drm_svm_range *range;
	int ret;

	range = svm_mfault(test->priv, addr, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_NOT_NULL(test, range);
	return range;
}

static void svm_expect_range(struct kunit *test, struct drm_svm_range *range,
			     unsigned long start, unsigned long size)
{
	KUNIT_EXPECT_EQ(test, range->start, start);
	KUNIT_EXPECT_EQ(test, range->end, start + size);
}

static unsigned long svm_live(struct svm_test *t)
{
	struct drm_svm_stats_snapshot s;

	drm_svm_stats_read(&t->svm, &s);
	return s.ranges_live;
}

static struct drm_svm_range *svm_find(struct svm_test *t, unsigned long addr)
{
	struct drm_svm_range *range;

	drm_svm_mirror_lock(&t->svm);
	range = drm_svm_mirror_find(&t->svm, addr);
	drm_svm_mirror_unlock(&t->svm);
	return range;
}

/* Collect, and wait for a worker that may hold part of the work. */
static void svm_gc(struct svm_test *t)
{
	drm_svm_mirror_garbage_collect(&t->svm);
	flush_work(&t->svm.mirror.gc_work);
	drm_svm_mirror_garbage_collect(&t->svm);
}

/* drm_svm_mirror_init() refuses @ops (on a scratch @svm). */
static void svm_expect_mirror_ops_refused(struct kunit *test,
					  struct drm_svm *svm,
					  const struct drm_svm_ops *ops)
{
	struct svm_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, drm_svm_init(svm, t->dev, current->mm, ops,
					   NULL), 0);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, svm_chunks, 3), -EINVAL);
	drm_svm_fini(svm);
}

static void drm_svm_mirror_test_init_args(struct kunit *test)
{
	struct svm_test *t = test->priv;
	static const unsigned long not_desc[] = { SZ_64K, SZ_2M, PAGE_SIZE };
	static const unsigned long not_pow2[] = { SZ_64K + PAGE_SIZE, PAGE_SIZE };
	static const unsigned long no_4k[] = { SZ_2M, SZ_64K };
	static const unsigned long many[] = { SZ_2M, SZ_1M, SZ_256K, SZ_64K,
					      PAGE_SIZE };
	static const struct drm_svm_ops no_commit = {
		.invalidate = svm_test_invalidate,
	};
	static const struct drm_svm_ops half_alloc = {
		.invalidate = svm_test_invalidate,
		.commit = svm_test_commit,
		.range_alloc = svm_test_range_alloc,
	};
	struct drm_svm *svm;
	unsigned long addr;

	/* Already enabled. */
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(&t->svm, svm_chunks, 3),
			-EINVAL);

	svm = kunit_kzalloc(test, sizeof(*svm), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, svm);
	KUNIT_ASSERT_EQ(test, drm_svm_init(svm, t->dev, current->mm,
					   &svm_mirror_ops, NULL), 0);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, not_desc, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, not_pow2, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, no_4k, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, many, 5), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, svm_chunks, 0), -EINVAL);
	/* Not enabled: faults are refused. */
	addr = svm_mmap(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(svm, addr, 0, 0, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_init(svm, many + 1, 4), 0);
	drm_svm_mirror_fini(svm);
	drm_svm_fini(svm);

	svm_expect_mirror_ops_refused(test, svm, &no_commit);
	svm_expect_mirror_ops_refused(test, svm, &half_alloc);
}

static void drm_svm_mirror_test_bad_faults(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	unsigned long ro, rw;
	int ret;

	rw = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	ro = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ);

	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, rw, BIT(3), 0,
						   NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, PAGE_OFFSET, 0, 0,
						   NULL), -EFAULT);
	/* A hole: nothing is inserted. */
	vm_munmap(rw + 3 * PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, rw + 3 * PAGE_SIZE,
						   0, 0, NULL), -EFAULT);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, ro,
						   DRM_SVM_FAULT_WRITE, 0,
						   NULL), -EPERM);
	KUNIT_EXPECT_EQ(test, svm_live(t), 0UL);

	/* A read fault on a read-only VMA mirrors it read-only. */
	range = svm_mfault(t, ro + 10, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					 &range->flags));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_writable(range));
	/* Writable memory: a read-write range whatever the fault. */
	range = svm_mfault(t, rw, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_FALSE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					  &range->flags));
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static void drm_svm_mirror_test_chunk_2m(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range, *again;
	unsigned long base;
	struct folio *folio;

	base = svm_mirror_vma(test, 0, SZ_2M);
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		do_madvise(current->mm, base, SZ_2M, MADV_HUGEPAGE);

	range = svm_mfault_ok(test, base + 5 * PAGE_SIZE + 12);
	svm_expect_range(test, range, base, SZ_2M);
	KUNIT_EXPECT_EQ(test, range->chunk, 0U);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 1);

	/* Anywhere in the chunk: the same range, no new fault. */
	again = svm_mfault_ok(test, base + SZ_2M - 1);
	KUNIT_EXPECT_PTR_EQ(test, again, range);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 2);
	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[0], 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[1], 0ULL);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_inserted, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 1ULL);

	/* THP memory: one range, one fault, one DMA mapping. */
	drm_svm_notifier_lock(&t->svm);
	folio = page_folio(drm_svm_range_page(range, 0));
	if (folio_order(folio) >= HPAGE_PMD_ORDER)
		KUNIT_EXPECT_EQ(test, drm_svm_range_dma_nsegs(range), 1UL);
	else
		kunit_info(test, "no THP (order %u), %lu DMA mappings\n",
			   folio_order(folio), drm_svm_range_dma_nsegs(range));
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static void drm_svm_mirror_test_chunk_64k(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	unsigned long base;

	/* Too small for 2M. */
	base = svm_mirror_vma(test, SZ_64K, SZ_1M);
	range = svm_mfault_ok(test, base + SZ_128K + PAGE_SIZE);
	svm_expect_range(test, range, base + SZ_128K, SZ_64K);
	KUNIT_EXPECT_EQ(test, range->chunk, 1U);

	/* 2M long but not 2M aligned. */
	base = svm_mirror_vma(test, 2 * SZ_2M + PAGE_SIZE, SZ_2M);
	range = svm_mfault_ok(test, base + 2 * SZ_2M + SZ_1M);
	svm_expect_range(test, range, base + 2 * SZ_2M + SZ_1M, SZ_64K);
	KUNIT_EXPECT_EQ(test, svm_live(t), 2UL);
}

static void drm_svm_mirror_test_chunk_4k_edge(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long base, start, end;

	start = PAGE_SIZE;
	end = PAGE_SIZE + SZ_128K;
	base = svm_mirror_vma(test, start, end - start);

	/* First and last page: their 64K blocks stick out of the VMA. */
	range = svm_mfault_ok(test, base + start);
	svm_expect_range(test, range, base + start, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, range->chunk, 2U);
	range = svm_mfault_ok(test, base + end - 1);
	svm_expect_range(test, range, base + end - PAGE_SIZE, PAGE_SIZE);
	/* The 64K block in between fits. */
	range = svm_mfault_ok(test, base + SZ_64K + 3 * PAGE_SIZE);
	svm_expect_range(test, range, base + SZ_64K, SZ_64K);

	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[0], 0ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[1], 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[2], 2ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 3ULL);
}

static void drm_svm_mirror_test_overlap(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *first, *range;
	struct vm_area_struct *vma;
	unsigned long base, ret;
	bool merged;

	/* A 1M VMA: a 64K range at its start. */
	base = svm_mirror_vma(test, 0, SZ_1M);
	first = svm_mfault_ok(test, base);
	svm_expect_range(test, first, base, SZ_64K);

	/* Grow the VMA to 2M: the 2M chunk now fits the VMA... */
	ret = vm_mmap(NULL, base + SZ_1M, SZ_1M, PROT_READ | PROT_WRITE,
		      MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_EQ(test, ret, base + SZ_1M);
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, base);
	merged = vma && vma->vm_start == base && vma->vm_end == base + SZ_2M;
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_TRUE_MSG(test, merged, "the two VMAs did not merge");
	/* ...but overlaps the first range: 64K, next to it. */
	range = svm_mfault_ok(test, base + SZ_64K);
	svm_expect_range(test, range, base + SZ_64K, SZ_64K);
	range = svm_mfault_ok(test, base + SZ_1M + PAGE_SIZE);
	svm_expect_range(test, range, base + SZ_1M, SZ_64K);

	/* The first range is still there and valid. */
	KUNIT_EXPECT_PTR_EQ(test, svm_find(t, base + PAGE_SIZE), first);
	KUNIT_EXPECT_TRUE(test, svm_valid(first));
	KUNIT_EXPECT_EQ(test, svm_live(t), 3UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);
}

static void drm_svm_mirror_test_lookup(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range, *r[3];
	unsigned long base, prev_end = 0;
	int n = 0;

	base = svm_mirror_vma(test, 0, SZ_1M);
	r[1] = svm_mfault_ok(test, base + SZ_256K);
	r[0] = svm_mfault_ok(test, base);
	r[2] = svm_mfault_ok(test, base + SZ_512K + SZ_64K);

	drm_svm_mirror_lock(&t->svm);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_mirror_find(&t->svm, base + 17), r[0]);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_mirror_find(&t->svm,
						      base + SZ_256K + SZ_64K - 1),
			    r[1]);
	KUNIT_EXPECT_NULL(test, drm_svm_mirror_find(&t->svm,
						    base + SZ_256K + SZ_64K));
	KUNIT_EXPECT_NULL(test, drm_svm_mirror_find(&t->svm, base - 1));

	/* In address order, only those meeting the interval. */
	drm_svm_mirror_for_each_range(range, &t->svm, base, base + SZ_1M) {
		KUNIT_EXPECT_GE(test, range->start, prev_end);
		if (n < 3)
			KUNIT_EXPECT_PTR_EQ(test, range, r[n]);
		prev_end = range->end;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 3);
	n = 0;
	drm_svm_mirror_for_each_range(range, &t->svm, base + SZ_64K - 1,
				      base + SZ_256K + 1)
		n++;
	KUNIT_EXPECT_EQ(test, n, 2);
	n = 0;
	drm_svm_mirror_for_each_range(range, &t->svm, base + SZ_64K,
				      base + SZ_256K)
		n++;
	KUNIT_EXPECT_EQ(test, n, 0);
	drm_svm_mirror_unlock(&t->svm);

	/* The notifier lock is enough for a lookup, too. */
	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_mirror_find(&t->svm, base), r[0]);
	drm_svm_notifier_unlock(&t->svm);
}

static void drm_svm_mirror_test_partial_unmap(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *big, *range;
	unsigned long base;
	int ret;

	base = svm_mirror_vma(test, 0, 2 * SZ_2M);
	big = svm_mfault_ok(test, base + PAGE_SIZE);
	svm_expect_range(test, big, base, SZ_2M);

	/* Hold the mirror lock so that the collector cannot run yet. */
	drm_svm_mirror_lock(&t->svm);
	vm_munmap(base + SZ_1M, SZ_64K);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_mirror_find(&t->svm, base), big);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_partially_unmapped(big));
	KUNIT_EXPECT_FALSE(test, drm_svm_range_unmapped(big));
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_UNMAP);
	KUNIT_EXPECT_EQ(test, t->last_start, base + SZ_1M);
	drm_svm_notifier_lock(&t->svm);
	KUNIT_EXPECT_FALSE(test, drm_svm_range_pages_valid(big));
	KUNIT_EXPECT_EQ(test, drm_svm_range_dma_nsegs(big), 0UL);
	drm_svm_notifier_unlock(&t->svm);
	drm_svm_mirror_unlock(&t->svm);

	/* The hole cannot be faulted; the rest is rebuilt, smaller. */
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, base + SZ_1M, 0,
						   0, NULL), -EFAULT);
	range = svm_mfault(t, base + 2 * PAGE_SIZE, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	svm_expect_range(test, range, base, SZ_64K);
	range = svm_mfault(t, base + SZ_1M + SZ_64K, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	svm_expect_range(test, range, base + SZ_1M + SZ_64K, SZ_64K);
	/* Past the old 2M range the VMA is 2M-aligned again. */
	range = svm_mfault(t, base + SZ_2M, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	svm_expect_range(test, range, base + SZ_2M, SZ_2M);

	svm_gc(t);
	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.ranges_inserted, 4ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_collected, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 3ULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->allocs) - atomic_read(&t->frees),
			3);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static void drm_svm_mirror_test_partial_gc(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *big;
	unsigned long base;

	base = svm_mirror_vma(test, 0, SZ_2M);
	big = svm_mfault_ok(test, base);
	svm_expect_range(test, big, base, SZ_2M);

	/* No fault after the partial unmap: the collector removes it. */
	vm_munmap(base + SZ_1M, SZ_64K);
	svm_gc(t);
	KUNIT_EXPECT_NULL(test, svm_find(t, base));
	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.ranges_collected, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->frees), 1);
}

static void drm_svm_mirror_test_full_unmap(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	unsigned long base;

	base = svm_mirror_vma(test, 0, SZ_1M);
	svm_mfault_ok(test, base);
	svm_mfault_ok(test, base + SZ_512K);
	svm_mfault_ok(test, base + SZ_1M - 1);
	KUNIT_EXPECT_EQ(test, svm_live(t), 3UL);

	vm_munmap(base, SZ_1M);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 3);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_UNMAP);
	svm_gc(t);

	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.ranges_collected, 3ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->allocs), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->frees), 3);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, base, 0, 0, NULL),
			-EFAULT);

	/* Mapped again at the same address: a fresh range. */
	KUNIT_ASSERT_EQ(test, vm_mmap(NULL, base, SZ_1M, PROT_READ | PROT_WRITE,
				      MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
				      0), base);
	svm_expect_range(test, svm_mfault_ok(test, base), base, SZ_64K);
}

static void drm_svm_mirror_test_evict(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range, *again;
	unsigned long base;

	base = svm_mirror_vma(test, 0, SZ_64K);
	range = svm_mfault_ok(test, base);
	KUNIT_ASSERT_TRUE(test, svm_valid(range));

	drm_svm_mirror_lock(&t->svm);
	drm_svm_mirror_range_evict(range);
	/* Nothing published: a second eviction is a no-op. */
	drm_svm_mirror_range_evict(range);
	drm_svm_mirror_unlock(&t->svm);

	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, t->last_inval_owner, (void *)&t->svm);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_CLEAR);
	KUNIT_EXPECT_EQ(test, t->last_start, base);
	KUNIT_EXPECT_EQ(test, t->last_end, base + SZ_64K);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, svm_nsegs(range), 0UL);
	KUNIT_EXPECT_PTR_EQ(test, svm_find(t, base), range);

	/* The range stays; the next fault faults it in again. */
	again = svm_mfault_ok(test, base + PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, again, range);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.evictions, 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[1], 2ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_inserted, 1ULL);
}

/*
 * A read fault must not write-fault: untouched anonymous memory is
 * mirrored as the zero page, and memory shared copy-on-write stays shared.
 * A write fault then upgrades the range to real, writable pages.
 */
static void drm_svm_mirror_test_read_fault(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	unsigned long base, i, zero = 0;
	int ret;

	base = svm_mirror_vma(test, 0, SZ_64K);
	range = svm_mfault_ok(test, base);
	svm_expect_range(test, range, base, SZ_64K);
	drm_svm_notifier_lock(&t->svm);
	KUNIT_ASSERT_TRUE(test, drm_svm_range_pages_valid(range));
	for (i = 0; i < range->npages; i++)
		zero += is_zero_pfn(page_to_pfn(drm_svm_range_page(range, i)));
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_EQ(test, zero, range->npages);

	/* The write fault upgrades the same range. */
	range = svm_mfault(t, base + PAGE_SIZE, DRM_SVM_FAULT_WRITE, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	svm_expect_range(test, range, base, SZ_64K);
	zero = 0;
	drm_svm_notifier_lock(&t->svm);
	KUNIT_ASSERT_TRUE(test, drm_svm_range_pages_valid(range));
	for (i = 0; i < range->npages; i++)
		zero += is_zero_pfn(page_to_pfn(drm_svm_range_page(range, i)));
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_EQ(test, zero, 0UL);
	KUNIT_EXPECT_EQ(test, svm_live(t), 1UL);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static void drm_svm_mirror_test_mprotect(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_range *range;
	unsigned long base;
	int ret;

	base = svm_mirror_vma(test, 0, SZ_64K);
	range = svm_mfault(t, base, DRM_SVM_FAULT_WRITE, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_FALSE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					  &range->flags));

	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, base,
					      base + SZ_64K), 0);
	KUNIT_EXPECT_EQ(test, drm_svm_mirror_fault(&t->svm, base,
						   DRM_SVM_FAULT_WRITE, 0,
						   NULL), -EPERM);
	/* A read fault rebuilds the range read-only. */
	range = svm_mfault(t, base, 0, &ret);
	KUNIT_ASSERT_EQ(test, ret, 0);
	svm_expect_range(test, range, base, SZ_64K);
	KUNIT_EXPECT_TRUE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					 &range->flags));
	KUNIT_EXPECT_EQ(test, svm_live(t), 1UL);
}

static void drm_svm_mirror_test_counters_debugfs(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct dentry *dir, *file;
	unsigned long base;

	dir = debugfs_create_dir("drm_svm_mirror_kunit", NULL);
	drm_svm_debugfs_init(&t->svm, dir);
	if (IS_ENABLED(CONFIG_DEBUG_FS)) {
		file = debugfs_lookup("drm_svm_stats", dir);
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, file);
		dput(file);
	}

	base = svm_mirror_vma(test, 0, SZ_2M + SZ_64K + PAGE_SIZE);
	svm_mfault_ok(test, base);				/* 2M */
	svm_mfault_ok(test, base + SZ_2M);			/* 64K */
	svm_mfault_ok(test, base + SZ_2M + SZ_64K);		/* 4K */
	svm_mfault_ok(test, base + SZ_2M + SZ_64K);		/* valid */

	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[0], 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[1], 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[2], 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[3], 0ULL);
	KUNIT_EXPECT_EQ(test, s.faults, 3ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_inserted, 3ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 3ULL);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 4);

	drm_svm_mirror_fini(&t->svm);
	drm_svm_fini(&t->svm);
	t->svm_live = false;
	KUNIT_EXPECT_EQ(test, atomic_read(&t->frees), 3);
	debugfs_remove(dir);
}

/* Average ns of mmap + munmap of one unrelated page. */
static u64 svm_unrelated_munmap_ns(struct kunit *test, int loops)
{
	unsigned long addr;
	ktime_t t0;
	int i;

	t0 = ktime_get();
	for (i = 0; i < loops; i++) {
		addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(addr))
			return 0;
		vm_munmap(addr, PAGE_SIZE);
	}
	return ktime_to_ns(ktime_sub(ktime_get(), t0)) / loops;
}

static void drm_svm_mirror_test_many(struct kunit *test)
{
	static const unsigned long page_only[] = { PAGE_SIZE };
	const unsigned long n = 1000;
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, i, seen = 0, bad = 0;
	u64 ns_one, ns_many;
	ktime_t t0;

	drm_svm_mirror_fini(&t->svm);
	KUNIT_ASSERT_EQ(test, drm_svm_mirror_init(&t->svm, page_only, 1), 0);

	addr = svm_mmap(test, n * PAGE_SIZE, PROT_READ | PROT_WRITE);
	svm_mfault_ok(test, addr);
	ns_one = svm_unrelated_munmap_ns(test, 200);
	t0 = ktime_get();
	for (i = 0; i < n; i++) {
		range = svm_mfault(t, addr + i * PAGE_SIZE, 0, NULL);
		if (!range || range->start != addr + i * PAGE_SIZE)
			bad++;
	}
	kunit_info(test, "%lu faults in %lld us\n", n,
		   ktime_us_delta(ktime_get(), t0));
	KUNIT_EXPECT_EQ(test, bad, 0UL);
	KUNIT_EXPECT_EQ(test, svm_live(t), n);

	drm_svm_mirror_lock(&t->svm);
	drm_svm_mirror_for_each_range(range, &t->svm, addr,
				      addr + n * PAGE_SIZE)
		seen++;
	drm_svm_mirror_unlock(&t->svm);
	KUNIT_EXPECT_EQ(test, seen, n);

	/* Unrelated pages: no callback, and about the same cost. */
	ns_many = svm_unrelated_munmap_ns(test, 200);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), 0);
	kunit_info(test, "unrelated mmap+munmap: %llu ns with 1 range, %llu ns with %lu (x%llu.%02llu)\n",
		   ns_one, ns_many, n, ns_one ? ns_many / ns_one : 0,
		   ns_one ? (ns_many * 100 / ns_one) % 100 : 0);

	vm_munmap(addr, n * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), (int)n);
	svm_gc(t);
	drm_svm_stats_read(&t->svm, &s);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[0], (u64)n);
	KUNIT_EXPECT_EQ(test, s.ranges_inserted, (u64)n);
	KUNIT_EXPECT_EQ(test, s.ranges_collected, (u64)n);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, s.dma_maps);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->allocs), (int)n);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->frees), (int)n);
}

/* Drops the mm's last user reference except the fault's own. */
static void svm_hook_drop_mm(struct drm_svm_range *range)
{
	struct svm_test *t = container_of(range->svm, struct svm_test, svm);

	t->hook_calls++;
	if (t->drop_mm) {
		mmput(t->drop_mm);
		t->drop_mm = NULL;
	}
}

struct svm_exit_ctx {
	struct kunit *test;
	struct svm_test *t;
	struct completion done;
	int fault_ret[3];
	int late_ret;
	unsigned long unmapped;
	unsigned long live_before_fini;
	int commits;
};

/*
 * In a kthread with an mm of its own: mirror it, fault ranges, then let
 * the process "exit" while a fault is in flight.
 */
static int svm_exit_fn(void *data)
{
	struct svm_exit_ctx *c = data;
	struct svm_test *t = c->t;
	struct drm_svm_range *range;
	struct mm_struct *mm;
	unsigned long addr;

	mm = mm_alloc();
	if (!mm)
		goto out;
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	addr = vm_mmap(NULL, 0, 4 * SZ_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	kthread_unuse_mm(mm);
	if (IS_ERR_VALUE(addr)) {
		mmput(mm);
		goto out;
	}

	if (drm_svm_init(&t->svm, t->dev, mm, &svm_mirror_alloc_ops, NULL) ||
	    drm_svm_mirror_init(&t->svm, svm_chunks, ARRAY_SIZE(svm_chunks))) {
		mmput(mm);
		goto out;
	}
	c->fault_ret[0] = drm_svm_mirror_fault(&t->svm, addr, 0, 100, NULL);
	c->fault_ret[1] = drm_svm_mirror_fault(&t->svm, addr + SZ_2M + SZ_1M,
					       0, 100, NULL);

	/* The fault holds the last user reference when it finishes. */
	t->drop_mm = mm;
	t->svm.test_after_fault = svm_hook_drop_mm;
	c->fault_ret[2] = drm_svm_mirror_fault(&t->svm, addr + 3 * SZ_2M, 0,
					       100, NULL);
	t->svm.test_after_fault = NULL;
	c->commits = t->commit_calls;

	/* exit_mmap() released every range. */
	c->late_ret = drm_svm_mirror_fault(&t->svm, addr, 0, 100, NULL);
	drm_svm_mirror_lock(&t->svm);
	drm_svm_mirror_for_each_range(range, &t->svm, 0, ULONG_MAX)
		if (drm_svm_range_unmapped(range))
			c->unmapped++;
	drm_svm_mirror_unlock(&t->svm);
	c->live_before_fini = svm_live(t);

	drm_svm_mirror_fini(&t->svm);
	drm_svm_fini(&t->svm);	/* drops the last mm reference */
out:
	complete(&c->done);
	return 0;
}

static void drm_svm_mirror_test_exit_in_flight(struct kunit *test)
{
	struct svm_test *t = test->priv, *t2;
	struct task_struct *task;
	struct svm_exit_ctx *c;

	t2 = kunit_kzalloc(test, sizeof(*t2), GFP_KERNEL);
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t2);
	KUNIT_ASSERT_NOT_NULL(test, c);
	t2->test = test;
	t2->dev = t->dev;
	c->t = t2;
	c->test = test;
	c->fault_ret[0] = 1;
	c->fault_ret[1] = 1;
	c->fault_ret[2] = 1;
	init_completion(&c->done);

	task = kthread_run(svm_exit_fn, c, "drm_svm_exit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&c->done);

	KUNIT_EXPECT_EQ(test, c->fault_ret[0], 0);
	KUNIT_EXPECT_EQ(test, c->fault_ret[1], 0);
	/* The in-flight fault committed against the still-live mm. */
	KUNIT_EXPECT_EQ(test, c->fault_ret[2], 0);
	KUNIT_EXPECT_EQ(test, c->commits, 3);
	KUNIT_EXPECT_EQ(test, t2->hook_calls, 1);
	KUNIT_EXPECT_EQ(test, c->late_ret, -ESRCH);
	/*
	 * Then exit_mmap() invalidated every range: %MMU_NOTIFY_RELEASE, then
	 * %MMU_NOTIFY_UNMAP from unmap_vmas() (some may be collected early).
	 */
	KUNIT_EXPECT_GE(test, atomic_read(&t2->inval_calls), 3);
	KUNIT_EXPECT_TRUE(test, t2->saw_release);
	KUNIT_EXPECT_EQ(test, c->unmapped, c->live_before_fini);
	KUNIT_EXPECT_FALSE(test, t2->commit_bad);
	/* fini freed whatever the collector had not. */
	KUNIT_EXPECT_EQ(test, atomic_read(&t2->allocs), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&t2->frees), 3);
}

static struct kunit_case drm_svm_mirror_tests[] = {
	KUNIT_CASE(drm_svm_mirror_test_init_args),
	KUNIT_CASE(drm_svm_mirror_test_bad_faults),
	KUNIT_CASE(drm_svm_mirror_test_chunk_2m),
	KUNIT_CASE(drm_svm_mirror_test_chunk_64k),
	KUNIT_CASE(drm_svm_mirror_test_chunk_4k_edge),
	KUNIT_CASE(drm_svm_mirror_test_overlap),
	KUNIT_CASE(drm_svm_mirror_test_lookup),
	KUNIT_CASE(drm_svm_mirror_test_partial_unmap),
	KUNIT_CASE(drm_svm_mirror_test_partial_gc),
	KUNIT_CASE(drm_svm_mirror_test_full_unmap),
	KUNIT_CASE(drm_svm_mirror_test_evict),
	KUNIT_CASE(drm_svm_mirror_test_read_fault),
	KUNIT_CASE(drm_svm_mirror_test_mprotect),
	KUNIT_CASE(drm_svm_mirror_test_counters_debugfs),
	KUNIT_CASE(drm_svm_mirror_test_many),
	KUNIT_CASE(drm_svm_mirror_test_exit_in_flight),
	KUNIT_CASE(drm_svm_test_lockdep_clean),
	{}
};

static struct kunit_suite drm_svm_mirror_suite = {
	.name = "drm_svm_mirror",
	.init = svm_mirror_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_mirror_tests,
};

/* ---------------------------------------------------------------------- */
/* Mirror mode: batch, atomic and prefetch faults, event filter */

static int svm_batch_owner;

static int svm_test_commit_atomic(struct drm_svm *svm,
				  struct drm_svm_range *range,
				  unsigned long addr, struct page *page,
				  void *data)
{
	struct svm_test *t = container_of(svm, struct svm_test, svm);

	t->atomic_calls++;
	t->atomic_addr = addr;
	t->atomic_word = svm_page_word(page);
	if (!rwsem_is_locked(&svm->notifier_lock) ||
	    !folio_test_locked(page_folio(page)) ||
	    addr < range->start || addr >= range->end ||
	    !PAGE_ALIGNED(addr))
		t->commit_bad = true;
	return 0;
}

static const struct drm_svm_ops svm_batch_ops = {
	.invalidate = svm_test_invalidate,
	.commit = svm_test_commit,
	.commit_atomic = svm_test_commit_atomic,
};

/* The mirror suite's setup with an owner and commit_atomic. */
static int svm_batch_test_init(struct kunit *test)
{
	struct svm_test *t;
	int ret;

	ret = svm_test_init(test);
	if (ret)
		return ret;
	t = test->priv;
	drm_svm_fini(&t->svm);
	t->svm_live = false;
	ret = drm_svm_init(&t->svm, t->dev, current->mm, &svm_batch_ops,
			   &svm_batch_owner);
	KUNIT_ASSERT_EQ(test, ret, 0);
	t->svm_live = true;
	ret = drm_svm_mirror_init(&t->svm, svm_chunks, ARRAY_SIZE(svm_chunks));
	KUNIT_ASSERT_EQ(test, ret, 0);

	return 0;
}

static int svm_batch(struct svm_test *t, struct drm_svm_fault *f,
		     unsigned int nr)
{
	return drm_svm_mirror_fault_batch(&t->svm, f, nr,
					  DRM_SVM_TIMEOUT_DEFAULT_MS, NULL);
}

static void drm_svm_mirror_test_batch_args(struct kunit *test)
{
	struct svm_test *t = test->priv;
	struct drm_svm_fault f = { .addr = svm_mirror_vma(test, 0, SZ_64K) };
	struct drm_svm_stats_snapshot s0, s1;

	svm_stats(t, &s0);
	KUNIT_EXPECT_EQ(test, svm_batch(t, &f, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, svm_batch(t, NULL, 1), -EINVAL);
	f.flags = BIT(7);
	KUNIT_EXPECT_EQ(test, svm_batch(t, &f, 1), -EINVAL);
	f.flags = DRM_SVM_FAULT_PREFETCH | DRM_SVM_FAULT_WRITE;
	KUNIT_EXPECT_EQ(test, svm_batch(t, &f, 1), -EINVAL);
	/* Atomic faults need the exclusive-event filter. */
	f.flags = DRM_SVM_FAULT_ATOMIC;
	KUNIT_EXPECT_EQ(test, svm_batch(t, &f, 1), -EINVAL);
	svm_stats(t, &s1);
	KUNIT_EXPECT_EQ(test, s1.ranges_inserted, s0.ranges_inserted);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 0);

	/* Per-fault errors do not stop the batch. */
	{
		unsigned long hole = svm_mmap(test, PAGE_SIZE, PROT_READ);
		struct drm_svm_fault b[] = {
			{ .addr = current->mm->task_size },
			{ .addr = f.addr + PAGE_SIZE },
			{ .addr = hole },
		};

		vm_munmap(hole, PAGE_SIZE);

		KUNIT_ASSERT_EQ(test, svm_batch(t, b, ARRAY_SIZE(b)), 0);
		KUNIT_EXPECT_EQ(test, b[0].ret, -EFAULT);
		KUNIT_EXPECT_EQ(test, b[1].ret, 0);
		KUNIT_EXPECT_EQ(test, b[2].ret, -EFAULT);
		KUNIT_EXPECT_EQ(test, t->commit_calls, 1);
	}
}

static void drm_svm_mirror_test_batch(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, SZ_128K);
	struct drm_svm_fault f[] = {
		{ .addr = base + 0x10 },
		{ .addr = base + PAGE_SIZE },
		{ .addr = base + 2 * PAGE_SIZE, .flags = DRM_SVM_FAULT_WRITE },
		{ .addr = base + 3 * PAGE_SIZE, .flags = DRM_SVM_FAULT_PREFETCH },
		{ .addr = base + SZ_64K },
		{ .addr = base + SZ_64K + PAGE_SIZE },
	};
	struct drm_svm_stats_snapshot s0, s1;
	struct drm_svm_range *range;
	bool writable[2];
	int i;

	svm_stats(t, &s0);
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, ARRAY_SIZE(f)), 0);
	svm_stats(t, &s1);
	for (i = 0; i < ARRAY_SIZE(f); i++)
		KUNIT_EXPECT_EQ_MSG(test, f[i].ret, 0, "fault %d", i);
	/* Two ranges: one hmm_range_fault() and one commit each. */
	KUNIT_EXPECT_EQ(test, s1.ranges_inserted - s0.ranges_inserted, 2ULL);
	KUNIT_EXPECT_EQ(test, s1.faults - s0.faults, 2ULL);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 2);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);

	/* The write in the first group write-faulted its range only. */
	drm_svm_notifier_lock(&t->svm);
	range = drm_svm_mirror_find(&t->svm, base);
	writable[0] = range && drm_svm_range_pages_valid(range) &&
		      drm_svm_range_writable(range);
	range = drm_svm_mirror_find(&t->svm, base + SZ_64K);
	writable[1] = range && drm_svm_range_pages_valid(range) &&
		      drm_svm_range_writable(range);
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_TRUE(test, writable[0]);
	KUNIT_EXPECT_FALSE(test, writable[1]);

	/* Valid ranges: commits again, no hmm_range_fault(). */
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, ARRAY_SIZE(f)), 0);
	svm_stats(t, &s0);
	KUNIT_EXPECT_EQ(test, s0.faults, s1.faults);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 4);
}

static void drm_svm_mirror_test_prefetch(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, SZ_64K);
	struct drm_svm_fault f[] = {
		{ .addr = base + PAGE_SIZE, .flags = DRM_SVM_FAULT_PREFETCH },
		{ .addr = base + 9 * PAGE_SIZE, .flags = DRM_SVM_FAULT_PREFETCH },
	};
	struct drm_svm_range *range;
	u32 word = 0;

	/* Half of the range is present: nothing is mirrored... */
	svm_fill(test, base, 8, 0x6000);
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, 1), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, -ENOENT);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 0);
	range = svm_find(t, base);
	KUNIT_ASSERT_NOT_NULL(test, range);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	/* ... and nothing was faulted in: the same prefetch fails again. */
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, 1), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, -ENOENT);

	/* All present: one commit serves both prefetches. */
	svm_fill(test, base + 8 * PAGE_SIZE, 8, 0x6008);
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, ARRAY_SIZE(f)), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, 0);
	KUNIT_EXPECT_EQ(test, f[1].ret, 0);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 1);
	drm_svm_notifier_lock(&t->svm);
	if (drm_svm_range_pages_valid(range))
		word = svm_page_word(drm_svm_range_page(range, 9));
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_EQ(test, word, 0x6009);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static void drm_svm_mirror_test_atomic(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, SZ_64K, SZ_64K) + SZ_64K;
	unsigned long addr = base + 2 * PAGE_SIZE;
	struct drm_svm_fault f[] = {
		{ .addr = addr + 8, .flags = DRM_SVM_FAULT_ATOMIC },
		{ .addr = addr + PAGE_SIZE },
	};
	unsigned long ro;
	int inval, ret;
	u32 v = 0;

	svm_fill(test, base, 16, 0x7000);
	ret = drm_svm_set_event_filter(&t->svm, DRM_SVM_FILTER_OWN_EXCLUSIVE);
	KUNIT_ASSERT_EQ(test, ret, 0);

	inval = atomic_read(&t->inval_calls);
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, ARRAY_SIZE(f)), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, 0);
	KUNIT_EXPECT_EQ(test, f[1].ret, 0);
	/*
	 * The atomic fault went to commit_atomic, the read after it did not
	 * (the atomic one is served last: the read faulted the range in
	 * first, then the page was made exclusive without invalidating it).
	 */
	KUNIT_EXPECT_EQ(test, t->atomic_calls, 1);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 1);
	KUNIT_EXPECT_EQ(test, t->atomic_addr, addr);
	KUNIT_EXPECT_EQ(test, t->atomic_word, 0x7002);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
	/* Our own exclusive event did not invalidate anything. */
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), inval);

	/*
	 * Again on the page that is exclusive already: the helper takes it
	 * back before reading the sequence, it does not collide with itself
	 * until the timeout (-EAGAIN).
	 */
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, 1), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, 0);
	KUNIT_EXPECT_EQ(test, t->atomic_calls, 2);
	KUNIT_EXPECT_EQ(test, t->atomic_word, 0x7002);
	inval = atomic_read(&t->inval_calls);

	/* The CPU takes the page back: an ownerless EXCLUSIVE invalidation. */
	KUNIT_ASSERT_EQ(test, copy_from_user(&v, (void __user *)addr,
					     sizeof(v)), 0);
	KUNIT_EXPECT_EQ(test, v, 0x7002);
	KUNIT_EXPECT_GT(test, atomic_read(&t->inval_calls), inval);
	KUNIT_EXPECT_EQ(test, t->last_event, MMU_NOTIFY_EXCLUSIVE);
	KUNIT_EXPECT_NULL(test, t->last_inval_owner);

	/* Atomic needs write permission. */
	ro = svm_mmap(test, SZ_64K, PROT_READ);
	f[0].addr = ro;
	KUNIT_ASSERT_EQ(test, svm_batch(t, f, 1), 0);
	KUNIT_EXPECT_EQ(test, f[0].ret, -EPERM);
	KUNIT_EXPECT_EQ(test, t->atomic_calls, 2);
}

static void drm_svm_test_event_filter(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const struct mmu_interval_notifier_ops *ops;
	struct drm_svm_range *range;
	struct mmu_notifier_range r;
	unsigned long addr, seq;
	static int other;
	int inval, ret;

	KUNIT_EXPECT_EQ(test, drm_svm_set_event_filter(&t->svm, BIT(5)),
			-EINVAL);
	t->svm.dev_private_owner = NULL;
	ret = drm_svm_set_event_filter(&t->svm, DRM_SVM_FILTER_OWN_EXCLUSIVE);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	t->svm.dev_private_owner = &svm_batch_owner;
	ret = drm_svm_set_event_filter(&t->svm, DRM_SVM_FILTER_OWN_EXCLUSIVE |
				       DRM_SVM_FILTER_OWN_MIGRATE);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* Own EXCLUSIVE: ignored, the pages stay valid. */
	range = svm_mirrored(test, 2, &addr);
	ops = range->notifier.ops;
	seq = range->notifier.invalidate_seq;
	inval = atomic_read(&t->inval_calls);
	mmu_notifier_range_init_owner(&r, MMU_NOTIFY_EXCLUSIVE,
				      MMU_NOTIFIER_RANGE_BLOCKABLE,
				      current->mm, addr, addr + PAGE_SIZE,
				      &svm_batch_owner);
	KUNIT_EXPECT_TRUE(test, ops->invalidate(&range->notifier, &r, seq + 2));
	KUNIT_EXPECT_EQ(test, READ_ONCE(range->notifier.invalidate_seq), seq);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), inval);

	/* Own MIGRATE: the helper unpublishes, the driver is not called. */
	mmu_notifier_range_init_owner(&r, MMU_NOTIFY_MIGRATE,
				      MMU_NOTIFIER_RANGE_BLOCKABLE,
				      current->mm, addr, addr + PAGE_SIZE,
				      &svm_batch_owner);
	KUNIT_EXPECT_TRUE(test, ops->invalidate(&range->notifier, &r, seq + 2));
	KUNIT_EXPECT_EQ(test, READ_ONCE(range->notifier.invalidate_seq),
			seq + 2);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, svm_nsegs(range), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->inval_calls), inval);
	svm_range_del(t, range);

	/* Someone else's EXCLUSIVE event invalidates as usual. */
	range = svm_mirrored(test, 2, &addr);
	seq = range->notifier.invalidate_seq;
	mmu_notifier_range_init_owner(&r, MMU_NOTIFY_EXCLUSIVE,
				      MMU_NOTIFIER_RANGE_BLOCKABLE,
				      current->mm, addr, addr + PAGE_SIZE,
				      &other);
	KUNIT_EXPECT_TRUE(test, ops->invalidate(&range->notifier, &r, seq + 2));
	svm_expect_invalidated(test, range, seq, MMU_NOTIFY_EXCLUSIVE);
	svm_range_del(t, range);
}

/*
 * An svm without a DMA device (nouveau: nvkm DMA-maps what it writes into
 * its PTEs): pages are published as physical addresses, nothing is
 * DMA-mapped, the accessors give the pages.
 */
static void drm_svm_test_no_dma_device(struct kunit *test)
{
	struct svm_test *t2 = kunit_kzalloc(test, sizeof(*t2), GFP_KERNEL);
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long addr, i, bad = 0;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, t2);
	addr = svm_mmap(test, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	svm_fill(test, addr, 16, 0x8000);
	KUNIT_ASSERT_EQ(test, drm_svm_init(&t2->svm, NULL, current->mm,
					   &svm_test_ops, NULL), 0);
	range = kunit_kzalloc(test, sizeof(*range), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, range);
	ret = drm_svm_range_init(&t2->svm, range, addr, 16 * PAGE_SIZE, 0);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret) {
		KUNIT_EXPECT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
		drm_svm_notifier_lock(&t2->svm);
		if (!drm_svm_range_pages_valid(range) ||
		    drm_svm_range_dma_nsegs(range) ||
		    !drm_svm_range_writable(range))
			bad++;
		for (i = 0; i < 16; i++) {
			struct page *page = drm_svm_range_page(range, i);

			if (drm_svm_range_dma_addr(range, i) !=
			    DMA_MAPPING_ERROR || !page ||
			    svm_page_word(page) != 0x8000 + i ||
			    !drm_svm_range_page_writable(range, i) ||
			    DRM_SVM_ENT_ADDR(range->dma_addr[i]) !=
			    page_to_phys(page))
				bad++;
		}
		drm_svm_notifier_unlock(&t2->svm);
		KUNIT_EXPECT_EQ(test, bad, 0UL);

		/* An invalidation takes them away as usual. */
		KUNIT_EXPECT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
						 MADV_DONTNEED), 0);
		KUNIT_EXPECT_FALSE(test, svm_valid(range));
		KUNIT_EXPECT_EQ(test, atomic_read(&t2->inval_calls), 1);
		drm_svm_range_fini(range);
	}
	drm_svm_stats_read(&t2->svm, &s);
	KUNIT_EXPECT_EQ(test, s.dma_maps, 0ULL);
	KUNIT_EXPECT_EQ(test, s.dma_unmaps, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t2->svm.tracked_pages), 0L);
	drm_svm_fini(&t2->svm);
}

/* ---------------------------------------------------------------------- */
/* Multi-range faults */

static unsigned long svm_multi_hook_addr;

/* test_after_fault hook: the first time, zap the 64K at the hook address. */
static void svm_hook_zap_one(struct drm_svm_range *range)
{
	struct svm_test *t = container_of(range->svm, struct svm_test, svm);

	if (t->hook_calls++)
		return;
	do_madvise(current->mm, svm_multi_hook_addr, SZ_64K, MADV_DONTNEED);
}

static unsigned long svm_anon_pages(void)
{
	return percpu_counter_sum(&current->mm->rss_stat[MM_ANONPAGES]);
}

/*
 * A sized fault over four 64K chunks sets them up in one hmm_range_fault();
 * an invalidation of the third one between the walk and the commit leaves
 * only that one out, the others are published. The commit stops at it.
 */
static void drm_svm_mirror_test_multi_collision(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, 4 * SZ_64K);
	struct drm_svm_fault f = { .addr = base + 8, .size = 4 * SZ_64K - 8 };
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *r[4];
	int i;

	svm_fill(test, base, 64, 0x8000);
	svm_multi_hook_addr = base + 2 * SZ_64K;
	t->svm.test_after_fault = svm_hook_zap_one;
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	t->svm.test_after_fault = NULL;
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, t->hook_calls, 1);

	for (i = 0; i < 4; i++) {
		r[i] = svm_find(t, base + i * SZ_64K);
		KUNIT_ASSERT_NOT_NULL(test, r[i]);
		svm_expect_range(test, r[i], base + i * SZ_64K, SZ_64K);
	}
	KUNIT_EXPECT_TRUE(test, svm_valid(r[0]));
	KUNIT_EXPECT_TRUE(test, svm_valid(r[1]));
	KUNIT_EXPECT_FALSE(test, svm_valid(r[2]));
	KUNIT_EXPECT_TRUE(test, svm_valid(r[3]));
	/* Committed in order up to the range that collided. */
	KUNIT_EXPECT_EQ(test, t->commit_calls, 2);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.retries, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 4ULL);
	/* Only the published ranges hold tracking memory. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 48L);

	/* The range left out faults on its own, and keeps its size. */
	f = (struct drm_svm_fault) { .addr = base + 2 * SZ_64K };
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(r[2]));
	KUNIT_EXPECT_PTR_EQ(test, svm_find(t, base + 2 * SZ_64K), r[2]);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

/* A sized fault stops at the end of the VMA of its address. */
static void drm_svm_mirror_test_multi_vma_boundary(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, 4 * SZ_64K);
	struct drm_svm_fault f = { .addr = base, .size = 4 * SZ_64K };
	struct drm_svm_range *range;

	svm_fill(test, base, 64, 0x8100);
	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, base + 2 * SZ_64K,
					      base + 4 * SZ_64K), 0);

	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 2);
	KUNIT_EXPECT_EQ(test, svm_live(t), 2UL);
	KUNIT_EXPECT_NULL(test, svm_find(t, base + 2 * SZ_64K));
	range = svm_find(t, base + SZ_64K);
	KUNIT_ASSERT_NOT_NULL(test, range);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	KUNIT_EXPECT_FALSE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					  &range->flags));

	/* The read-only VMA gets its own read-only ranges. */
	f = (struct drm_svm_fault) {
		.addr = base + 2 * SZ_64K, .size = 2 * SZ_64K,
	};
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, svm_live(t), 4UL);
	range = svm_find(t, base + 3 * SZ_64K);
	KUNIT_ASSERT_NOT_NULL(test, range);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	KUNIT_EXPECT_TRUE(test, test_bit(DRM_SVM_RANGE_READ_ONLY_BIT,
					 &range->flags));
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

/*
 * Fault-around mirrors the following chunks whose pages are all present,
 * within its window, and never faults a page in for them.
 */
static void drm_svm_mirror_test_fault_around(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, 8 * SZ_64K);
	struct drm_svm_fault f = { .addr = base, .flags = DRM_SVM_FAULT_WRITE };
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	unsigned long anon;

	/* Chunks 0 and 1 present, one page of chunk 2, none of chunk 3. */
	svm_fill(test, base, 32, 0x8200);
	svm_fill(test, base + 2 * SZ_64K, 1, 0x8220);
	KUNIT_ASSERT_EQ(test, drm_svm_mirror_set_fault_around(&t->svm, SZ_1M),
			0);
	anon = svm_anon_pages();

	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	/* Nothing was populated, not even for writing. */
	KUNIT_EXPECT_EQ(test, svm_anon_pages(), anon);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 2);
	range = svm_find(t, base + SZ_64K);
	KUNIT_ASSERT_NOT_NULL(test, range);
	KUNIT_EXPECT_TRUE(test, svm_valid(range));
	/* Neighbours with absent pages were not kept. */
	KUNIT_EXPECT_NULL(test, svm_find(t, base + 2 * SZ_64K));
	KUNIT_EXPECT_NULL(test, svm_find(t, base + 3 * SZ_64K));
	KUNIT_EXPECT_EQ(test, svm_live(t), 2UL);
	/* One fault, two 64K ranges faulted (mirrored) in. */
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.chunk_faults[1], 2ULL);

	/* The window bounds it: 64K after the faulting chunk. */
	svm_fill(test, base + 4 * SZ_64K, 64, 0x8240);
	KUNIT_ASSERT_EQ(test, drm_svm_mirror_set_fault_around(&t->svm, SZ_64K),
			0);
	f.addr = base + 4 * SZ_64K;
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, svm_find(t, base + 5 * SZ_64K));
	KUNIT_EXPECT_NULL(test, svm_find(t, base + 6 * SZ_64K));

	/* Prefetches and switched off: one range per fault. */
	f = (struct drm_svm_fault) {
		.addr = base + 6 * SZ_64K, .flags = DRM_SVM_FAULT_PREFETCH,
	};
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_NULL(test, svm_find(t, base + 7 * SZ_64K));
	KUNIT_ASSERT_EQ(test, drm_svm_mirror_set_fault_around(&t->svm, 0), 0);
	f.addr = base + 7 * SZ_64K;
	f.flags = 0;
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, svm_live(t), 6UL);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

/*
 * Many 4K ranges in one sized fault (the vsvm PREFETCH of bench P6): one
 * walk, the pages of each range are those of the CPU.
 */
static void drm_svm_mirror_test_multi_many(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, PAGE_SIZE, 15 * PAGE_SIZE) +
			     PAGE_SIZE;
	struct drm_svm_fault f = { .addr = base, .size = 15 * PAGE_SIZE };
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *range;
	u32 word;
	int i;

	svm_fill(test, base, 15, 0x8300);
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 15);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, 15ULL);
	for (i = 0; i < 15; i++) {
		range = svm_find(t, base + i * PAGE_SIZE);
		KUNIT_ASSERT_NOT_NULL(test, range);
		svm_expect_range(test, range, base + i * PAGE_SIZE, PAGE_SIZE);
		word = 0;
		drm_svm_notifier_lock(&t->svm);
		if (drm_svm_range_pages_valid(range))
			word = svm_page_word(drm_svm_range_page(range, 0));
		drm_svm_notifier_unlock(&t->svm);
		KUNIT_EXPECT_EQ(test, word, 0x8300 + i);
	}
	/* Their entries are inline, still counted, and go with the pages. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 15L);
	drm_svm_mirror_lock(&t->svm);
	drm_svm_mirror_range_evict(drm_svm_mirror_find(&t->svm, base));
	drm_svm_mirror_unlock(&t->svm);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 14L);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

/* The first word of page @idx of @range, 0 unless its pages are valid. */
static u32 svm_published_word(struct svm_test *t, struct drm_svm_range *range,
			      unsigned long idx)
{
	u32 word = 0;

	drm_svm_notifier_lock(&t->svm);
	if (drm_svm_range_pages_valid(range))
		word = svm_page_word(drm_svm_range_page(range, idx));
	drm_svm_notifier_unlock(&t->svm);
	return word;
}

/*
 * Fill @npages pages at @base, fault them in with one sized fault, and
 * expect it to have set up @ranges ranges in @blocks range blocks.
 */
static void svm_fault_sized(struct kunit *test, unsigned long base,
			    unsigned long npages, u32 seed, u64 ranges,
			    u64 blocks)
{
	struct svm_test *t = test->priv;
	struct drm_svm_fault f = { .addr = base, .size = npages * PAGE_SIZE };
	struct drm_svm_stats_snapshot s;

	svm_fill(test, base, npages, seed);
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s.ranges_live, ranges);
	KUNIT_EXPECT_EQ(test, s.range_blocks, blocks);
}

/*
 * munmap() [@addr, @addr + @len), collect, and expect @ranges ranges in
 * @blocks range blocks holding @tracked pages to be left.
 */
static void svm_munmap_expect(struct kunit *test, unsigned long addr,
			      unsigned long len, u64 ranges, u64 blocks,
			      long tracked)
{
	struct svm_test *t = test->priv;
	struct drm_svm_stats_snapshot s;

	vm_munmap(addr, len);
	svm_gc(t);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.ranges_live, ranges);
	KUNIT_EXPECT_EQ(test, s.range_blocks, blocks);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), tracked);
}

/* A driver range that drm_svm allocates (&drm_svm_ops.range_size). */
struct svm_test_sized_range {
	struct drm_svm_range base;
	u64 driver_word;
};

/*
 * Range blocks: the ranges of a multi-range fault, and the entries of its
 * multi-page ranges, share allocations; a range faulting again reuses its
 * entries; a block goes with the last of its ranges. Driver-allocated
 * ranges never are in a block, and range_size is checked.
 */
static void drm_svm_mirror_test_blocks(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, 8 * SZ_64K);
	struct drm_svm_fault f;
	static const struct drm_svm_ops too_small = {
		.invalidate = svm_test_invalidate,
		.commit = svm_test_commit,
		.range_size = sizeof(struct drm_svm_range) - 1,
	};
	static const struct drm_svm_ops sized_alloc = {
		.invalidate = svm_test_invalidate,
		.commit = svm_test_commit,
		.range_alloc = svm_test_range_alloc,
		.range_free = svm_test_range_free,
		.range_size = sizeof(struct svm_test_sized_range),
	};
	struct drm_svm_range *r[8];
	struct drm_svm *svm;
	int i;

	svm_fault_sized(test, base, 128, 0x8400, 8, 1);
	for (i = 0; i < 8; i++) {
		r[i] = svm_find(t, base + i * SZ_64K);
		KUNIT_ASSERT_NOT_NULL(test, r[i]);
		svm_expect_range(test, r[i], base + i * SZ_64K, SZ_64K);
		KUNIT_EXPECT_NOT_NULL(test, r[i]->block);
		KUNIT_EXPECT_PTR_EQ(test, r[i]->block, r[0]->block);
		KUNIT_EXPECT_NOT_NULL(test, r[i]->ent_block);
		KUNIT_EXPECT_PTR_EQ(test, r[i]->dma_addr, r[i]->ent_block);
		if (i)
			KUNIT_EXPECT_PTR_EQ(test, r[i]->ent_block,
					    r[i - 1]->ent_block + 16);
		KUNIT_EXPECT_EQ(test, svm_published_word(t, r[i], 15),
				0x8400 + i * 16 + 15);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 128L);

	/* Evicted: uncharged but kept; faulting again reuses the entries. */
	drm_svm_mirror_lock(&t->svm);
	drm_svm_mirror_range_evict(r[3]);
	drm_svm_mirror_unlock(&t->svm);
	KUNIT_EXPECT_NULL(test, r[3]->dma_addr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 112L);
	f = (struct drm_svm_fault) { .addr = base + 3 * SZ_64K + 8 };
	KUNIT_ASSERT_EQ(test, svm_batch(t, &f, 1), 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_TRUE(test, svm_valid(r[3]));
	KUNIT_EXPECT_PTR_EQ(test, r[3]->dma_addr, r[3]->ent_block);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 128L);

	/* The block lives as long as one of its ranges. */
	svm_munmap_expect(test, base, 7 * SZ_64K, 1, 1, 16);
	svm_munmap_expect(test, base + 7 * SZ_64K, SZ_64K, 0, 0, 0);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);

	/* range_size must hold a range, and not come with range_alloc. */
	svm = kunit_kzalloc(test, sizeof(*svm), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, svm);
	svm_expect_mirror_ops_refused(test, svm, &too_small);
	svm_expect_mirror_ops_refused(test, svm, &sized_alloc);
}

/*
 * More ranges than a block holds: several blocks, each freed with its last
 * range; every range still mirrors its own page.
 */
static void drm_svm_mirror_test_blocks_split(struct kunit *test)
{
	static const unsigned long only_4k[] = { PAGE_SIZE };
	static const struct drm_svm_ops sized = {
		.invalidate = svm_test_invalidate,
		.commit = svm_test_commit,
		.range_size = sizeof(struct svm_test_sized_range),
	};
	const unsigned long rsize = ALIGN(sizeof(struct svm_test_sized_range),
					  sizeof(u64));
	struct svm_test *t = test->priv;
	unsigned long base = svm_mirror_vma(test, 0, 100 * PAGE_SIZE);
	struct drm_svm_stats_snapshot s;
	struct drm_svm_range *r[100];
	int i;

	/* The suite's mirror again, with driver-sized ranges of 4K only. */
	drm_svm_mirror_fini(&t->svm);
	drm_svm_fini(&t->svm);
	t->svm_live = false;
	KUNIT_ASSERT_EQ(test, drm_svm_init(&t->svm, t->dev, current->mm,
					   &sized, NULL), 0);
	t->svm_live = true;
	KUNIT_ASSERT_EQ(test, drm_svm_mirror_init(&t->svm, only_4k, 1), 0);

	/* 64 ranges per block at most. */
	svm_fault_sized(test, base, 100, 0x8600, 100, 2);
	KUNIT_EXPECT_EQ(test, t->commit_calls, 100);
	for (i = 0; i < 100; i++) {
		r[i] = svm_find(t, base + i * PAGE_SIZE);
		KUNIT_ASSERT_NOT_NULL(test, r[i]);
		svm_expect_range(test, r[i], base + i * PAGE_SIZE, PAGE_SIZE);
		/* One-page ranges keep their entry inline. */
		KUNIT_EXPECT_NULL(test, r[i]->ent_block);
		KUNIT_EXPECT_PTR_EQ(test, r[i]->dma_addr, &r[i]->ent_one);
		KUNIT_EXPECT_PTR_EQ(test, r[i]->block, r[i < 64 ? 0 : 64]->block);
		if (i % 64)
			KUNIT_EXPECT_EQ(test, (unsigned long)r[i] -
					(unsigned long)r[i - 1], rsize);
		KUNIT_EXPECT_EQ(test, svm_published_word(t, r[i], 0),
				0x8600 + i);
	}
	KUNIT_EXPECT_PTR_NE(test, r[0]->block, r[64]->block);

	/* The first block goes with its last range, the second stays. */
	svm_munmap_expect(test, base, 63 * PAGE_SIZE, 37, 2, 37);
	svm_munmap_expect(test, base + 63 * PAGE_SIZE, PAGE_SIZE, 36, 1, 36);
	/* Mirror fini frees the rest. */
	drm_svm_mirror_fini(&t->svm);
	svm_stats(t, &s);
	KUNIT_EXPECT_EQ(test, s.range_blocks, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
	KUNIT_EXPECT_FALSE(test, t->commit_bad);
}

static struct kunit_case drm_svm_mirror_batch_tests[] = {
	KUNIT_CASE(drm_svm_mirror_test_batch_args),
	KUNIT_CASE(drm_svm_mirror_test_batch),
	KUNIT_CASE(drm_svm_mirror_test_prefetch),
	KUNIT_CASE(drm_svm_mirror_test_atomic),
	KUNIT_CASE(drm_svm_test_event_filter),
	KUNIT_CASE(drm_svm_test_no_dma_device),
	KUNIT_CASE(drm_svm_mirror_test_multi_collision),
	KUNIT_CASE(drm_svm_mirror_test_multi_vma_boundary),
	KUNIT_CASE(drm_svm_mirror_test_fault_around),
	KUNIT_CASE(drm_svm_mirror_test_multi_many),
	KUNIT_CASE(drm_svm_mirror_test_blocks),
	KUNIT_CASE(drm_svm_mirror_test_blocks_split),
	KUNIT_CASE(drm_svm_test_lockdep_clean),
	{}
};

static struct kunit_suite drm_svm_mirror_batch_suite = {
	.name = "drm_svm_mirror_batch",
	.init = svm_batch_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_mirror_batch_tests,
};

/* ---------------------------------------------------------------------- */
/* The deadlock rule, broken on purpose */

static bool lockdep_splat;
module_param(lockdep_splat, bool, 0444);
MODULE_PARM_DESC(lockdep_splat,
		 "Run drm_svm_deadlock_rule: an invalidate callback that waits for a work item that faults through the helper, so that lockdep reports the deadlock (ends lockdep and fails the run on purpose; default off)");

static struct svm_splat {
	struct work_struct work;
	struct drm_svm_range *range;
	bool in_invalidate;
	int faults;
} svm_splat;

/* The "GPU fault handler": faults the range through the helper. */
static void svm_splat_fault_work(struct work_struct *work)
{
	/*
	 * Really faulting from inside the invalidation would deadlock
	 * (mmu_interval_read_begin() waits for it): lockdep has to report
	 * the cycle from the first, harmless run of this work alone. Stay
	 * busy a while, so that the flush finds the work queued or running
	 * (flushing an idle work tells lockdep nothing).
	 */
	if (READ_ONCE(svm_splat.in_invalidate)) {
		msleep(100);
		return;
	}
	if (!drm_svm_range_get_pages(svm_splat.range, 0))
		svm_splat.faults++;
}

/* Breaks the deadlock rule: waits for work that faults. */
static void svm_splat_invalidate(struct drm_svm *svm,
				 struct drm_svm_range *range,
				 const struct mmu_notifier_range *mmu_range)
{
	WRITE_ONCE(svm_splat.in_invalidate, true);
	queue_work(system_wq, &svm_splat.work);
	flush_work(&svm_splat.work);
	WRITE_ONCE(svm_splat.in_invalidate, false);
}

static const struct drm_svm_ops svm_splat_ops = {
	.invalidate = svm_splat_invalidate,
};

/*
 * An &drm_svm_ops.invalidate that flushes a work item which faults
 * through the helper: lockdep must report a circular dependency between
 * the mmu notifier invalidation map and the work item the first time both
 * paths have run, even though this run never actually deadlocks. Only
 * with drm_svm_test.lockdep_splat=1 on the kernel command line, because
 * the report turns lockdep off and fails the whole run.
 */
static void drm_svm_deadlock_rule(struct kunit *test)
{
	struct svm_test *t = test->priv;
	unsigned long addr;

	if (!lockdep_splat)
		kunit_skip(test, "deliberate lockdep splat, run with drm_svm_test.lockdep_splat=1");
	if (!IS_ENABLED(CONFIG_PROVE_LOCKING) || !IS_BUILTIN(CONFIG_DRM_SVM))
		kunit_skip(test, "needs PROVE_LOCKING and a built-in drm_svm");

	t->svm.ops = &svm_splat_ops;
	INIT_WORK(&svm_splat.work, svm_splat_fault_work);
	addr = svm_mmap(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &svm_splat.range, addr,
					    PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(svm_splat.range, 0), 0);

	/* The fault handler runs once: work -> invalidation map. */
	queue_work(system_wq, &svm_splat.work);
	flush_work(&svm_splat.work);
	KUNIT_ASSERT_EQ(test, svm_splat.faults, 1);
	KUNIT_ASSERT_TRUE(test, debug_locks);

	/* An invalidation waits for it: invalidation map -> work. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_FALSE_MSG(test, debug_locks,
			       "lockdep did not report the broken deadlock rule");
}

static struct kunit_case drm_svm_deadlock_tests[] = {
	KUNIT_CASE(drm_svm_deadlock_rule),
	{}
};

static struct kunit_suite drm_svm_deadlock_suite = {
	.name = "drm_svm_deadlock_rule",
	.init = svm_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_deadlock_tests,
};

/* ---------------------------------------------------------------------- */
/* Cost of validation: DMA mappings per range (issue 13). */

/*
 * 64 pages that are physically contiguous but each its own order-0 folio
 * (a THP split in place): one DMA mapping covers all of them, not one per
 * folio.
 */
static void drm_svm_test_dma_run_across_folios(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 64;
	struct drm_svm_stats_snapshot s0, s1;
	unsigned long addr, aligned, i, nsegs, small = 0, same = 0, next = 0;
	struct drm_svm_range *range;
	struct folio *folio;
	bool valid;
	struct page *page;
	dma_addr_t base;
	int ret;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		kunit_skip(test, "CONFIG_TRANSPARENT_HUGEPAGE is off");

	addr = svm_mmap(test, 2 * HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE);
	aligned = ALIGN(addr, HPAGE_PMD_SIZE);
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, aligned, HPAGE_PMD_SIZE,
					 MADV_HUGEPAGE), 0);
	svm_fill(test, aligned, npages, 0x5000);

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(aligned, 1, FOLL_WRITE,
						  &page), 1);
	folio = page_folio(page);
	if (folio_order(folio) < HPAGE_PMD_ORDER) {
		put_page(page);
		kunit_skip(test, "no THP could be allocated (order %u folio)",
			   folio_order(folio));
	}
	/* The per-CPU LRU batches hold references that block a split. */
	lru_add_drain_all();
	folio_lock(folio);
	ret = split_folio(folio);
	folio_unlock(folio);
	put_page(page);
	if (ret)
		kunit_skip(test, "the THP could not be split (%d)", ret);

	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, aligned,
					    npages * PAGE_SIZE, 0), 0);
	svm_stats(t, &s0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);
	svm_stats(t, &s1);

	/* Count under the lock, expect outside: a failure allocates. */
	drm_svm_notifier_lock(&t->svm);
	valid = drm_svm_range_pages_valid(range);
	base = drm_svm_range_dma_addr(range, 0);
	for (i = 0; valid && i < npages; i++) {
		page = drm_svm_range_page(range, i);
		small += folio_nr_pages(page_folio(page)) == 1;
		same += svm_page_word(page) == 0x5000 + i;
		next += drm_svm_range_dma_addr(range, i) ==
			base + i * PAGE_SIZE;
	}
	nsegs = drm_svm_range_dma_nsegs(range);
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_ASSERT_TRUE(test, valid);
	KUNIT_EXPECT_EQ(test, small, npages);
	KUNIT_EXPECT_EQ(test, same, npages);
	KUNIT_EXPECT_EQ(test, next, npages);
	KUNIT_EXPECT_EQ(test, nsegs, 1UL);
	KUNIT_EXPECT_EQ(test, s1.dma_maps - s0.dma_maps, 1ULL);

	svm_range_del(t, range);
	svm_stats(t, &s1);
	KUNIT_EXPECT_EQ(test, s1.dma_unmaps, s1.dma_maps);
}

/*
 * A read-only range over 32 pages, every other one the zero page, so that
 * each page is its own DMA mapping. mprotect() of one page invalidates the
 * range; revalidation faults and DMA-maps that page again and only that
 * one: the other pages keep their mappings. A change that takes pages
 * away (MADV_DONTNEED) still drops everything.
 */
static void drm_svm_test_partial_revalidation(struct kunit *test)
{
	struct svm_test *t = test->priv;
	const unsigned long npages = 32;
	struct drm_svm_stats_snapshot s0, s1, s2;
	unsigned long addr, i, nsegs, kept = 0, ro = 0, same = 0;
	struct drm_svm_range *range;
	dma_addr_t *dma;
	bool valid;

	dma = kunit_kcalloc(test, npages, sizeof(*dma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dma);
	addr = svm_mmap(test, npages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	for (i = 0; i < npages; i += 2)
		svm_fill(test, addr + i * PAGE_SIZE, 1, 0x7000 + i);
	KUNIT_ASSERT_EQ(test, svm_range_new(t, &range, addr, npages * PAGE_SIZE,
					    DRM_SVM_RANGE_READ_ONLY), 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);
	drm_svm_notifier_lock(&t->svm);
	nsegs = drm_svm_range_dma_nsegs(range);
	for (i = 0; i < npages; i++)
		dma[i] = drm_svm_range_dma_addr(range, i);
	drm_svm_notifier_unlock(&t->svm);
	/* The zero page is never physically next to an anonymous page. */
	KUNIT_ASSERT_EQ(test, nsegs, npages);

	svm_stats(t, &s0);
	KUNIT_ASSERT_EQ(test, svm_mprotect_ro(current->mm, addr + 4 * PAGE_SIZE,
					      addr + 5 * PAGE_SIZE), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	svm_stats(t, &s1);
	KUNIT_EXPECT_EQ(test, s1.dma_unmaps - s0.dma_unmaps, 1ULL);

	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);
	svm_stats(t, &s2);
	KUNIT_EXPECT_EQ(test, s2.faults - s1.faults, 1ULL);
	KUNIT_EXPECT_EQ(test, s2.dma_maps - s1.dma_maps, 1ULL);

	drm_svm_notifier_lock(&t->svm);
	valid = drm_svm_range_pages_valid(range);
	nsegs = drm_svm_range_dma_nsegs(range);
	for (i = 0; i < npages; i++) {
		kept += drm_svm_range_dma_addr(range, i) == dma[i];
		ro += !drm_svm_range_page_writable(range, i);
		same += (i & 1) ||
			svm_page_word(drm_svm_range_page(range, i)) == 0x7000 + i;
	}
	drm_svm_notifier_unlock(&t->svm);
	KUNIT_EXPECT_TRUE(test, valid);
	KUNIT_EXPECT_EQ(test, kept, npages);
	KUNIT_EXPECT_EQ(test, ro, npages);
	KUNIT_EXPECT_EQ(test, same, npages);
	KUNIT_EXPECT_EQ(test, nsegs, npages);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages),
			(long)npages);

	/* Pages taken away: nothing stays published or tracked. */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_EQ(test, svm_nsegs(range), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->svm.tracked_pages), 0L);
	svm_range_del(t, range);
	svm_stats(t, &s2);
	KUNIT_EXPECT_EQ(test, s2.dma_unmaps, s2.dma_maps);
}

static struct kunit_case drm_svm_perf_tests[] = {
	KUNIT_CASE(drm_svm_test_dma_run_across_folios),
	KUNIT_CASE(drm_svm_test_partial_revalidation),
	{}
};

static struct kunit_suite drm_svm_perf_suite = {
	.name = "drm_svm_perf",
	.init = svm_test_init,
	.exit = svm_test_exit,
	.test_cases = drm_svm_perf_tests,
};

/*
 * A mock of amdgpu's userptr paths on the helper: one drm_svm per
 * (device, mm) from a registry, shared by the VMs of one process; gfx CS
 * (get_pages per BO, then one commit check for all BOs of the submission
 * under the notifier lock, -EAGAIN on a collision) and KFD's evict +
 * restore worker on the restore generation.
 */

#define AMD_MOCK_BOS	4

struct amd_mock_bo {
	struct drm_svm_range range;
	struct drm_svm *svm;
	unsigned long addr;
	/* seq of the "TTM pages", saved when CS filled them */
	unsigned long ttm_seq;
	/* "GART/VM PTEs": written in the commit, zapped by invalidate */
	dma_addr_t ptes[4];
	bool ptes_valid;
	bool live;
	int zaps;
};

struct amd_mock_dev {
	struct kunit *test;
	struct device *dev;
	struct drm_svm_registry reg;
	/* two VMs (files) of the test process, each holding an svm ref */
	struct drm_svm *vm_svm[2];
	struct amd_mock_bo bo[AMD_MOCK_BOS];
	/* KFD: queues stopped by an eviction, what invalidate saw */
	bool quiesced;
	bool criu_blocks;
	int quiesce_calls;
	bool inval_saw_queued;
	bool inval_lock_held;
};

static struct amd_mock_dev *amd_mock;

/* amdgpu_hmm_invalidate_gfx() / amdgpu_amdkfd_evict_userptr() */
static void amd_mock_invalidate(struct drm_svm *svm,
				struct drm_svm_range *range,
				const struct mmu_notifier_range *mmu_range)
{
	struct amd_mock_bo *bo = container_of(range, struct amd_mock_bo, range);
	struct amd_mock_dev *d = amd_mock;

	lockdep_assert_held_write(&svm->notifier_lock);
	d->inval_lock_held = rwsem_is_locked(&svm->notifier_lock);
	/* Zap first: no PTE may point at pages the helper unmaps next. */
	memset(bo->ptes, 0, sizeof(bo->ptes));
	bo->ptes_valid = false;
	bo->zaps++;

	if (!(range->flags & DRM_SVM_RANGE_RESTORE))
		return;
	/* The helper queued the range before calling us. */
	d->inval_saw_queued = drm_svm_restore_pending(svm);
	if (d->criu_blocks)
		return;
	if (!d->quiesced) {
		d->quiesced = true;
		d->quiesce_calls++;
	}
}

static const struct drm_svm_ops amd_mock_ops = {
	.invalidate = amd_mock_invalidate,
};

static int amd_mock_init(struct kunit *test)
{
	struct amd_mock_dev *d;
	unsigned long addr;
	int i;

	d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d);
	d->test = test;
	test->priv = d;
	amd_mock = d;

	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "no user mm for the test");
	d->dev = kunit_device_register(test, "drm_svm_amd_mock");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d->dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(d->dev,
							   DMA_BIT_MASK(64)), 0);

	drm_svm_registry_init(&d->reg, d->dev, &amd_mock_ops, NULL);
	/* amdgpu_driver_open_kms() twice: two VMs of one process. */
	for (i = 0; i < 2; i++) {
		d->vm_svm[i] = drm_svm_registry_get(&d->reg, current->mm);
		KUNIT_ASSERT_FALSE(test, IS_ERR(d->vm_svm[i]));
	}
	KUNIT_ASSERT_PTR_EQ(test, d->vm_svm[0], d->vm_svm[1]);

	return 0;
}

static void amd_mock_exit(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	int i;

	if (!d)
		return;
	for (i = 0; i < AMD_MOCK_BOS; i++)
		if (d->bo[i].live)
			drm_svm_range_fini(&d->bo[i].range);
	for (i = 0; i < 2; i++)
		if (!IS_ERR_OR_NULL(d->vm_svm[i]))
			drm_svm_registry_put(d->vm_svm[i]);
	drm_svm_registry_fini(&d->reg);
	amd_mock = NULL;
}

/* AMDGPU_GEM_USERPTR in VM @vm: a 4-page BO over fresh anonymous memory. */
static void amd_mock_userptr(struct kunit *test, int i, int vm,
			     unsigned long flags)
{
	struct amd_mock_dev *d = test->priv;
	struct amd_mock_bo *bo = &d->bo[i];

	bo->addr = svm_mmap(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	svm_fill(test, bo->addr, 4, 0x1000 * (i + 1));
	bo->svm = d->vm_svm[vm];
	KUNIT_ASSERT_EQ(test, drm_svm_range_init(bo->svm, &bo->range, bo->addr,
						 4 * PAGE_SIZE, flags), 0);
	bo->live = true;
}

/* amdgpu_cs_parser_bos(): get the pages, fill the "TTM page array". */
static int amd_mock_cs_get_pages(struct amd_mock_bo *bo)
{
	int ret;

	ret = drm_svm_range_get_pages(&bo->range, 0);
	if (ret)
		return ret;
	drm_svm_notifier_lock(bo->svm);
	bo->ttm_seq = drm_svm_range_seq(&bo->range);
	drm_svm_notifier_unlock(bo->svm);
	return 0;
}

/*
 * amdgpu_cs_submit(): one notifier lock for every userptr BO of the job,
 * whatever VM they came from; all checked before any PTE is written.
 */
static int amd_mock_cs_commit(struct amd_mock_dev *d, const int *bos, int n)
{
	struct drm_svm *svm = d->bo[bos[0]].svm;
	int i, j;

	drm_svm_notifier_lock(svm);
	for (i = 0; i < n; i++) {
		struct amd_mock_bo *bo = &d->bo[bos[i]];

		if (bo->svm != svm ||
		    !drm_svm_range_pages_valid(&bo->range) ||
		    drm_svm_range_seq(&bo->range) != bo->ttm_seq) {
			drm_svm_notifier_unlock(svm);
			return -EAGAIN;
		}
	}
	for (i = 0; i < n; i++) {
		struct amd_mock_bo *bo = &d->bo[bos[i]];

		for (j = 0; j < 4; j++)
			bo->ptes[j] = drm_svm_range_dma_addr(&bo->range, j);
		bo->ptes_valid = true;
	}
	drm_svm_notifier_unlock(svm);
	return 0;
}

static int amd_mock_cs(struct amd_mock_dev *d, const int *bos, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = amd_mock_cs_get_pages(&d->bo[bos[i]]);
		if (ret)
			return ret;
	}
	return amd_mock_cs_commit(d, bos, n);
}

/* The "GPU" reads a BO through its PTEs (dma-direct: phys == dma). */
static u32 amd_mock_gpu_read(struct amd_mock_bo *bo, int pg)
{
	return svm_page_word(pfn_to_page(PHYS_PFN(dma_to_phys(amd_mock->dev,
							      bo->ptes[pg]))));
}

/* Several BOs in two VMs, one CS, one commit; an munmap zaps one BO only. */
static void drm_svm_amd_test_cs_multi_vm(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	static const int job[] = { 0, 1, 2, 3 };
	struct drm_svm_stats_snapshot s;
	int i, pg;

	amd_mock_userptr(test, 0, 0, 0);
	amd_mock_userptr(test, 1, 0, DRM_SVM_RANGE_ANON_ONLY);
	amd_mock_userptr(test, 2, 1, 0);
	amd_mock_userptr(test, 3, 1, DRM_SVM_RANGE_READ_ONLY);

	KUNIT_ASSERT_EQ(test, amd_mock_cs(d, job, ARRAY_SIZE(job)), 0);
	for (i = 0; i < AMD_MOCK_BOS; i++) {
		KUNIT_EXPECT_TRUE(test, d->bo[i].ptes_valid);
		for (pg = 0; pg < 4; pg++)
			KUNIT_EXPECT_EQ(test, amd_mock_gpu_read(&d->bo[i], pg),
					0x1000 * (i + 1) + pg);
	}
	KUNIT_EXPECT_FALSE(test, drm_svm_range_writable(&d->bo[3].range));
	KUNIT_EXPECT_TRUE(test, drm_svm_range_writable(&d->bo[2].range));

	/* munmap of a BO of VM 1: only its PTEs go, under the write lock. */
	KUNIT_ASSERT_EQ(test, vm_munmap(d->bo[2].addr, 4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, d->inval_lock_held);
	for (i = 0; i < AMD_MOCK_BOS; i++) {
		KUNIT_EXPECT_EQ(test, d->bo[i].zaps, (int)(i == 2));
		KUNIT_EXPECT_EQ(test, d->bo[i].ptes_valid, i != 2);
	}
	KUNIT_EXPECT_TRUE(test, drm_svm_range_unmapped(&d->bo[2].range));
	/* The next CS with that BO fails as amdgpu's does: -EFAULT. */
	KUNIT_EXPECT_EQ(test, amd_mock_cs(d, job, ARRAY_SIZE(job)), -EFAULT);

	/* The VMs close: the ranges go, every DMA mapping with them. */
	for (i = 0; i < AMD_MOCK_BOS; i++) {
		drm_svm_range_fini(&d->bo[i].range);
		d->bo[i].live = false;
	}
	drm_svm_stats_read(d->vm_svm[0], &s);
	KUNIT_EXPECT_EQ(test, s.dma_maps, s.dma_unmaps);
	KUNIT_EXPECT_GT(test, s.dma_maps, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&d->vm_svm[0]->tracked_pages),
			0L);
}

/*
 * Invalidate BO amd_mock_hook_target's memory once, from inside get_pages
 * of BO amd_mock_hook_on (after its hmm_range_fault()).
 */
static int amd_mock_hook_on = -1;
static int amd_mock_hook_target = -1;

static void amd_mock_hook_collide(struct drm_svm_range *range)
{
	struct amd_mock_bo *bo;

	if (amd_mock_hook_target < 0 ||
	    range != &amd_mock->bo[amd_mock_hook_on].range)
		return;
	bo = &amd_mock->bo[amd_mock_hook_target];
	amd_mock_hook_target = -1;
	do_madvise(current->mm, bo->addr, 4 * PAGE_SIZE, MADV_DONTNEED);
}

/*
 * A collision in the middle of a CS: a BO already fetched is invalidated
 * while the CS fetches the next one, so the commit check fails with
 * -EAGAIN and nothing reaches the PTEs; a collision inside get_pages
 * itself (timeout 0, as amdgpu's CS) is -EAGAIN too. The ioctl restarted
 * by userspace then succeeds, and an error after get_pages leaves nothing
 * to clean up (6.12 leaked the hmm_range of such a BO).
 */
static void drm_svm_amd_test_cs_collision(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	static const int job[] = { 0, 1, 2, 3 };
	struct drm_svm_stats_snapshot s0, s;
	struct drm_svm *svm;
	int i;

	for (i = 0; i < AMD_MOCK_BOS; i++)
		amd_mock_userptr(test, i, i & 1, 0);
	svm = d->vm_svm[0];

	/* BO 1 (VM 1) is invalidated while the CS faults BO 2 in. */
	KUNIT_ASSERT_EQ(test, amd_mock_cs_get_pages(&d->bo[0]), 0);
	KUNIT_ASSERT_EQ(test, amd_mock_cs_get_pages(&d->bo[1]), 0);
	amd_mock_hook_on = 2;
	amd_mock_hook_target = 1;
	svm->test_after_fault = amd_mock_hook_collide;
	KUNIT_ASSERT_EQ(test, amd_mock_cs_get_pages(&d->bo[2]), 0);
	svm->test_after_fault = NULL;
	KUNIT_ASSERT_EQ(test, amd_mock_hook_target, -1);
	KUNIT_ASSERT_EQ(test, amd_mock_cs_get_pages(&d->bo[3]), 0);
	KUNIT_EXPECT_EQ(test, d->bo[1].zaps, 1);
	KUNIT_EXPECT_EQ(test, amd_mock_cs_commit(d, job, ARRAY_SIZE(job)),
			-EAGAIN);
	for (i = 0; i < AMD_MOCK_BOS; i++)
		KUNIT_EXPECT_FALSE(test, d->bo[i].ptes_valid);

	/*
	 * A collision inside get_pages of BO 1 (the only one to fault: the
	 * others are still valid): no retry at timeout 0.
	 */
	drm_svm_stats_read(svm, &s0);
	amd_mock_hook_on = 1;
	amd_mock_hook_target = 1;
	svm->test_after_fault = amd_mock_hook_collide;
	KUNIT_EXPECT_EQ(test, amd_mock_cs(d, job, ARRAY_SIZE(job)), -EAGAIN);
	svm->test_after_fault = NULL;
	KUNIT_EXPECT_EQ(test, amd_mock_hook_target, -1);
	drm_svm_stats_read(svm, &s);
	KUNIT_EXPECT_EQ(test, s.retries - s0.retries, 1ULL);
	KUNIT_EXPECT_EQ(test, s.faults - s0.faults, 1ULL);
	for (i = 0; i < AMD_MOCK_BOS; i++)
		KUNIT_EXPECT_FALSE(test, d->bo[i].ptes_valid);

	/* Userspace restarts the ioctl: it goes through. */
	KUNIT_EXPECT_EQ(test, amd_mock_cs(d, job, ARRAY_SIZE(job)), 0);
	for (i = 0; i < AMD_MOCK_BOS; i++) {
		KUNIT_EXPECT_TRUE(test, d->bo[i].ptes_valid);
		/* DONTNEED dropped BO 1: zero pages now. */
		KUNIT_EXPECT_EQ(test, amd_mock_gpu_read(&d->bo[i], 3),
				i == 1 ? 0 : 0x1000 * (i + 1) + 3);
	}

	/* A CS that fails after get_pages (validation error): no cleanup. */
	KUNIT_ASSERT_EQ(test, amd_mock_cs_get_pages(&d->bo[0]), 0);
	for (i = 0; i < AMD_MOCK_BOS; i++) {
		drm_svm_range_fini(&d->bo[i].range);
		d->bo[i].live = false;
	}
	drm_svm_stats_read(svm, &s);
	KUNIT_EXPECT_EQ(test, s.dma_maps, s.dma_unmaps);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&svm->tracked_pages), 0L);
}

/* amdgpu_amdkfd_restore_userptr_worker(): one run; true if queues resume. */
static bool amd_mock_kfd_restore(struct kunit *test, struct drm_svm *svm,
				 void (*between)(void), int *restored)
{
	struct amd_mock_dev *d = test->priv;
	struct drm_svm_range *taken[AMD_MOCK_BOS];
	struct drm_svm_range *range;
	unsigned long gen;
	bool ok = true;
	int n = 0, i;

	gen = drm_svm_restore_gen(svm);
	while ((range = drm_svm_restore_pop(svm))) {
		KUNIT_ASSERT_LT(test, n, AMD_MOCK_BOS);
		taken[n++] = range;
	}
	for (i = 0; i < n; i++)
		if (drm_svm_range_get_pages(taken[i],
					    DRM_SVM_TIMEOUT_DEFAULT_MS))
			ok = false;
	/* The page tables would be updated here, without the lock. */
	if (between)
		between();

	drm_svm_notifier_lock(svm);
	for (i = 0; i < n; i++) {
		struct amd_mock_bo *bo =
			container_of(taken[i], struct amd_mock_bo, range);

		if (!drm_svm_range_pages_valid(taken[i])) {
			drm_svm_restore_requeue(taken[i]);
			ok = false;
			continue;
		}
		bo->ptes[0] = drm_svm_range_dma_addr(taken[i], 0);
		bo->ptes_valid = true;
	}
	if (ok && drm_svm_restore_gen(svm) == gen &&
	    !drm_svm_restore_pending(svm))
		d->quiesced = false;
	else
		ok = false;
	drm_svm_notifier_unlock(svm);
	*restored = n;
	return ok;
}

static void amd_mock_evict_bo2(void)
{
	do_madvise(current->mm, amd_mock->bo[2].addr, 4 * PAGE_SIZE,
		   MADV_DONTNEED);
}

/*
 * KFD evict + restore: the first eviction stops the queues, the worker
 * restores what the helper queued; an eviction during the restore moves
 * the generation, so the queues stay stopped and the next run restores
 * that BO too.
 */
static void drm_svm_amd_test_kfd_evict_restore(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	struct drm_svm *svm = d->vm_svm[0];
	unsigned long gen0;
	int i, n, ret;

	for (i = 0; i < 3; i++) {
		amd_mock_userptr(test, i, 0, DRM_SVM_RANGE_RESTORE);
		/* amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu(): first pages */
		ret = drm_svm_range_get_pages(&d->bo[i].range,
					      DRM_SVM_TIMEOUT_DEFAULT_MS);
		KUNIT_ASSERT_EQ(test, ret, 0);
		d->bo[i].ptes_valid = true;
	}
	/* A gfx userptr BO of the same process is not tracked. */
	amd_mock_userptr(test, 3, 1, 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(&d->bo[3].range, 0), 0);
	KUNIT_EXPECT_FALSE(test, drm_svm_restore_pending(svm));
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_restore_pop(svm), NULL);

	gen0 = drm_svm_restore_gen(svm);
	do_madvise(current->mm, d->bo[3].addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0);
	KUNIT_EXPECT_FALSE(test, d->quiesced);

	/* Evict BO 1: queued before invalidate ran, queues stopped once. */
	do_madvise(current->mm, d->bo[1].addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 1);
	KUNIT_EXPECT_TRUE(test, d->inval_saw_queued);
	KUNIT_EXPECT_TRUE(test, d->quiesced);
	do_madvise(current->mm, d->bo[1].addr, PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 2);
	KUNIT_EXPECT_EQ(test, d->quiesce_calls, 1);
	KUNIT_EXPECT_FALSE(test, d->bo[1].ptes_valid);

	/* BO 2 is evicted while BO 1 is being restored: run again. */
	KUNIT_EXPECT_FALSE(test, amd_mock_kfd_restore(test, svm,
						      amd_mock_evict_bo2, &n));
	KUNIT_EXPECT_EQ(test, n, 1);
	KUNIT_EXPECT_TRUE(test, d->quiesced);
	KUNIT_EXPECT_TRUE(test, d->bo[1].ptes_valid);
	KUNIT_EXPECT_FALSE(test, d->bo[2].ptes_valid);
	KUNIT_EXPECT_TRUE(test, drm_svm_restore_pending(svm));

	KUNIT_EXPECT_TRUE(test, amd_mock_kfd_restore(test, svm, NULL, &n));
	KUNIT_EXPECT_EQ(test, n, 1);
	KUNIT_EXPECT_FALSE(test, d->quiesced);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, svm_valid(&d->bo[i].range));

	/*
	 * CRIU blocks notifications: the driver leaves its queues alone,
	 * but the sequence moves and the range is queued all the same (6.12
	 * returned before mmu_interval_set_seq()).
	 */
	d->criu_blocks = true;
	gen0 = drm_svm_restore_gen(svm);
	do_madvise(current->mm, d->bo[0].addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_FALSE(test, d->quiesced);
	KUNIT_EXPECT_FALSE(test, svm_valid(&d->bo[0].range));
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 1);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_restore_pop(svm), &d->bo[0].range);
	drm_svm_restore_requeue(&d->bo[0].range);
	drm_svm_restore_requeue(&d->bo[0].range);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&svm->restore_list), 1);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 1);
	d->criu_blocks = false;

	/* Freeing a queued BO takes it off the list. */
	drm_svm_range_fini(&d->bo[0].range);
	d->bo[0].live = false;
	KUNIT_EXPECT_FALSE(test, drm_svm_restore_pending(svm));
}

/* The OOM reaper's non-blockable invalidation counts as well. */
static void drm_svm_amd_test_kfd_nonblock(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	struct drm_svm *svm = d->vm_svm[0];
	struct drm_svm_range *range;
	unsigned long gen0, seq;

	amd_mock_userptr(test, 0, 0, DRM_SVM_RANGE_RESTORE);
	range = &d->bo[0].range;
	gen0 = drm_svm_restore_gen(svm);

	/* Nothing published: served, seq moved, range queued. */
	seq = READ_ONCE(range->notifier.invalidate_seq) + 2;
	KUNIT_EXPECT_TRUE(test, svm_nonblock_invalidate(range, seq, false));
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 1);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_restore_pop(svm), range);

	/* Published: bails out, but the range is queued and not valid. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(range, 0), 0);
	seq = READ_ONCE(range->notifier.invalidate_seq) + 2;
	KUNIT_EXPECT_FALSE(test, svm_nonblock_invalidate(range, seq, false));
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(svm), gen0 + 2);
	KUNIT_EXPECT_FALSE(test, svm_valid(range));
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_restore_pop(svm), range);
	KUNIT_EXPECT_PTR_EQ(test, drm_svm_restore_pop(svm), NULL);
}

/*
 * What amdgpu's patch 0001 relies on beyond the CS flow above:
 * - the KFD compatibility shim (patch 0001 only; 0002 converts KFD and
 *   drops it) keeps drm_svm_range_seq() in a struct hmm_range and checks
 *   it later with mmu_interval_read_retry() on
 *   &range->notifier, without the notifier lock: the seq must be the
 *   interval notifier's, stay "retry" after an invalidation even once new
 *   pages are published, and be "no retry" while nothing invalidated;
 * - the gfx commit check has no saved seq: the tt is marked stale by every
 *   invalidate and refilled only under the lock with the pages valid, so
 *   "pages valid and not stale" must reject pages republished after an
 *   invalidation until the tt is refilled.
 */
static void drm_svm_amd_test_seq_shim(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	struct amd_mock_bo *bo = &d->bo[0];
	unsigned long seq, seq2;
	bool stale;

	amd_mock_userptr(test, 0, 1, 0);
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(&bo->range,
						      DRM_SVM_TIMEOUT_DEFAULT_MS),
			0);
	drm_svm_notifier_lock(bo->svm);
	seq = drm_svm_range_seq(&bo->range);
	/* amdgpu_ttm_userptr_fill(): the tt is current */
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(&bo->range));
	bo->ptes_valid = true;
	drm_svm_notifier_unlock(bo->svm);
	KUNIT_EXPECT_FALSE(test, mmu_interval_read_retry(&bo->range.notifier,
							 seq));

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, bo->addr, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, bo->zaps, 1);
	KUNIT_EXPECT_TRUE(test, mmu_interval_read_retry(&bo->range.notifier,
							seq));

	/* Republished: valid again, but the old seq and the tt stay stale. */
	KUNIT_ASSERT_EQ(test, drm_svm_range_get_pages(&bo->range, 0), 0);
	drm_svm_notifier_lock(bo->svm);
	seq2 = drm_svm_range_seq(&bo->range);
	KUNIT_EXPECT_TRUE(test, drm_svm_range_pages_valid(&bo->range));
	stale = !bo->ptes_valid;
	drm_svm_notifier_unlock(bo->svm);
	KUNIT_EXPECT_TRUE(test, stale);
	KUNIT_EXPECT_NE(test, seq2, seq);
	KUNIT_EXPECT_TRUE(test, mmu_interval_read_retry(&bo->range.notifier,
							seq));
	KUNIT_EXPECT_FALSE(test, mmu_interval_read_retry(&bo->range.notifier,
							 seq2));
}

/*
 * KFD on two GPUs: a KFD process has one svm per device (the registry of
 * each device), each with its own restore generation and invalidated list.
 * The driver stops the queues on the first eviction of each svm and resumes
 * once per svm, and kgd2kfd_quiesce_mm() is reference counted, so the
 * queues run only when every svm is restored.
 */
struct amd_mock_gpu {
	struct drm_svm_registry reg;
	struct drm_svm *svm;
	struct drm_svm_range range;	/* one KFD userptr BO per GPU */
	unsigned long addr;
	bool live;
	bool quiesced;			/* this svm holds a queue stop */
};

struct amd_mock_mgpu {
	struct amd_mock_gpu gpu[2];
	int queue_stops;		/* kgd2kfd_quiesce_mm() references */
};

static struct amd_mock_mgpu *amd_mock_mgpu;

static void amd_mock_mgpu_invalidate(struct drm_svm *svm,
				     struct drm_svm_range *range,
				     const struct mmu_notifier_range *mmu_range)
{
	struct amd_mock_gpu *gpu = container_of(svm->registry,
						struct amd_mock_gpu, reg);

	lockdep_assert_held_write(&svm->notifier_lock);
	if (gpu->quiesced)
		return;
	gpu->quiesced = true;
	amd_mock_mgpu->queue_stops++;
}

static const struct drm_svm_ops amd_mock_mgpu_ops = {
	.invalidate = amd_mock_mgpu_invalidate,
};

static void amd_mock_mgpu_cleanup(void *data)
{
	struct amd_mock_mgpu *m = data;
	int g;

	for (g = 0; g < 2; g++) {
		if (m->gpu[g].live)
			drm_svm_range_fini(&m->gpu[g].range);
		if (!IS_ERR_OR_NULL(m->gpu[g].svm))
			drm_svm_registry_put(m->gpu[g].svm);
		drm_svm_registry_fini(&m->gpu[g].reg);
	}
	amd_mock_mgpu = NULL;
}

/* The restore worker's part for one svm; true if it dropped its stop. */
static bool amd_mock_mgpu_restore(struct kunit *test, struct amd_mock_gpu *gpu,
				  void (*between)(void))
{
	unsigned long gen = drm_svm_restore_gen(gpu->svm);
	struct drm_svm_range *range, *taken = NULL;
	bool ok = true;

	while ((range = drm_svm_restore_pop(gpu->svm))) {
		KUNIT_EXPECT_PTR_EQ(test, range, &gpu->range);
		taken = range;
	}
	if (taken && drm_svm_range_get_pages(taken, DRM_SVM_TIMEOUT_DEFAULT_MS))
		ok = false;
	if (between)
		between();

	drm_svm_notifier_lock(gpu->svm);
	if (taken && !drm_svm_range_pages_valid(taken)) {
		drm_svm_restore_requeue(taken);
		ok = false;
	}
	if (ok && drm_svm_restore_gen(gpu->svm) == gen &&
	    !drm_svm_restore_pending(gpu->svm)) {
		if (gpu->quiesced)
			amd_mock_mgpu->queue_stops--;
		gpu->quiesced = false;
	} else {
		ok = false;
	}
	drm_svm_notifier_unlock(gpu->svm);
	return ok;
}

static void amd_mock_mgpu_evict_gpu0(void)
{
	do_madvise(current->mm, amd_mock_mgpu->gpu[0].addr, PAGE_SIZE,
		   MADV_DONTNEED);
}

static void drm_svm_amd_test_kfd_two_gpus(struct kunit *test)
{
	struct amd_mock_dev *d = test->priv;
	struct amd_mock_mgpu *m;
	unsigned long gen[2];
	struct device *dev;
	int g;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	amd_mock_mgpu = m;
	for (g = 0; g < 2; g++) {
		dev = kunit_device_register(test, g ? "drm_svm_amd_gpu1" :
						      "drm_svm_amd_gpu0");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
		KUNIT_ASSERT_EQ(test,
				dma_coerce_mask_and_coherent(dev,
							     DMA_BIT_MASK(64)),
				0);
		drm_svm_registry_init(&m->gpu[g].reg, dev, &amd_mock_mgpu_ops,
				      NULL);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							amd_mock_mgpu_cleanup,
							m), 0);

	/* init_kfd_vm() per GPU, then one KFD userptr BO on each. */
	for (g = 0; g < 2; g++) {
		struct amd_mock_gpu *gpu = &m->gpu[g];

		gpu->svm = drm_svm_registry_get(&gpu->reg, current->mm);
		KUNIT_ASSERT_FALSE(test, IS_ERR(gpu->svm));
		gpu->addr = svm_mmap(test, 4 * PAGE_SIZE,
				     PROT_READ | PROT_WRITE);
		svm_fill(test, gpu->addr, 4, 0x100 * (g + 1));
		KUNIT_ASSERT_EQ(test, drm_svm_range_init(gpu->svm, &gpu->range,
							 gpu->addr,
							 4 * PAGE_SIZE,
							 DRM_SVM_RANGE_RESTORE),
				0);
		gpu->live = true;
		KUNIT_ASSERT_EQ(test,
				drm_svm_range_get_pages(&gpu->range,
							DRM_SVM_TIMEOUT_DEFAULT_MS),
				0);
		gen[g] = drm_svm_restore_gen(gpu->svm);
	}
	/* One svm per (device, mm): neither each other's nor the gfx one. */
	KUNIT_EXPECT_PTR_NE(test, m->gpu[0].svm, m->gpu[1].svm);
	KUNIT_EXPECT_PTR_NE(test, m->gpu[0].svm, d->vm_svm[0]);

	/* An eviction on GPU 0 moves GPU 0's generation only. */
	do_madvise(current->mm, m->gpu[0].addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(m->gpu[0].svm), gen[0] + 1);
	KUNIT_EXPECT_EQ(test, drm_svm_restore_gen(m->gpu[1].svm), gen[1]);
	KUNIT_EXPECT_TRUE(test, drm_svm_restore_pending(m->gpu[0].svm));
	KUNIT_EXPECT_FALSE(test, drm_svm_restore_pending(m->gpu[1].svm));
	KUNIT_EXPECT_EQ(test, m->queue_stops, 1);
	/* Each svm stops the queues once. */
	do_madvise(current->mm, m->gpu[1].addr, 4 * PAGE_SIZE, MADV_DONTNEED);
	do_madvise(current->mm, m->gpu[0].addr, PAGE_SIZE, MADV_DONTNEED);
	KUNIT_EXPECT_EQ(test, m->queue_stops, 2);

	/* GPU 0 restored: GPU 1's stop keeps the queues stopped. */
	KUNIT_EXPECT_TRUE(test, amd_mock_mgpu_restore(test, &m->gpu[0], NULL));
	KUNIT_EXPECT_EQ(test, m->queue_stops, 1);
	KUNIT_EXPECT_TRUE(test, svm_valid(&m->gpu[0].range));
	KUNIT_EXPECT_FALSE(test, svm_valid(&m->gpu[1].range));

	/*
	 * GPU 0's BO is evicted again while GPU 1 restores: GPU 1 drops its
	 * stop, GPU 0 takes a new one, the queues stay stopped.
	 */
	KUNIT_EXPECT_TRUE(test, amd_mock_mgpu_restore(test, &m->gpu[1],
						      amd_mock_mgpu_evict_gpu0));
	KUNIT_EXPECT_EQ(test, m->queue_stops, 1);
	KUNIT_EXPECT_TRUE(test, m->gpu[0].quiesced);
	KUNIT_EXPECT_FALSE(test, svm_valid(&m->gpu[0].range));

	KUNIT_EXPECT_TRUE(test, amd_mock_mgpu_restore(test, &m->gpu[0], NULL));
	KUNIT_EXPECT_EQ(test, m->queue_stops, 0);
	for (g = 0; g < 2; g++) {
		KUNIT_EXPECT_TRUE(test, svm_valid(&m->gpu[g].range));
		KUNIT_EXPECT_FALSE(test, drm_svm_restore_pending(m->gpu[g].svm));
	}
}

static struct kunit_case drm_svm_amd_tests[] = {
	KUNIT_CASE(drm_svm_amd_test_cs_multi_vm),
	KUNIT_CASE(drm_svm_amd_test_cs_collision),
	KUNIT_CASE(drm_svm_amd_test_kfd_evict_restore),
	KUNIT_CASE(drm_svm_amd_test_kfd_nonblock),
	KUNIT_CASE(drm_svm_amd_test_seq_shim),
	KUNIT_CASE(drm_svm_amd_test_kfd_two_gpus),
	KUNIT_CASE(drm_svm_test_lockdep_clean),
	{}
};

static struct kunit_suite drm_svm_amd_suite = {
	.name = "drm_svm_amdgpu",
	.init = amd_mock_init,
	.exit = amd_mock_exit,
	.test_cases = drm_svm_amd_tests,
};

kunit_test_suites(&drm_svm_suite, &drm_svm_invalidate_suite,
		  &drm_svm_mirror_suite, &drm_svm_deadlock_suite,
		  &drm_svm_perf_suite, &drm_svm_amd_suite,
		  &drm_svm_mirror_batch_suite);

MODULE_DESCRIPTION("KUnit tests for the DRM SVM helper");
MODULE_LICENSE("GPL");
