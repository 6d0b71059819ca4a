#include "skyctl/stream_printer.hpp"

#include <cctype>
#include <ostream>

#include "skyctl/interrupt.hpp"
#include "skyctl/output.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

using clock = std::chrono::steady_clock;

bool terminal_status(const std::string& status) {
  auto s = job_status_from(status);
  // Managed jobs add FAILED_PRECHECKS, FAILED_NO_RESOURCE, ...
  return (s && is_terminal(*s)) || status.rfind("FAILED", 0) == 0;
}

bool failed_status(const std::string& status) {
  return terminal_status(status) && status != "SUCCEEDED";
}

// "provisioning" -> "Provisioning ..." when skyd sent no message.
std::string stage_text(const protocol::stream_item& item) {
  if (!item.message.empty())
    return item.message;
  std::string text = item.stage.empty() ? "working" : item.stage;
  text[0]
    = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  for (auto& c : text)
    if (c == '_')
      c = ' ';
  return text + " ...";
}

stream_end failed(caf::error err) {
  stream_end end;
  end.ended = stream_end::how::failed;
  end.error = std::move(err);
  return end;
}

stream_end interrupted() {
  stream_end end;
  end.ended = stream_end::how::interrupted;
  return end;
}

} // namespace

int job_exit_code(const protocol::job_outcome& outcome) {
  if (!terminal_status(outcome.status) || outcome.status == "SUCCEEDED")
    return exit_ok;
  if (outcome.exit_code && *outcome.exit_code >= 1 && *outcome.exit_code <= 255)
    return *outcome.exit_code;
  return exit_failed;
}

stream_printer::stream_printer(std::ostream& out, std::ostream& err,
                               progress_display& progress, stream_view view)
  : out_(out), err_(err), progress_(progress), view_(std::move(view)),
    cluster_(view_.cluster) {}

void stream_printer::on_item(const protocol::stream_item& item) {
  if (item.job_id != 0)
    job_id_ = item.job_id;
  if (item.type == "plan" && item.plan)
    on_plan(*item.plan);
  else if (item.type == "progress")
    on_progress(item);
  else if (item.type == "log")
    on_log(item);
  else if (item.type == "job")
    on_job(item);
}

void stream_printer::tick(progress_display::clock::time_point now) {
  progress_.tick(now);
}

void stream_printer::on_plan(const protocol::plan_reply& plan) {
  if (!plan.reused_cluster.empty()) {
    cluster_ = plan.reused_cluster;
    progress_.note("Reusing cluster " + plan.reused_cluster + ".");
    return;
  }
  if (view_.plan_shown || plan.tasks.empty())
    return;
  view_.plan_shown = true;
  // The plan goes to stderr: stdout carries the task's output only, so that
  // `skyctl launch ... > out.txt` captures exactly what the task printed.
  progress_.suspend();
  print_plan(err_, plan, plan_style{view_.utf8, 20});
  err_.flush();
  progress_.resume(true);
}

void stream_printer::on_progress(const protocol::stream_item& item) {
  progress_.stage(item.stage, stage_text(item));
}

void stream_printer::on_log(const protocol::stream_item& item) {
  if (view_.status_only || item.data.empty())
    return;
  if (!logs_started_) {
    // Output means provisioning and setup are over.
    progress_.done();
    logs_started_ = true;
  }
  progress_.suspend();
  out_.write(item.data.data(), static_cast<std::streamsize>(item.data.size()));
  out_.flush();
  at_line_start_ = item.data.back() == '\n';
  progress_.resume(at_line_start_);
}

void stream_printer::on_job(const protocol::stream_item& item) {
  if (item.status.empty() || view_.status_only)
    return;
  if (!terminal_status(item.status)) {
    progress_.status("Job " + std::to_string(job_id_) + ": " + item.status);
    return;
  }
  progress_.stop();
  if (!progress_.on_terminal()) {
    end_output_line();
    err_ << "Job " << job_id_ << ": " << item.status << "\n" << std::flush;
    printed_terminal_ = std::make_pair(job_id_, item.status);
  }
}

std::string stream_printer::job_line(uint64_t job, const std::string& status,
                                     std::optional<int32_t> exit_code) const {
  const auto& marks = progress_.marks();
  std::string line{failed_status(status) ? marks.failed : marks.done};
  line += " Job " + std::to_string(job) + " finished (status: " + status;
  if (exit_code && failed_status(status))
    line += ", exit code " + std::to_string(*exit_code);
  return line + ").";
}

void stream_printer::end_output_line() {
  // A last line of output without a newline would otherwise run into ours.
  if (!at_line_start_) {
    out_ << "\n" << std::flush;
    at_line_start_ = true;
  }
}

std::string stream_printer::follow_command() const {
  if (view_.kind == stream_kind::serve)
    return view_.resume_command;
  if (view_.kind == stream_kind::managed)
    return "skyctl jobs logs " + std::to_string(job_id_);
  return "skyctl logs " + cluster_or_placeholder() + " "
         + std::to_string(job_id_);
}

std::string stream_printer::cluster_or_placeholder() const {
  return cluster_.empty() ? "CLUSTER" : cluster_;
}

void stream_printer::print_detached(const protocol::job_outcome& outcome) {
  const auto name = cluster_or_placeholder();
  const auto id = std::to_string(outcome.job_id);
  if (view_.kind == stream_kind::managed) {
    out_ << "Managed job ID: " << id << "\n"
         << "To follow its output: skyctl jobs logs " << id << "\n"
         << "To see managed jobs:  skyctl jobs queue\n"
         << std::flush;
    return;
  }
  out_ << "Job ID: " << id << "\n"
       << "To follow its output: skyctl logs " << name << " " << id << "\n"
       << "To see the job queue: skyctl queue " << name << "\n"
       << std::flush;
}

