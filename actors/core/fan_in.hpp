#pragma once

// Gathering the answers of many actors into one reply: a verb that asks N
// clusters (stop, status, queue) or N managed jobs (cancel) fills one
// reply from their answers and delivers it when the last is in. Every
// answer, success or error, must call arrived() exactly once; answers
// settled without asking (an unknown name) count too.

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include <caf/response_promise.hpp>

namespace sky::actors {

template <class Reply>
class fan_in {
public:
  /// Waits for `expected` answers; `finish` (e.g. a sort) runs on the reply
  /// just before it is delivered.
  static std::shared_ptr<fan_in> make(caf::response_promise promise,
                                      size_t expected,
                                      std::function<void(Reply&)> finish = {}) {
    return std::shared_ptr<fan_in>(
      new fan_in(std::move(promise), expected, std::move(finish)));
  }

  Reply& reply() { return reply_; }

  /// One expected answer is in (its part already written into reply()).
  void arrived() {
    if (left_ > 0 && --left_ == 0)
      deliver();
  }

  /// Delivers now when nothing is expected (no answer will ever call
  /// arrived()); true when it did.
  bool deliver_if_empty() {
    if (left_ != 0)
      return false;
    deliver();
    return true;
  }

private:
  fan_in(caf::response_promise promise, size_t expected,
         std::function<void(Reply&)> finish)
    : promise_(std::move(promise)), left_(expected),
      finish_(std::move(finish)) {}

  void deliver() {
    if (finish_)
      finish_(reply_);
    promise_.deliver(std::move(reply_));
  }

  caf::response_promise promise_;
  size_t left_;
  std::function<void(Reply&)> finish_;
  Reply reply_;
};

} // namespace sky::actors
