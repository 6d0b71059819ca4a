#include "messages/task/task_codec.hpp"

#include <cmath>
#include <concepts>
#include <limits>
#include <type_traits>

#include "messages/msgpack_util.hpp"

namespace sky::task {

namespace {

// One list of fields per struct, used by the encoder, the entry counter and
// the decoder alike, so that the three can never disagree. `S` is the
// struct, const or not.
template <class S, class T>
concept model = std::same_as<std::remove_const_t<S>, T>;

template <class F, model<infra_spec> S>
void fields(F& f, S& x) {
  f("provider", x.provider);
  f("region", x.region);
  f("zone", x.zone);
}

template <class F, model<cpus_spec> S>
void fields(F& f, S& x) {
  f("value", x.value);
  f("at_least", x.at_least);
}

template <class F, model<memory_spec> S>
void fields(F& f, S& x) {
  f("value", x.value);
  f("mode", x.mode);
}

template <class F, model<accelerator_spec> S>
void fields(F& f, S& x) {
  f("name", x.name);
  f("count", x.count);
  f("min_memory_gib", x.min_memory_gib);
  f("memory_exact", x.memory_exact);
  f("manufacturer", x.manufacturer);
}

template <class F, model<port_range> S>
void fields(F& f, S& x) {
  f("first", x.first);
  f("last", x.last);
}

template <class F, model<job_recovery_spec> S>
void fields(F& f, S& x) {
  f("strategy", x.strategy);
  f("max_restarts_on_errors", x.max_restarts_on_errors);
  f("recover_on_exit_codes", x.recover_on_exit_codes);
}

template <class F, model<autostop_spec> S>
void fields(F& f, S& x) {
  f("enabled", x.enabled);
  f("idle_minutes", x.idle_minutes);
  f("down", x.down);
  f("wait_for", x.wait_for);
}

template <class F, model<resources_spec> S>
void fields(F& f, S& x) {
  f("infra", x.infra);
  f("cpus", x.cpus);
  f("memory", x.memory);
  f("accelerators", x.accelerators);
  f("accelerator_order", x.accelerator_order);
  f("accelerator_args", x.accelerator_args);
  f("instance_type", x.instance_type);
  f("use_spot", x.use_spot);
  f("disk_size_gb", x.disk_size_gb);
  f("disk_tier", x.disk_tier);
  f("network_tier", x.network_tier);
  f("ports", x.ports);
  f("image_id", x.image_id);
  f("image_id_by_region", x.image_id_by_region);
  f("max_hourly_cost", x.max_hourly_cost);
  f("job_recovery", x.job_recovery);
  f("autostop", x.autostop);
  f("priority", x.priority);
  f("labels", x.labels);
  f("any_of", x.any_of);
  f("ordered", x.ordered);
}

template <class F, model<workdir_spec> S>
void fields(F& f, S& x) {
  f("path", x.path);
  f("git_url", x.git_url);
  f("git_ref", x.git_ref);
}

template <class F, model<file_mount_spec> S>
void fields(F& f, S& x) {
  f("target", x.target);
  f("source", x.source);
  f("mode", x.mode);
  f("name", x.name);
  f("store", x.store);
  f("persistent", x.persistent);
}

template <class F, model<variable_spec> S>
void fields(F& f, S& x) {
  f("name", x.name);
  f("value", x.value);
}

template <class F, model<readiness_probe_spec> S>
void fields(F& f, S& x) {
  f("path", x.path);
  f("post_data", x.post_data);
  f("initial_delay_seconds", x.initial_delay_seconds);
  f("timeout_seconds", x.timeout_seconds);
  f("headers", x.headers);
}

template <class F, model<replica_policy_spec> S>
void fields(F& f, S& x) {
  f("min_replicas", x.min_replicas);
  f("max_replicas", x.max_replicas);
  f("target_qps_per_replica", x.target_qps_per_replica);
  f("upscale_delay_seconds", x.upscale_delay_seconds);
  f("downscale_delay_seconds", x.downscale_delay_seconds);
  f("num_overprovision", x.num_overprovision);
  f("base_ondemand_fallback_replicas", x.base_ondemand_fallback_replicas);
  f("dynamic_ondemand_fallback", x.dynamic_ondemand_fallback);
}

template <class F, model<service_spec> S>
void fields(F& f, S& x) {
  f("readiness_probe", x.readiness_probe);
  f("replica_policy", x.replica_policy);
  f("load_balancing_policy", x.load_balancing_policy);
  f("port", x.port);
  f("consecutive_failure_threshold_timeout_seconds",
    x.consecutive_failure_threshold_timeout_seconds);
}

template <class F, model<source_position> S>
void fields(F& f, S& x) {
  f("file", x.file);
  f("line", x.line);
  f("column", x.column);
}

template <class F, model<task_spec> S>
void fields(F& f, S& x) {
  f("name", x.name);
  f("workdir", x.workdir);
  f("num_nodes", x.num_nodes);
  f("resources", x.resources);
  f("envs", x.envs);
  f("secrets", x.secrets);
  f("file_mounts", x.file_mounts);
  f("setup", x.setup);
  f("run", x.run);
  f("service", x.service);
  f("config", x.config);
  f("position", x.position);
}

template <class F, model<pipeline_spec> S>
void fields(F& f, S& x) {
  f("name", x.name);
  f("tasks", x.tasks);
}

// Enums travel as names so that reordering them never changes meaning.
template <class E>
struct enum_names;

template <>
struct enum_names<memory_spec::kind> {
  static constexpr std::pair<memory_spec::kind, std::string_view> values[]
    = {{memory_spec::kind::exact, "exact"},
       {memory_spec::kind::at_least, "at_least"},
       {memory_spec::kind::per_cpu, "per_cpu"}};
};

template <>
struct enum_names<choice_order> {
  static constexpr std::pair<choice_order, std::string_view> values[]
    = {{choice_order::single, "single"},
       {choice_order::any, "any"},
       {choice_order::ordered, "ordered"}};
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

using packer = msgpack::packer<msgpack::sbuffer>;

// Counts the entries a struct's map will have (absent optionals are left
// out, and msgpack writes the count first).
struct entry_counter {
  uint32_t n = 0;

