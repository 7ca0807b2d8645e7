#include "pipeline/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "pipeline/local_state_store.h"
#include "pipeline/rocksdb_backend.h"
#include "pipeline/state_format.h"
#include "util/error.h"

namespace ckpt::pipeline {

namespace {

constexpr std::size_t kReadChunk = 256;
constexpr int64_t kWatermarkEvery = 4096;

OperatorListResult persist_list_state(const SnapshotLocation& loc, const std::vector<ListStateData>& states,
                                      bool compress, std::string_view what) {
  OperatorStatePayload p = write_operator_state(states, compress);
  OperatorListResult r;
  for (std::size_t i = 0; i < states.size(); ++i) {
    r.entries.push_back({states[i].name, states[i].mode, p.offsets[i]});
  }
  r.stream = persist(loc, p.bytes, what);
  return r;
}

KeyedResult persist_keyed(const SnapshotLocation& loc, KeyedSnapshot&& s, std::string_view what) {
  KeyedResult r;
  r.range = s.range;
  r.offsets = std::move(s.offsets);
  r.stream = persist(loc, s.payload, what);
  return r;
}

// The keyed state backend the configuration asks for, for the subtask's key groups; `local`:
// where its checkpoints keep local recovery copies (null: none).
std::unique_ptr<KeyedStateBackend> make_backend(const TaskCommon& c, const TaskLocalStateStore* local) {
  flink::KeyGroupRange range = flink::range_of_subtask(c.max_parallelism, c.parallelism, c.subtask);
  if (c.config->backend != BackendKind::kRocksDB) return make_hashmap_backend(range, c.max_parallelism);
  RocksBackendOptions o;
  o.local_dir = c.config->rocksdb_localdir;
  o.max_parallelism = c.max_parallelism;
  o.incremental = c.config->incremental;
  if (local) {
    o.local_snapshot_dir = [local](int64_t id, const std::string& backend_id) {
      return local->snapshot_dir(id, backend_id);
    };
  }
  return make_rocksdb_backend(range, o);
}

std::unique_ptr<TaskLocalStateStore> make_local_state_store(const TaskCommon& c) {
  if (!c.config->local_recovery || c.config->backend != BackendKind::kRocksDB) return nullptr;
  return std::make_unique<TaskLocalStateStore>(local_recovery_config(*c.config), c.job_id,
                                               flink::to_hex(flink::operator_id_from_uid(kCounterUid)), c.subtask);
}

// The synchronous part of one keyed operator's snapshot: native for checkpoints and native
// savepoints of backends that take them (RocksDB), else key-grouped.
struct KeyedParts {
  std::optional<KeyedSnapshot> grouped;
  std::optional<NativeSnapshot> native;
};

KeyedParts take_keyed(KeyedStateBackend& backend, const Barrier& b, bool compress) {
  KeyedParts p;
  bool savepoint = b.kind == SnapshotKind::kSavepoint;
  if (!savepoint || b.native) p.native = backend.native_snapshot(b.id, compress, savepoint);
  // Canonical savepoints in the canonical layout (tag 7); checkpoints and native savepoints of the
  // hashmap backend in the heap layout (tag 12).
  bool canonical = savepoint && !b.native;
  if (!p.native)
    p.grouped = backend.snapshot(compress, canonical ? state::KeyedLayout::kCanonical : state::KeyedLayout::kHeap);
  return p;
}

// The asynchronous part: the keyed handle (and, beside a native snapshot, the heap timers as raw
// keyed state) of `r`.
void persist_keyed_parts(const SnapshotLocation& loc, KeyedParts&& p, OperatorSubtaskResult& r, std::string_view what) {
  if (!p.native) {
    r.keyed = persist_keyed(loc, std::move(*p.grouped), what);
    return;
  }
  KeyedResult k;
  k.range = p.native->timers.range;
  k.native = p.native->persist(loc);
  r.keyed = std::move(k);
  r.raw_keyed = persist_keyed(loc, std::move(p.native->timers), what);
}

// The asynchronous part of a subtask's checkpoint (Flink's AsyncCheckpointRunnable): `persist`
// writes the state and returns the operators' results, which are acknowledged; any failure
// declines the checkpoint instead, with its message.
template <typename Persist>
void acknowledge_or_decline(const TaskCommon& c, int64_t checkpoint_id, Persist&& persist) {
  try {
    TaskAck ack;
    ack.task = c.task;
    ack.checkpoint_id = checkpoint_id;
    ack.operators = persist();
    c.listener->acknowledge(std::move(ack));
  } catch (const std::exception& e) {
    c.listener->decline(c.task, checkpoint_id, e.what());
  }
}

OperatorSubtaskResult subtask_result(std::string_view uid, int32_t subtask) {
  OperatorSubtaskResult r;
  r.uid = std::string(uid);
  r.subtask = subtask;
  return r;
}

// "operator <uid> subtask <i> <what>": names a state in error messages.
std::string state_label(std::string_view uid, int32_t subtask, std::string_view what) {
  return fmt::format("operator {} subtask {} {}", uid, subtask, what);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SourceTask

SourceTask::SourceTask(TaskCommon common, std::vector<Split> splits, const Generator* gen,
                       std::vector<InputGate*> outputs)
    : c_(common), gen_(gen), outputs_(std::move(outputs)), out_(outputs_.size()) {
  for (const Split& s : splits) {
    Active a;
    a.reader = open_split(s, *c_.params, gen_, c_.max_parallelism);
    splits_.push_back(std::move(a));
  }
  for (auto& o : out_) o.reserve(kBufferRecords);
}

void SourceTask::run() {
  started_ = std::chrono::steady_clock::now();
  try {
    std::vector<Record> chunk;
    chunk.reserve(kReadChunk);
    while (!stop_) {
      Mail m;
      while (!stop_ && mailbox_.poll_mail(m)) m();
      if (stop_) break;
      if (ended_) {
        Event e;
        int ch = 0;
        if (mailbox_.next(e, ch, m, std::chrono::milliseconds(100)) == InputGate::Next::kMail) m();
        continue;
      }
      if (c_.params->rate_limit > 0) {
        // Ahead of the rate: wait in slices of at most 50 ms, answering mail (barriers, cancel)
        // in between, and read nothing more until the records emitted so far are due.
        auto due = started_ + std::chrono::microseconds(emitted_ * 1'000'000 / c_.params->rate_limit);
        auto now = std::chrono::steady_clock::now();
        if (due > now) {
          flush();
          std::this_thread::sleep_for(
              std::min<std::chrono::steady_clock::duration>(due - now, std::chrono::milliseconds(50)));
          continue;
        }
      }
      // One chunk from the next active split, round robin.
      std::size_t n = splits_.size();
      std::size_t k = 0;
      for (; k < n; ++k) {
        Active& a = splits_[(cursor_ + k) % n];
        if (!a.done) break;
      }
      if (k == n) {
        finish_input();
        continue;
      }
      Active& a = splits_[(cursor_ + k) % n];
      cursor_ = (cursor_ + k + 1) % n;
      chunk.clear();
      if (!a.reader->read(chunk, kReadChunk)) {
        a.done = true;
        maybe_emit_watermark();
        continue;
      }
      for (Record& r : chunk) {
        a.max_ts = std::max(a.max_ts, r.timestamp);
        emit(std::move(r));
      }
      since_watermark_ += static_cast<int64_t>(chunk.size());
      emitted_ += static_cast<int64_t>(chunk.size());
      if (since_watermark_ >= kWatermarkEvery) maybe_emit_watermark();
    }
  } catch (const Cancelled&) {
  } catch (const std::exception& e) {
    c_.listener->failed(c_.task, fmt::format("source subtask {}: {}", c_.subtask, e.what()));
  }
}

void SourceTask::emit(Record&& r) {
  int32_t target = flink::subtask_for_key_group(c_.max_parallelism, static_cast<int32_t>(outputs_.size()), r.key_group);
  auto& buf = out_[static_cast<std::size_t>(target)];
  buf.push_back(std::move(r));
  if (buf.size() >= kBufferRecords) {
    Event e;
    e.records = std::move(buf);
    outputs_[static_cast<std::size_t>(target)]->push(c_.subtask, std::move(e));
    buf = {};
    buf.reserve(kBufferRecords);
  }
}

void SourceTask::flush() {
  for (std::size_t j = 0; j < out_.size(); ++j) {
    if (out_[j].empty()) continue;
    Event e;
    e.records = std::move(out_[j]);
    outputs_[j]->push(c_.subtask, std::move(e));
    out_[j] = {};
    out_[j].reserve(kBufferRecords);
  }
}

void SourceTask::broadcast(const Event& e) {
  for (auto* g : outputs_) g->push(c_.subtask, e);
}

void SourceTask::maybe_emit_watermark() {
  since_watermark_ = 0;
  int64_t wm = kMaxWatermark;
  for (const Active& a : splits_) {
    if (a.done) continue;
    int64_t split_wm = a.max_ts == kMinWatermark ? kMinWatermark : a.max_ts - c_.params->out_of_orderness_ms - 1;
    wm = std::min(wm, split_wm);
  }
  if (wm == kMaxWatermark) return;  // no active split: finish_input() emits the final watermark
  if (wm > watermark_) {
    watermark_ = wm;
    flush();
    broadcast(Event::of_watermark(wm));
  }
}

void SourceTask::finish_input() {
  flush();
  watermark_ = kMaxWatermark;
  broadcast(Event::of_watermark(kMaxWatermark));
  broadcast(Event::end_of_data());
  ended_ = true;
}

void SourceTask::trigger(const Barrier& b) {
  // Synchronous part: split positions, then the barrier (after every record emitted so far).
  std::vector<ListStateData> states(1);
  states[0].name = std::string(kSplitsStateName);
  states[0].mode = flink::DistributionMode::kSplitDistribute;
  for (const Active& a : splits_) states[0].elements.push_back(serialize_split(a.reader->position()));
  flush();
  std::vector<CapturedChannel> captured;
  if (b.unaligned) {
    for (std::size_t j = 0; j < outputs_.size(); ++j) {
      CapturedChannel ch;
      ch.input = false;
      ch.a = 0;
      ch.b = static_cast<int32_t>(j);
      outputs_[j]->push_priority(c_.subtask, Event::of_barrier(b), &ch.records);
      captured.push_back(std::move(ch));
    }
  } else {
    broadcast(Event::of_barrier(b));
  }
  // Asynchronous part: files.
  TaskCommon c = c_;
  c_.executor->submit([c, b, states = std::move(states), captured = std::move(captured)] {
    acknowledge_or_decline(c, b.id, [&] {
      OperatorSubtaskResult r = subtask_result(kSourceUid, c.subtask);
      r.operator_state = persist_list_state(*b.location, states, c.config->snapshot_compression,
                                            state_label(kSourceUid, c.subtask, "operator state"));
      r.channels = persist_channel_state(*b.location, captured, state_label(kSourceUid, c.subtask, "channel state"));
      return std::vector<OperatorSubtaskResult>{std::move(r)};
    });
  });
}

// ---------------------------------------------------------------------------------------------
// KeyedTask

KeyedTask::KeyedTask(TaskCommon common, int32_t upstream_parallelism, std::string sink_uid, KeyedRestore restore,
                     int64_t fail_at)
    : c_(common),
      upstream_(upstream_parallelism),
      gate_(upstream_parallelism, 8),
      local_state_(make_local_state_store(c_)),
      counter_backend_(make_backend(c_, local_state_.get())),
      windows_backend_(make_backend(c_, local_state_.get())),
      sink_(c_.params->output_dir, c_.subtask, std::move(sink_uid)),
      counter_(*counter_backend_, [this](std::string_view l) { sink_.write(l); }),
      windows_(*windows_backend_, c_.params->window_ms, c_.params->allowed_lateness_ms,
               [this](std::string_view l) { sink_.write(l); }),
      channel_wm_(static_cast<std::size_t>(upstream_parallelism), kMinWatermark),
      channel_ended_(static_cast<std::size_t>(upstream_parallelism), false),
      fail_at_(fail_at),
      barrier_seen_(static_cast<std::size_t>(upstream_parallelism), false),
      capturing_(static_cast<std::size_t>(upstream_parallelism), false) {
  counter_backend_->restore_native(restore.counter_native);
  windows_backend_->restore_native(restore.windows_native);
  for (const auto& p : restore.counter)
    counter_backend_->restore(*p.payload, p.range, flink::I64Array(p.offsets_be), p.canonical_handle);
  for (const auto& p : restore.windows)
    windows_backend_->restore(*p.payload, p.range, flink::I64Array(p.offsets_be), p.canonical_handle);
  sink_.commit_restored(restore.committables);
  replay_ = std::move(restore.in_flight);
}

void KeyedTask::run() {
  try {
    if (!replay_.empty()) {
      process(replay_);
      replay_.clear();
      replay_.shrink_to_fit();
    }
    Event e;
    int ch = 0;
    Mail m;
    while (!stop_) {
      switch (gate_.next(e, ch, m, std::chrono::milliseconds(100))) {
        case InputGate::Next::kMail:
          m();
          break;
        case InputGate::Next::kTimeout:
          break;
        case InputGate::Next::kEvent:
          switch (e.kind) {
            case Event::Kind::kRecords:
              if (capturing_[static_cast<std::size_t>(ch)]) {
                auto& cap = captured_[static_cast<std::size_t>(ch)].records;
                cap.insert(cap.end(), e.records.begin(), e.records.end());
              }
              process(e.records);
              break;
            case Event::Kind::kWatermark:
              on_watermark(ch, e.watermark);
              break;
            case Event::Kind::kBarrier:
              on_barrier(ch, e.barrier);
              break;
            case Event::Kind::kEndOfData:
              on_end_of_data(ch);
              break;
          }
          break;
      }
    }
  } catch (const Cancelled&) {
  } catch (const std::exception& e) {
    c_.listener->failed(c_.task, fmt::format("keyed subtask {}: {}", c_.subtask, e.what()));
  }
}

void KeyedTask::process(const std::vector<Record>& records) {
  for (const Record& r : records) {
    counter_.process(r);
    windows_.process(r);
  }
  processed_ += static_cast<int64_t>(records.size());
  if (fail_at_ >= 0 && processed_ >= fail_at_) {
    fail_at_ = -1;
    throw util::Error(util::ErrorKind::kInternal,
                      fmt::format("injected failure (--fail-at) after {} records", processed_));
  }
}

void KeyedTask::on_watermark(int channel, int64_t wm) {
  auto& w = channel_wm_[static_cast<std::size_t>(channel)];
  if (wm <= w) return;
  w = wm;
  advance_watermark();
}

void KeyedTask::advance_watermark() {
  int64_t combined = *std::min_element(channel_wm_.begin(), channel_wm_.end());
  if (combined <= watermark_) return;
  watermark_ = combined;
  counter_.on_watermark(combined);
  windows_.on_watermark(combined);
}

void KeyedTask::on_end_of_data(int channel) {
  auto c = static_cast<std::size_t>(channel);
  if (channel_ended_[c]) return;
  channel_ended_[c] = true;
  channel_wm_[c] = kMaxWatermark;
  advance_watermark();
  if (++ended_channels_ == upstream_ && !input_ended_) {
    input_ended_ = true;
    c_.listener->end_of_input(c_.task);
  }
}

void KeyedTask::on_barrier(int channel, const Barrier& b) {
  auto ch = static_cast<std::size_t>(channel);
  if (c_.config->mode == CheckpointingMode::kAtLeastOnce && b.kind == SnapshotKind::kCheckpoint) {
    // CheckpointBarrierTracker: no blocking; snapshot once every channel delivered the barrier.
    if (++tracker_[b.id] == upstream_) {
      for (auto it = tracker_.begin(); it != tracker_.end() && it->first < b.id;) {
        c_.listener->decline(c_.task, it->first, "subsumed by a later barrier (at-least-once)");
        it = tracker_.erase(it);
      }
      tracker_.erase(b.id);
      snapshot_state(b);
    }
    return;
  }
  if (b.id != aligning_) {
    aligning_ = b.id;
    std::fill(barrier_seen_.begin(), barrier_seen_.end(), false);
    barriers_seen_ = 0;
    if (b.unaligned) {
      // The first barrier starts the checkpoint at once; what the other channels deliver until
      // their barrier is in-flight data.
      snapshot_state(b);
      captured_.assign(static_cast<std::size_t>(upstream_), CapturedChannel{});
      for (int i = 0; i < upstream_; ++i) {
        captured_[static_cast<std::size_t>(i)].input = true;
        captured_[static_cast<std::size_t>(i)].a = 0;
        captured_[static_cast<std::size_t>(i)].b = i;
        capturing_[static_cast<std::size_t>(i)] = true;
      }
    }
  }
  if (barrier_seen_[ch])
    throw util::Error(util::ErrorKind::kInternal, fmt::format("second barrier {} on channel {}", b.id, channel));
  barrier_seen_[ch] = true;
  ++barriers_seen_;
  if (b.unaligned) {
    capturing_[ch] = false;
    if (barriers_seen_ == upstream_) finish_unaligned(b);
    return;
  }
  if (barriers_seen_ < upstream_) {
    gate_.block(channel);
    return;
  }
  snapshot_state(b);
  gate_.unblock_all();
}

void KeyedTask::snapshot_state(const Barrier& b) {
  bool compress = c_.config->snapshot_compression;
  auto counter_snap = std::make_shared<KeyedParts>(take_keyed(*counter_backend_, b, compress));
  auto windows_snap = std::make_shared<KeyedParts>(take_keyed(*windows_backend_, b, compress));
  std::vector<ListStateData> sink_state(1);
  sink_state[0].name = std::string(kCommittablesStateName);
  sink_state[0].mode = flink::DistributionMode::kSplitDistribute;
  std::vector<Committable> closed;  // part files closed at this barrier: made durable asynchronously
  for (const auto& cm : sink_.prepare_commit(b.id)) {
    sink_state[0].elements.push_back(serialize_committable(cm));
    if (cm.checkpoint_id == b.id) closed.push_back(cm);
  }

  auto job = [c = c_, b, counter_snap, windows_snap, sink_state = std::move(sink_state),
              closed = std::move(closed)](std::vector<CapturedChannel> channels) {
    acknowledge_or_decline(c, b.id, [&] {
      for (const Committable& cm : closed) FileSink::make_durable(cm);
      OperatorSubtaskResult cr = subtask_result(kCounterUid, c.subtask);
      persist_keyed_parts(*b.location, std::move(*counter_snap), cr,
                          state_label(kCounterUid, c.subtask, "keyed state"));
      cr.channels = persist_channel_state(*b.location, channels, state_label(kCounterUid, c.subtask, "channel state"));
      OperatorSubtaskResult wr = subtask_result(kWindowsUid, c.subtask);
      persist_keyed_parts(*b.location, std::move(*windows_snap), wr,
                          state_label(kWindowsUid, c.subtask, "keyed state"));
      OperatorSubtaskResult sr = subtask_result(kSinkUid, c.subtask);
      sr.operator_state = persist_list_state(*b.location, sink_state, c.config->snapshot_compression,
                                             state_label(kSinkUid, c.subtask, "operator state"));
      std::vector<OperatorSubtaskResult> results;
      results.push_back(std::move(cr));
      results.push_back(std::move(wr));
      results.push_back(std::move(sr));
      return results;
    });
  };
  if (b.unaligned) {
    pending_job_ = std::move(job);
    return;
  }
  c_.executor->submit([job = std::move(job)] { job({}); });
}

void KeyedTask::finish_unaligned(const Barrier& b) {
  auto job = std::move(pending_job_);
  pending_job_ = nullptr;
  std::vector<CapturedChannel> channels = std::move(captured_);
  captured_.clear();
  std::fill(capturing_.begin(), capturing_.end(), false);
  (void)b;
  c_.executor->submit([job = std::move(job), channels = std::move(channels)]() mutable { job(std::move(channels)); });
}

void KeyedTask::notify_complete(int64_t checkpoint_id, bool final_checkpoint) {
  sink_.commit_up_to(checkpoint_id);
  counter_backend_->notify_checkpoint_complete(checkpoint_id);
  windows_backend_->notify_checkpoint_complete(checkpoint_id);
  if (local_state_) local_state_->confirm(checkpoint_id);
  if (final_checkpoint) {
    c_.listener->finished(c_.task);
    stop_ = true;
  }
}

void KeyedTask::commit_at_end() {
  sink_.commit_all();
  c_.listener->finished(c_.task);
  stop_ = true;
}

}  // namespace ckpt::pipeline
