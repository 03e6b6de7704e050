// exec probes: a command run with the check's timeout; up when it exits with one of the expected codes, down with
// the first line of what it wrote (nagios plugins put their verdict there). Its children are kept here (ExecChildren)
// until they are reaped, so a probe that is cancelled or timed out never leaves a zombie or a running command.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "event/source.h"
#include "probe/probe.h"
#include "sys/process.h"
#include "sys/users.h"

namespace watchd::probe {

// ---- ExecChildren ----

struct ExecChildren::Child {
    pid_t pid = 0;
    base::Pidfd fd;
    std::unique_ptr<event::ChildSource> source;
    Exited exited;
    bool done = false;
};

ExecChildren::ExecChildren(event::Loop &loop) : loop_(loop) {}
ExecChildren::~ExecChildren() {
    // watchd is going away: what still runs is killed (its process group); the kernel's reaper takes it from here.
    for (auto &c : children_)
        if (!c->done) (void)sys::kill_group(c->pid, SIGKILL);
}

base::Result<void> ExecChildren::watch(pid_t pid, base::Pidfd fd, Exited exited) {
    auto c = std::make_unique<Child>();
    Child *raw = c.get();
    c->pid = pid;
    c->fd = std::move(fd);
    c->exited = std::move(exited);
    auto src = event::ChildSource::create(loop_, c->fd.get(), [this, raw](const siginfo_t &si) {
        // Called once (the source is one-shot), with the child a zombie: sd-event reaps it right after. What the
        // command left in its process group goes with it (the group id is still the zombie's).
        raw->done = true;
        (void)sys::kill_group(raw->pid, SIGKILL);
        if (raw->exited) std::exchange(raw->exited, nullptr)(si);
        if (sweeper_ && !sweeper_->armed()) sweeper_->arm(1);
    });
    if (!src) {
        (void)sys::kill_group(pid, SIGKILL);
        return base::unexpected(src.error());
    }
    c->source = std::move(*src);
    if (!sweeper_) {
        auto t = event::Timer::create(loop_, [this] { std::erase_if(children_, [](const auto &x) { return x->done; }); },
                                      event::Priority::Idle);
        if (t) sweeper_ = std::move(*t);
    }
    children_.push_back(std::move(c));
    return {};
}

void ExecChildren::abandon(pid_t pid) {
    for (auto &c : children_)
        if (c->pid == pid && !c->done) {
            c->exited = nullptr;
            (void)sys::kill_group(pid, SIGKILL);
        }
}

bool ExecChildren::owns(pid_t pid) const {
    for (const auto &c : children_)
        if (c->pid == pid) return true;
    return false;
}

namespace {

constexpr std::size_t kOutputKept = 4096; // bytes of output looked at; the rest is read and dropped
constexpr std::size_t kErrorLine = 200;   // bytes of its first line that go into the error

// The first non-empty line of untrusted output, fit for a log line and a JSON string: control characters become
// spaces, at most kErrorLine bytes, never cut inside a UTF-8 sequence.
std::string first_line(const std::string &out) {
    std::size_t b = 0;
    while (b < out.size()) {
        std::size_t e = out.find('\n', b);
        if (e == std::string::npos) e = out.size();
        std::string line = out.substr(b, e - b);
        for (char &ch : line)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
        const auto first = line.find_first_not_of(' ');
        if (first != std::string::npos) {
            line = line.substr(first, line.find_last_not_of(' ') - first + 1);
            if (line.size() > kErrorLine) {
                std::size_t cut = kErrorLine;
                while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
                line = line.substr(0, cut) + "...";
            }
            return line;
        }
        b = e + 1;
    }
    return {};
}

class ExecProbe final : public TimedProbe {
public:
    ExecProbe(event::Loop &loop, ExecChildren &children, const model::CheckSpec &spec, Done done)
        : TimedProbe(loop, std::move(done)), children_(children), spec_(spec) {}
    ~ExecProbe() override {
        if (pid_ && !exited_) children_.abandon(pid_);
    }

