// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests for what nouveau's SVM fault path (nouveau_svm.c on
 * drm_gpusvm) relies on in drm_gpusvm, hmm and make_device_exclusive().
 * QEMU has no NVIDIA GPU, so nouveau's own code cannot run; these cases
 * run the same helper calls, in the same order, on a KUnit-owned mm:
 *
 * - a fault calls drm_gpusvm_range_get_pfns() with the faulting page as
 *   the fault mask (none for a prefetch): that page is faulted in, the
 *   rest of the range is only read. A page the fault may not touch (here:
 *   read-only for a write) fails a fault of the whole range, as the 6.12
 *   design did, but not nouveau's fault (N3);
 * - that leaves a device-exclusive neighbour alone, where faulting it
 *   takes it back from the device (N5);
 * - make_device_exclusive() with a drm_gpusvm's device-exclusive owner
 *   (nouveau: the svmm) neither reaches that drm_gpusvm's callback nor
 *   moves its notifier sequence, so nouveau's atomic commit is the usual
 *   sequence check; another drm_gpusvm of the same mm sees a foreign owner
 *   and invalidates (N8: owner = the svmm, not the device).
 */

#include <kunit/test.h>

#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>

#include <asm/tlb.h>

#include <drm/drm_gpusvm.h>

static const unsigned long nt_chunks[] = { SZ_2M, SZ_64K, SZ_4K };

/* One SVM context: what nouveau_svmm holds, plus what its callback saw. */
struct nt_svm {
	struct drm_gpusvm svm;
	struct mutex lock; /* the driver lock: range insertion and removal */
	int inval_calls;
	enum mmu_notifier_event last_event;
	void *last_owner;
};

static void nt_invalidate(struct drm_gpusvm *svm,
			  struct drm_gpusvm_notifier *notifier,
			  const struct mmu_notifier_range *mmu_range)
{
	struct nt_svm *s = container_of(svm, struct nt_svm, svm);

	lockdep_assert_held_write(&svm->notifier_lock);
	s->inval_calls++;
	s->last_event = mmu_range->event;
	s->last_owner = mmu_range->owner;
}

static const struct drm_gpusvm_ops nt_ops = {
	.invalidate = nt_invalidate,
};

static void nt_fini(void *data)
{
	struct nt_svm *s = data;

	mutex_lock(&s->lock);
	drm_gpusvm_fini(&s->svm);
	mutex_unlock(&s->lock);
}

static struct nt_svm *nt_svm_new(struct kunit *test)
{
	struct nt_svm *s;

	/* The first mapping attaches an mm to the test thread. */
	KUNIT_ASSERT_NE(test, kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
					    MAP_PRIVATE | MAP_ANONYMOUS, 0), 0);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	mutex_init(&s->lock);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_init(&s->svm, "nouveau_gpusvm_test",
					      current->mm, 0,
					      current->mm->task_size, SZ_2M,
					      &nt_ops, nt_chunks,
					      ARRAY_SIZE(nt_chunks)), 0);
	drm_gpusvm_driver_set_lock(&s->svm, &s->lock);
	/* As nouveau_svmm_init(): the context is its own exclusive owner. */
	drm_gpusvm_set_device_exclusive_owner(&s->svm, s);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, nt_fini, s), 0);
	return s;
}

/* An anonymous read-write VMA of @len bytes at a @len aligned address. */
static unsigned long nt_mmap_aligned(struct kunit *test, unsigned long len)
{
	unsigned long raw, addr;

	raw = kunit_vm_mmap(test, NULL, 0, 2 * len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(raw));
	KUNIT_ASSERT_NE(test, raw, 0);
	addr = ALIGN(raw, len);
	if (addr > raw)
		KUNIT_ASSERT_EQ(test, vm_munmap(raw, addr - raw), 0);
	if (raw + len > addr)
		KUNIT_ASSERT_EQ(test, vm_munmap(addr + len, raw + len - addr), 0);
	return addr;
}

static void nt_touch(struct kunit *test, unsigned long addr, unsigned long len)
{
	unsigned long a;
	u32 v = 0x4e56;

	for (a = addr; a < addr + len; a += PAGE_SIZE)
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)a, &v,
						   sizeof(v)), 0);
}

static struct drm_gpusvm_range *nt_range(struct kunit *test, struct nt_svm *s,
					 unsigned long addr)
{
	struct drm_gpusvm_ctx ctx = {};
	struct drm_gpusvm_range *range;

	mutex_lock(&s->lock);
	range = drm_gpusvm_range_find_or_insert(&s->svm, addr, 0, ULONG_MAX,
						&ctx);
	mutex_unlock(&s->lock);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	return range;
}

