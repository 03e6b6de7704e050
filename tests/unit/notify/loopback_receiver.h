// A one-thread HTTP server on 127.0.0.1 for the notifier tests: reads each request (headers and Content-Length
// body), records it and answers `status` (with a "{}" body), or, while `hold` is set, keeps the connection without
// answering until release().
#pragma once

#include <arpa/inet.h>
#include <atomic>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace watchd::notify::loopback {

struct Request {
    std::string head, body; // the request line and headers; the body
};

class Receiver {
public:
    explicit Receiver(int status = 200) : status_(status) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
        port_ = ntohs(a.sin_port);
        ::listen(fd_, 16);
        thread_ = std::thread([this] { serve(); });
    }
    ~Receiver() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        for (int c : held_) ::close(c);
        ::close(fd_);
    }
    Receiver(const Receiver &) = delete;
    Receiver &operator=(const Receiver &) = delete;

    std::string url(const std::string &path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    std::vector<Request> requests() {
        std::lock_guard<std::mutex> l(m_);
        return requests_;
    }
    std::vector<std::string> bodies() {
        std::vector<std::string> out;
        for (auto &r : requests()) out.push_back(std::move(r.body));
        return out;
    }
    std::size_t count() { return requests().size(); }

    std::atomic<bool> hold{false};
    // Answers no more held requests: their connections are closed (the client sees an empty reply).
    void release() {
        std::lock_guard<std::mutex> l(m_);
        hold = false;
        for (int c : held_) ::close(c);
        held_.clear();
    }

private:
    void serve() {
        while (!stop_) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) return;
            std::string req;
            char buf[4096];
            for (;;) { // the whole request: headers, then Content-Length bytes
                const auto end = req.find("\r\n\r\n");
                if (end != std::string::npos) {
                    const auto cl = req.find("Content-Length: ");
                    const std::size_t n = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
                    if (req.size() >= end + 4 + n) {
                        std::lock_guard<std::mutex> l(m_);
                        requests_.push_back({req.substr(0, end), req.substr(end + 4, n)});
                        break;
                    }
                }
                const ssize_t r = ::read(c, buf, sizeof buf);
                if (r <= 0) break;
                req.append(buf, static_cast<std::size_t>(r));
            }
            {
                std::lock_guard<std::mutex> l(m_);
                if (hold) {
                    held_.push_back(c);
                    continue;
                }
            }
            const std::string answer = "HTTP/1.1 " + std::to_string(status_) +
                                       " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
            (void)!::write(c, answer.data(), answer.size());
            ::close(c);
        }
    }
    int fd_ = -1;
    std::uint16_t port_ = 0;
    int status_;
    std::atomic<bool> stop_{false};
    std::mutex m_;
    std::vector<Request> requests_;
    std::vector<int> held_;
    std::thread thread_;
};

} // namespace watchd::notify::loopback
