// libFuzzer target: the config loader on arbitrary bytes, as a string (load_from_string) and as files (load): the
// bytes before the first NUL are the main file, those after it a drop-in (a NUL is never valid JSON text anyway).
// Besides crashes, sanitizer reports, leaks and slow inputs, it checks what every result must satisfy.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

#include "config/load.h"

namespace {

using watchd::config::LoadResult;

[[noreturn]] void fail(const char *what, const std::string &detail = "") {
    std::fprintf(stderr, "fuzz-config: %s %s\n", what, detail.c_str());
    std::abort();
}

// The invariants of a result: ok() exactly when there is no diagnostic, a count that agrees, diagnostics that are
// safe to print (no control character) and bounded in number (at most 50 per file plus one summary each).
void check(const LoadResult &r, std::size_t files) {
    if (r.ok() != r.diagnostics.empty()) fail("ok() disagrees with the diagnostics");
    if (r.ok() != (r.error_count == 0)) fail("ok() disagrees with error_count");
    if (r.diagnostics.size() > r.error_count + files || r.diagnostics.size() > 51 * files)
        fail("too many diagnostics:", std::to_string(r.diagnostics.size()));
    for (const auto &d : r.diagnostics) {
        const std::string s = d.to_string();
        for (unsigned char c : s)
            if (c < 0x20 || c == 0x7f) fail("control character in", s);
        if (s.size() > 16384) fail("diagnostic longer than 16 KiB:", s.substr(0, 200));
    }
}

// <tmp>/watchd.json and <tmp>/watchd.d/10-fuzz.json, made once. libFuzzer ends with _Exit() (no atexit), so
// <tmp> is made under $WATCHD_FUZZ_TMP when set: run-fuzz points it at a directory of its own on tmpfs (two files
// are written per input) and removes it afterwards.
const std::filesystem::path &work_dir() {
    static const std::filesystem::path dir = [] {
        const char *parent = std::getenv("WATCHD_FUZZ_TMP");
        std::string t = std::string(parent && *parent ? parent : "/tmp") + "/watchd-fuzz-XXXXXX";
        if (!mkdtemp(t.data())) fail("mkdtemp failed under", t);
        std::filesystem::create_directory(std::filesystem::path(t) / "watchd.d");
        return std::filesystem::path(t);
    }();
    return dir;
}

void write_file(const std::filesystem::path &p, std::string_view bytes) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot write", p.string());
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n <= 0) fail("cannot write", p.string());
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    check(watchd::config::load_from_string(text, "fuzz.json"), 1);

    const auto &dir = work_dir();
    const auto nul = text.find('\0');
    write_file(dir / "watchd.json", text.substr(0, nul));
    const auto dropin = dir / "watchd.d" / "10-fuzz.json";
    if (nul == std::string_view::npos) ::unlink(dropin.c_str());
    else write_file(dropin, text.substr(nul + 1));
    check(watchd::config::load((dir / "watchd.json").string()), 2);
    return 0;
}