/* hmm_range_fault() over [start, end) of @range's notifier, as nouveau. */
static int nt_walk(struct drm_gpusvm_range *range, unsigned long start,
		   unsigned long end, unsigned long flags, unsigned long *pfns)
{
	struct hmm_range walk = {
		.notifier = &range->notifier->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = flags,
	};

	return hmm_range_fault_unlocked_timeout(&walk,
			msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT));
}

/*
 * nouveau_svmm_fault_range()'s helper calls: page @idx of @range faulted in
 * (none if negative, a prefetch), the snapshot in @pfns, then the commit
 * check under the notifier lock (-EAGAIN if it fails).
 */
static int nt_fault(struct nt_svm *s, struct drm_gpusvm_range *range,
		    long idx, bool write, unsigned long *pfns)
{
	const struct drm_gpusvm_ctx ctx = { .read_only = !write };
	DECLARE_BITMAP(mask, SZ_2M >> PAGE_SHIFT) = {};
	unsigned long seq = 0;
	bool valid;
	int ret;

	if (idx >= 0)
		__set_bit(idx, mask);
	ret = drm_gpusvm_range_get_pfns(&s->svm, range, idx >= 0 ? mask : NULL,
					pfns, &ctx, &seq);
	if (ret)
		return ret;
	drm_gpusvm_notifier_lock(&s->svm);
	valid = drm_gpusvm_range_pfns_valid(&s->svm, range, seq);
	drm_gpusvm_notifier_unlock(&s->svm);
	return valid ? 0 : -EAGAIN;
}

/* mprotect(PROT_READ) of [start, end) inside one VMA, as the syscall does. */
static void nt_mprotect_ro(struct kunit *test, unsigned long start,
			   unsigned long end)
{
	VMA_ITERATOR(vmi, current->mm, start);
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;

	mmap_write_lock(mm);
	vma = vma_find(&vmi, end);
	KUNIT_ASSERT_TRUE(test, vma && vma->vm_start <= start &&
			  vma->vm_end >= end);
	prev = start > vma->vm_start ? vma : vma_prev(&vmi);
	vma_iter_set(&vmi, start);
	vma = vma_find(&vmi, end);
	tlb_gather_mmu(&tlb, mm);
	KUNIT_EXPECT_EQ(test, mprotect_fixup(&vmi, &tlb, vma, &prev, start, end,
					     vma->vm_flags & ~VM_WRITE), 0);
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
}

/*
 * N3: a write fault on page 0 of a 64K range whose upper half became
 * read-only. Faulting the whole range for write (the 6.12 design) fails
 * with -EPERM because of pages the fault does not need; nouveau's fault
 * succeeds, and maps the read-only pages read-only.
 */
static void nouveau_gpusvm_test_write_fault_ignores_read_only_neighbours(struct kunit *test)
{
	struct nt_svm *s = nt_svm_new(test);
	unsigned long addr = nt_mmap_aligned(test, SZ_64K);
	unsigned long pfns[SZ_64K / PAGE_SIZE] = {};
	struct drm_gpusvm_range *range;

	nt_touch(test, addr, SZ_64K);
	range = nt_range(test, s, addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range), SZ_64K);
	nt_mprotect_ro(test, addr + SZ_32K, addr + SZ_64K);

	/* The old design: one fault of the whole range, writable. */
	KUNIT_EXPECT_EQ(test, nt_walk(range, addr, addr + SZ_64K,
				      HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
				      pfns), -EPERM);

	/* nouveau: the faulting page for write, the rest as it is. */
	KUNIT_ASSERT_EQ(test, nt_fault(s, range, 0, true, pfns), 0);
	KUNIT_EXPECT_TRUE(test, pfns[0] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, pfns[0] & HMM_PFN_WRITE);
	KUNIT_EXPECT_TRUE(test, pfns[8] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[8] & HMM_PFN_WRITE);
}

