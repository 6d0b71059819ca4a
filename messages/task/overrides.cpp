#include "messages/task/overrides.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "messages/task/value_grammar.hpp"

namespace sky::task {

namespace {

// "--gpus: <what the grammar said>", keeping the grammar's hint.
caf::error flag_error(std::string_view flag, const caf::error& err) {
  auto info = describe(err);
  return make_error(errc::invalid_argument,
                    std::string{flag} + ": " + info.message, info.hint);
}

caf::error flag_error(std::string_view flag, std::string what,
                      std::string hint) {
  return make_error(errc::invalid_argument,
                    std::string{flag} + ": " + std::move(what),
                    std::move(hint));
}

// Applies `set` to the resources and to every alternative for which
// `present` holds, so that the flag wins over what alternatives say.
template <class Present, class Set>
void set_everywhere(resources_spec& r, Present present, Set set) {
  set(r);
  for (auto* alternatives : {&r.any_of, &r.ordered})
    for (auto& alt : *alternatives)
      if (present(alt))
        set(alt);
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos)
      return out;
    start = comma + 1;
  }
}

// `--gpus A100:8`, or a set `{A100:8,H100:8}` / a list `[H100:8,A100:8]`
// as in the YAML.
caf::error apply_gpus(resources_spec& r, std::string_view text) {
  std::vector<accelerator_spec> accs;
  auto order = choice_order::single;
  std::string_view body = text;
  while (!body.empty() && body.front() == ' ')
    body.remove_prefix(1);
  while (!body.empty() && body.back() == ' ')
    body.remove_suffix(1);
  if (body.size() >= 2
      && ((body.front() == '{' && body.back() == '}')
          || (body.front() == '[' && body.back() == ']'))) {
    order = body.front() == '{' ? choice_order::any : choice_order::ordered;
    body = body.substr(1, body.size() - 2);
    for (auto item : split_list(body)) {
      auto acc = parse_accelerator(item);
      if (!acc)
        return flag_error("--gpus", acc.error());
      accs.push_back(*acc);
    }
  } else {
    auto acc = parse_accelerator(body);
    if (!acc)
      return flag_error("--gpus", acc.error());
    accs.push_back(*acc);
  }
  if (accs.size() == 1)
    order = choice_order::single;
  set_everywhere(
    r, [](const resources_spec& a) { return !a.accelerators.empty(); },
    [&](resources_spec& a) {
      a.accelerators = accs;
      a.accelerator_order = order;
    });
  return {};
}

caf::error apply_placement(resources_spec& r, const task_overrides& f) {
  auto has_infra = [](const resources_spec& a) { return a.infra.has_value(); };
  if (f.infra) {
    for (auto [flag, given] : {std::pair{"--cloud", f.cloud.has_value()},
                               std::pair{"--region", f.region.has_value()},
                               std::pair{"--zone", f.zone.has_value()}})
      if (given)
        return flag_error(flag, "cannot be combined with --infra",
                          "put everything in --infra cloud/region/zone");
    auto infra = parse_infra(*f.infra);
    if (!infra)
      return flag_error("--infra", infra.error());
    set_everywhere(r, has_infra, [&](resources_spec& a) { a.infra = *infra; });
    return {};
  }
  std::optional<std::string> provider;
  if (f.cloud) {
    auto p = parse_provider(*f.cloud);
    if (!p)
      return flag_error("--cloud", p.error());
    provider = *p;
  }
  for (auto [flag, value] :
       {std::pair{"--region", &f.region}, std::pair{"--zone", &f.zone}})
    if (*value && value->value().empty())
      return flag_error(flag, "is empty", "give a name or leave the flag out");
  if (!provider && !f.region && !f.zone)
    return {};
  set_everywhere(r, has_infra, [&](resources_spec& a) {
    auto infra = a.infra.value_or(infra_spec{});
    // A region or zone of another cloud means nothing on the new one.
    if (provider && *provider != infra.provider) {
      infra.region.clear();
      infra.zone.clear();
    }
    if (provider)
      infra.provider = *provider;
    if (f.region)
      infra.region = *f.region;
    if (f.zone)
      infra.zone = *f.zone;
    a.infra = infra;
  });
  return {};
}

