// SPDX-License-Identifier: MIT
/*
 * A tiny IGT-format binary with one subtest per outcome the runner must
 * recognise. Linked against the real libigt.so.0, so it proves the whole
 * plumbing: our igt.h macros -> libigt's subtest machinery -> exit codes and
 * output lines -> igt_run's parser. Expected results: see expected.txt.
 */
#include <signal.h>

#include "igt.h"

IGT_TEST_DESCRIPTION("Self-test for the drm_svm IGT runner (not a kernel test).");

static int fixture_value;

igt_main
{
	igt_fixture
		fixture_value = 42;

	igt_describe("Always passes: the fixture ran and set its value.");
	igt_subtest("pass")
		igt_assert_eq(fixture_value, 42);

	igt_describe("Always skips, with a requirement message.");
	igt_subtest("skip")
		igt_require_f(fixture_value == 0, "selftest skip reason\n");

	igt_describe("Always fails an assertion.");
	igt_subtest("fail")
		igt_assert_eq(fixture_value, 0);

	igt_describe("Dynamic subtests: one of each outcome.");
	igt_subtest_with_dynamic("dynamic") {
		igt_dynamic("dyn-pass")
			igt_assert(true);
		igt_dynamic("dyn-skip")
			igt_skip("dynamic skip reason\n");
		igt_dynamic("dyn-fail")
			igt_assert_f(false, "dynamic failure\n");
	}

	igt_describe("A dynamic container that skips before entering any.");
	igt_subtest_with_dynamic("dynamic-empty")
		igt_require_f(false, "no dynamic subtests here\n");

	igt_describe("A forked child fails: the failure reaches the parent.");
	igt_subtest("fork-fail") {
		igt_fork(child, 1)
			igt_assert_eq(child, 1);
		igt_waitchildren();
	}

	igt_describe("Never finishes: the runner must kill it and report a timeout.");
	igt_subtest("hang") {
		if (getenv("SELFTEST_NO_HANG"))
			igt_skip("hang disabled\n");
		for (;;)
			pause();
	}

	igt_describe("Dies on a signal: the runner must report a failure.");
	igt_subtest("crash")
		raise(SIGSEGV);
}
