"""Helpers shared by the tests that run xraybridge under valgrind: the valgrind command
prefix for Bridge(prefix=...) and the closing check on its exit code and leak summary.
"""

VALGRIND = ("valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect")


def leak_summary(log):
    """valgrind's ERROR SUMMARY and definitely/indirectly lost lines from |log|."""
    return "\n".join(line for line in log.splitlines()
                     if "ERROR SUMMARY" in line or "definitely lost" in line
                     or "indirectly lost" in line)


def check_clean_exit(report, rc, log):
    """Prints the leak summary (and the log's tail when |rc| != 0) and records one check:
    exit code 0 (valgrind exits 99 on a memory error or a definite/indirect leak)."""
    print(leak_summary(log))
    if rc != 0:
        print(log[-6000:])
    report.check(rc == 0, f"valgrind/xraybridge exit code {rc} (99 = memory error or leak)")
