#include "pipeline/job.h"

#include <fmt/format.h>

#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
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
#include "pipeline/restore.h"
#include "pipeline/state_format.h"
#include "pipeline/tasks.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

std::string_view status_name(RunResult::Status s) {
  switch (s) {
    case RunResult::Status::kFinished: return "FINISHED";
    case RunResult::Status::kCancelled: return "CANCELED";
    case RunResult::Status::kStopped: return "FINISHED (stopped with savepoint)";
    case RunResult::Status::kFailed: return "FAILED";
  }
  return "?";
}

namespace {

struct Message {
  enum class Kind { kAck, kDecline, kEndOfInput, kFinished, kFailed } kind = Kind::kAck;
  int task = 0;
  TaskAck ack;
  int64_t id = 0;
  std::string text;
};

class MessageQueue final : public TaskListener {
 public:
  void acknowledge(TaskAck ack) override {
    Message m;
    m.kind = Message::Kind::kAck;
    m.task = ack.task;
    m.ack = std::move(ack);
    push(std::move(m));
  }
  void decline(int task, int64_t id, std::string reason) override {
    push(Message{Message::Kind::kDecline, task, {}, id, std::move(reason)});
  }
  void end_of_input(int task) override { push(Message{Message::Kind::kEndOfInput, task, {}, 0, {}}); }
  void finished(int task) override { push(Message{Message::Kind::kFinished, task, {}, 0, {}}); }
  void failed(int task, std::string reason) override { push(Message{Message::Kind::kFailed, task, {}, 0, std::move(reason)}); }

  std::vector<Message> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !q_.empty(); });
    std::vector<Message> out(std::make_move_iterator(q_.begin()), std::make_move_iterator(q_.end()));
    q_.clear();
    return out;
  }
  void clear() {
    std::lock_guard lock(mu_);
    q_.clear();
  }

 private:
  void push(Message m) {
    std::lock_guard lock(mu_);
    q_.push_back(std::move(m));
    cv_.notify_one();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> q_;
};

class ThreadExecutor final : public AsyncSnapshotExecutor {
 public:
  ThreadExecutor() : thread_([this] { loop(); }) {}
  ~ThreadExecutor() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }
  ThreadExecutor(const ThreadExecutor&) = delete;
  ThreadExecutor& operator=(const ThreadExecutor&) = delete;
  void submit(std::function<void()> job) override {
    std::lock_guard lock(mu_);
    q_.push_back(std::move(job));
    cv_.notify_all();
  }
  // Waits until every submitted job ran.
  void drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return q_.empty() && !busy_; });
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !q_.empty(); });
      if (q_.empty()) return;
      auto job = std::move(q_.front());
      q_.pop_front();
      busy_ = true;
      lock.unlock();
      job();
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

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

}  // namespace