    bool begin() {
        if (!start_clock(spec_.timeout, [this] {
                if (pid_) (void)sys::kill_group(pid_, SIGKILL);
                finish_with(false, "timed out after " + base::format_duration(spec_.timeout) + ", killed");
            }))
            return false;
        if (std::string why = run(); !why.empty()) finish_with(false, std::move(why));
        return true;
    }

private:
    // Starts the command; the reason it could not, or empty.
    std::string run() {
        const std::string &path = spec_.command.front();
        sys::ExecSpec x;
        x.path = path;
        x.argv = spec_.command;
        x.working_directory = "/";
        x.envp = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "WATCHD_CHECK_ID=" + spec_.id,
                  "LANG=C.UTF-8"};
        if (!spec_.user.empty() || !spec_.group.empty()) {
            auto c = sys::resolve_credentials(spec_.user.empty() ? std::to_string(::getuid()) : spec_.user, spec_.group);
            if (!c) return "cannot run " + path + ": " + c.error().message();
            x.uid = c->uid;
            x.gid = c->gid;
            x.groups = c->groups;
            if (!spec_.user.empty() && !c->name.empty())
                for (std::string e : {"HOME=" + c->home, "USER=" + c->name, "LOGNAME=" + c->name}) x.envp.push_back(e);
        }
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) return std::string("cannot run ") + path + ": pipe2: " + std::strerror(errno);
        base::UniqueFd read_end(p[0]), write_end(p[1]);
        ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
        x.stdout_fd = write_end.get();
        x.stderr_fd = write_end.get();
        auto spawned = sys::spawn(x);
        if (!spawned) return "cannot run " + path + ": " + spawned.error().message();
        write_end = base::UniqueFd();
        pid_ = spawned->pid;
        output_ = std::move(read_end);
        auto w = children_.watch(pid_, std::move(spawned->pidfd), [this](const siginfo_t &si) { exited(si); });
        if (!w) {
            exited_ = true;
            return "cannot watch " + path + ": " + w.error().message();
        }
        auto src = event::IoSource::create(loop_, output_.get(), event::io::kReadable, [this](std::uint32_t) { read_output(); });
        if (src) output_source_ = std::move(*src);
        return {};
    }

    // Reads what is there (never blocks: a grandchild may hold the pipe open long after the command ended).
    void read_output() {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(output_.get(), buf, sizeof buf);
            if (n > 0) {
                if (text_.size() < kOutputKept) text_.append(buf, std::min<std::size_t>(n, kOutputKept - text_.size()));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) output_source_.reset(); // end of output (only while running: see exited())
            return;
        }
    }

    void exited(const siginfo_t &si) {
        exited_ = true;
        if (output_) read_output();
        output_source_.reset();
        output_ = base::UniqueFd();
        if (si.si_code == CLD_EXITED) {
            for (int code : spec_.expect_exit)
                if (si.si_status == code) return finish_with(true, "");
            std::string why = "exited with status " + std::to_string(si.si_status);
            if (const std::string line = first_line(text_); !line.empty()) why += ": " + line;
            return finish_with(false, std::move(why));
        }
        const char *name = sigabbrev_np(si.si_status);
        finish_with(false, std::string("killed by signal ") + (name ? std::string("SIG") + name : std::to_string(si.si_status)));
    }

    ExecChildren &children_;
    const model::CheckSpec spec_;
    pid_t pid_ = 0;
    bool exited_ = false;
    std::string text_;
    base::UniqueFd output_;
    std::unique_ptr<event::IoSource> output_source_;
};

} // namespace

base::Result<std::unique_ptr<Probe>> start_exec_probe(event::Loop &loop, ExecChildren &children,
                                                      const model::CheckSpec &spec, Done done) {
    if (spec.command.empty()) return base::unexpected(base::Error{std::make_error_code(std::errc::invalid_argument), "exec", "no command"});
    auto p = std::make_unique<ExecProbe>(loop, children, spec, std::move(done));
    if (!p->begin()) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "exec", "no timer"});
    return std::unique_ptr<Probe>(std::move(p));
}

} // namespace watchd::probe