void stream_printer::print_cluster_hints() {
  if (cluster_.empty())
    return;
  err_ << "Cluster " << cluster_ << ":\n"
       << "  run another task:  skyctl exec " << cluster_ << " task.yaml\n"
       << "  see its state:     skyctl status " << cluster_ << "\n"
       << "  tear it down:      skyctl down " << cluster_ << "\n"
       << std::flush;
}

int stream_printer::finish_ok(const protocol::job_outcome& outcome) {
  progress_.done();
  if (!outcome.cluster.empty())
    cluster_ = outcome.cluster;
  if (outcome.job_id != 0)
    job_id_ = outcome.job_id;
  end_output_line();
  if (view_.status_only) {
    out_ << "Job " << job_id_ << ": " << outcome.status << "\n" << std::flush;
    return failed_status(outcome.status) ? exit_failed : exit_ok;
  }
  if (view_.kind == stream_kind::serve && job_id_ == 0)
    // A log that is no job's (the load balancer's): it just ended.
    return exit_ok;
  if (job_id_ == 0) {
    // Nothing was submitted (a launch without a task to run).
    if (!cluster_.empty())
      err_ << "Cluster " << cluster_ << " is " << outcome.status << ".\n";
    if (view_.kind == stream_kind::launch)
      print_cluster_hints();
    return job_exit_code(outcome);
  }
  if (view_.detach) {
    print_detached(outcome);
    return exit_ok;
  }
  if (terminal_status(outcome.status)) {
    // A plain terminal line from the job frame already said this, unless
    // the outcome adds the exit code.
    bool said = printed_terminal_
                && *printed_terminal_ == std::make_pair(job_id_, outcome.status)
                && !(outcome.exit_code && failed_status(outcome.status));
    if (!said)
      err_ << job_line(job_id_, outcome.status, outcome.exit_code) << "\n";
  } else if (job_id_ != 0) {
    err_ << "Job " << job_id_ << " is " << outcome.status
         << "; follow it with: " << follow_command() << "\n";
  }
  err_.flush();
  if (view_.kind == stream_kind::launch)
    print_cluster_hints();
  return job_exit_code(outcome);
}

int stream_printer::finish(const stream_end& end) {
  switch (end.ended) {
    case stream_end::how::finished:
      return finish_ok(end.outcome);
    case stream_end::how::failed:
      progress_.stop();
      end_output_line();
      return report(end.error, err_);
    case stream_end::how::interrupted:
      break;
  }
  if (!end.outcome.cluster.empty())
    cluster_ = end.outcome.cluster;
  if (end.outcome.job_id != 0)
    job_id_ = end.outcome.job_id;
  progress_.stop();
  end_output_line();
  const auto job = std::to_string(job_id_);
  if (view_.kind == stream_kind::serve) {
    err_ << "Stopped following. The service keeps running; resume with: "
         << follow_command() << "\n";
  } else if (view_.kind == stream_kind::logs
             || view_.kind == stream_kind::managed) {
    err_ << "Stopped following. The job keeps running";
    if (job_id_ != 0)
      err_ << "; resume with: " << follow_command();
    err_ << "\n";
  } else if (job_id_ != 0) {
    err_ << "Detached. The job keeps running; reattach with: "
         << follow_command() << "\n";
  } else {
    err_ << "Detached. skyd carries on; check with: skyctl status"
         << (cluster_.empty() ? "" : " " + cluster_) << "\n";
  }
  err_.flush();
  return exit_interrupted;
}

stream_end pump_stream(client::connection& conn, uint64_t stream,
                       stream_printer& printer,
                       const stream_settings& settings) {
  bool cancelled = false;
  clock::time_point give_up{};
  while (true) {
    const auto now = clock::now();
    const int presses = interrupt_guard::count();
    if (presses > 0 && !cancelled) {
      conn.cancel(stream);
      cancelled = true;
      give_up = now + settings.drain;
    }
    if (cancelled && (presses > 1 || now >= give_up))
      return interrupted();
    auto next = conn.next(stream, settings.poll);
    printer.tick(clock::now());
    if (!next) {
      if (conn.is_open(stream)) {
        // A local timeout or Ctrl-C: the stream goes on, unless skyd has
        // been silent for longer than its heartbeats allow.
        if (!cancelled && conn.idle_for(stream) >= settings.idle_limit)
          return failed(
            make_error(errc::unavailable,
                       "skyd sent nothing for "
                         + std::to_string(settings.idle_limit.count() / 1000)
                         + " s, not even a heartbeat",
                       "check `skyctl daemon status` and `skyctl daemon logs`; "
                       "a job that started keeps running on its cluster"));
        continue;
      }
      if (cancelled)
        return interrupted();
      return failed(next.error());
    }
    if (cancelled) {
      // Detached: what skyd still sends is not shown, but its final frame
      // may name the cluster and job that the reattach hint needs.
      if (!next->final())
        continue;
      auto end = interrupted();
      if (auto outcome = protocol::decode_as<protocol::job_outcome>(
            next->body, "final stream frame"))
        end.outcome = std::move(*outcome);
      return end;
    }
    if (next->final()) {
      auto outcome = protocol::decode_as<protocol::job_outcome>(
        next->body, "final stream frame");
      if (!outcome)
        return failed(outcome.error());
      stream_end end;
      end.ended = stream_end::how::finished;
      end.outcome = std::move(*outcome);
      return end;
    }
    auto item
      = protocol::decode_as<protocol::stream_item>(next->body, "stream frame");
    if (!item) {
      conn.cancel(stream);
      return failed(item.error());
    }
    printer.on_item(*item);
  }
}

} // namespace sky::cli