RunResult run_job(const RunOptions& opts) {
  auto log = [&](const std::string& s) {
    if (opts.log) opts.log(s);
  };
  RunResult result;
  PipelineConfig cfg = opts.config;
  JobParams params = opts.params;
  const int32_t p = cfg.parallelism;
  auto started = Clock::now();

  std::optional<RestorePlan> plan;
  int32_t max_p = cfg.max_parallelism != 0 ? cfg.max_parallelism : flink::default_max_parallelism(p);
  int64_t next_id = 1;
  std::optional<CompletedSnapshot> restored;
  if (opts.restore) {
    snapshot::Location loc = locate_restore_target(*opts.restore);
    restored = load_snapshot(loc);
    plan = plan_restore(*restored, p, cfg.max_parallelism);
    if (opts.params_from_snapshot) {
      std::string output = params.output_dir;
      params = plan->params;
      if (!output.empty()) params.output_dir = output;
      if (opts.rate_limit) params.rate_limit = *opts.rate_limit;
    }
    max_p = plan->max_parallelism;
    next_id = restored->id + 1;
    result.restored_from = loc.directory.string();
  }
  if (p > max_p) throw std::runtime_error(fmt::format("parallelism {} exceeds the maximum parallelism {}", p, max_p));
  if (params.output_dir.empty()) throw std::runtime_error("no output directory (--output)");
  if (plan) {
    // Before anything is created or renamed: the snapshot's committables must name part files of
    // this job's output directory (file_sink.h).
    for (const auto& k : plan->keyed) check_restored_committables(k.committables, params.output_dir);
  }
  if (params.generate <= 0 && params.input_dir.empty()) throw std::runtime_error("no input: give --input DIR or --generate N");
  if (params.window_ms <= 0) throw std::runtime_error("window size must be positive");

  std::vector<std::vector<Split>> initial(static_cast<std::size_t>(p));
  if (!plan) {
    auto all = initial_splits(params);
    for (std::size_t k = 0; k < all.size(); ++k) initial[k % static_cast<std::size_t>(p)].push_back(all[k]);
  }

  result.job_id = opts.job_id.empty() ? random_hex(32) : opts.job_id;
  const LocalRecoveryConfig local_recovery = local_recovery_config(cfg);
  // Local recovery: subtasks whose local copy matches restore from it (counted in the result).
  auto prefer_local = [&](RestorePlan& pl) {
    if (!local_recovery.enabled) return;
    LocalRecoveryOutcome lo = prefer_local_state(pl, local_recovery, result.job_id);
    result.local_recovered += lo.local;
    result.remote_recovered += lo.remote;
    if (lo.local + lo.remote == 0) return;
    log(fmt::format("local recovery: {} subtasks from local state, {} from the checkpoint storage", lo.local, lo.remote));
    for (const auto& f : lo.fallbacks) log(fmt::format("local recovery: {}", f));
  };
  if (plan) prefer_local(*plan);
  CheckpointStorage storage(cfg, result.job_id);
  if (cfg.interval_ms || !cfg.checkpoints_dir.empty()) storage.initialize();
  result.job_dir = storage.job_dir();
  CompletedCheckpointStore store(cfg.num_retained);
  if (restored && cfg.claim_mode == ClaimMode::kClaim && !restored->savepoint) {
    CompletedSnapshot claimed = *restored;
    claimed.owned = true;
    store.add(std::move(claimed));
  }
  std::unique_ptr<Generator> gen;
  if (params.generate > 0) gen = std::make_unique<Generator>(params, max_p);

  AssemblyInput tmpl;
  tmpl.operators = {{std::string(kSourceUid), p, max_p, enumerator_state(plan ? plan->source_splits : initial)},
                    {std::string(kCounterUid), p, max_p, {}},
                    {std::string(kWindowsUid), p, max_p, {}},
                    {std::string(kSinkUid), p, max_p, {}}};
  tmpl.job_params = encode_job_params(params);
  CheckpointCoordinator coord(cfg, storage, store, 2 * p, next_id, tmpl);
  if (restored && cfg.claim_mode == ClaimMode::kNoClaim) coord.set_full_next(true);

  JobControl control(result.job_id);
  install_job_signal_handlers();
  struct SignalGuard {
    ~SignalGuard() { restore_job_signal_handlers(); }
  } signal_guard;

  std::vector<CompletedSnapshot> savepoints;
  MessageQueue queue;
  log(fmt::format("job {} started: parallelism {}, max parallelism {}{}", result.job_id, p, max_p,
                  restored ? fmt::format(", restored from {}", result.restored_from) : std::string()));

  for (int attempt = 0;; ++attempt) {
    ThreadExecutor executor;
    Running run;
    std::vector<InputGate*> keyed_gates;
    TaskCommon common;
    common.parallelism = p;
    common.max_parallelism = max_p;
    common.params = &params;
    common.config = &cfg;
    common.listener = &queue;
    common.executor = &executor;
    common.job_id = result.job_id;
    std::string sink_uid = random_hex(8);
    for (int32_t i = 0; i < p; ++i) {
      TaskCommon c = common;
      c.task = p + i;
      c.subtask = i;
      KeyedRestore kr;
      if (plan) kr = std::move(plan->keyed[static_cast<std::size_t>(i)]);
      run.keyed.push_back(std::make_unique<KeyedTask>(c, p, sink_uid, std::move(kr), (attempt == 0 && i == 0) ? opts.fail_at : -1));
      keyed_gates.push_back(&run.keyed.back()->gate());
    }
    for (int32_t i = 0; i < p; ++i) {
      TaskCommon c = common;
      c.task = i;
      c.subtask = i;
      run.sources.push_back(std::make_unique<SourceTask>(
          c, plan ? plan->source_splits[static_cast<std::size_t>(i)] : initial[static_cast<std::size_t>(i)], gen.get(),
          keyed_gates));
    }
    for (auto& k : run.keyed) run.threads.emplace_back([t = k.get()] { t->run(); });
    for (auto& s : run.sources) run.threads.emplace_back([t = s.get()] { t->run(); });

    std::set<int> ended, finished;
    bool final_requested = false;
    bool stopping = false;
    bool cancelled = false;
    std::string failure;

    auto distribute = [&](const Barrier& b) {
      run.post_to_sources([b](SourceTask& s) { s.trigger(b); });
    };
    auto trigger = [&](const TriggerRequest& r) -> bool {
      try {
        distribute(coord.trigger(r, Clock::now()));
        return true;
      } catch (const std::exception& e) {
        if (!r.request_id.empty()) control.respond(r.request_id, false, e.what());
        log(fmt::format("{} could not be triggered: {}", r.kind == SnapshotKind::kSavepoint ? "savepoint" : "checkpoint", e.what()));
        return false;
      }
    };
    auto on_outcome = [&](const CheckpointOutcome& o) {
      bool sp = o.request.kind == SnapshotKind::kSavepoint;
      SnapshotEvent ev;
      ev.id = o.id;
      ev.savepoint = sp;
      ev.ok = o.kind == CheckpointOutcome::Kind::kCompleted;
      ev.path_or_error = ev.ok ? o.dir.string() : o.error;
      ev.duration_ms = o.duration_ms;
      ev.state_bytes = o.state_bytes;
      result.snapshots.push_back(ev);
      if (ev.ok) {
        log(fmt::format("{} {} completed in {:.0f} ms ({} bytes){}", sp ? "savepoint" : "checkpoint", o.id, o.duration_ms,
                        o.state_bytes, o.dir.empty() ? "" : ": " + o.dir.string()));
        if (sp) {
          savepoints.push_back(load_snapshot(snapshot::locate(o.dir / "_metadata")));
          if (!o.request.request_id.empty()) control.respond(o.request.request_id, true, o.dir.string());
        }
        bool last = o.request.final_checkpoint || o.request.suspend;
        int64_t id = o.id;
        run.post_to_keyed([id, last](KeyedTask& t) { t.notify_complete(id, last); });
      } else {
        log(fmt::format("{} {} failed: {}", sp ? "savepoint" : "checkpoint", o.id, o.error));
        if (!o.request.request_id.empty()) control.respond(o.request.request_id, false, o.error);
        if (o.request.final_checkpoint) final_requested = false;
        if (o.request.suspend) stopping = false;
        if (o.job_must_fail && failure.empty()) {
          failure = fmt::format("exceeded checkpoint tolerable failure threshold ({}): {}", cfg.tolerable_failures, o.error);
        }
      }
    };

    while (true) {
      for (auto& m : queue.wait(std::chrono::milliseconds(5))) {
        switch (m.kind) {
          case Message::Kind::kAck:
            if (auto o = coord.acknowledge(std::move(m.ack), Clock::now())) on_outcome(*o);
            break;
          case Message::Kind::kDecline:
            if (auto o = coord.decline(m.id, m.text, Clock::now())) on_outcome(*o);
            break;
          case Message::Kind::kEndOfInput:
            ended.insert(m.task);
            if (static_cast<int32_t>(ended.size()) == p) {
              result.input_seconds = std::chrono::duration<double>(Clock::now() - started).count();
            }
            break;
          case Message::Kind::kFinished: finished.insert(m.task); break;
          case Message::Kind::kFailed:
            if (failure.empty()) failure = m.text;
            break;
        }
      }
      auto now = Clock::now();
      for (const auto& o : coord.expire(now)) on_outcome(o);
      if (!failure.empty()) break;
      if (static_cast<int32_t>(finished.size()) == p) break;
      if (static_cast<int32_t>(ended.size()) == p && !final_requested && !stopping) {
        if (cfg.interval_ms) {
          // Like Flink, the final checkpoint is the next periodic one (so a failing final
          // checkpoint is retried at the checkpoint interval, not in a hot loop).
          if (coord.pending() == 0 && coord.periodic_due(now)) {
            TriggerRequest r;
            r.final_checkpoint = true;
            final_requested = trigger(r);
            if (!final_requested) failure = "the final checkpoint could not be triggered";
          }
        } else {
          run.post_to_keyed([](KeyedTask& t) { t.commit_at_end(); });
          final_requested = true;
        }
      } else if (!final_requested && !stopping && coord.periodic_due(now)) {
        trigger(TriggerRequest{});
      }
      if (take_sigusr1()) {
        auto requests = control.take_requests();
        if (requests.empty()) requests.push_back(SavepointRequest{});
        for (const auto& req : requests) {
          if (stopping || final_requested) {
            if (!req.id.empty()) control.respond(req.id, false, "the job is finishing");
            continue;
          }
          TriggerRequest r;
          r.kind = SnapshotKind::kSavepoint;
          r.savepoint_target = req.target;
          r.request_id = req.id;
          r.suspend = req.stop;
          r.native_format = req.native.value_or(cfg.native_savepoints);
          if (trigger(r) && req.stop) stopping = true;
        }
      }
      if (int sig = take_termination_signal()) {
        if (opts.stop_with_savepoint_on_sigterm && sig == SIGTERM && !stopping && !final_requested) {
          log("SIGTERM: stopping with a savepoint");
          TriggerRequest r;
          r.kind = SnapshotKind::kSavepoint;
          r.suspend = true;
          r.native_format = cfg.native_savepoints;
          stopping = trigger(r);
          if (!stopping) cancelled = true;
        } else {
          log(fmt::format("{}: cancelling the job", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
          cancelled = true;
        }
        if (cancelled) break;
      }
    }
    run.shutdown();
    executor.drain();
    coord.abort_all();
    queue.clear();
    result.records += run.records();

    if (!failure.empty() && !cancelled) {
      log(fmt::format("job failed: {}", failure));
      if (attempt < cfg.restart_attempts) {
        // Restart from the latest completed checkpoint (or a newer savepoint unless checkpoints
        // are preferred), else from where the job started.
        const CompletedSnapshot* from = store.latest();
        if (!cfg.prefer_checkpoint_for_recovery && !savepoints.empty() &&
            (!from || savepoints.back().id > from->id)) {
          from = &savepoints.back();
        }
        if (from) {
          plan = plan_restore(*from, p, max_p);
        } else if (restored) {
          plan = plan_restore(*restored, p, max_p);
        } else {
          plan.reset();
        }
        if (plan) prefer_local(*plan);
        ++result.restarts;
        log(fmt::format("restarting (attempt {} of {}) in {} ms from {}", attempt + 1, cfg.restart_attempts,
                        cfg.restart_delay_ms, from ? (from->dir.empty() ? fmt::format("checkpoint {}", from->id) : from->dir.string())
                                                   : std::string("the beginning")));
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg.restart_delay_ms));
        continue;
      }
      result.status = RunResult::Status::kFailed;
      result.failure = failure;
    } else if (cancelled) {
      result.status = RunResult::Status::kCancelled;
    } else {
      result.status = stopping ? RunResult::Status::kStopped : RunResult::Status::kFinished;
    }
    break;
  }

  flink::CheckpointProperties retention = flink::checkpoint_properties(cfg.retention);
  bool discard = result.status == RunResult::Status::kFailed      ? retention.discard_failed
                 : result.status == RunResult::Status::kCancelled ? retention.discard_cancelled
                                                                  : retention.discard_finished && !opts.keep_checkpoints_on_finish;
  if (discard && store.size() > 0) {
    log(fmt::format("discarding retained checkpoints ({} = {})", "execution.checkpointing.externalized-checkpoint-retention",
                    flink::describe(cfg.retention)));
    store.discard_all();
  }
  // As Flink releases a job's local state with its slots: only a killed process leaves it.
  if (local_recovery.enabled) discard_job_local_state(local_recovery, result.job_id);
  if (!result.job_dir.empty() && store.size() == 0) {
    remove_if_empty(result.job_dir / "shared");
    remove_if_empty(result.job_dir / "taskowned");
    remove_if_empty(result.job_dir);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace ckpt::pipeline
