#include "pipeline/job.h"

#include <fmt/format.h>

#include <csignal>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "flink/checkpoint_properties.h"
#include "flink/key_groups.h"
#include "io/byte_writer.h"
#include "pipeline/checkpoint_storage.h"
#include "pipeline/completed_store.h"
#include "pipeline/coordinator.h"
#include "pipeline/file_sink.h"
#include "pipeline/job_control.h"
#include "pipeline/local_state_store.h"
#include "pipeline/message_queue.h"
#include "pipeline/restart_strategy.h"
#include "pipeline/restore.h"
#include "pipeline/state_format.h"
#include "pipeline/tasks.h"
#include "pipeline/thread_executor.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

std::string_view status_name(RunResult::Status s) {
  switch (s) {
    case RunResult::Status::kFinished:
      return "FINISHED";
    case RunResult::Status::kCancelled:
      return "CANCELED";
    case RunResult::Status::kStopped:
      return "FINISHED (stopped with savepoint)";
    case RunResult::Status::kFailed:
      return "FAILED";
  }
  return "?";
}

namespace {

std::string enumerator_state(const std::vector<std::vector<Split>>& assignment) {
  std::string out;
  io::ByteWriter w(out);
  int32_t n = 0;
  for (const auto& v : assignment) n += static_cast<int32_t>(v.size());
  w.i32(1);
  w.i32(n);
  for (const auto& v : assignment) {
    for (const auto& s : v) write_java_string(out, s.id);
  }
  return out;
}

void remove_if_empty(const fs::path& p) {
  std::error_code ec;
  if (fs::is_directory(p, ec) && fs::is_empty(p, ec)) fs::remove(p, ec);
}

struct Running {
  std::vector<std::unique_ptr<SourceTask>> sources;
  std::vector<std::unique_ptr<KeyedTask>> keyed;
  std::vector<std::thread> threads;