caf::error apply_resources(resources_spec& r, const task_overrides& f) {
  if (auto err = apply_placement(r, f))
    return err;
  if (f.gpus)
    if (auto err = apply_gpus(r, *f.gpus))
      return err;
  if (f.cpus) {
    auto c = parse_cpus(*f.cpus);
    if (!c)
      return flag_error("--cpus", c.error());
    set_everywhere(
      r, [](const resources_spec& a) { return a.cpus.has_value(); },
      [&](resources_spec& a) { a.cpus = *c; });
  }
  if (f.memory) {
    auto m = parse_memory(*f.memory);
    if (!m)
      return flag_error("--memory", m.error());
    set_everywhere(
      r, [](const resources_spec& a) { return a.memory.has_value(); },
      [&](resources_spec& a) { a.memory = *m; });
  }
  if (f.instance_type) {
    if (f.instance_type->empty())
      return flag_error("--instance-type", "is empty",
                        "name an instance type, e.g. p3.2xlarge");
    set_everywhere(
      r, [](const resources_spec& a) { return a.instance_type.has_value(); },
      [&](resources_spec& a) { a.instance_type = *f.instance_type; });
  }
  if (f.use_spot)
    set_everywhere(
      r, [](const resources_spec& a) { return a.use_spot.has_value(); },
      [&](resources_spec& a) { a.use_spot = *f.use_spot; });
  if (f.disk_size) {
    auto gb = parse_disk_size_gb(*f.disk_size);
    if (!gb)
      return flag_error("--disk-size", gb.error());
    set_everywhere(
      r, [](const resources_spec& a) { return a.disk_size_gb.has_value(); },
      [&](resources_spec& a) { a.disk_size_gb = *gb; });
  }
  if (f.image_id) {
    if (f.image_id->empty())
      return flag_error("--image-id", "is empty",
                        "name an image, e.g. docker:ubuntu:22.04");
    set_everywhere(
      r,
      [](const resources_spec& a) {
        return a.image_id.has_value() || !a.image_id_by_region.empty();
      },
      [&](resources_spec& a) {
        a.image_id = *f.image_id;
        a.image_id_by_region.clear();
      });
  }
  if (!f.ports.empty()) {
    std::vector<port_range> ports;
    for (const auto& flag : f.ports)
      for (auto item : split_list(flag)) {
        auto p = parse_port_range(item);
        if (!p)
          return flag_error("--ports", p.error());
        ports.push_back(*p);
      }
    set_everywhere(
      r, [](const resources_spec& a) { return !a.ports.empty(); },
      [&](resources_spec& a) { a.ports = ports; });
  }
  return {};
}

void set_variable(std::vector<variable_spec>& vars, const std::string& name,
                  std::string value) {
  auto it = std::find_if(vars.begin(), vars.end(),
                         [&](const auto& v) { return v.name == name; });
  if (it != vars.end())
    it->value = std::move(value);
  else
    vars.push_back(variable_spec{name, std::move(value)});
}

// `K=V`, or `K` alone to take the value from the caller's environment.
caf::error apply_assignments(std::vector<variable_spec>& vars,
                             const std::vector<std::string>& items,
                             std::string_view flag, const env_lookup& lookup) {
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    if (!is_env_name(name))
      return flag_error(flag, "'" + name + "' is not a valid variable name",
                        "write " + std::string{flag}
                          + " NAME=VALUE, where NAME has letters, digits "
                            "and '_' and does not start with a digit");
    if (eq != std::string::npos) {
      set_variable(vars, name, item.substr(eq + 1));
      continue;
    }
    auto value = lookup ? lookup(name) : std::nullopt;
    if (!value)
      return flag_error(flag,
                        name
                          + " has no value and is not set in your "
                            "environment",
                        "write " + std::string{flag} + " " + name
                          + "=VALUE, or export " + name + " first");
    set_variable(vars, name, *value);
  }
  return {};
}

result<std::vector<variable_spec>> read_env_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return flag_error("--env-file", path + ": cannot be read",
                      "check the path and its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  auto vars = parse_dotenv(buf.str(), path);
  if (!vars)
    return flag_error("--env-file", vars.error());
  return vars;
}

caf::error apply_variables(task_spec& task, const task_overrides& f,
                           const std::vector<variable_spec>& from_file,
                           const env_lookup& lookup) {
  for (const auto& v : from_file)
    set_variable(task.envs, v.name, v.value.value_or(""));
  if (auto err = apply_assignments(task.envs, f.envs, "--env", lookup))
    return err;
  return apply_assignments(task.secrets, f.secrets, "--secret", lookup);
}

caf::error apply_task_fields(task_spec& task, const task_overrides& f) {
  if (f.num_nodes) {
    auto n = parse_integer(*f.num_nodes, 1, 100'000);
    if (!n)
      return flag_error("--num-nodes", n.error());
    task.num_nodes = static_cast<int>(*n);
  }
  if (f.workdir) {
    if (f.workdir->empty())
      return flag_error("--workdir", "is empty", "give a directory");
    task.workdir = workdir_spec{*f.workdir, "", ""};
  }
  return apply_resources(task.resources, f);
}

caf::error check_name(const task_overrides& f) {
  if (f.name && f.name->empty())
    return flag_error("--name", "is empty", "give a name or leave it out");
  return {};
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

} // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* value = std::getenv(std::string{name}.c_str());
  if (value == nullptr)
    return std::nullopt;
  return std::string{value};
}

