// Helpers shared by the config tests: diagnostics as text, a temporary directory, a bounded child process.
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "config/load.h"

namespace watchd::config::testing {

inline std::vector<std::string> errors(const LoadResult &r) {
    std::vector<std::string> out;
    for (const auto &d : r.diagnostics) out.push_back(d.to_string());
    return out;
}

// A fresh directory under /tmp, removed afterwards.
class TempDir : public ::testing::Test {
protected:
    std::filesystem::path dir;
    void SetUp() override {
        char t[] = "/tmp/watchd-cfg-XXXXXX";
        ASSERT_NE(mkdtemp(t), nullptr);
        dir = t;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    void write(const std::filesystem::path &p, const std::string &text) {
        std::ofstream(p, std::ios::binary) << text;
    }
};

// Runs fn in a child process that may use at most `extra_mib` MiB of address space more than now and at most
// `seconds` of wall time, so a defect (unbounded reading, a hang, a quadratic loop) fails the test instead of
// taking the machine down. Returns fn's result, 98 when it ran out of memory (std::bad_alloc), 99 on another
// exception, or 128 + the signal that ended the child (142, SIGALRM: too slow). The child never returns to gtest.
inline int in_bounded_child(const std::function<int()> &fn, unsigned seconds, unsigned long extra_mib) {
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        unsigned long pages = 0;
        if (FILE *f = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(f, "%lu", &pages) != 1) pages = 0;
            std::fclose(f);
        }
        rlim_t limit = pages * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + extra_mib * 1024 * 1024;
        rlimit rl{limit, limit};
        if (pages) setrlimit(RLIMIT_AS, &rl);
        alarm(seconds);
        int rc = 99;
        try {
            rc = fn();
        } catch (const std::bad_alloc &) {
            rc = 98;
        } catch (...) {
        }
        std::fflush(nullptr);
        _exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

// In a child: 0 when the only diagnostic of r reads `want`, else 1 (and the diagnostics on stderr).
inline int expect_only(const LoadResult &r, const std::string &want) {
    if (!r.ok() && r.diagnostics.size() == 1 && r.diagnostics[0].to_string() == want) return 0;
    std::fprintf(stderr, "want: %s\n", want.c_str());
    for (const auto &e : errors(r)) std::fprintf(stderr, "got:  %s\n", e.c_str());
    return 1;
}

} // namespace watchd::config::testing
