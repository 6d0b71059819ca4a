#include "skyctl/task_input.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "messages/task/parse_task.hpp"

namespace sky::cli {

namespace fs = std::filesystem;

namespace {

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size())
    return false;
  auto tail = text.substr(text.size() - suffix.size());
  return std::equal(tail.begin(), tail.end(), suffix.begin(),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a))
                             == std::tolower(static_cast<unsigned char>(b));
                    });
}

bool looks_like_yaml(std::string_view arg) {
  return ends_with_ci(arg, ".yaml") || ends_with_ci(arg, ".yml");
}

bool is_url(std::string_view path) {
  return path.find("://") != std::string_view::npos;
}

// Turns a local path into an absolute one (see resolve_local_paths).
std::string absolute_path(const std::string& path, const local_context& l) {
  // "${DIR}/x" may well be absolute once skyd substitutes the variable.
  if (path.empty() || is_url(path) || path.front() == '$')
    return path;
  fs::path p;
  if (path == "~")
    p = l.home;
  else if (path.rfind("~/", 0) == 0)
    p = l.home / path.substr(2);
  else
    p = path;
  if (p.is_relative())
    p = l.cwd / p;
  auto normal = p.lexically_normal().string();
  // "dir/" normalizes to "dir/"; keep the trailing slash out so that paths
  // compare and print the same whichever way they were written.
  while (normal.size() > 1 && normal.back() == '/')
    normal.pop_back();
  return normal;
}

caf::error input_error(std::string message, std::string hint) {
  return make_error(errc::invalid_argument, std::move(message),
                    std::move(hint));
}

// Parsing errors of a missing file come as not_found; for skyctl every
// problem with its input is bad usage (exit 2).
caf::error as_input_error(const caf::error& err) {
  auto info = describe(err);
  return make_error(errc::invalid_argument, info.message, info.hint);
}

// "task.yaml: " (where the task came from) for messages about one task.
std::string where(const task::task_spec& task) {
  return task.position.file.empty() ? std::string{} : task.position.file + ": ";
}

result<task::pipeline_spec> parse_entry(const entrypoint& entry) {
  if (entry.yaml) {
    auto parsed = task::parse_task_file(*entry.yaml);
    if (!parsed)
      return as_input_error(parsed.error());
    return parsed;
  }
  task::pipeline_spec pipeline;
  task::task_spec task;
  if (!entry.command.empty())
    task.run = entry.command_line();
  pipeline.tasks.push_back(std::move(task));
  return pipeline;
}

result<void> finish_task(task::task_spec& task,
                         const task::task_overrides& flags,
                         const local_context& local) {
  resolve_local_paths(task, local);
  if (auto ok = check_local_paths(task, flags.workdir.has_value()); !ok)
    return ok;
  return {};
}

} // namespace

std::string entrypoint::command_line() const {
  std::string line;
  for (const auto& word : command)
    line += (line.empty() ? "" : " ") + word;
  return line;
}

result<entrypoint> classify_entrypoint(const std::vector<std::string>& args,
                                       size_t after_dash_dash) {
  const size_t after = std::min(after_dash_dash, args.size());
  const std::vector<std::string> before(args.begin(), args.end() - after);
  entrypoint entry;
  if (after > 0) {
    if (!before.empty())
      return input_error("'" + before.front()
                           + "' and the command after -- cannot be combined",
                         "give either a task YAML or a command: put the "
                         "command in the YAML's run:, or drop the YAML");
    entry.command.assign(args.end() - after, args.end());
    return entry;
  }
  if (before.size() == 1 && looks_like_yaml(before.front())) {
    entry.yaml = before.front();
    return entry;
  }
  entry.command = before;
  return entry;
}

local_context local_context::current() {
  local_context l;
  std::error_code ec;
  l.cwd = fs::current_path(ec);
  if (const char* home = std::getenv("HOME"); home != nullptr && *home)
    l.home = home;
  else
    l.home = "/";
  return l;
}

void resolve_local_paths(task::task_spec& task, const local_context& local) {
  if (task.workdir && task.workdir->git_url.empty())
    task.workdir->path = absolute_path(task.workdir->path, local);
  for (auto& mount : task.file_mounts)
    mount.source = absolute_path(mount.source, local);
}

result<void> check_local_paths(const task::task_spec& task,
                               bool workdir_from_flag) {
  auto has_variable
    = [](const std::string& p) { return p.find("${") != std::string::npos; };
  if (task.workdir && task.workdir->git_url.empty()
      && !has_variable(task.workdir->path)) {
    const auto& path = task.workdir->path;
    std::error_code ec;
    std::string field
      = workdir_from_flag ? "--workdir: " : where(task) + "workdir: ";
    if (!fs::exists(path, ec))
      return input_error(field + path + " does not exist",
                         "create it, or fix the path (relative paths start "
                         "from the current directory)");
    if (!fs::is_directory(path, ec))
      return input_error(field + path + " is not a directory",
                         "give the directory holding your code; mount single "
                         "files with file_mounts");
  }
  for (const auto& mount : task.file_mounts) {
    if (mount.source.empty() || is_url(mount.source)
        || has_variable(mount.source))
      continue;
    std::error_code ec;
    if (!fs::exists(mount.source, ec))
      return input_error(where(task) + "file_mounts." + mount.target + ": "
                           + mount.source + " does not exist locally",
                         "fix the path (relative paths start from the current "
                         "directory), or give a bucket URL such as "
                         "s3://bucket/path");
  }
  return {};
}

result<task::pipeline_spec> build_pipeline(const entrypoint& entry,
                                           const task::task_overrides& flags,
                                           const local_context& local) {
  auto pipeline = parse_entry(entry);
  if (!pipeline)
    return pipeline;
  if (auto ok = task::apply_overrides(*pipeline, flags, local.lookup); !ok)
    return as_input_error(ok.error());
  for (auto& task : pipeline->tasks)
    if (auto ok = finish_task(task, flags, local); !ok)
      return ok.error();
  if (auto ok = task::check_required_variables(*pipeline); !ok)
    return as_input_error(ok.error());
  return pipeline;
}

result<task::task_spec> build_exec_task(const entrypoint& entry,
                                        const task::task_overrides& flags,
                                        const local_context& local) {
  if (entry.empty())
    return input_error("exec needs a task YAML or a command",
                       "e.g. skyctl exec CLUSTER task.yaml, or skyctl exec "
                       "CLUSTER -- python train.py");
  auto pipeline = parse_entry(entry);
  if (!pipeline)
    return pipeline.error();
  if (pipeline->tasks.size() != 1)
    return input_error(entry.yaml->string() + " holds a pipeline of "
                         + std::to_string(pipeline->tasks.size())
                         + " tasks; exec runs one task",
                       "run a single-task YAML with exec, or launch the "
                       "pipeline with skyctl launch");
  auto task = std::move(pipeline->tasks.front());
  if (auto ok = task::apply_overrides(task, flags, local.lookup); !ok)
    return as_input_error(ok.error());
  if (auto ok = finish_task(task, flags, local); !ok)
    return ok.error();
  if (auto ok = task::check_required_variables(task); !ok)
    return as_input_error(ok.error());
  return task;
}

} // namespace sky::cli
