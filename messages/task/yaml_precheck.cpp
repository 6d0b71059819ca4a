#include "messages/task/yaml_precheck.hpp"

#include <cctype>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace sky::task::detail {

namespace {

// Thrown from the handler to stop yaml-cpp's parser; caught below.
struct stop_parsing {
  precheck_failure failure;
};

class precheck_handler : public YAML::EventHandler {
public:
  explicit precheck_handler(const std::string& text) : text_(text) {
    // nop
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    // Every real document consumes at least one token, so a document that
    // starts where the previous one started means the parser is stuck.
    if (documents_ > 0 && mark.pos == last_start_)
      throw stop_parsing{
        {mark,
         "invalid YAML: " + describe_at(mark) + " cannot start a value here",
         "quote the value, or remove the stray character "
         "(',' separates items only inside [...] or {...})"}};
    last_start_ = mark.pos;
    if (++documents_ > max_yaml_documents)
      throw stop_parsing{
        {mark,
         "has more than " + std::to_string(max_yaml_documents) + " documents",
         "split the pipeline into several files"}};
  }

  void OnDocumentEnd() override { depth_ = 0; }
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}

  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnMapEnd() override { --depth_; }

private:
  void enter(const YAML::Mark& mark) {
    if (++depth_ > max_yaml_depth)
      throw stop_parsing{
        {mark,
         "is nested more than " + std::to_string(max_yaml_depth)
           + " levels deep",
         "flatten the structure; a task YAML needs only a few levels"}};
  }

  std::string describe_at(const YAML::Mark& mark) const {
    if (mark.pos >= 0 && static_cast<size_t>(mark.pos) < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[mark.pos]);
      if (std::isprint(c))
        return std::string{"'"} + static_cast<char>(c) + "'";
    }
    return "this character";
  }

  const std::string& text_;
  int documents_ = 0;
  int last_start_ = -1;
  int depth_ = 0;
};

} // namespace

std::optional<precheck_failure> precheck_yaml(const std::string& text) {
  std::istringstream in{text};
  YAML::Parser parser{in};
  precheck_handler handler{text};
  try {
    while (parser.HandleNextDocument(handler)) {
      // next document
    }
  } catch (const stop_parsing& stop) {
    return stop.failure;
  }
  return std::nullopt;
}

} // namespace sky::task::detail
