#include "actors/service/port_pool.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sky::actors {

namespace {

std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(v);
}

} // namespace

std::optional<port_range> parse_port_range(const std::string& text) {
  auto dash = text.find('-');
  auto first = parse_port(std::string_view{text}.substr(0, dash));
  if (!first)
    return std::nullopt;
  if (dash == std::string::npos)
    return port_range{*first, *first};
  auto last = parse_port(std::string_view{text}.substr(dash + 1));
  if (!last || *last < *first)
    return std::nullopt;
  return port_range{*first, *last};
}

bool port_free_here(uint16_t port) {
  // Any address: a replica may listen on 0.0.0.0, and the load balancer's
  // bind address may be another one of this host.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  int one = 1;
  // As a server would bind it: TIME_WAIT leftovers do not hold a port.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::optional<uint16_t> port_pool::take() {
  std::lock_guard lock{mutex_};
  const uint32_t size = uint32_t{range_.last} - range_.first + 1;
  if (next_ < range_.first || next_ > range_.last)
    next_ = range_.first;
  for (uint32_t i = 0; i < size; ++i) {
    auto port = static_cast<uint16_t>(
      range_.first + (uint32_t{next_} - range_.first + i) % size);
    if (held_.count(port) != 0 || !port_free_here(port))
      continue;
    held_.insert(port);
    next_
      = port == range_.last ? range_.first : static_cast<uint16_t>(port + 1);
    return port;
  }
  return std::nullopt;
}

void port_pool::hold(uint16_t port) {
  std::lock_guard lock{mutex_};
  held_.insert(port);
}

void port_pool::release(uint16_t port) {
  std::lock_guard lock{mutex_};
  held_.erase(port);
}

} // namespace sky::actors