  void post_to_sources(const std::function<void(SourceTask&)>& fn) {
    for (auto& s : sources) {
      SourceTask* t = s.get();
      t->mailbox().post_mail([t, fn] { fn(*t); });
    }
  }
  void post_to_keyed(const std::function<void(KeyedTask&)>& fn) {
    for (auto& k : keyed) {
      KeyedTask* t = k.get();
      t->gate().post_mail([t, fn] { fn(*t); });
    }
  }
  int64_t records() const {
    int64_t n = 0;
    for (const auto& k : keyed) n += k->records_processed();
    return n;
  }
  void shutdown() {
    for (auto& s : sources) s->mailbox().cancel();
    for (auto& k : keyed) k->gate().cancel();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

// One run of the job, from its restore target to the retention of its checkpoints: the set-up
// (restore target, parameters, storage, coordinator), then attempts until one ends without a
// failure or restarts are exhausted, then what termination does to the retained checkpoints.
class JobRun {
 public:
  explicit JobRun(const RunOptions& opts)
      : opts_(opts), cfg_(opts.config), params_(opts.params), p_(cfg_.parallelism) {}

  RunResult run() {
    started_ = Clock::now();
    load_restore_target();
    check_parameters();
    set_up();
    control_.emplace(result_.job_id);
    install_job_signal_handlers();
    struct SignalGuard {
      ~SignalGuard() { restore_job_signal_handlers(); }
    } signal_guard;
    log(fmt::format("job {} started: parallelism {}, max parallelism {}{}", result_.job_id, p_, max_p_,
                    restored_ ? fmt::format(", restored from {}", result_.restored_from) : std::string()));
    for (int attempt = 0; run_attempt(attempt); ++attempt) {
    }
    apply_retention();
    result_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    return std::move(result_);
  }

 private:
  // The state of one attempt: its tasks and what the coordinating loop learnt of them.
  struct Attempt {
    ThreadExecutor executor;
    Running run;
    std::set<int> ended, finished;
    bool final_requested = false;
    bool stopping = false;
    bool cancelled = false;
    std::string failure;
  };

  void log(const std::string& s) const {
    if (opts_.log) opts_.log(s);
  }

  // --- Set-up.

  void load_restore_target() {
    max_p_ = cfg_.max_parallelism != 0 ? cfg_.max_parallelism : flink::default_max_parallelism(p_);
    if (!opts_.restore) return;
    std::shared_ptr<storage::ObjectStore> store;
    snapshot::Location loc = locate_restore_target(opts_.restore->string(), cfg_.storage_settings, store);
    restored_ = load_snapshot(loc, std::move(store));
    plan_ = plan_restore(*restored_, p_, cfg_.max_parallelism, cfg_.allow_non_restored_state);
    // The backend, unless configured, is the snapshot's: native RocksDB state (incremental or full
    // native handles) restores into RocksDB; canonical savepoints and heap checkpoints into the
    // default hashmap backend.
    if (!cfg_.backend_configured && cfg_.backend == BackendKind::kHashMap) {
      for (const auto& k : plan_->keyed) {
        if (k.counter_native.empty() && k.windows_native.empty()) continue;
        cfg_.backend = BackendKind::kRocksDB;
        log("state backend: rocksdb, as the snapshot's native RocksDB state (state.backend.type is not set)");
        break;
      }
    }
    for (const auto& id : plan_->skipped_operators) {
      result_.warnings.push_back(fmt::format("skipped the state of operator {}: the job has no such operator", id));
    }
    if (opts_.params_from_snapshot) {
      std::string output = params_.output_dir;
      params_ = plan_->params;
      if (!output.empty()) params_.output_dir = output;
      if (opts_.rate_limit) params_.rate_limit = *opts_.rate_limit;
    }
    max_p_ = plan_->max_parallelism;
    next_id_ = restored_->id + 1;
    result_.restored_from = loc.directory.string();
  }

  void check_parameters() const {
    if (p_ > max_p_)
      throw util::Error(util::ErrorKind::kUsage,
                        fmt::format("parallelism {} exceeds the maximum parallelism {}", p_, max_p_));
    if (params_.output_dir.empty()) throw util::Error(util::ErrorKind::kUsage, "no output directory (--output)");
    if (plan_) {
      // Before anything is created or renamed: the snapshot's committables must name part files of
      // this job's output directory (file_sink.h).
      for (const auto& k : plan_->keyed) check_restored_committables(k.committables, params_.output_dir);
    }
    if (params_.generate <= 0 && params_.input_dir.empty())
      throw util::Error(util::ErrorKind::kUsage, "no input: give --input DIR or --generate N");
    if (params_.window_ms <= 0) throw util::Error(util::ErrorKind::kUsage, "window size must be positive");
  }

  // Splits, local recovery, checkpoint storage, the store of completed checkpoints, the generator
  // and the coordinator.
  void set_up() {
    initial_.resize(static_cast<std::size_t>(p_));
    if (!plan_) {
      auto all = initial_splits(params_);
      for (std::size_t k = 0; k < all.size(); ++k) initial_[k % static_cast<std::size_t>(p_)].push_back(all[k]);
    }

    result_.job_id = opts_.job_id.empty() ? random_hex(32) : opts_.job_id;
    local_recovery_ = local_recovery_config(cfg_);
    if (plan_) prefer_local(*plan_);
    storage_.emplace(cfg_, result_.job_id);
    if (cfg_.interval_ms || !cfg_.checkpoints_dir.empty()) storage_->initialize();
    result_.job_dir = storage_->job_dir();
    store_.emplace(cfg_.num_retained);
    if (restored_ && cfg_.claim_mode == ClaimMode::kClaim && !restored_->savepoint) {
      CompletedSnapshot claimed = *restored_;
      claimed.owned = true;
      store_->add(std::move(claimed));
    }
    if (params_.generate > 0) gen_ = std::make_unique<Generator>(params_, max_p_);

    AssemblyInput tmpl;
    tmpl.version = cfg_.metadata_version;
    tmpl.operators = {{std::string(kSourceUid), "Source: words", p_, max_p_,
                       enumerator_state(plan_ ? plan_->source_splits : initial_)},
                      {std::string(kCounterUid), "Keyed count per word", p_, max_p_, {}},
                      {std::string(kWindowsUid), "Window(TumblingEventTimeWindows) count per word", p_, max_p_, {}},
                      {std::string(kSinkUid), "Sink: files", p_, max_p_, {}}};
    tmpl.job_params = encode_job_params(params_);
    coord_.emplace(cfg_, *storage_, *store_, 2 * p_, next_id_, tmpl);
    if (restored_ && cfg_.claim_mode == ClaimMode::kNoClaim) coord_->set_full_next(true);
    restart_strategy_.emplace(cfg_.restart, cfg_.interval_ms.has_value());
  }

  // Local recovery: subtasks whose local copy matches restore from it (counted in the result).
  void prefer_local(RestorePlan& pl) {
    if (!local_recovery_.enabled) return;
    LocalRecoveryOutcome lo = prefer_local_state(pl, local_recovery_, result_.job_id);
    result_.local_recovered += lo.local;
    result_.remote_recovered += lo.remote;
    if (lo.local + lo.remote == 0) return;
    log(fmt::format("local recovery: {} subtasks from local state, {} from the checkpoint storage", lo.local,
                    lo.remote));
    for (const auto& f : lo.fallbacks) log(fmt::format("local recovery: {}", f));
  }

  // --- One attempt.

  // Returns whether to run another attempt (a restart).
  bool run_attempt(int attempt) {
    Attempt a;
    start_tasks(a, attempt);
    while (true) {
      take_messages(a);
      auto now = Clock::now();
      for (const auto& o : coord_->expire(now)) on_outcome(a, o);
      if (!a.failure.empty()) break;
      if (static_cast<int32_t>(a.finished.size()) == p_) break;
      drive_checkpoints(a, now);
      if (take_sigusr1()) take_savepoint_requests(a);
      if (int sig = take_termination_signal()) {
        on_termination_signal(a, sig);
        if (a.cancelled) break;
      }
    }
    a.run.shutdown();
    a.executor.drain();
    coord_->abort_all();
    queue_.clear();
    result_.records += a.run.records();
    return restart_or_end(a, attempt);
  }

  void start_tasks(Attempt& a, int attempt) {
    std::vector<InputGate*> keyed_gates;
    TaskCommon common;
    common.parallelism = p_;
    common.max_parallelism = max_p_;
    common.params = &params_;
    common.config = &cfg_;
    common.listener = &queue_;
    common.executor = &a.executor;
    common.job_id = result_.job_id;
    std::string sink_uid = random_hex(8);
    for (int32_t i = 0; i < p_; ++i) {
      TaskCommon c = common;
      c.task = p_ + i;
      c.subtask = i;
      KeyedRestore kr;
      if (plan_) kr = std::move(plan_->keyed[static_cast<std::size_t>(i)]);
      a.run.keyed.push_back(
          std::make_unique<KeyedTask>(c, p_, sink_uid, std::move(kr), (attempt == 0 && i == 0) ? opts_.fail_at : -1));
      keyed_gates.push_back(&a.run.keyed.back()->gate());
    }
    for (int32_t i = 0; i < p_; ++i) {
      TaskCommon c = common;
      c.task = i;
      c.subtask = i;
      a.run.sources.push_back(std::make_unique<SourceTask>(
          c, plan_ ? plan_->source_splits[static_cast<std::size_t>(i)] : initial_[static_cast<std::size_t>(i)],
          gen_.get(), keyed_gates));
    }
    for (auto& k : a.run.keyed) a.run.threads.emplace_back([t = k.get()] { t->run(); });
    for (auto& s : a.run.sources) a.run.threads.emplace_back([t = s.get()] { t->run(); });
  }

  void take_messages(Attempt& a) {
    for (auto& m : queue_.wait(std::chrono::milliseconds(5))) {
      switch (m.kind) {
        case TaskMessage::Kind::kAck:
          if (auto o = coord_->acknowledge(std::move(m.ack), Clock::now())) on_outcome(a, *o);
          break;
        case TaskMessage::Kind::kDecline:
          if (auto o = coord_->decline(m.id, m.text, Clock::now())) on_outcome(a, *o);
          break;
        case TaskMessage::Kind::kEndOfInput:
          a.ended.insert(m.task);
          if (static_cast<int32_t>(a.ended.size()) == p_) {
            result_.input_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
          }
          break;
        case TaskMessage::Kind::kFinished:
          a.finished.insert(m.task);
          break;
        case TaskMessage::Kind::kFailed:
          if (a.failure.empty()) a.failure = m.text;
          break;
      }
    }
  }

  // The final checkpoint once every input ended, else the periodic ones.
  void drive_checkpoints(Attempt& a, Clock::time_point now) {
    if (static_cast<int32_t>(a.ended.size()) == p_ && !a.final_requested && !a.stopping) {
      if (cfg_.interval_ms) {
        // Like Flink, the final checkpoint is the next periodic one (so a failing final
        // checkpoint is retried at the checkpoint interval, not in a hot loop).
        if (coord_->pending() == 0 && coord_->periodic_due(now)) {
          TriggerRequest r;
          r.final_checkpoint = true;
          a.final_requested = trigger(a, r);
          if (!a.final_requested) a.failure = "the final checkpoint could not be triggered";
        }
      } else {
        a.run.post_to_keyed([](KeyedTask& t) { t.commit_at_end(); });
        a.final_requested = true;
      }
    } else if (!a.final_requested && !a.stopping && coord_->periodic_due(now)) {
      trigger(a, TriggerRequest{});
    }
  }

  // `ckpt savepoint` signalled: every request it left (or one default savepoint).
  void take_savepoint_requests(Attempt& a) {
    auto requests = control_->take_requests();
    if (requests.empty()) requests.push_back(SavepointRequest{});
    for (const auto& req : requests) {
      if (a.stopping || a.final_requested) {
        if (!req.id.empty()) control_->respond(req.id, false, "the job is finishing");
        continue;
      }
      TriggerRequest r;
      r.kind = SnapshotKind::kSavepoint;
      r.savepoint_target = req.target;
      r.request_id = req.id;
      r.suspend = req.stop;
      r.native_format = req.native.value_or(cfg_.native_savepoints);
      if (trigger(a, r) && req.stop) a.stopping = true;
    }
  }

  void on_termination_signal(Attempt& a, int sig) {
    if (opts_.stop_with_savepoint_on_sigterm && sig == SIGTERM && !a.stopping && !a.final_requested) {
      log("SIGTERM: stopping with a savepoint");
      TriggerRequest r;
      r.kind = SnapshotKind::kSavepoint;
      r.suspend = true;
      r.native_format = cfg_.native_savepoints;
      a.stopping = trigger(a, r);
      if (!a.stopping) a.cancelled = true;
    } else {
      log(fmt::format("{}: cancelling the job", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
      a.cancelled = true;
    }
  }

  bool trigger(Attempt& a, const TriggerRequest& r) {
    try {
      Barrier b = coord_->trigger(r, Clock::now());
      a.run.post_to_sources([b](SourceTask& s) { s.trigger(b); });
      return true;
    } catch (const std::exception& e) {
      if (!r.request_id.empty()) control_->respond(r.request_id, false, e.what());
      log(fmt::format("{} could not be triggered: {}", r.kind == SnapshotKind::kSavepoint ? "savepoint" : "checkpoint",
                      e.what()));
      return false;
    }
  }

  void on_outcome(Attempt& a, const CheckpointOutcome& o) {
    bool sp = o.request.kind == SnapshotKind::kSavepoint;
    SnapshotEvent ev;
    ev.id = o.id;
    ev.savepoint = sp;
    ev.ok = o.kind == CheckpointOutcome::Kind::kCompleted;
    ev.path_or_error = ev.ok ? o.dir.string() : o.error;
    ev.duration_ms = o.duration_ms;
    ev.state_bytes = o.state_bytes;
    result_.snapshots.push_back(ev);
    if (ev.ok) {
      log(fmt::format("{} {} completed in {:.0f} ms ({} bytes){}", sp ? "savepoint" : "checkpoint", o.id, o.duration_ms,
                      o.state_bytes, o.dir.empty() ? "" : ": " + o.dir.string()));
      if (sp) {
        savepoints_.push_back(unowned_snapshot(o.metadata, o.dir, o.store));
        if (!o.request.request_id.empty()) control_->respond(o.request.request_id, true, o.dir.string());
      }
      bool last = o.request.final_checkpoint || o.request.suspend;
      int64_t id = o.id;
      a.run.post_to_keyed([id, last](KeyedTask& t) { t.notify_complete(id, last); });
    } else {
      log(fmt::format("{} {} failed: {}", sp ? "savepoint" : "checkpoint", o.id, o.error));
      if (!o.request.request_id.empty()) control_->respond(o.request.request_id, false, o.error);
      if (o.request.final_checkpoint) a.final_requested = false;
      if (o.request.suspend) a.stopping = false;
      if (o.job_must_fail && a.failure.empty()) {
        a.failure =
            fmt::format("exceeded checkpoint tolerable failure threshold ({}): {}", cfg_.tolerable_failures, o.error);
      }
    }
  }

  // After an attempt's tasks are shut down: a restart when it failed and attempts remain (returns
  // true), else the job's status.
  bool restart_or_end(const Attempt& a, int attempt) {
    if (!a.failure.empty() && !a.cancelled) {
      log(fmt::format("job failed: {}", a.failure));
      const int64_t now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
      if (auto delay = restart_strategy_->on_failure(now_ms)) {
        restart(attempt, *delay);
        return true;
      }
      if (attempt > 0 || restart_strategy_->kind() != RestartStrategyConfig::Kind::kNone) {
        log(fmt::format("restart strategy {}: no more restarts", restart_strategy_->describe()));
      }
      result_.status = RunResult::Status::kFailed;
      result_.failure = a.failure;
    } else if (a.cancelled) {
      result_.status = RunResult::Status::kCancelled;
    } else {
      result_.status = a.stopping ? RunResult::Status::kStopped : RunResult::Status::kFinished;
    }
    return false;
  }

  // Restart from the latest completed checkpoint (or a newer savepoint unless checkpoints are
  // preferred), else from where the job started, after `delay_ms` (the restart strategy's).
  void restart(int attempt, int64_t delay_ms) {
    const CompletedSnapshot* from = store_->latest();
    if (!cfg_.prefer_checkpoint_for_recovery && !savepoints_.empty() && (!from || savepoints_.back().id > from->id)) {
      from = &savepoints_.back();
    }
    if (from) {
      plan_ = plan_restore(*from, p_, max_p_, cfg_.allow_non_restored_state);
    } else if (restored_) {
      plan_ = plan_restore(*restored_, p_, max_p_, cfg_.allow_non_restored_state);
    } else {
      plan_.reset();
    }
    if (plan_) prefer_local(*plan_);
    ++result_.restarts;
    log(fmt::format("restarting (restart {}, {}) in {} ms from {}", attempt + 1, restart_strategy_->describe(),
                    delay_ms,
                    from ? (from->dir.empty() ? fmt::format("checkpoint {}", from->id) : from->dir.string())
                         : std::string("the beginning")));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }

  // --- Termination: the configured retention of the checkpoints, local state, empty directories.
  void apply_retention() {
    flink::CheckpointProperties retention = flink::checkpoint_properties(cfg_.retention);
    bool discard = result_.status == RunResult::Status::kFailed ? retention.discard_failed
                   : result_.status == RunResult::Status::kCancelled
                       ? retention.discard_cancelled
                       : retention.discard_finished && !opts_.keep_checkpoints_on_finish;
    if (discard && store_->size() > 0) {
      log(fmt::format("discarding retained checkpoints ({} = {})",
                      "execution.checkpointing.externalized-checkpoint-retention", flink::describe(cfg_.retention)));
      store_->discard_all();
    }
    if (const CompletedSnapshot* latest = store_->latest()) result_.latest_checkpoint = latest->dir.string();
    // As Flink releases a job's local state with its slots: only a killed process leaves it.
    if (local_recovery_.enabled) discard_job_local_state(local_recovery_, result_.job_id);
    if (!result_.job_dir.empty() && !storage_->store() && store_->size() == 0) {
      remove_if_empty(result_.job_dir / "shared");
      remove_if_empty(result_.job_dir / "taskowned");
      remove_if_empty(result_.job_dir);
    }
  }

  const RunOptions& opts_;
  PipelineConfig cfg_;
  JobParams params_;
  const int32_t p_;
  Clock::time_point started_;
  RunResult result_;

  std::optional<CompletedSnapshot> restored_;
  std::optional<RestorePlan> plan_;
  int32_t max_p_ = 0;
  int64_t next_id_ = 1;
  std::vector<std::vector<Split>> initial_;
  LocalRecoveryConfig local_recovery_;
  // Built in set_up(), in this order (the coordinator holds the storage and the store).
  std::optional<CheckpointStorage> storage_;
  std::optional<CompletedCheckpointStore> store_;
  std::unique_ptr<Generator> gen_;
  std::optional<CheckpointCoordinator> coord_;
  std::optional<RestartStrategy> restart_strategy_;
  std::optional<JobControl> control_;
  std::vector<CompletedSnapshot> savepoints_;
  MessageQueue queue_;
};

}  // namespace

RunResult run_job(const RunOptions& opts) { return JobRun(opts).run(); }

}  // namespace ckpt::pipeline