  template <class V>
  void operator()(std::string_view, const V& v) {
    if constexpr (is_optional<V>::value)
      n += v.has_value() ? 1 : 0;
    else
      ++n;
  }
};

class encoder {
public:
  explicit encoder(packer& pk) : pk_(pk) {
    // nop
  }

  template <class S>
  void object(const S& x, uint32_t extra = 0) {
    entry_counter count;
    fields(count, x);
    pk_.pack_map(count.n + extra);
    fields(*this, x);
  }

  template <class V>
  void operator()(std::string_view key, const V& v) {
    if constexpr (is_optional<V>::value) {
      if (!v)
        return;
      pk_.pack(key);
      value(*v);
    } else {
      pk_.pack(key);
      value(v);
    }
  }

private:
  void value(const std::string& v) { pk_.pack(v); }
  void value(bool v) { pk_.pack(v); }
  void value(int v) { pk_.pack(v); }
  void value(uint16_t v) { pk_.pack(v); }
  void value(double v) { pk_.pack_double(v); }

  template <class E>
  requires std::is_enum_v<E>
  void value(E v) {
    for (const auto& [e, name] : enum_names<E>::values)
      if (e == v) {
        pk_.pack(name);
        return;
      }
    pk_.pack(std::string_view{"unknown"});
  }

  template <class T>
  void value(const std::vector<T>& v) {
    pk_.pack_array(static_cast<uint32_t>(v.size()));
    for (const auto& x : v)
      value(x);
  }

  void value(const std::map<std::string, std::string>& v) {
    pk_.pack_map(static_cast<uint32_t>(v.size()));
    for (const auto& [k, x] : v) {
      pk_.pack(k);
      pk_.pack(x);
    }
  }

  template <class S>
  requires std::is_class_v<S>
  void value(const S& x) { object(x); }

  packer& pk_;
};

std::string_view type_name(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return "an integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "a float";
    case msgpack::type::STR:
      return "a string";
    case msgpack::type::ARRAY:
      return "an array";
    case msgpack::type::MAP:
      return "a map";
    default:
      return "binary data";
  }
}

class decoder {
public:
  decoder(const msgpack::object& map, std::string path)
    : map_(map), path_(std::move(path)) {
    // nop
  }

  caf::error error() const { return err_; }

  template <class S>
  static caf::error object(const msgpack::object& o, const std::string& path,
                           S& out) {
    if (o.type != msgpack::type::MAP)
      return wrong(path, "a map", o);
    decoder d{o, path};
    fields(d, out);
    return d.err_;
  }

  template <class V>
  void operator()(std::string_view key, V& v) {
    if (err_)
      return;
    const msgpack::object* o = find_key(map_, key);
    if (o == nullptr)
      return; // absent: the default stays (older writers)
    const std::string path
      = path_.empty() ? std::string{key} : path_ + "." + std::string{key};
    if constexpr (is_optional<V>::value) {
      if (o->type == msgpack::type::NIL) {
        v.reset();
        return;
      }
      typename V::value_type x{};
      err_ = read(*o, path, x);
      if (!err_)
        v = std::move(x);
    } else {
      err_ = read(*o, path, v);
    }
  }

private:
  static caf::error wrong(const std::string& path, std::string_view expected,
                          const msgpack::object& got) {
    return make_error(errc::bad_request,
                      "task: " + path + " should be " + std::string{expected}
                        + ", not " + std::string{type_name(got)},
                      "check that skyctl and skyd are the same version");
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         std::string& out) {
    if (o.type != msgpack::type::STR)
      return wrong(path, "a string", o);
    out.assign(o.via.str.ptr, o.via.str.size);
    return {};
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         bool& out) {
    if (o.type != msgpack::type::BOOLEAN)
      return wrong(path, "a boolean", o);
    out = o.via.boolean;
    return {};
  }

