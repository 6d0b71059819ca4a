#include "messages/task/parse_task.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <yaml-cpp/depthguard.h>

#include "messages/task/parse_detail.hpp"
#include "messages/task/yaml_precheck.hpp"
#include "messages/task/value_grammar.hpp"

namespace sky::task {

namespace {

using namespace detail;

const std::vector<std::string_view> task_keys{
  "name",        "workdir", "num_nodes", "resources", "envs",  "secrets",
  "file_mounts", "setup",   "run",       "service",   "config"};

const std::vector<unsupported_field> task_unsupported{
  {"event_callback", "run the callback at the end of run: instead"},
  {"pool", "use a managed job or a service instead of a pool"},
  {"inputs", "remove it (SkyPilot marks it experimental)"},
  {"outputs", "remove it (SkyPilot marks it experimental)"},
  {"file_mounts_mapping", "use file_mounts instead"},
  {"volumes", "mount storage with file_mounts instead"},
  {"volume_mounts", "mount storage with file_mounts instead"},
  {"managed_secrets", "give the values under secrets: or with --secret"},
  {"api_server_access", "remove it; skyd has no API server to reach"},
  {"experimental", "write config overrides under config: instead"},
};

// Fields that people put at the top level although they belong under
// `resources:`; the message says where they go.
const std::vector<std::string_view> resources_fields{
  "infra",         "cloud",    "region",       "zone",
  "cpus",          "memory",   "accelerators", "accelerator_args",
  "instance_type", "use_spot", "disk_size",    "disk_tier",
  "network_tier",  "ports",    "image_id",     "max_hourly_cost",
  "job_recovery",  "autostop", "priority",     "labels",
  "any_of",        "ordered"};

caf::error check_task_keys(const parse_context& ctx, const map_view& m) {
  for (const auto& e : m.entries()) {
    if (std::find(task_keys.begin(), task_keys.end(), e.key) != task_keys.end())
      continue;
    if (e.key == "gpus" || e.key == "gpu")
      return fail(ctx, e.key_node.Mark(), e.key,
                  "is not a task field (GPUs are 'accelerators' under "
                  "'resources:')",
                  "write\nresources:\n  accelerators: A100:8");
    if (std::find(resources_fields.begin(), resources_fields.end(), e.key)
        != resources_fields.end())
      return fail(ctx, e.key_node.Mark(), e.key,
                  "belongs under 'resources:', not at the top level",
                  "indent it under resources:, e.g.\nresources:\n  " + e.key
                    + ": ...");
  }
  return m.check_keys(ctx, task_keys, task_unsupported);
}

caf::error parse_workdir(parse_context& ctx, const located& at,
                         std::optional<workdir_spec>& out) {
  workdir_spec w;
  if (at.node.IsMap()) {
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (auto err = m->check_keys(ctx, {"url", "ref"}))
      return err;
    auto url = m->get("url");
    if (!url)
      return fail(ctx, at, "has no 'url'",
                  "write workdir: {url: https://github.com/org/repo, ref: "
                  "main}, or a local path");
    auto u = read_string(ctx, *url);
    if (!u)
      return u.error();
    w.git_url = *u;
    if (auto ref = m->get("ref")) {
      auto r = read_string(ctx, *ref);
      if (!r)
        return r.error();
      w.git_ref = *r;
    }
  } else {
    auto p = read_string(ctx, at);
    if (!p)
      return p.error();
    w.path = *p;
  }
  out = w;
  return {};
}

caf::error parse_variables(parse_context& ctx, const located& at,
                           std::vector<variable_spec>& out,
                           std::string_view flag) {
  if (flag == "secret" && at.node.IsSequence())
    return fail(ctx, at,
                "as a list (managed secret references) is not "
                "supported by skyd yet",
                "write NAME: value pairs, or NAME: null and pass --"
                  + std::string{flag} + " NAME=VALUE");
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  for (const auto& e : m->entries()) {
    auto value_at = m->locate(e);
    if (!is_env_name(e.key))
      return fail(ctx, e.key_node.Mark(), value_at.path,
                  "is not a valid variable name",
                  "names start with a letter or '_' and contain only "
                  "letters, digits and '_' (e.g. MODEL_NAME)");
    variable_spec var{e.key, std::nullopt};
    if (!value_at.is_null()) {
      if (!value_at.node.IsScalar())
        return fail(ctx, value_at,
                    "expected text, a number or a boolean, got "
                      + describe_node(value_at.node),
                    "quote structured values, e.g. " + e.key + ": '[1, 2]'");
      var.value = value_at.node.Scalar();
    }
    out.push_back(std::move(var));
  }
  return {};
}

caf::error parse_mount(parse_context& ctx, const located& at,
                       file_mount_spec& out) {
  if (at.is_null())
    return fail(ctx, at, "has no source",
                "write the local path or bucket URL to mount, e.g. " + at.path
                  + ": s3://my-bucket");
  if (at.node.IsScalar()) {
    out.source = at.node.Scalar();
    return {};
  }
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (auto err = m->check_keys(
        ctx, {"name", "source", "store", "persistent", "mode"},
        {{"config", "volumes are not supported by skyd yet; use a bucket"},
         {"mount_options", "remove it; skyd mounts with its own options"},
         {"type", "remove it; skyd mounts buckets only"}}))
    return err;
  if (auto v = m->get("name")) {
    auto s = read_string(ctx, *v);
    if (!s)
      return s.error();
    out.name = *s;
  }
  if (auto v = m->get("source")) {
    if (v->node.IsSequence())
      return fail(ctx, *v,
                  "as a list of sources is not supported by skyd "
                  "yet",
                  "give one source per mount");
    auto s = read_string(ctx, *v);
    if (!s)
      return s.error();
    out.source = *s;
  }
  if (out.name.empty() && out.source.empty())
    return fail(ctx, at, "has neither 'name' nor 'source'",
                "give the bucket name, the source to upload, or both");
  if (auto v = m->get("store")) {
    auto s = read_string(ctx, *v);
    if (!s)
      return s.error();
    out.store = *s;
    std::transform(out.store.begin(), out.store.end(), out.store.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  if (auto v = m->get("persistent")) {
    auto b = read_bool(ctx, *v);
    if (!b)
      return b.error();
    out.persistent = *b;
  }
  if (auto v = m->get("mode")) {
    auto s = read_choice(ctx, *v, {"MOUNT", "COPY", "MOUNT_CACHED"});
    if (!s)
      return s.error();
    out.mode = *s;
  }
  return {};
}

caf::error parse_file_mounts(parse_context& ctx, const located& at,
                             std::vector<file_mount_spec>& out) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  for (const auto& e : m->entries()) {
    if (e.key.empty())
      return fail(ctx, e.key_node.Mark(), at.path, "has an empty target path",
                  "write the path on the nodes, e.g. /data: s3://bucket");
    file_mount_spec mount;
    mount.target = e.key;
    if (auto err = parse_mount(ctx, m->locate(e), mount))
      return err;
    out.push_back(std::move(mount));
  }
  return {};
}

template <class T>
caf::error assign(result<T> r, std::optional<T>& out) {
  if (!r)
    return r.error();
  out = std::move(*r);
  return {};
}

caf::error parse_task_map(parse_context& ctx, const map_view& m,
                          task_spec& task) {
  if (auto err = check_task_keys(ctx, m))
    return err;
  if (auto v = m.get("name"))
    if (auto err = assign(read_string(ctx, *v), task.name))
      return err;
  if (auto v = m.get("workdir"))
    if (auto err = parse_workdir(ctx, *v, task.workdir))
      return err;
  if (auto v = m.get("num_nodes")) {
    auto n = read_int(ctx, *v, 1, 100'000);
    if (!n)
      return n.error();
    task.num_nodes = static_cast<int>(*n);
  }
  if (auto v = m.get("resources"))
    if (auto err = parse_resources(ctx, *v, task.resources, true))
      return err;
  if (auto v = m.get("envs"))
    if (auto err = parse_variables(ctx, *v, task.envs, "env"))
      return err;
  if (auto v = m.get("secrets"))
    if (auto err = parse_variables(ctx, *v, task.secrets, "secret"))
      return err;
  if (auto v = m.get("file_mounts"))
    if (auto err = parse_file_mounts(ctx, *v, task.file_mounts))
      return err;
  if (auto v = m.get("setup"))
    if (auto err = assign(read_string(ctx, *v), task.setup))
      return err;
  if (auto v = m.get("run"))
    if (auto err = assign(read_string(ctx, *v), task.run))
      return err;
  if (auto v = m.get("service")) {
    service_spec service;
    if (auto err = parse_service(ctx, *v, service))
      return err;
    task.service = std::move(service);
  }
  if (auto v = m.get("config"))
    if (auto err = parse_config(ctx, *v, task.config))
      return err;
  return {};
}

source_position position_of(const parse_context& ctx, const YAML::Node& doc) {
  auto mark = doc.Mark();
  return source_position{ctx.file, mark.line >= 0 ? mark.line + 1 : 1,
                         mark.column >= 0 ? mark.column + 1 : 1};
}

bool only_name(const YAML::Node& doc) {
  return doc.IsMap() && doc.size() == 1 && doc["name"].IsDefined();
}

result<pipeline_spec> parse_documents(parse_context& ctx,
                                      std::vector<YAML::Node> docs) {
  // A trailing `---` leaves an empty last document; it holds nothing.
  while (!docs.empty() && docs.back().IsNull())
    docs.pop_back();
  if (docs.empty())
    return fail(ctx, YAML::Mark{}, "", "the file is empty (no task in it)",
                "write at least one field, e.g. run: echo hello");
  pipeline_spec out;
  size_t first_task = 0;
  if (docs.size() > 1 && only_name(docs[0])) {
    const located at{docs[0], "", docs[0].Mark()};
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (auto v = m->get("name")) {
      auto name = read_string(ctx, *v);
      if (!name)
        return name.error();
      out.name = *name;
    }
    first_task = 1;
  }
  for (size_t i = first_task; i < docs.size(); ++i) {
    const auto& doc = docs[i];
    const located at{doc, "", doc.Mark()};
    if (at.is_null())
      return fail(ctx, doc.Mark(), "",
                  "document " + std::to_string(i + 1) + " is empty",
                  "remove the extra '---' or give the task some fields");
    if (!doc.IsMap())
      return fail(ctx, doc.Mark(), "",
                  "expected a map of task fields, got " + describe_node(doc),
                  "a task is a map of fields, e.g.\nname: train\nrun: "
                  "python train.py");
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    task_spec task;
    task.position = position_of(ctx, doc);
    if (auto err = parse_task_map(ctx, *m, task))
      return err;
    out.tasks.push_back(std::move(task));
  }
  if (docs.size() == 1)
    out.name = out.tasks.front().name;
  return out;
}

} // namespace

result<pipeline_spec> parse_task_yaml(std::string_view text,
                                      std::string_view file_name) {
  parse_context ctx;
  ctx.file = file_name.empty() ? "<task>" : std::string{file_name};
  // Linear in the input: a document without aliases needs at most about one
  // visit per byte (every node takes two bytes or more and is visited at
  // most twice); the slack lets small files use anchors freely.
  ctx.budget = 100'000 + 4 * static_cast<long long>(text.size());
  if (text.size() > max_task_yaml_bytes)
    return fail(ctx, YAML::Mark{}, "",
                "the file is too large (" + std::to_string(text.size())
                  + " bytes; the limit is "
                  + std::to_string(max_task_yaml_bytes) + ")",
                "keep scripts in the workdir and call them from run:");
  std::vector<YAML::Node> docs;
  try {
    const std::string copy{text};
    if (auto stop = precheck_yaml(copy))
      return fail(ctx, stop->mark, "", stop->what, std::move(stop->hint));
    docs = YAML::LoadAll(copy);
  } catch (const YAML::DeepRecursion& e) {
    return fail(ctx, e.mark, "", "is nested too deeply to read",
                "flatten the structure; a task YAML needs only a few levels");
  } catch (const YAML::ParserException& e) {
    return fail(ctx, e.mark, "", "invalid YAML: " + e.msg,
                "check the indentation and quoting on that line; quote "
                "values that contain ': ' or start with *, &, !, {, [ or %");
  } catch (const std::exception& e) {
    return fail(ctx, YAML::Mark{}, "",
                std::string{"could not read the YAML: "} + e.what(),
                "check that the file is a YAML text file");
  }
  try {
    return parse_documents(ctx, std::move(docs));
  } catch (const std::exception& e) {
    // yaml-cpp's node accessors throw only on misuse; keep even a bug here
    // from escaping the API.
    return make_error(
      errc::internal,
      ctx.file + ": internal error while reading the task: " + e.what(),
      "please report this with the file that caused it");
  }
}

result<pipeline_spec> parse_task_file(const std::filesystem::path& path) {
  const std::string shown = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    return make_error(errc::not_found, shown + ": no such file",
                      "check the path of the task YAML");
  if (std::filesystem::is_directory(status))
    return make_error(errc::invalid_argument,
                      shown + ": is a directory, not a task YAML",
                      "name the YAML file inside it");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_task_yaml_bytes)
    return make_error(errc::invalid_argument,
                      shown + ": the file is too large (" + std::to_string(size)
                        + " bytes)",
                      "a task YAML should be a few kilobytes");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::invalid_argument,
                      shown + ": cannot be opened for reading",
                      "check the file's permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return make_error(errc::invalid_argument, shown + ": read failed",
                      "check the file and the disk");
  return parse_task_yaml(buf.str(), shown);
}

} // namespace sky::task