bool task_overrides::changes_task() const {
  return infra || cloud || region || zone || gpus || cpus || memory
         || instance_type || num_nodes || use_spot || disk_size || image_id
         || !ports.empty() || workdir;
}

result<void> apply_overrides(task_spec& task, const task_overrides& flags,
                             const env_lookup& lookup) {
  if (auto err = check_name(flags))
    return err;
  std::vector<variable_spec> from_file;
  if (flags.env_file) {
    auto vars = read_env_file(*flags.env_file);
    if (!vars)
      return vars.error();
    from_file = std::move(*vars);
  }
  // Work on a copy so that a failing flag leaves the task as it was.
  task_spec out = task;
  if (auto err = apply_task_fields(out, flags))
    return err;
  if (auto err = apply_variables(out, flags, from_file, lookup))
    return err;
  if (flags.name)
    out.name = *flags.name;
  task = std::move(out);
  return {};
}

result<void> apply_overrides(pipeline_spec& pipeline,
                             const task_overrides& flags,
                             const env_lookup& lookup) {
  if (pipeline.tasks.size() == 1) {
    if (auto r = apply_overrides(pipeline.tasks.front(), flags, lookup); !r)
      return r;
    if (flags.name)
      pipeline.name = *flags.name;
    return {};
  }
  if (auto err = check_name(flags))
    return err;
  if (flags.changes_task())
    return make_error(errc::invalid_argument,
                      "resource and task flags cannot override a pipeline of "
                        + std::to_string(pipeline.tasks.size()) + " tasks",
                      "set them in each task's document of the YAML; only "
                      "--env, --env-file, --secret and --name apply to "
                      "pipelines");
  std::vector<variable_spec> from_file;
  if (flags.env_file) {
    auto vars = read_env_file(*flags.env_file);
    if (!vars)
      return vars.error();
    from_file = std::move(*vars);
  }
  pipeline_spec out = pipeline;
  for (auto& task : out.tasks)
    if (auto err = apply_variables(task, flags, from_file, lookup))
      return err;
  if (flags.name)
    out.name = *flags.name;
  pipeline = std::move(out);
  return {};
}

namespace {

struct missing_variables {
  std::vector<std::string> envs;
  std::vector<std::string> secrets;

  void collect(const task_spec& task) {
    auto add = [](std::vector<std::string>& names, const std::string& n) {
      if (std::find(names.begin(), names.end(), n) == names.end())
        names.push_back(n);
    };
    for (const auto& v : task.envs)
      if (!v.value)
        add(envs, v.name);
    for (const auto& v : task.secrets)
      if (!v.value)
        add(secrets, v.name);
  }

  result<void> check(std::string_view kind,
                     const std::optional<std::string>& name,
                     const source_position& pos) const {
    if (envs.empty() && secrets.empty())
      return {};
    std::string what;
    if (!pos.file.empty())
      what = pos.file + ":" + std::to_string(pos.line) + ":"
             + std::to_string(pos.column) + ": ";
    what += name ? std::string{kind} + " '" + *name + "'"
                 : "the " + std::string{kind};
    what += " needs values for";
    if (!envs.empty())
      what += " envs " + join_names(envs);
    if (!envs.empty() && !secrets.empty())
      what += " and";
    if (!secrets.empty())
      what += " secrets " + join_names(secrets);
    what += " (declared without a value)";
    std::string hint = "pass";
    for (const auto& n : envs)
      hint += " --env " + n + "=VALUE";
    for (const auto& n : secrets)
      hint += " --secret " + n + "=VALUE";
    return make_error(errc::invalid_argument, std::move(what), std::move(hint));
  }
};

} // namespace

result<void> check_required_variables(const task_spec& task) {
  missing_variables missing;
  missing.collect(task);
  return missing.check("task", task.name, task.position);
}

result<void> check_required_variables(const pipeline_spec& pipeline) {
  missing_variables missing;
  for (const auto& task : pipeline.tasks)
    missing.collect(task);
  source_position pos;
  if (!pipeline.tasks.empty())
    pos = pipeline.tasks.front().position;
  return missing.check(pipeline.tasks.size() == 1 ? "task" : "pipeline",
                       pipeline.name, pos);
}

} // namespace sky::task
