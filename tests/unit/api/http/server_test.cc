// The HTTP server on a real loop and real sockets (127.0.0.1, a free port), against a fake supervisor: routes,
// methods, headers, the body limit, slow and surplus connections, binding and rebinding. Clients run in threads
// while the test drives the loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <future>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/server.h"
#include "event/loop.h"

namespace watchd::api::http {
namespace {

using namespace std::chrono_literals;

class FakeSupervisor final : public supervisor::CommandSink, public supervisor::ViewProvider {
public:
    supervisor::UnitRef last_ref;
    supervisor::Command last_cmd;
    int submits = 0;
    supervisor::CommandResult submit(const supervisor::UnitRef &ref, const supervisor::Command &cmd) override {
        ++submits;
        last_ref = ref;
        last_cmd = cmd;
        supervisor::CommandResult r;
        if (ref.id != "web") {
            r.error = supervisor::CommandError::UnknownUnit;
            return r;
        }
        r.before = unit(ref, true);
        return r;
    }
    std::optional<supervisor::UnitView> unit(const supervisor::UnitRef &ref, bool) const override {
        supervisor::UnitView v;
        v.ref = ref;
        v.name = "Web";
        v.cas = 7;
        return v;
    }
    supervisor::SupervisorView view(bool) const override {
        supervisor::SupervisorView s;
        s.instance_id = "i-1";
        s.units.push_back(*unit({supervisor::UnitKind::App, "web"}, true));
        return s;
    }
    std::optional<supervisor::ResourceUsage> usage(const supervisor::UnitRef &ref) const override {
        if (ref.id != "web") return std::nullopt;
        supervisor::ResourceUsage u;
        u.cpu_usec = 1500000;
        u.memory_bytes = 4096;
        u.tasks = 3;
        u.processes = 2;
        return u;
    }
};

// A TCP connection to 127.0.0.1:port, from `from` (another loopback address counts as another client).
int connect_to(int port, const char *from = nullptr) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    if (from) {
        inet_pton(AF_INET, from, &a.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) return -1;
    }
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{10, 0}; // a hung test fails instead of hanging
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the peer sends until it closes (or the 10 s receive timeout).
std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

std::string roundtrip(int port, const std::string &request, const char *from = nullptr) {
    const int fd = connect_to(port, from);
    if (fd < 0) return "connect failed";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string r = read_all(fd);
    ::close(fd);
    return r;
}

std::string get(int port, const std::string &target, const char *method = "GET") {
    return roundtrip(port, std::string(method) + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

std::string post(int port, const std::string &body) {
    return roundtrip(port, "POST /api/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
}

class ServerTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    FakeSupervisor fake;
    std::vector<std::pair<int, std::string>> logged;
    std::unique_ptr<Server> server;
    int port = 0;

    void start(Limits limits = {}) {
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
        server = std::make_unique<Server>(*loop, fake, fake, [this](int p, const std::string &m) {
            logged.emplace_back(p, m);
        }, limits);
        server->configure({{"127.0.0.1:0"}, ""});
        ASSERT_EQ(server->addresses().size(), 1u);
        port = std::stoi(server->addresses()[0].substr(server->addresses()[0].rfind(':') + 1));
    }
    // Runs f in a thread while the loop runs here; returns what f returned.
    template <class F> auto drive(F f) {
        auto fut = std::async(std::launch::async, f);
        while (fut.wait_for(0ms) != std::future_status::ready) loop->run_once(5 * base::kUsecPerMsec);
        return fut.get();
    }
};

std::string body_of(const std::string &response) { return response.substr(response.find("\r\n\r\n") + 4); }

TEST_F(ServerTest, StatusAndApi) {
    start();
    const std::string status = drive([&] { return get(port, "/status/"); });
    EXPECT_EQ(status.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << status;
    EXPECT_NE(status.find("Content-Type: application/json; charset=utf-8\r\n"), std::string::npos);
    EXPECT_EQ(body_of(status), "{\n\t\"instance-id\": \"i-1\",\n\t\"apps\": {\n\t\t\"web\": {\n"
                               "\t\t\t\"name\": \"Web\",\n\t\t\t\"cas\": 7,\n\t\t\t\"cpu-usec\": 1500000,\n"
                               "\t\t\t\"memory-bytes\": 4096,\n\t\t\t\"tasks\": 3,\n\t\t\t\"processes\": 2\n"
                               "\t\t}\n\t}\n}\n"); // patrol's fields, then what the app uses
    // /api/ answers stay patrol's own: no usage there.
    const std::string api = drive([&] { return get(port, "/api/?group=app&id=WEB&toggle=2&cas=7&secret=s&pid=9"); });
    EXPECT_EQ(body_of(api), "{\n\t\"id\": \"web\",\n\t\"group\": \"app\",\n\t\"name\": \"Web\",\n\t\"cas\": 7\n}\n");
    EXPECT_EQ(fake.last_cmd.toggle, supervisor::Toggle::Disable); // GET modifies, as in patrol
    EXPECT_EQ(fake.last_cmd.cas, 7u);
    EXPECT_EQ(fake.last_cmd.secret, "s");
    EXPECT_EQ(fake.last_cmd.pid, 0); // not read from a GET
    const std::string ping = drive([&] { return post(port, R"({"group":"app","id":"web","ping":true,"pid":77})"); });
    EXPECT_EQ(ping.rfind("HTTP/1.1 200", 0), 0u) << ping;
    EXPECT_TRUE(fake.last_cmd.ping);
    EXPECT_EQ(fake.last_cmd.pid, 77);
    EXPECT_EQ(fake.last_cmd.via, supervisor::Command::Via::Http);
    EXPECT_TRUE(fake.last_cmd.history);
    const std::string unknown = drive([&] { return post(port, R"({"group":"app","id":"nope"})"); });
    EXPECT_EQ(unknown.rfind("HTTP/1.1 400", 0), 0u);
    EXPECT_EQ(body_of(unknown), "{\n\t\"errors\": [\n\t\t\"Unknown App\"\n\t]\n}\n");
}

TEST_F(ServerTest, BadRequestsMethodsAndPaths) {
    start();
    for (const char *bad : {"{", "", "[]", R"({"pid":-1})"}) {
        const std::string r = drive([&] { return post(port, bad); });
        EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << bad;
        EXPECT_EQ(body_of(r), "{\n\t\"errors\": [\n\t\t\"Invalid Request\"\n\t]\n}\n") << bad;
    }
    const std::string put = drive([&] { return get(port, "/api/", "PUT"); });
    EXPECT_EQ(put.rfind("HTTP/1.1 405", 0), 0u);
    EXPECT_EQ(body_of(put), "{\n\t\"errors\": [\n\t\t\"Invalid Method\"\n\t]\n}\n");
    for (const char *method : {"PUT", "DELETE", "POST"}) { // patrol's /status/ checks no method
        const std::string r = drive([&] { return get(port, "/status/", method); });
        EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << method;
        EXPECT_NE(body_of(r).find("\"apps\""), std::string::npos) << method;
    }
    EXPECT_EQ(drive([&] { return get(port, "/api/", "HEAD"); }).rfind("HTTP/1.1 405", 0), 0u); // as patrol
    const std::string head = drive([&] { return get(port, "/status/", "HEAD"); });
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_EQ(body_of(head), "");
    const std::string moved = drive([&] { return get(port, "/api?group=app&id=web"); });
    EXPECT_EQ(moved.rfind("HTTP/1.1 301", 0), 0u);
    EXPECT_NE(moved.find("Location: /api/?group=app&id=web\r\n"), std::string::npos);
    EXPECT_EQ(body_of(moved), "<a href=\"/api/?group=app&amp;id=web\">Moved Permanently</a>.\n\n");
    const std::string missing = drive([&] { return get(port, "/logs/"); });
    EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_EQ(body_of(missing), "404 page not found\n");
    EXPECT_EQ(drive([&] { return get(port, "/"); }).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerTest, BodyLimit) {
    Limits limits;
    limits.max_body = 1024;
    start(limits);
    const std::string at_limit = R"({"group":"app","id":"web","secret":")" + std::string(1024 - 38, 'x') + "\"}";
    ASSERT_EQ(at_limit.size(), 1024u);
    EXPECT_EQ(drive([&] { return post(port, at_limit); }).rfind("HTTP/1.1 200", 0), 0u);
    const std::string large = drive([&] { return post(port, at_limit + " "); });
    EXPECT_EQ(large.rfind("HTTP/1.1 413", 0), 0u) << large;
    EXPECT_EQ(body_of(large), "{\n\t\"errors\": [\n\t\t\"Invalid Body\"\n\t]\n}\n");
    // Chunked, no length announced: the connection is closed once the body passes the limit.
    const int before = fake.submits;
    const std::string chunked = drive([&] {
        std::string req = "POST /api/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(0x200, ' ') + "\r\n";
        return roundtrip(port, req + "0\r\n\r\n");
    });
    EXPECT_EQ(chunked.find("HTTP/1.1 200"), std::string::npos) << chunked;
    EXPECT_EQ(fake.submits, before);
}

TEST_F(ServerTest, SlowClientIsClosedWhileOthersAreServed) {
    Limits limits;
    limits.request_timeout = base::kUsecPerSec;
    start(limits);
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = std::async(std::launch::async, [&] {
        const int fd = connect_to(port);
        ::send(fd, "GET /status/ HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
        // A header byte every 200 ms: never idle long enough for an idle timeout, never a whole request.
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(200ms);
            if (::send(fd, "X", 1, MSG_NOSIGNAL) != 1) break;
        }
        std::string rest = read_all(fd);
        ::close(fd);
        return std::chrono::steady_clock::now() - t0;
    });
    const std::string served = drive([&] {
        std::this_thread::sleep_for(300ms);
        return get(port, "/status/");
    });
    EXPECT_EQ(served.rfind("HTTP/1.1 200", 0), 0u);
    while (slow.wait_for(0ms) != std::future_status::ready) loop->run_once(5 * base::kUsecPerMsec);
    const auto took = slow.get();
    EXPECT_LT(took, 4s) << "the slow client was not cut off by request_timeout";
    EXPECT_GE(took, 900ms);
}

TEST_F(ServerTest, ConnectionsPerAddressAreBounded) {
    Limits limits;
    limits.max_connections_per_ip = 3;
    start(limits);
    std::vector<int> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(connect_to(port));
    for (int i = 0; i < 20; ++i) loop->run_once(5 * base::kUsecPerMsec); // accepted
    // A fourth from the same address is closed at once; another address is still served.
    EXPECT_EQ(drive([&] { return get(port, "/status/"); }), "");
    EXPECT_EQ(drive([&] { return get(port, "/status/", "GET"); }).size(), 0u);
    const std::string other = drive([&] {
        return roundtrip(port, "GET /status/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.2");
    });
    EXPECT_EQ(other.rfind("HTTP/1.1 200", 0), 0u) << other;
    for (int fd : idle) ::close(fd);
    for (int i = 0; i < 20; ++i) loop->run_once(5 * base::kUsecPerMsec);
    EXPECT_EQ(drive([&] { return get(port, "/status/"); }).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerTest, BindFailureIsLoggedAndRebindWorks) {
    start();
    const std::string first = server->addresses()[0];
    // The port in use: logged, naming http.listen, and the server keeps what it has.
    server->configure({{"127.0.0.1:0", first}, ""});
    ASSERT_FALSE(logged.empty());
    EXPECT_EQ(logged.back().first, 3); // LOG_ERR
    EXPECT_NE(logged.back().second.find("http.listen \"" + first + "\": cannot listen on " + first), std::string::npos)
        << logged.back().second;
    EXPECT_EQ(server->addresses(), std::vector<std::string>{first});
    // A new list: the old address is closed, the new one served.
    server->configure({{"[::1]:0"}, ""});
    ASSERT_EQ(server->addresses().size(), 1u);
    EXPECT_EQ(server->addresses()[0].rfind("[::1]:", 0), 0u);
    EXPECT_EQ(connect_to(port), -1);
}

TEST_F(ServerTest, HostNamesAreResolvedToEveryAddress) {
    start();
    server->configure({{"localhost:0"}, ""}); // /etc/hosts: 127.0.0.1, and ::1 where the host has it
    const auto addrs = server->addresses();
    ASSERT_FALSE(addrs.empty());
    EXPECT_TRUE(std::any_of(addrs.begin(), addrs.end(), [](const std::string &a) { return a.starts_with("127."); }));
    for (const auto &a : addrs) EXPECT_TRUE(a.rfind("127.0.0.1:", 0) == 0 || a.rfind("[::1]:", 0) == 0) << a;
    // A spec that names nothing (no DNS involved: the port is out of range) is logged and skipped.
    server->configure({{"localhost:0", "127.0.0.1:99999"}, ""});
    EXPECT_NE(logged.back().second.find("http.listen \"127.0.0.1:99999\": cannot listen"), std::string::npos)
        << logged.back().second;
    EXPECT_EQ(server->addresses(), addrs);
}

} // namespace
} // namespace watchd::api::http

namespace watchd::api::http {
namespace {

// Reads from fd until `want` has been seen (or the peer closes, or the 10 s receive timeout).
std::string read_until(int fd, const std::string &want) {
    std::string out;
    char buf[4096];
    while (out.find(want) == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// GET /ui/events: headers, the snapshot, then a change the core reports (gathered, one event), while the
// connection waits suspended in between; destroying the server with the stream open ends it cleanly (MHD must not
// be stopped with a suspended connection: ASan and MHD's own checks would say).
TEST_F(ServerTest, EventStreamFollowsTheCoreAndEndsWithTheServer) {
    start();
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    const std::string req = "GET /ui/events HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    const std::string head = drive([&] { return read_until(fd, "event: snapshot"); });
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
    EXPECT_EQ(server->events().subscribers(), 1u);
    // Nothing to send: the loop idles (the connection is suspended, not polled in a busy loop).
    for (int i = 0; i < 20; ++i) loop->run_once(5 * base::kUsecPerMsec);
    supervisor::UnitView v = *fake.unit({supervisor::UnitKind::App, "web"}, false);
    for (int i = 0; i < 5; ++i) server->observer().on_unit_changed(v, supervisor::UnitState::Running,
                                                                 supervisor::UnitState::Backoff);
    auto changed = std::async(std::launch::async, [&] { return read_until(fd, "\n\n\r\n"); });
    std::string got;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (got.find("event: unit") == std::string::npos && std::chrono::steady_clock::now() < until) {
        loop->run_once(5 * base::kUsecPerMsec);
        if (changed.wait_for(0ms) == std::future_status::ready) {
            got += changed.get();
            if (got.find("event: unit") == std::string::npos)
                changed = std::async(std::launch::async, [&] { return read_until(fd, "\n\n\r\n"); });
        }
    }
    EXPECT_NE(got.find("event: unit\ndata: {\"kind\":\"app\",\"id\":\"web\""), std::string::npos) << got;
    // Five changes within the gathering delay: one event.
    std::size_t events = 0;
    for (std::size_t at = 0; (at = got.find("event: unit", at)) != std::string::npos; ++at) ++events;
    EXPECT_EQ(events, 1u) << got;
    server.reset(); // with the stream open and suspended
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    }
    EXPECT_EQ(n, 0) << "the stream ends (EOF) when the server goes";
    ::close(fd);
}

TEST(Stream, ASlowReaderLosesItsStream) {
    Stream s(10);
    EXPECT_TRUE(s.write("12345"));
    EXPECT_TRUE(s.write("12345"));
    EXPECT_EQ(s.pending(), 10u);
    EXPECT_FALSE(s.write("1")); // more than 10 bytes would wait: closed
    EXPECT_FALSE(s.open());
    EXPECT_FALSE(s.write("x"));
}

} // namespace
} // namespace watchd::api::http
