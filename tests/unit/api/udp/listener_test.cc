// The UDP listener on a real loop and real loopback sockets, against a fake command sink: answers go back to the
// sender, a wake-up reads at most kBatch datagrams, long datagrams are cut and counted, drops are logged at once and
// then at most once a minute, a bad address is logged naming udp.listen, a reload rebinds, IPv6 works.
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "api/udp/listener.h"

namespace watchd::api::udp {
namespace {

class FakeSink final : public supervisor::CommandSink {
public:
    supervisor::CommandResult submit(const supervisor::UnitRef &ref, const supervisor::Command &cmd) override {
        last = cmd;
        supervisor::CommandResult r;
        if (ref.id != "web") {
            r.error = supervisor::CommandError::UnknownUnit;
            return r;
        }
        supervisor::UnitView v;
        v.ref = ref;
        v.name = "Web";
        v.cas = 7;
        r.before = v;
        return r;
    }
    supervisor::Command last;
};

// A client socket of the test's own, to 127.0.0.1:port (or [::1]:port).
struct Client {
    int fd = -1;
    sockaddr_storage to{};
    socklen_t to_len = 0;
    Client(const std::string &bound, bool v6 = false) {
        const int port = std::stoi(bound.substr(bound.rfind(':') + 1));
        fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (v6) {
            auto *a = reinterpret_cast<sockaddr_in6 *>(&to);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(static_cast<std::uint16_t>(port));
            inet_pton(AF_INET6, "::1", &a->sin6_addr);
            to_len = sizeof *a;
        } else {
            auto *a = reinterpret_cast<sockaddr_in *>(&to);
            a->sin_family = AF_INET;
            a->sin_port = htons(static_cast<std::uint16_t>(port));
            inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
            to_len = sizeof *a;
        }
        timeval tv{0, 200000}; // "no reply" means none within 200 ms
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Client() { ::close(fd); }
    void send(std::string_view d) const { ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr *>(&to), to_len); }
    std::string recv() const {
        char buf[65536];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        return n < 0 ? "-" : std::string(buf, static_cast<std::size_t>(n));
    }
    int port() const {
        sockaddr_storage a{};
        socklen_t l = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &l);
        return ntohs(a.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&a)->sin_port
                                            : reinterpret_cast<sockaddr_in6 *>(&a)->sin6_port);
    }
};

class ListenerTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    FakeSink sink;
    std::vector<std::string> logged;
    std::unique_ptr<UdpListener> listener;

    void SetUp() override {
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
    }
    void listen(std::vector<std::string> addresses) {
        auto l = UdpListener::create(*loop, sink, UdpOptions{std::move(addresses), ""},
                                     [this](int, std::string_view m) { logged.emplace_back(m); });
        ASSERT_TRUE(l);
        listener = std::move(*l);
    }
    // Drives the loop until `n` datagrams were read in all (or 5 s passed).
    void until_received(std::uint64_t n) {
        for (int i = 0; i < 500 && listener->stats().received < n; ++i) loop->run_once(10 * base::kUsecPerMsec);
        EXPECT_EQ(listener->stats().received, n);
    }
    std::size_t logged_with(std::string_view text) const {
        std::size_t n = 0;
        for (const auto &m : logged) n += m.find(text) != std::string::npos;
        return n;
    }
};

TEST_F(ListenerTest, AnswersTheSenderAndIsSilentOnErrors) {
    listen({"127.0.0.1:0"});
    ASSERT_EQ(listener->addresses().size(), 1u);
    Client c(listener->addresses()[0]);
    c.send(R"({"id":"web","group":"app","ping":true})");
    until_received(1);
    EXPECT_EQ(c.recv(), R"({"id":"web","group":"app","name":"Web","cas":7})");
    EXPECT_EQ(sink.last.via, supervisor::Command::Via::Udp);
    c.send(R"({"id":"ghost","group":"app","ping":true})");
    c.send("\x01\x02 garbage");
    until_received(3);
    EXPECT_EQ(c.recv(), "-");
    EXPECT_EQ(listener->stats().replied, 1u);
    EXPECT_EQ(listener->stats().refused, 1u);
    EXPECT_EQ(listener->stats().malformed, 1u);
}

TEST_F(ListenerTest, AWakeUpReadsAtMostOneBatch) {
    listen({"127.0.0.1:0"});
    Client c(listener->addresses()[0]);
    for (int i = 0; i < 200; ++i) c.send(R"({"id":"ghost","group":"app","ping":true})");
    loop->run_once(1000 * base::kUsecPerMsec);
    EXPECT_EQ(listener->stats().received, UdpListener::kBatch);
    until_received(200);
}