/* A prefetch reports absent pages as absent, no error, nothing faulted. */
static void nouveau_gpusvm_test_walk_without_fault_skips_absent_pages(struct kunit *test)
{
	struct nt_svm *s = nt_svm_new(test);
	unsigned long addr = nt_mmap_aligned(test, SZ_64K);
	unsigned long pfns[SZ_64K / PAGE_SIZE] = {};
	struct drm_gpusvm_range *range;
	int calls;

	nt_touch(test, addr + 2 * PAGE_SIZE, PAGE_SIZE);
	range = nt_range(test, s, addr);
	KUNIT_ASSERT_EQ(test, drm_gpusvm_range_size(range), SZ_64K);

	calls = s->inval_calls;
	KUNIT_ASSERT_EQ(test, nt_fault(s, range, -1, false, pfns), 0);
	KUNIT_EXPECT_FALSE(test, pfns[0] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_FALSE(test, pfns[3] & HMM_PFN_VALID);
	/* Nothing was faulted in: no page allocated, no event. */
	KUNIT_EXPECT_EQ(test, s->inval_calls, calls);
}

/*
 * N5 and N8: make_device_exclusive() with A as owner, as nouveau's atomic
 * fault. drm_gpusvm keeps it from A (no callback, the sequence A began
 * stays valid for its commit); B, another context, invalidates. A plain
 * fault on a neighbour leaves the exclusive entry; faulting the page takes
 * it back.
 */
static void nouveau_gpusvm_test_exclusive_owner_and_walks(struct kunit *test)
{
	struct nt_svm *a = nt_svm_new(test), *b = nt_svm_new(test);
	unsigned long addr = nt_mmap_aligned(test, SZ_64K);
	unsigned long pfns[SZ_64K / PAGE_SIZE] = {};
	struct drm_gpusvm_range *ra, *rb;
	unsigned long seq_a, seq_b;
	struct folio *folio;
	struct page *page;
	int calls_a, calls_b;
	bool retry_a;

	nt_touch(test, addr, SZ_64K);
	ra = nt_range(test, a, addr);
	rb = nt_range(test, b, addr);
	seq_a = mmu_interval_read_begin(&ra->notifier->notifier);
	seq_b = mmu_interval_read_begin(&rb->notifier->notifier);
	calls_a = a->inval_calls;
	calls_b = b->inval_calls;

	mmap_read_lock(current->mm);
	page = make_device_exclusive(current->mm, addr + 2 * PAGE_SIZE, a,
				     &folio);
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(page));
	/* nouveau's commit check, under the notifier lock, folio locked. */
	drm_gpusvm_notifier_lock(&a->svm);
	retry_a = mmu_interval_read_retry(&ra->notifier->notifier, seq_a);
	drm_gpusvm_notifier_unlock(&a->svm);
	folio_unlock(folio);
	folio_put(folio);

	/* A's own event neither reaches A nor fails A's commit check ... */
	KUNIT_EXPECT_EQ(test, a->inval_calls, calls_a);
	KUNIT_EXPECT_FALSE(test, retry_a);
	/* ... while B, another context of the same mm, sees a foreign owner. */
	KUNIT_EXPECT_EQ(test, b->inval_calls, calls_b + 1);
	KUNIT_EXPECT_EQ(test, b->last_event, MMU_NOTIFY_EXCLUSIVE);
	KUNIT_EXPECT_PTR_EQ(test, b->last_owner, (void *)a);
	KUNIT_EXPECT_TRUE(test, mmu_interval_read_retry(&rb->notifier->notifier,
							seq_b));

	/* N5: a read fault on page 0 leaves the exclusive page alone. */
	calls_a = a->inval_calls;
	KUNIT_ASSERT_EQ(test, nt_fault(a, ra, 0, false, pfns), 0);
	KUNIT_EXPECT_FALSE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_TRUE(test, pfns[3] & HMM_PFN_VALID);
	KUNIT_EXPECT_EQ(test, a->inval_calls, calls_a);

	/* Faulting it (the 6.12 design faulted whole ranges) takes it back. */
	KUNIT_ASSERT_EQ(test, nt_walk(ra, addr, addr + SZ_64K,
				      HMM_PFN_REQ_FAULT, pfns), 0);
	KUNIT_EXPECT_TRUE(test, pfns[2] & HMM_PFN_VALID);
	KUNIT_EXPECT_GT(test, a->inval_calls, calls_a);
	KUNIT_EXPECT_PTR_NE(test, a->last_owner, (void *)a);
}

static struct kunit_case nouveau_gpusvm_test_cases[] = {
	KUNIT_CASE(nouveau_gpusvm_test_write_fault_ignores_read_only_neighbours),
	KUNIT_CASE(nouveau_gpusvm_test_walk_without_fault_skips_absent_pages),
	KUNIT_CASE(nouveau_gpusvm_test_exclusive_owner_and_walks),
	{}
};

static struct kunit_suite nouveau_gpusvm_test_suite = {
	.name = "nouveau_gpusvm",
	.test_cases = nouveau_gpusvm_test_cases,
};

kunit_test_suite(nouveau_gpusvm_test_suite);

MODULE_DESCRIPTION("KUnit tests for the drm_gpusvm paths nouveau SVM uses");
MODULE_LICENSE("GPL");