  static caf::error read_integer(const msgpack::object& o,
                                 const std::string& path, long long lo,
                                 long long hi, long long& out) {
    if (o.type == msgpack::type::POSITIVE_INTEGER) {
      if (o.via.u64 > static_cast<uint64_t>(hi))
        return wrong(path, "a smaller integer", o);
      out = static_cast<long long>(o.via.u64);
    } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
      if (o.via.i64 < lo)
        return wrong(path, "a larger integer", o);
      out = o.via.i64;
    } else {
      return wrong(path, "an integer", o);
    }
    if (out < lo)
      return wrong(path, "a larger integer", o);
    return {};
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         int& out) {
    long long v = 0;
    if (auto err = read_integer(o, path, std::numeric_limits<int>::min(),
                                std::numeric_limits<int>::max(), v))
      return err;
    out = static_cast<int>(v);
    return {};
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         uint16_t& out) {
    long long v = 0;
    if (auto err = read_integer(o, path, 0, 65535, v))
      return err;
    out = static_cast<uint16_t>(v);
    return {};
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         double& out) {
    switch (o.type) {
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        out = o.via.f64;
        break;
      case msgpack::type::POSITIVE_INTEGER:
        out = static_cast<double>(o.via.u64);
        break;
      case msgpack::type::NEGATIVE_INTEGER:
        out = static_cast<double>(o.via.i64);
        break;
      default:
        return wrong(path, "a number", o);
    }
    if (!std::isfinite(out))
      return wrong(path, "a finite number", o);
    return {};
  }

  template <class E>
  requires std::is_enum_v<E>
  static caf::error read(const msgpack::object& o, const std::string& path,
                         E& out) {
    std::string name;
    if (auto err = read(o, path, name))
      return err;
    for (const auto& [e, n] : enum_names<E>::values)
      if (n == name) {
        out = e;
        return {};
      }
    return make_error(errc::bad_request,
                      "task: " + path + " has the unknown value '" + name + "'",
                      "check that skyctl and skyd are the same version");
  }

  template <class T>
  static caf::error read(const msgpack::object& o, const std::string& path,
                         std::vector<T>& out) {
    if (o.type != msgpack::type::ARRAY)
      return wrong(path, "an array", o);
    out.clear();
    out.reserve(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      T x{};
      if (auto err
          = read(o.via.array.ptr[i], path + "[" + std::to_string(i) + "]", x))
        return err;
      out.push_back(std::move(x));
    }
    return {};
  }

  static caf::error read(const msgpack::object& o, const std::string& path,
                         std::map<std::string, std::string>& out) {
    if (o.type != msgpack::type::MAP)
      return wrong(path, "a map", o);
    out.clear();
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      std::string k;
      std::string v;
      if (auto err = read(o.via.map.ptr[i].key, path + " key", k))
        return err;
      if (auto err = read(o.via.map.ptr[i].val, path + "." + k, v))
        return err;
      out[k] = std::move(v);
    }
    return {};
  }

  template <class S>
  requires std::is_class_v<S>
  static caf::error read(const msgpack::object& o, const std::string& path,
                         S& out) {
    return object(o, path, out);
  }

  const msgpack::object& map_;
  std::string path_;
  caf::error err_;
};

template <class S>
std::string encode_top(const S& x) {
  msgpack::sbuffer buf;
  packer pk{buf};
  encoder enc{pk};
  enc.object(x, 1);
  pk.pack(std::string_view{"format"});
  pk.pack(task_codec_format);
  return std::string{buf.data(), buf.size()};
}

template <class S>
result<S> decode_top(const msgpack::object& obj, std::string_view what) {
  if (obj.type != msgpack::type::MAP)
    return make_error(errc::bad_request,
                      std::string{what} + " should be a msgpack map",
                      "check that skyctl and skyd are the same version");
  if (const auto* format = find_key(obj, "format")) {
    if (format->type != msgpack::type::POSITIVE_INTEGER
        || format->via.u64 > static_cast<uint64_t>(task_codec_format))
      return make_error(errc::unsupported_version,
                        std::string{what}
                          + " was written in a newer format than this "
                            "build reads",
                        "upgrade skyd (and skyctl) to the same version");
  }
  S out{};
  if (auto err = decoder::object(obj, "", out))
    return err;
  return out;
}

} // namespace

std::string encode_pipeline(const pipeline_spec& pipeline) {
  return encode_top(pipeline);
}

result<pipeline_spec> decode_pipeline(const msgpack::object& obj) {
  return decode_top<pipeline_spec>(obj, "pipeline");
}

result<pipeline_spec> decode_pipeline(std::string_view bytes) {
  auto handle = decode_document(bytes, "pipeline");
  if (!handle)
    return handle.error();
  return decode_pipeline(handle->get());
}

std::string encode_task(const task_spec& task) {
  return encode_top(task);
}

result<task_spec> decode_task(const msgpack::object& obj) {
  return decode_top<task_spec>(obj, "task");
}

result<task_spec> decode_task(std::string_view bytes) {
  auto handle = decode_document(bytes, "task");
  if (!handle)
    return handle.error();
  return decode_task(handle->get());
}

} // namespace sky::task
