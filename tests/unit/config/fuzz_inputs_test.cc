// Every input of tests/fuzz/regressions/ (fuzzer finds and hand-made worst cases) and tests/fuzz/corpus/ (the
// fuzzer's seeds) through config::load_from_string in a plain build: each returns, ok or with diagnostics, within
// a generous bound, and its result is consistent; so does each large worst case tests/fuzz/make-large-inputs writes
// (too big for git). WATCHD_FUZZ_DIR is tests/fuzz/, WATCHD_FUZZ_LARGE_DIR where the build put the large ones.
#include <algorithm>
#include <iterator>

#include "test_util.h"

namespace watchd::config {
namespace {

using namespace testing;
namespace fs = std::filesystem;

std::vector<fs::path> inputs(const fs::path &dir) {
    std::vector<fs::path> out;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string slurp(const fs::path &p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void load_each(const fs::path &dir, std::size_t at_least) {
    auto files = inputs(dir);
    EXPECT_GE(files.size(), at_least) << "inputs missing from " << dir;
    for (const auto &p : files) {
        const std::string text = slurp(p);
        // In a child: a crash or a hang fails this file's check instead of ending the whole test.
        int rc = in_bounded_child(
            [&] {
                auto r = load_from_string(text, p.filename().string());
                if (r.ok() != r.diagnostics.empty() || r.ok() != (r.error_count == 0)) return 1;
                if (r.diagnostics.size() > 51) return 2; // 50 per file, then "... and N more errors"
                for (const auto &d : r.diagnostics)
                    for (unsigned char c : d.to_string())
                        if (c < 0x20 || c == 0x7f) return 3;
                return 0;
            },
            60, 4096);
        EXPECT_EQ(rc, 0) << p << " (1: ok() and the diagnostics disagree, 2: too many diagnostics, 3: a control "
                            "character printed, 98: out of memory, 142: more than 60 s, 128+n: signal n)";
    }
}

TEST(FuzzInputs, RegressionsLoadOrAreRefused) { load_each(fs::path(WATCHD_FUZZ_DIR) / "regressions", 5); }

TEST(FuzzInputs, LargeWorstCasesLoadOrAreRefused) { load_each(WATCHD_FUZZ_LARGE_DIR, 8); }

TEST(FuzzInputs, CorpusLoadsOrIsRefused) { load_each(fs::path(WATCHD_FUZZ_DIR) / "corpus", 5); }

} // namespace
} // namespace watchd::config