// A wake-up with many replies sends them with the socket out of the epoll set; it is back after each batch: every
// ping of a burst is answered, over several wake-ups, and so is one sent after the burst.
TEST_F(ListenerTest, EveryPingOfABurstIsAnsweredAndTheSocketStaysWatched) {
    listen({"127.0.0.1:0"});
    Client c(listener->addresses()[0]);
    constexpr int kBurst = 3 * UdpListener::kBatch + 10;
    for (int i = 0; i < kBurst; ++i) c.send(R"({"id":"web","group":"app","ping":true})");
    until_received(kBurst);
    EXPECT_EQ(listener->stats().replied, static_cast<std::uint64_t>(kBurst));
    for (int i = 0; i < kBurst; ++i) ASSERT_NE(c.recv(), "-") << i;
    for (int i = 0; i < 20; ++i) loop->run_once(5 * base::kUsecPerMsec); // idle: nothing pending
    c.send(R"({"id":"web","group":"app","ping":true})");
    until_received(kBurst + 1);
    EXPECT_NE(c.recv(), "-");
}

TEST_F(ListenerTest, LongDatagramsAreCutAndCountedAsMalformed) {
    listen({"127.0.0.1:0"});
    Client c(listener->addresses()[0]);
    std::string big = R"({"id":"web","group":"app","x":")" + std::string(UdpListener::kSlot, 'a') + R"("})";
    c.send(big);
    until_received(1);
    EXPECT_EQ(c.recv(), "-");
    EXPECT_EQ(listener->stats().malformed, 1u);
}

TEST_F(ListenerTest, DropsAreLoggedAtOnceThenAtMostOnceAMinute) {
    listen({"127.0.0.1:0"});
    Client c(listener->addresses()[0]);
    for (int i = 0; i < 3; ++i) c.send("garbage");
    until_received(3);
    const std::string from = "from 127.0.0.1:" + std::to_string(c.port());
    EXPECT_EQ(logged_with("udp: dropped 3 malformed datagrams " + from), 1u);
    // more within the minute: held back
    c.send("garbage");
    c.send("more garbage");
    until_received(5);
    EXPECT_EQ(logged_with("malformed"), 1u);
    // another kind has its own minute
    c.send(R"({"id":"ghost","group":"app"})");
    until_received(6);
    EXPECT_EQ(logged_with("udp: no reply to 1 request patrol refuses (last: Unknown App) " + from), 1u);
    // what was held back, and the totals, are logged when the listener goes
    listener.reset();
    EXPECT_EQ(logged_with("udp: dropped 2 malformed datagrams " + from), 1u);
    EXPECT_EQ(logged_with("udp: 6 datagrams received, 0 answered, 0 replies dropped, 5 malformed, 1 refused"), 1u);
}

TEST_F(ListenerTest, AnAddressThatCannotBeBoundIsLoggedAndTheOthersServe) {
    listen({"192.0.2.1:9", "127.0.0.1:0"}); // TEST-NET-1: not an address of this machine
    EXPECT_EQ(logged_with("udp.listen: cannot listen on 192.0.2.1:9"), 1u);
    ASSERT_EQ(listener->addresses().size(), 1u);
    Client c(listener->addresses()[0]);
    c.send(R"({"id":"web","group":"app"})");
    until_received(1);
    EXPECT_NE(c.recv(), "-");
}

TEST_F(ListenerTest, AReloadKeepsListedAddressesAndRebindsTheRest) {
    listen({"127.0.0.1:0"});
    const std::string first = listener->addresses()[0];
    // the same list: the same socket (an ephemeral port would change if it were rebound)
    listener->apply(UdpOptions{{"127.0.0.1:0"}, ""});
    EXPECT_EQ(listener->addresses(), std::vector<std::string>{first});
    listener->apply(UdpOptions{{"localhost:0"}, ""});
    const std::vector<std::string> now = listener->addresses();
    ASSERT_FALSE(now.empty());
    EXPECT_EQ(std::find(now.begin(), now.end(), first), now.end());
    Client old(first);
    old.send(R"({"id":"web","group":"app"})");
    loop->run_once(100 * base::kUsecPerMsec);
    EXPECT_EQ(old.recv(), "-");
    EXPECT_EQ(listener->stats().received, 0u);
}

TEST_F(ListenerTest, ListensOnIpv6) {
    listen({"[::1]:0"});
    if (listener->addresses().empty()) GTEST_SKIP() << "no IPv6 loopback here";
    EXPECT_EQ(listener->addresses()[0].rfind("[::1]:", 0), 0u);
    Client c(listener->addresses()[0], true);
    c.send(R"({"id":"web","group":"app"})");
    until_received(1);
    EXPECT_EQ(c.recv(), R"({"id":"web","group":"app","name":"Web","cas":7})");
}

} // namespace
} // namespace watchd::api::udp
