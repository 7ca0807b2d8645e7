#include "pipeline/coordinator.h"

#include <fmt/format.h>

#include "flink/checkpoint_properties.h"
#include "flink/metadata_writer.h"

namespace ckpt::pipeline {

CheckpointCoordinator::CheckpointCoordinator(const PipelineConfig& config, CheckpointStorage& storage,
                                             CompletedCheckpointStore& store, int num_tasks, int64_t next_id,
                                             AssemblyInput snapshot_template)
    : config_(config),
      storage_(storage),
      store_(store),
      num_tasks_(num_tasks),
      next_id_(next_id),
      template_(std::move(snapshot_template)) {}

bool CheckpointCoordinator::periodic_due(Clock::time_point now) const {
  if (!config_.interval_ms) return false;
  if (static_cast<int>(pending_.size()) >= config_.max_concurrent) return false;
  if (!any_triggered_) return true;
  auto interval = std::chrono::milliseconds(*config_.interval_ms);
  auto pause = std::chrono::milliseconds(config_.min_pause_ms);
  if (now < last_trigger_ + interval) return false;
  if (config_.min_pause_ms > 0 && now < last_end_ + pause) return false;
  return true;
}

Barrier CheckpointCoordinator::trigger(const TriggerRequest& request, Clock::time_point now) {
  Pending p;
  p.id = next_id_++;
  p.request = request;
  p.started = now;
  bool savepoint = request.kind == SnapshotKind::kSavepoint;
  if (savepoint) {
    p.properties = flink::savepoint_properties(
        request.native_format ? flink::CheckpointProperties::Format::kNative
                              : flink::CheckpointProperties::Format::kCanonical,
        request.suspend ? flink::CheckpointProperties::Action::kSuspend : flink::CheckpointProperties::Action::kNone);
    p.location = std::make_shared<SnapshotLocation>(storage_.savepoint_location(request.savepoint_target));
  } else {
    p.properties = flink::checkpoint_properties(config_.retention, full_next_);
    full_next_ = false;
    p.location = std::make_shared<SnapshotLocation>(storage_.checkpoint_location(p.id));
  }
  if (request.kind == SnapshotKind::kCheckpoint && !request.final_checkpoint) {
    last_trigger_ = now;
    any_triggered_ = true;
  }
  Barrier b;
  b.id = p.id;
  b.kind = request.kind;
  b.unaligned = !savepoint && config_.unaligned && config_.mode == CheckpointingMode::kExactlyOnce;
  b.suspend = request.suspend;
  b.native = savepoint && request.native_format;
  b.location = p.location;
  pending_.emplace(p.id, std::move(p));
  return b;
}

std::optional<CheckpointOutcome> CheckpointCoordinator::acknowledge(TaskAck ack, Clock::time_point now) {
  auto it = pending_.find(ack.checkpoint_id);
  if (it == pending_.end()) return std::nullopt;  // aborted meanwhile
  Pending& p = it->second;
  if (!p.acked.insert(ack.task).second) return std::nullopt;
  p.acks.push_back(std::move(ack));
  if (static_cast<int>(p.acked.size()) < num_tasks_) return std::nullopt;

  CheckpointOutcome out;
  out.id = p.id;
  out.request = p.request;
  try {
    AssemblyInput in = template_;
    in.checkpoint_id = p.id;
    in.savepoint = p.request.kind == SnapshotKind::kSavepoint;
    in.properties = p.properties;
    in.acks = std::move(p.acks);
    auto md = std::make_shared<flink::Metadata>(assemble_metadata(in));
    std::string bytes = flink::write_metadata(*md);
    write_metadata_file(*p.location, bytes);
    for (const auto& a : in.acks) {
      for (const auto& r : a.operators) {
        if (r.keyed) out.state_bytes += r.keyed->native ? r.keyed->native->checkpointed_size : r.keyed->stream.size;
        if (r.raw_keyed) out.state_bytes += r.raw_keyed->stream.size;
        if (r.operator_state) out.state_bytes += r.operator_state->stream.size;
        for (const auto& c : r.channels) out.state_bytes += c.size;
      }
    }
    out.dir = p.location->dir;
    out.store = p.location->store;
    out.metadata = md;
    out.duration_ms = std::chrono::duration<double, std::milli>(now - p.started).count();
    if (!in.savepoint) {
      CompletedSnapshot cs;
      cs.id = p.id;
      cs.dir = p.location->dir;
      cs.store = p.location->store;
      cs.metadata = md;
      cs.properties = p.properties;
      cs.owned = true;
      store_.add(std::move(cs));
      consecutive_failures_ = 0;
      last_end_ = now;
    }
    ++completed_;
    pending_.erase(it);
    return out;
  } catch (const std::exception& e) {
    return fail(p, fmt::format("writing _metadata failed: {}", e.what()), now);
  }
}

std::optional<CheckpointOutcome> CheckpointCoordinator::decline(int64_t id, const std::string& reason,
                                                                Clock::time_point now) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  return fail(it->second, reason, now);
}

std::vector<CheckpointOutcome> CheckpointCoordinator::expire(Clock::time_point now) {
  std::vector<CheckpointOutcome> out;
  std::vector<int64_t> expired;
  for (auto& [id, p] : pending_) {
    if (now - p.started > std::chrono::milliseconds(config_.timeout_ms)) expired.push_back(id);
  }
  for (int64_t id : expired) {
    out.push_back(fail(
        pending_.at(id),
        fmt::format("checkpoint expired before completing (execution.checkpointing.timeout {} ms)", config_.timeout_ms),
        now));
  }
  return out;
}

CheckpointOutcome CheckpointCoordinator::fail(Pending& p, std::string reason, Clock::time_point now) {
  CheckpointOutcome out;
  out.kind = CheckpointOutcome::Kind::kFailed;
  out.id = p.id;
  out.request = p.request;
  out.error = std::move(reason);
  const int64_t id = p.id;
  CheckpointStorage::discard(*p.location);
  ++failed_;
  if (p.request.kind == SnapshotKind::kCheckpoint) {
    last_end_ = now;
    if (++consecutive_failures_ > config_.tolerable_failures) out.job_must_fail = true;
  }
  pending_.erase(id);
  return out;
}

void CheckpointCoordinator::abort_all() {
  for (auto& [id, p] : pending_) CheckpointStorage::discard(*p.location);
  pending_.clear();
}

}  // namespace ckpt::pipeline
