// config::load() limits: what it refuses to read (devices, FIFOs, directories, more than 16 MiB) without hanging or
// reading it, and inputs that must not take quadratic time (duplicate server names, huge drop-ins).
#include <fcntl.h>
#include <sys/stat.h>

#include "test_util.h"

namespace watchd::config {
namespace {

using namespace testing;
namespace fs = std::filesystem;

constexpr std::size_t kCap = 16 * 1024 * 1024;
const std::string kApp =
    R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "/s", "binary": "a"}}})";

// A file of exactly `size` bytes: a valid config padded with spaces.
void write_padded(const fs::path &p, std::size_t size) {
    std::ofstream f(p, std::ios::binary);
    f << kApp << std::string(size - kApp.size(), ' ');
}

class Limits : public TempDir {};

TEST_F(Limits, DevZeroIsRefusedWithoutReadingIt) {
    // Before: read until out of memory (2.1 GB, then abort).
    int rc = in_bounded_child([] { return expect_only(load("/dev/zero"), "/dev/zero: not a regular file (a character device)"); },
                              10, 256);
    EXPECT_EQ(rc, 0);
}

TEST_F(Limits, FifoWithoutAWriterReturnsPromptly) {
    const std::string fifo = (dir / "watchd.json").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    // Before: open() blocked forever waiting for a writer (ended here by the child's alarm).
    int rc = in_bounded_child([&] { return expect_only(load(fifo), fifo + ": not a regular file (a FIFO)"); }, 5, 256);
    EXPECT_EQ(rc, 0);
}

TEST_F(Limits, DirectoryIsNamedAsSuch) {
    auto r = load(dir.string());
    ASSERT_EQ(r.diagnostics.size(), 1u) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.diagnostics[0].to_string(), dir.string() + ": not a regular file (a directory)");
    EXPECT_FALSE(r.ok());
}

TEST_F(Limits, OneByteOverTheCapIsRefusedWithoutReadingIt) {
    const fs::path p = dir / "watchd.json";
    write_padded(p, kCap + 1);
    // 24 MiB of address space to spare: reading the file whole (as before) needs more than that.
    int rc = in_bounded_child(
        [&] { return expect_only(load(p.string()), p.string() + ": larger than 16 MiB (16777217 bytes), refusing to read"); },
        20, 24);
    EXPECT_EQ(rc, 0);
}

TEST_F(Limits, HugeSparseFileIsRefusedWithoutReadingIt) {
    const fs::path p = dir / "watchd.json";
    { std::ofstream(p) << ""; }
    ASSERT_EQ(truncate(p.c_str(), 4LL << 30), 0); // 4 GiB of holes: no disk used
    int rc = in_bounded_child(
        [&] { return expect_only(load(p.string()), p.string() + ": larger than 16 MiB (4294967296 bytes), refusing to read"); },
        20, 64);
    EXPECT_EQ(rc, 0);
}

TEST_F(Limits, ExactlyTheCapIsAccepted) {
    const fs::path p = dir / "watchd.json";
    write_padded(p, kCap);
    ASSERT_EQ(fs::file_size(p), kCap);
    auto r = load(p.string());
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
}

TEST_F(Limits, DropInsAreCheckedTheSameWay) {
    const fs::path main = dir / "watchd.json";
    write(main, kApp);
    fs::create_directory(dir / "watchd.d");
    const std::string fifo = (dir / "watchd.d" / "10-fifo.json").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    fs::create_directory(dir / "watchd.d" / "20-dir.json");
    write_padded(dir / "watchd.d" / "30-big.json", kCap + 1);
    const std::string big = (dir / "watchd.d" / "30-big.json").string();
    int rc = in_bounded_child(
        [&] {
            auto r = load(main.string());
            std::vector<std::string> want = {fifo + ": not a regular file (a FIFO)",
                                             (dir / "watchd.d" / "20-dir.json").string() + ": not a regular file (a directory)",
                                             big + ": larger than 16 MiB (16777217 bytes), refusing to read"};
            if (!r.ok() && errors(r) == want) return 0;
            for (const auto &e : errors(r)) std::fprintf(stderr, "got: %s\n", e.c_str());
            return 1;
        },
        10, 24);
    EXPECT_EQ(rc, 0); // before: the FIFO and the directory were skipped in silence, and the big one read whole
}

TEST_F(Limits, DuplicateServerNamesAreNotQuadratic) {
    // Before: 16,000 duplicates took 44.7 s, 100,000 did not finish.
    std::string servers;
    for (int i = 0; i < 100000; ++i)
        servers += std::string(i ? "," : "") + R"({"name": "Web", "ipAddress": "10.0.0.1", "port": 80, "protocol": "tcp"})";
    const std::string json = R"({"servers": [)" + servers + "]}";
    int rc = in_bounded_child(
        [&] {
            auto r = load_from_string(json, "watchd.json");
            if (!r.ok() || r.config->checks.size() != 100000) return 1;
            const auto &c = r.config->checks;
            return c[0].id == "web" && c[1].id == "web-2" && c[99999].id == "web-100000" ? 0 : 2;
        },
        20, 4096);
    EXPECT_EQ(rc, 0);
}

TEST(ServerIds, SameIdsAsBefore) {
    // Ids from names: lower-cased runs of letters and digits joined by '-', then -2, -3, ... while taken.
    std::string servers;
    for (const char *n : {"a", "a-2", "a", "a", "A!", "a-3", "Foo  Bar", "foo-bar", "a-3"})
        servers += std::string(servers.empty() ? "" : ",") + R"({"name": ")" + n +
                   R"(", "ipAddress": "10.0.0.1", "port": 80, "protocol": "tcp"})";
    auto r = load_from_string(R"({"servers": [)" + servers + "]}", "w.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    std::vector<std::string> ids;
    for (const auto &c : r.config->checks) ids.push_back(c.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "a-2", "a-3", "a-4", "a-5", "a-3-2", "foo-bar", "foo-bar-2", "a-3-3"}));
}

TEST_F(Limits, ADropInWithManyKeysIsNotQuadratic) {
    // Before: every merged key scanned every origin recorded so far.
    write(dir / "watchd.json", kApp);
    fs::create_directory(dir / "watchd.d");
    std::string keys;
    for (int i = 0; i < 100000; ++i) keys += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\": " + std::to_string(i);
    write(dir / "watchd.d" / "10-x.json", R"({"x": {)" + keys + "}}");
    int rc = in_bounded_child(
        [&] {
            auto r = load((dir / "watchd.json").string());
            return r.ok() ? 0 : 1;
        },
        20, 4096);
    EXPECT_EQ(rc, 0);
}

} // namespace
} // namespace watchd::config
